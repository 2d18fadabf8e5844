"""Certificates and keys generated at start: a CA, the server certificate, token signing keys."""

import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from . import jwt


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "azmon emulator"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def new_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def self_signed_rsa(common_name, days=36500):
    """A self-signed RSA certificate for an application credential: returns (key, cert)."""
    key = new_rsa_key()
    now = _utcnow()
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))
    return key, cert


def load_certificate(data):
    """Load a certificate from PEM text/bytes or DER bytes."""
    if isinstance(data, str):
        data = data.encode("ascii")
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def cert_der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def cert_thumbprints(cert):
    return jwt.thumbprints(cert_der(cert))


class PKI:
    """CA + server certificate written to ``directory``, and RSA keys for access, OIDC and WAP tokens."""

    def __init__(self, directory, host="127.0.0.1"):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        now = _utcnow()
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("azmon emulator test CA")
        self.ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
                        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                        .not_valid_before(now - datetime.timedelta(hours=1))
                        .not_valid_after(now + datetime.timedelta(days=30))
                        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                     content_commitment=False, key_encipherment=False,
                                                     data_encipherment=False, key_agreement=False,
                                                     encipher_only=False, decipher_only=False), critical=True)
                        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
                        .sign(ca_key, hashes.SHA256()))
        server_key = ec.generate_private_key(ec.SECP256R1())
        alt_names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        try:
            if ipaddress.ip_address(host) != ipaddress.ip_address("127.0.0.1"):
                alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
        server_cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca_name)
                       .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(now - datetime.timedelta(hours=1))
                       .not_valid_after(now + datetime.timedelta(days=29))
                       .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
                       .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                       .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                       .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                      critical=False)
                       .sign(ca_key, hashes.SHA256()))
        self.ca_bundle = os.path.abspath(os.path.join(directory, "ca.pem"))
        self.server_cert_file = os.path.abspath(os.path.join(directory, "server.pem"))
        self.server_key_file = os.path.abspath(os.path.join(directory, "server-key.pem"))
        _write(self.ca_bundle, cert_pem(self.ca_cert))
        _write(self.server_cert_file, cert_pem(server_cert))
        _write(self.server_key_file, key_pem(server_key), private=True)
        # Token signing keys: access tokens (login), the CI OIDC issuer, the WAP authentication site.
        self.token_key = new_rsa_key()
        self.token_kid = jwt.b64url_encode(os.urandom(12))
        self.oidc_key = new_rsa_key()
        self.oidc_kid = jwt.b64url_encode(os.urandom(12))
        self.wap_key = new_rsa_key()
        self.wap_kid = jwt.b64url_encode(os.urandom(12))

    def server_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.server_cert_file, self.server_key_file)
        return ctx


def _write(path, text, private=False):
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)
    if private:
        os.chmod(path, 0o600)
