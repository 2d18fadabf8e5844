"""Access tokens: issued by login and managed identity, verified by Graph, ARM and ingestion."""

import time
import uuid

from . import jwt

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
MONITORING_AUDIENCES = ("https://monitoring.azure.com/",)
# ARM's own 401 InvalidAuthenticationTokenAudience text lists these four (with and without the slash): v1 and
# managed identity tokens carry the resource exactly as the client sent it.
ARM_AUDIENCES = ("https://management.core.windows.net/", "https://management.core.windows.net",
                 "https://management.azure.com/", "https://management.azure.com")
GRAPH_AUDIENCES = (GRAPH_RESOURCE, GRAPH_RESOURCE + "/", GRAPH_APP_ID)
# Resources the tenant knows, by identifier URI without trailing slash -> the App ID URI Entra puts in ``aud``
# for a v2 ``{resource}/.default`` request. (v1 and managed identity echo the ``resource`` parameter as sent.)
KNOWN_RESOURCES = {
    "https://monitoring.azure.com": "https://monitoring.azure.com/",
    "https://monitor.azure.com": "https://monitor.azure.com/",
    "https://prometheus.monitor.azure.com": "https://prometheus.monitor.azure.com",
    "https://management.azure.com": "https://management.azure.com/",
    "https://management.core.windows.net": "https://management.core.windows.net/",
    GRAPH_RESOURCE: GRAPH_RESOURCE,
    "https://vault.azure.net": "https://vault.azure.net",
    "https://storage.azure.com": "https://storage.azure.com/",
}


class AuthError(Exception):
    """``kind``: missing, invalid, expired, audience, tenant."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


def canonical_resource(resource, emulator=None):
    """The registered App ID URI for ``resource`` (trailing / ignored), or None when the tenant does not know it.

    With ``emulator``, its own ARM and Graph base URLs are known resources too, as a custom cloud's endpoints are
    (``az cloud register``, a client given ``credential_scopes=[arm + "/.default"]``)."""
    key = resource.rstrip("/").lower()
    if emulator is not None:
        own = {emulator.urls["arm"].lower(): emulator.urls["arm"] + "/", emulator.urls["graph"].lower(): emulator.urls["graph"]}
        if key in own:
            return own[key]
    return KNOWN_RESOURCES.get(key)


def audiences(emulator, service):
    """The ``aud`` values the ``arm`` or ``graph`` service accepts: Azure's, plus its own URL with and without ``/``."""
    base = ARM_AUDIENCES if service == "arm" else GRAPH_AUDIENCES
    url = emulator.urls[service]
    return base + (url, url + "/")


def issuer(tenant_id):
    return "https://sts.windows.net/%s/" % tenant_id


def issue(emulator, sp, resource, lifetime=None, now=None):
    """Sign an access token for service principal ``sp`` and ``resource`` (the aud, exactly)."""
    state = emulator.state
    now = int(time.time() if now is None else now)
    if lifetime is None:
        lifetime = int(state.settings.get("tokenLifetimeSeconds") or 3600)
    claims = {
        "aud": resource, "iss": issuer(state.tenant_id), "iat": now - 5 if lifetime > 0 else now + lifetime - 60,
        "nbf": now - 5 if lifetime > 0 else now + lifetime - 60, "exp": now + lifetime,
        "aio": uuid.uuid4().hex, "appid": sp["appId"], "appidacr": "1" if sp.get("servicePrincipalType") != "ManagedIdentity" else "2",
        "idp": issuer(state.tenant_id), "idtyp": "app", "oid": sp["id"], "rh": "0.emulator", "sub": sp["id"],
        "tid": state.tenant_id, "uti": uuid.uuid4().hex[:22], "ver": "1.0",
    }
    if resource.rstrip("/") in (GRAPH_RESOURCE, GRAPH_APP_ID, emulator.urls["graph"]) and sp.get("_graphRoles"):
        claims["roles"] = list(sp["_graphRoles"])
    if sp.get("_resourceId"):
        claims["xms_mirid"] = sp["_resourceId"]
    pki = emulator.pki
    token = jwt.encode(claims, pki.token_key, {"kid": pki.token_kid, "x5t": pki.token_kid})
    return token, claims


def verify(emulator, token, audiences):
    """Verify an emulator access token; returns its claims or raises AuthError."""
    if not token:
        raise AuthError("missing", "The access token is missing.")
    try:
        header, claims = jwt.verify_signature(token, emulator.pki.token_key.public_key())
    except jwt.JWTError as exc:
        raise AuthError("invalid", "The access token is invalid: %s" % exc) from exc
    if header.get("kid") != emulator.pki.token_kid:
        raise AuthError("invalid", "The access token was signed by an unknown key.")
    if claims.get("iss") != issuer(emulator.state.tenant_id) or claims.get("tid") != emulator.state.tenant_id:
        raise AuthError("tenant", "The access token is from the wrong issuer or tenant.")
    try:
        jwt.check_times(claims, leeway=0)
    except jwt.JWTError as exc:
        raise AuthError("expired" if exc.reason == "expired" else "invalid", "The access token is not valid: %s" % exc) from exc
    if claims.get("aud") not in audiences:
        raise AuthError("audience", "The access token audience '%s' is not valid for this service; expected one of: %s."
                        % (claims.get("aud"), ", ".join(audiences)))
    return claims
