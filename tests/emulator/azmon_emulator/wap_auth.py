"""Windows Azure Pack sign-in: the admin Windows authentication site's WS-Trust 1.3 endpoints (and AD FS's paths).

``POST /wstrust/issue/windowstransport`` (and ``/adfs/services/trust/13/windowstransport``): the connection is
authenticated with Negotiate or NTLM (a real NTLM acceptor from pyspnego, checking the seed's WAP accounts
through an NTLM_USER_FILE credential file); the SOAP message carries no credential.
``POST /wstrust/issue/usernamemixed`` (and ``/adfs/services/trust/13/usernamemixed``): a WS-Security
UsernameToken with the password as text, and a Timestamp that must not be stale.

Both answer an Issue request for a bearer JWT for the relying party ``http://azureservices/AdminSite`` with an
RSTR collection whose BinarySecurityToken is the JWT, base64-encoded, signed by the key the WAP admin API (wap.py)
trusts. Refusals are SOAP 1.2 faults with HTTP 500, as WCF sends them: wrong credentials (FailedAuthentication,
ID3242), an unknown relying party (InvalidRequest, ID3082 or AD FS's MSIS7007), a stale or future timestamp
(MessageExpired), an unsupported key or token type (InvalidRequest). A Windows sign-in that fails is HTTP 401.
"""

import base64
import binascii
import datetime
import os
import time
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from . import jwt, timeutil
from .web import Response, Service

REALM = "http://azureservices/AdminSite"
ISSUER = "http://azureservices/AdminSite"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://www.w3.org/2005/08/addressing",
    "trust": "http://docs.oasis-open.org/ws-sx/ws-trust/200512",
    "wsp": "http://schemas.xmlsoap.org/ws/2004/09/policy",
    "o": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "u": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
ACTION_ISSUE = NS["trust"] + "/RST/Issue"
ACTION_ISSUE_FINAL = NS["trust"] + "/RSTRC/IssueFinal"
ACTION_FAULT = "http://www.w3.org/2005/08/addressing/soap/fault"
BEARER = NS["trust"] + "/Bearer"
ISSUE = NS["trust"] + "/Issue"
BASE64_ENCODING = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
CLOCK_SKEW = datetime.timedelta(minutes=5)
# path -> (authentication, kind of site)
PATHS = {
    "/wstrust/issue/windowstransport": ("windows", "wap"),
    "/wstrust/issue/usernamemixed": ("usernamemixed", "wap"),
    "/adfs/services/trust/13/windowstransport": ("windows", "adfs"),
    "/adfs/services/trust/13/usernamemixed": ("usernamemixed", "adfs"),
}


class Fault(Exception):
    def __init__(self, code, subcode, reason):
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason


def fault_response(fault, relates_to=None):
    prefix, _sep, local = fault.subcode.partition(":")
    namespace = {"trust": NS["trust"], "o": NS["o"], "a": NS["a"]}.get(prefix, NS["trust"])
    body = (
        '<s:Envelope xmlns:s="{s}" xmlns:a="{a}"><s:Header>'
        '<a:Action s:mustUnderstand="1">{action}</a:Action>{relates}</s:Header>'
        '<s:Body><s:Fault><s:Code><s:Value>s:{code}</s:Value>'
        '<s:Subcode><s:Value xmlns:f="{ns}">f:{local}</s:Value></s:Subcode></s:Code>'
        '<s:Reason><s:Text xml:lang="en-US">{reason}</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>'
    ).format(s=NS["s"], a=NS["a"], action=ACTION_FAULT, code=fault.code, ns=namespace, local=local,
             reason=escape(fault.reason),
             relates='<a:RelatesTo>%s</a:RelatesTo>' % escape(relates_to) if relates_to else "")
    return Response(500, body, "application/soap+xml; charset=utf-8")


def _text(root, path):
    elem = root.find(path, NS)
    return (elem.text or "").strip() if elem is not None and elem.text else None


def _import_spnego():
    import spnego  # pylint: disable=import-outside-toplevel
    return spnego


