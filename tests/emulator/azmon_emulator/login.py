"""Sign-in: Entra ID token endpoints (v2 and v1), discovery documents, and the managed identity endpoint."""

import base64
import binascii
import datetime
import re
import time
import urllib.parse
import uuid

from . import jwt, timeutil, tokens
from .web import Service, json_response

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_TOKEN_RE = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/(?P<v2>v2\.0/)?token$")


class LoginError(Exception):
    def __init__(self, status, error, code, description):
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description


def aad_error(status, error, code, description):
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    text = "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s" % (code, description, trace_id, correlation_id, stamp)
    return json_response(status, {"error": error, "error_description": text, "error_codes": [code], "timestamp": stamp,
                                  "trace_id": trace_id, "correlation_id": correlation_id,
                                  "error_uri": "https://login.microsoftonline.com/error?code=%d" % code})


def _missing(name):
    return LoginError(400, "invalid_request", 900144, "The request body must contain the following parameter: '%s'." % name)


class LoginService(Service):
    name = "login"

    def error(self, status, code, message, req=None):
        number = {503: 90033, 429: 50196, 500: 90000}.get(status, 90000)
        error = "temporarily_unavailable" if status in (429, 503) else "server_error"
        return aad_error(status, error, number, message)

    @property
    def base(self):
        return self.emulator.urls["login"]

    def _tenant(self, segment, allow_common=False):
        state = self.state
        if segment.lower() in (state.tenant_id, state.tenant_domain.lower()):
            return state.tenant_id
        if allow_common and segment.lower() in ("common", "organizations"):
            return state.tenant_id
        raise LoginError(400, "invalid_request", 90002,
                         "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into "
                         "the correct cloud. Check with your subscription administrator, this may happen if there are no "
                         "active subscriptions for the tenant." % segment)

    def handle(self, req):
        try:
            return self._route(req)
        except LoginError as exc:
            return aad_error(exc.status, exc.error, exc.code, exc.description)

    def _route(self, req):
        path = req.path
        parts = path.strip("/").split("/")
        if req.method == "GET":
            if path == "/common/discovery/instance":
                host = urllib.parse.urlparse(self.base).netloc
                return json_response(200, {
                    "tenant_discovery_endpoint": "%s/%s/v2.0/.well-known/openid-configuration" % (self.base, self.state.tenant_id),
                    "api-version": "1.1",
                    "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]})
            if len(parts) >= 3 and parts[-2:] == [".well-known", "openid-configuration"]:
                tid = self._tenant(parts[0], allow_common=True)
                return json_response(200, self._openid_config(tid, v2=parts[1] == "v2.0"))
            if len(parts) in (3, 4) and parts[1] == "discovery" and parts[-1] == "keys":
                self._tenant(parts[0], allow_common=True)
                return json_response(200, {"keys": [jwt.jwk(self.emulator.pki.token_key.public_key(), self.emulator.pki.token_kid)]})
            if path == "/_oidc/keys":
                return json_response(200, {"keys": [jwt.jwk(self.emulator.pki.oidc_key.public_key(), self.emulator.pki.oidc_kid)]})
        match = _TOKEN_RE.match(path)
        if match:
            if req.method != "POST":
                return aad_error(405, "invalid_request", 900561, "The endpoint only accepts POST requests. Received a %s request." % req.method)
            return self._token(req, match.group("tenant"), bool(match.group("v2")))
        return json_response(404, {"error": "not_found", "error_description": "No such endpoint: %s %s" % (req.method, path)})

    def _openid_config(self, tid, v2):
        base = "%s/%s" % (self.base, tid)
        suffix = "/v2.0" if v2 else ""
        return {
            "token_endpoint": "%s/oauth2%s/token" % (base, suffix),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": "%s/discovery%s/keys" % (base, suffix),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": ("%s/v2.0" % base) if v2 else tokens.issuer(tid),
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "%s/openid/userinfo" % base,
            "authorization_endpoint": "%s/oauth2%s/authorize" % (base, suffix),
            "device_authorization_endpoint": "%s/oauth2%s/devicecode" % (base, suffix),
            "http_logout_supported": True, "frontchannel_logout_supported": True,
            "end_session_endpoint": "%s/oauth2%s/logout" % (base, suffix),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"],
            "kerberos_endpoint": "%s/kerberos" % base, "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com", "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com", "rbac_url": "https://pas.windows.net",
        }

    # ------------------------------------------------------------------ token
    def _token(self, req, tenant_segment, v2):
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        tid = self._tenant(tenant_segment)
        if ctype != "application/x-www-form-urlencoded":
            raise LoginError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        form = req.form()
        basic = req.header("Authorization") or ""
        if basic.lower().startswith("basic "):
            try:
                user, _sep, password = base64.b64decode(basic[6:]).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise LoginError(401, "invalid_client", 7000215, "Invalid client secret provided.") from exc
            form.setdefault("client_id", urllib.parse.unquote_plus(user))
            form.setdefault("client_secret", urllib.parse.unquote_plus(password))
        grant = form.get("grant_type")
        if not grant:
            raise _missing("grant_type")
        if grant != "client_credentials":
            raise LoginError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'." % grant)
        client_id = form.get("client_id")
        if not client_id:
            raise _missing("client_id")
        with self.state.lock:
            app = self.state.app_by_app_id(client_id)
            if app is None:
                raise LoginError(400, "unauthorized_client", 700016,
                                 "Application with identifier '%s' was not found in the directory '%s'. This can happen if the "
                                 "application has not been installed by the administrator of the tenant or consented to by any "
                                 "user in the tenant. You may have sent your authentication request to the wrong tenant."
                                 % (client_id, self.state.tenant_name))
            sp = self.state.sp_by_app_id(client_id)
            if sp is None:
                raise LoginError(401, "invalid_client", 7000229,
                                 "The client application %s is missing service principal in the tenant %s." % (client_id, tid))
            resource, aud = self._resource(form, v2)
            self._authenticate_client(form, app, tid, tenant_segment)
            token, claims = tokens.issue(self.emulator, sp, aud)
        lifetime = claims["exp"] - int(time.time())
        body = {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}
        if not v2:
            body.update({"expires_on": str(claims["exp"]), "not_before": str(claims["nbf"]), "resource": resource})
        return json_response(200, body, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    def _resource(self, form, v2):
        if v2:
            scope = form.get("scope")
            if not scope:
                raise _missing("scope")
            scopes = scope.split()
            if len(scopes) != 1 or not scopes[0].endswith("/.default"):
                raise LoginError(400, "invalid_scope", 1002012,
                                 "The provided value for scope %s is not valid. Client credential flows must have a scope value "
                                 "with /.default suffixed to the resource identifier (application ID URI)." % scope)
            resource = scopes[0][:-len("/.default")]
            aud = tokens.canonical_resource(resource, self.emulator)
        else:
            resource = form.get("resource")
            if not resource:
                raise _missing("resource")
            aud = resource if tokens.canonical_resource(resource, self.emulator) else None
        if not aud:
            raise LoginError(400, "invalid_resource", 500011,
                             "The resource principal named %s was not found in the tenant named %s. This can happen if the "
                             "application has not been installed by the administrator of the tenant or consented to by any user "
                             "in the tenant. You might have sent your authentication request to the wrong tenant."
                             % (resource, self.state.tenant_name))
        return resource, aud

    def _authenticate_client(self, form, app, tid, tenant_segment):
        secret = form.get("client_secret")
        assertion = form.get("client_assertion")
        if secret and assertion:
            raise LoginError(400, "invalid_request", 7000216,
                             "Only one of 'client_assertion' and 'client_secret' may be sent for the 'client_credentials' grant type.")
        if secret:
            return self._check_secret(app, secret)
        if assertion:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise LoginError(400, "invalid_request", 700023,
                                 "Invalid client_assertion_type '%s'; expected '%s'." % (form.get("client_assertion_type"), JWT_BEARER))
            return self._check_assertion(app, assertion, tid, tenant_segment)
        raise LoginError(401, "invalid_client", 7000218,
                         "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")

    def _check_secret(self, app, secret):
        now = timeutil.utcnow()
        expired = False
        for cred in app["passwordCredentials"]:
            if cred["_secret"] == secret:
                if timeutil.parse_iso(cred["endDateTime"]) < now:
                    expired = True
                    continue
                if timeutil.parse_iso(cred["startDateTime"]) > now + datetime.timedelta(minutes=5):
                    continue
                return
        if expired:
            raise LoginError(401, "invalid_client", 7000222, "The provided client secret keys for app '%s' are expired." % app["appId"])
        raise LoginError(401, "invalid_client", 7000215,
                         "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
                         "not the client secret ID, for a secret added to app '%s'." % app["appId"])

    def _token_endpoints(self, tid, tenant_segment):
        out = set()
        for tenant in (tid, tenant_segment, self.state.tenant_domain):
            base = "%s/%s" % (self.base, tenant)
            out.update({base + "/oauth2/v2.0/token", base + "/oauth2/token", base + "/v2.0"})
        return {item.lower() for item in out}

    def _check_assertion(self, app, assertion, tid, tenant_segment):
        try:
            header = jwt.split(assertion)[0]
        except jwt.JWTError as exc:
            raise LoginError(401, "invalid_client", 50027, "JWT token is invalid or malformed.") from exc
        if header.get("x5t") or header.get("x5t#S256"):
            return self._check_certificate_assertion(app, assertion, header, tid, tenant_segment)
        return self._check_federated_assertion(app, assertion)

    @staticmethod
    def _check_lifetime(claims):
        try:
            jwt.check_times(claims, leeway=300 if "nbf" in claims else 0)
            if time.time() > claims["exp"]:
                raise jwt.JWTError("expired", "expired")
        except jwt.JWTError as exc:
            if exc.reason == "missing_exp":
                raise LoginError(401, "invalid_client", 50027, "JWT token is invalid or malformed: the 'exp' claim is required.") from exc
            now = timeutil.iso_z(timeutil.utcnow())
            raise LoginError(401, "invalid_client", 700024,
                             "Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, "
                             "expiry time of assertion %s. Review the documentation at "
                             "https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."
                             % (now, _stamp(claims.get("nbf")), _stamp(claims.get("exp")))) from exc

    def _check_certificate_assertion(self, app, assertion, header, tid, tenant_segment):
        cred = None
        x5t, x5t256 = _thumb(header.get("x5t")), _thumb(header.get("x5t#S256"))
        for candidate in app["keyCredentials"]:
            if (x5t256 and _thumb(candidate["_x5t256"]) == x5t256) or (x5t and _thumb(candidate["_x5t"]) == x5t):
                cred = candidate
                break
        if cred is None:
            raise LoginError(401, "invalid_client", 700027,
                             "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key "
                             "used by client: '%s'. Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
                             "configured keys for app Id '%s'.]" % (header.get("x5t") or header.get("x5t#S256"), app["appId"]))
        try:
            claims = jwt.verify_signature(assertion, cred["_publicKey"])[1]
        except jwt.JWTError as exc:
            raise LoginError(401, "invalid_client", 700027, "Client assertion failed signature validation. [Reason - %s]" % exc) from exc
        if str(claims.get("iss", "")).lower() != app["appId"] or str(claims.get("sub", "")).lower() != app["appId"]:
            raise LoginError(401, "invalid_client", 700021,
                             "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation "
                             "at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .")
        auds = claims.get("aud")
        auds = auds if isinstance(auds, list) else [auds]
        if not any(isinstance(a, str) and a.lower() in self._token_endpoints(tid, tenant_segment) for a in auds):
            raise LoginError(401, "invalid_client", 700212,
                             "Client assertion audience claim does not match the token endpoint: aud '%s'." % claims.get("aud"))
        self._check_lifetime(claims)
        if timeutil.parse_iso(cred["endDateTime"]) < timeutil.utcnow():
            raise LoginError(401, "invalid_client", 700027, "Client assertion contains an expired certificate.")

    def _check_federated_assertion(self, app, assertion):
        pki = self.emulator.pki
        try:
            header, claims = jwt.verify_signature(assertion, pki.oidc_key.public_key())
        except jwt.JWTError as exc:
            claims = jwt.unverified_claims(assertion) or {}
            raise LoginError(401, "invalid_client", 700211,
                             "No matching federated identity record found for presented assertion issuer '%s'. [signature: %s]"
                             % (claims.get("iss"), exc)) from exc
        if header.get("kid") != pki.oidc_kid:
            raise LoginError(401, "invalid_client", 700211, "The assertion is signed by an unknown key of issuer '%s'." % claims.get("iss"))
        self._check_lifetime(claims)
        auds = claims.get("aud")
        auds = auds if isinstance(auds, list) else [auds]
        for fic in app["federatedIdentityCredentials"]:
            if fic["issuer"] == claims.get("iss") and fic["subject"] == claims.get("sub") and \
                    any(a in fic["audiences"] for a in auds):
                return
        raise LoginError(400, "invalid_request", 70021,
                         "No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. "
                         "Assertion Subject: '%s'. Assertion Audience: '%s'. "
                         "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
                         % (claims.get("iss"), claims.get("sub"), ",".join(str(a) for a in auds)))


def _thumb(value):
    """Thumbprint bytes from base64 or base64url text (with or without padding); None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return jwt.b64url_decode(value.rstrip("=").replace("+", "-").replace("/", "_"))
    except (ValueError, binascii.Error):
        return None


def _stamp(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timeutil.iso_z(datetime.datetime.fromtimestamp(value, datetime.timezone.utc))
    return "(none)"


class MsiService(Service):
    """App Service style managed identity endpoint (``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``)."""

    name = "msi"

    def error(self, status, code, message, req=None):
        return json_response(status, {"statusCode": status, "error": code, "message": message})

    def handle(self, req):
        if req.path != "/msi/token":
            return self.error(404, "NotFound", "No such endpoint: %s" % req.path)
        if req.method != "GET":
            return self.error(405, "MethodNotAllowed", "Only GET is supported.")
        if req.header("X-IDENTITY-HEADER") != self.emulator.msi_header:
            return self.error(401, "Unauthorized", "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.")
        if req.query.get("api-version") != "2019-08-01":
            return self.error(400, "BadRequest", "The api-version '%s' is not supported; use 2019-08-01." % req.query.get("api-version"))
        resource = req.query.get("resource")
        if not resource:
            return self.error(400, "BadRequest", "The 'resource' query parameter is required.")
        if not tokens.canonical_resource(resource, self.emulator):
            return self.error(400, "invalid_resource", "AADSTS500011: The resource principal named %s was not found in the tenant." % resource)
        with self.state.lock:
            identities = [sp for sp in self.state.service_principals.values() if sp["servicePrincipalType"] == "ManagedIdentity"]
            wanted = {k: (req.query.get(k) or "").lower() for k in ("client_id", "principal_id", "object_id", "mi_res_id")}
            if wanted["client_id"]:
                chosen = [sp for sp in identities if sp["appId"] == wanted["client_id"]]
            elif wanted["principal_id"] or wanted["object_id"]:
                chosen = [sp for sp in identities if sp["id"] in (wanted["principal_id"], wanted["object_id"])]
            elif wanted["mi_res_id"]:
                chosen = [sp for sp in identities if (sp.get("_resourceId") or "").lower() == wanted["mi_res_id"]]
            else:
                chosen = [sp for sp in identities if sp.get("_systemAssigned")] or identities[:1]
            if not chosen:
                return self.error(400, "BadRequest", "No managed identity matches the request (%s)." % req.query_string)
            token, claims = tokens.issue(self.emulator, chosen[0], resource)
        return json_response(200, {"access_token": token, "expires_on": str(claims["exp"]), "resource": resource,
                                   "token_type": "Bearer", "client_id": chosen[0]["appId"]})
