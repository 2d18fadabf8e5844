"""Minimal RS256 JSON Web Tokens (encode and verify) on top of ``cryptography``."""

import base64
import binascii
import hashlib
import json
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class JWTError(Exception):
    """A token that cannot be decoded or verified; ``reason`` is a short machine word."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if isinstance(text, str):
        text = text.encode("ascii")
    text += b"=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text)


def encode(claims, private_key, headers=None):
    """Sign ``claims`` with an RSA private key (RS256)."""
    header = {"typ": "JWT", "alg": "RS256"}
    header.update(headers or {})
    signing_input = b64url_encode(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signature = private_key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url_encode(signature)


def split(token):
    """Decode a token without verifying it: returns (header, claims, signing_input, signature)."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise JWTError("malformed", "The token is not a JWT (expected three dot-separated parts).")
    head, body, sig = token.split(".")
    try:
        header = json.loads(b64url_decode(head))
        claims = json.loads(b64url_decode(body))
        signature = b64url_decode(sig)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise JWTError("malformed", "The token cannot be decoded: %s" % exc) from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JWTError("malformed", "The token header and payload must be JSON objects.")
    return header, claims, (head + "." + body).encode("ascii"), signature


def unverified_claims(token):
    try:
        return split(token)[1]
    except JWTError:
        return None


def verify_signature(token, public_key):
    """Verify an RS256 signature; returns (header, claims)."""
    header, claims, signing_input, signature = split(token)
    if header.get("alg") != "RS256":
        raise JWTError("algorithm", "Unsupported token algorithm %r (only RS256)." % header.get("alg"))
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise JWTError("key", "The signing key is not an RSA key.")
    try:
        public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise JWTError("signature", "The token signature is invalid.") from exc
    return header, claims


def check_times(claims, now=None, leeway=0):
    """Raise JWTError('expired'|'not_yet_valid'|'missing_exp') for a token outside its lifetime."""
    now = time.time() if now is None else now
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise JWTError("missing_exp", "The token has no numeric 'exp' claim.")
    if now > exp + leeway:
        raise JWTError("expired", "The token expired at %d (now %d)." % (exp, now))
    nbf = claims.get("nbf")
    if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) and now + leeway < nbf:
        raise JWTError("not_yet_valid", "The token is not valid before %d (now %d)." % (nbf, now))


def jwk(public_key, kid):
    numbers = public_key.public_numbers()

    def _b64int(value):
        return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": _b64int(numbers.n), "e": _b64int(numbers.e)}


def thumbprints(cert_der):
    """Return (x5t, x5t#S256) base64url thumbprints of a DER certificate."""
    return (b64url_encode(hashlib.sha1(cert_der).digest()),  # nosec - X.509 thumbprint, not security
            b64url_encode(hashlib.sha256(cert_der).digest()))