class WapAuthService(Service):
    name = "wap_auth"

    def __init__(self, emulator):
        super().__init__(emulator)
        self.accounts = {}
        for principal in self.state.wap.get("principals") or []:
            if principal.get("password"):
                self.accounts[principal["id"].lower()] = principal
        # The NTLM acceptor (pyspnego) looks accounts up in the file NTLM_USER_FILE names: DOMAIN:user:password,
        # or :user@domain:password for a UPN.
        directory = os.path.join(self.state.state_dir, "wap-auth")
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "ntlm-users.txt")
        lines = []
        for principal in self.accounts.values():
            domain, sep, user = principal["id"].partition("\\")
            if not sep:
                domain, user = "", principal["id"]
            lines.append("%s:%s:%s" % (domain, user, principal["password"]))
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.environ["NTLM_USER_FILE"] = path

    def error(self, status, code, message, req=None):
        return fault_response(Fault("Receiver", "trust:RequestFailed", "%s: %s" % (code, message)))

    def handle(self, req):
        route = PATHS.get(req.path.rstrip("/").lower())
        if route is None:
            return Response(404, "The resource cannot be found.", "text/plain; charset=utf-8")
        if req.method != "POST":
            return Response(405, "Method not allowed.", "text/plain; charset=utf-8", {"Allow": "POST"})
        authentication, site = route
        content_type = (req.header("Content-Type") or "").lower()
        if not content_type.startswith("application/soap+xml"):
            req.body()
            return Response(415, "Cannot process the message because the content type '%s' was not the expected type"
                                 " 'application/soap+xml; charset=utf-8'." % (req.header("Content-Type") or ""),
                            "text/plain; charset=utf-8")
        user = None
        extra_headers = {}
        if authentication == "windows":
            outcome = self._windows(req)
            if isinstance(outcome, Response):
                return outcome
            user, extra_headers = outcome
        try:
            root = ET.fromstring(req.body())
        except ET.ParseError:
            return fault_response(Fault("Sender", "a:InvalidMessage", "The message is not well-formed XML."))
        message_id = _text(root, "s:Header/a:MessageID")
        try:
            self._check_request(root, req)
            if authentication == "usernamemixed":
                user = self._username_token(root, site)
            claims = self._claims(root, user, site)
        except Fault as fault:
            return fault_response(fault, message_id)
        resp = self._issue(claims, message_id)
        resp.headers.update(extra_headers)
        return resp

    # -------------------------------------------------------------- Windows transport (Negotiate/NTLM)
    def _windows(self, req):
        value = req.header("Authorization") or ""
        scheme, _sep, data = value.partition(" ")
        scheme = scheme.lower()
        handler = req.handler
        if scheme not in ("negotiate", "ntlm") or not data.strip():
            return self._challenge(req)
        try:
            token = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError):
            return self._challenge(req, "The Authorization header is not base64.")
        try:
            spnego = _import_spnego()
        except ImportError:
            req.body()
            return Response(500, "The emulator needs pyspnego for Windows authentication.", "text/plain; charset=utf-8")
        starts = token.startswith(b"NTLMSSP\x00\x01") if scheme == "ntlm" else token[:1] == b"\x60"
        context = getattr(handler, "wap_auth_context", None)
        if starts or context is None or context[0] != scheme:
            context = (scheme, spnego.server(protocol=scheme))
            handler.wap_auth_context = context
        server = context[1]
        try:
            out = server.step(token)
        except Exception:  # pylint: disable=broad-except  # any refusal of the NTLM/SPNEGO exchange is a failed logon
            handler.wap_auth_context = None
            return self._challenge(req, "Access is denied due to invalid credentials.")
        if not server.complete:
            req.body()
            return Response(401, "", None, {"WWW-Authenticate": "%s %s" % (scheme.capitalize() if scheme == "negotiate"
                                                                           else "NTLM", base64.b64encode(out).decode())})
        handler.wap_auth_context = None
        principal = server.client_principal or ""
        if principal.lower() not in self.accounts:
            return self._challenge(req, "Access is denied: %s is not an account of this site." % principal)
        headers = {}
        if out:
            headers["WWW-Authenticate"] = "Negotiate %s" % base64.b64encode(out).decode()
        return self.accounts[principal.lower()]["id"], headers

    def _challenge(self, req, why="Access is denied due to missing credentials."):
        req.body()
        return Response(401, "401 - Unauthorized: %s" % why, "text/plain; charset=utf-8",
                        {"WWW-Authenticate": "Negotiate, NTLM"})

    # -------------------------------------------------------------- the message
    def _check_request(self, root, req):
        action = _text(root, "s:Header/a:Action")
        if action != ACTION_ISSUE:
            raise Fault("Sender", "a:ActionNotSupported", "The message with Action '%s' cannot be processed at the"
                        " receiver, due to a ContractFilter mismatch at the EndpointDispatcher." % (action or ""))
        rst = root.find("s:Body/trust:RequestSecurityToken", NS)
        if rst is None:
            raise Fault("Sender", "trust:InvalidRequest", "The body holds no WS-Trust 1.3 RequestSecurityToken.")
        request_type = _text(rst, "trust:RequestType")
        if request_type != ISSUE:
            raise Fault("Sender", "trust:InvalidRequest", "The request type '%s' is not supported." % request_type)

    def _username_token(self, root, site):
        security = root.find("s:Header/o:Security", NS)
        if security is None:
            raise Fault("Sender", "o:InvalidSecurity", "An error occurred when verifying security for the message.")
        now = datetime.datetime.now(datetime.timezone.utc)
        created, expires = _text(security, "u:Timestamp/u:Created"), _text(security, "u:Timestamp/u:Expires")
        try:
            created_at = timeutil.parse_iso(created, datetime.timezone.utc) if created else None
            expires_at = timeutil.parse_iso(expires, datetime.timezone.utc) if expires else None
        except ValueError:
            raise Fault("Sender", "o:InvalidSecurity", "The security timestamp is not a valid time.") from None
        if expires_at is not None and expires_at < now - CLOCK_SKEW:
            raise Fault("Sender", "o:MessageExpired",
                        "The security timestamp is stale because its expiration time ('%s') is in the past. Current"
                        " time is '%s' and allowed clock skew is '00:05:00'." % (expires, timeutil.iso_z(now, 3)))
        if created_at is not None and created_at > now + CLOCK_SKEW:
            raise Fault("Sender", "o:MessageExpired",
                        "The security timestamp is invalid because its creation time ('%s') is in the future. Current"
                        " time is '%s' and allowed clock skew is '00:05:00'." % (created, timeutil.iso_z(now, 3)))
        username = _text(security, "o:UsernameToken/o:Username")
        password_elem = security.find("o:UsernameToken/o:Password", NS)
        password = password_elem.text if password_elem is not None and password_elem.text else ""
        account = self.accounts.get((username or "").lower())
        if account is None or account["password"] != password:
            raise Fault("Sender", "o:FailedAuthentication",
                        "ID3242: The security token could not be authenticated or authorized.")
        return account["id"]

    def _claims(self, root, user, site):
        rst = root.find("s:Body/trust:RequestSecurityToken", NS)
        realm = _text(rst, "wsp:AppliesTo/a:EndpointReference/a:Address")
        if realm != REALM:
            if site == "adfs":
                raise Fault("Sender", "trust:InvalidRequest",
                            "MSIS7007: The requested relying party trust '%s' is unspecified or unsupported." % realm)
            raise Fault("Sender", "trust:InvalidScope", "ID3082: The request scope is not valid or is unsupported.")
        key_type = _text(rst, "trust:KeyType")
        if key_type != BEARER:
            raise Fault("Sender", "trust:InvalidRequest",
                        "The key type '%s' is not supported: this relying party accepts bearer tokens only." % key_type)
        token_type = _text(rst, "trust:TokenType")
        if token_type != JWT_TYPE:
            raise Fault("Sender", "trust:InvalidRequest",
                        "The token type '%s' is not supported: this relying party accepts %s only."
                        % (token_type, JWT_TYPE))
        now = int(time.time())
        lifetime = int(self.state.settings.get("tokenLifetimeSeconds") or 3600)
        principal = self.accounts[user.lower()]
        return {"iss": ISSUER, "aud": realm, "upn": principal["id"],
                "primarysid": principal.get("sid", "S-1-5-21-0-0-0-500"), "iat": now, "nbf": now,
                "exp": now + lifetime}

    def _issue(self, claims, message_id):
        pki = self.emulator.pki
        token = jwt.encode(claims, pki.wap_key, {"kid": pki.wap_kid, "x5t": pki.wap_kid})
        created = datetime.datetime.fromtimestamp(claims["iat"], datetime.timezone.utc)
        expires = datetime.datetime.fromtimestamp(claims["exp"], datetime.timezone.utc)
        body = (
            '<s:Envelope xmlns:s="{s}" xmlns:a="{a}" xmlns:u="{u}"><s:Header>'
            '<a:Action s:mustUnderstand="1">{action}</a:Action>{relates}</s:Header><s:Body>'
            '<trust:RequestSecurityTokenResponseCollection xmlns:trust="{trust}">'
            '<trust:RequestSecurityTokenResponse>'
            '<trust:Lifetime><u:Created>{created}</u:Created><u:Expires>{expires}</u:Expires></trust:Lifetime>'
            '<wsp:AppliesTo xmlns:wsp="{wsp}"><a:EndpointReference><a:Address>{realm}</a:Address>'
            '</a:EndpointReference></wsp:AppliesTo>'
            '<trust:RequestedSecurityToken><o:BinarySecurityToken xmlns:o="{o}" u:Id="uuid-{token_id}"'
            ' ValueType="{jwt_type}" EncodingType="{encoding}">{token}</o:BinarySecurityToken>'
            '</trust:RequestedSecurityToken>'
            '<trust:TokenType>{jwt_type}</trust:TokenType><trust:RequestType>{issue}</trust:RequestType>'
            '<trust:KeyType>{bearer}</trust:KeyType>'
            '</trust:RequestSecurityTokenResponse></trust:RequestSecurityTokenResponseCollection>'
            '</s:Body></s:Envelope>'
        ).format(s=NS["s"], a=NS["a"], u=NS["u"], trust=NS["trust"], wsp=NS["wsp"], o=NS["o"],
                 action=ACTION_ISSUE_FINAL,
                 relates='<a:RelatesTo>%s</a:RelatesTo>' % escape(message_id) if message_id else "",
                 created=timeutil.iso_z(created, 3), expires=timeutil.iso_z(expires, 3), realm=escape(claims["aud"]),
                 token_id=uuid.uuid4(), jwt_type=JWT_TYPE, encoding=BASE64_ENCODING,
                 token=base64.b64encode(token.encode("ascii")).decode("ascii"), issue=ISSUE, bearer=BEARER)
        return Response(200, body, "application/soap+xml; charset=utf-8")
