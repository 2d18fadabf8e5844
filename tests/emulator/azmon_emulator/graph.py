"""Microsoft Graph ``/v1.0``: applications, service principals, passwords, federated identity credentials."""

import base64
import binascii
import copy
import datetime
import re
import time
import urllib.parse

from . import odata, pki, timeutil, tokens
from .state import is_guid, new_guid
from .web import HttpError, Response, Service, json_response

READ_ROLES = ("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
WRITE_ROLES = ("Application.ReadWrite.All",)
# The complex properties of microsoft.graph.application (v1.0) with their sub-properties and the value Graph shows when
# nothing was set; a write is merged into the current value, an unknown sub-property is refused as Graph refuses it.
APP_COMPLEX = {
    "web": (("homePageUrl", "logoutUrl", "redirectUris", "implicitGrantSettings", "redirectUriSettings"),
            {"homePageUrl": None, "logoutUrl": None, "redirectUris": [], "redirectUriSettings": [],
             "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}}),
    "spa": (("redirectUris",), {"redirectUris": []}),
    "publicClient": (("redirectUris",), {"redirectUris": []}),
    "api": (("acceptMappedClaims", "knownClientApplications", "oauth2PermissionScopes", "preAuthorizedApplications",
             "requestedAccessTokenVersion"),
            {"acceptMappedClaims": None, "knownClientApplications": [], "oauth2PermissionScopes": [],
             "preAuthorizedApplications": [], "requestedAccessTokenVersion": None}),
    "optionalClaims": (("idToken", "accessToken", "saml2Token"), None),
}
APP_ROLE_FIELDS = ("allowedMemberTypes", "description", "displayName", "id", "isEnabled", "origin", "value")
GROUP_MEMBERSHIP_CLAIMS = ("None", "SecurityGroup", "DirectoryRole", "ApplicationGroup", "All")
APP_DEFAULTS = dict({k: copy.deepcopy(v[1]) for k, v in APP_COMPLEX.items()}, appRoles=[], groupMembershipClaims=None,
                    isFallbackPublicClient=None)
APP_FIELDS = ("displayName", "uniqueName", "description", "notes", "tags", "identifierUris", "signInAudience", "keyCredentials",
              "requiredResourceAccess") + tuple(APP_DEFAULTS)
SP_FIELDS = ("displayName", "accountEnabled", "tags", "notes", "description", "appRoleAssignmentRequired")
ODATA_TYPES = {"applications": "#microsoft.graph.application", "servicePrincipals": "#microsoft.graph.servicePrincipal"}
# $filter properties per collection (Graph's documented filterable ones the emulator implements).
FILTERS = {
    "applications": {"strings": ("displayName", "appId", "uniqueName", "id", "publisherDomain", "signInAudience"),
                     "collections": ("identifierUris", "tags"), "booleans": ()},
    "servicePrincipals": {"strings": ("displayName", "appId", "id", "servicePrincipalType", "appOwnerOrganizationId"),
                          "collections": ("servicePrincipalNames", "tags"), "booleans": ("accountEnabled",)},
}
LIST_OPTIONS = ("$filter", "$select", "$top", "$search", "$count", "$orderby", "$skiptoken")
MAX_TOP = 999
SIGN_IN_AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")
MAX_DESCRIPTION = 1024
MAX_FIC_TEXT = 600
MAX_GET_BY_IDS = 1000
MAX_FICS = 20
_REF_RE = re.compile(r"^(applications|servicePrincipals)\((appId|uniqueName)='((?:[^']|'')*)'\)$")
_FIC_BY_NAME_RE = re.compile(r"^federatedIdentityCredentials\(name='((?:[^']|'')*)'\)$")
_SEARCH_RE = re.compile(r'^"([A-Za-z]+):([^"]*)"$')


class GraphError(HttpError):
    """Graph's refusal."""


def _not_found(ref):
    return GraphError(404, "Request_ResourceNotFound",
                      "Resource '%s' does not exist or one of its queried reference-property objects are not present." % ref)


def _public(obj):
    return {k: v for k, v in obj.items() if not k.startswith("_") and k != "federatedIdentityCredentials"}


def app_view(app, with_keys=False):
    """An application as Graph shows it; the certificate ``key`` only for ``$select=keyCredentials`` on one object."""
    view = dict(copy.deepcopy(APP_DEFAULTS), **_public(app))
    view["passwordCredentials"] = [{k: v for k, v in c.items() if not k.startswith("_")} for c in app["passwordCredentials"]]
    view["keyCredentials"] = [dict({k: v for k, v in c.items() if not k.startswith("_")},
                                   key=c.get("_key") if with_keys else None) for c in app["keyCredentials"]]
    return view


def _selected(req, view, kind):
    """Apply ``$select`` (comma-separated property names; ``id`` always kept) to one object's view."""
    select = [name.strip() for name in (req.query.get("$select") or "").split(",") if name.strip()]
    if not select:
        return view
    for name in select:
        if name not in view:
            raise GraphError(400, "Request_BadRequest", "Could not find a property named '%s' on type '%s'."
                             % (name, ODATA_TYPES[kind].lstrip("#")))
    return {k: v for k, v in view.items() if k in select or k == "id" or k.startswith("@odata")}


def _check_odata_type(body, kind):
    """msgraph-sdk sends ``@odata.type`` with every write; Graph accepts the entity's own type and refuses another."""
    value = body.get("@odata.type")
    if value is not None and value.lower() != ODATA_TYPES[kind].lower():
        raise GraphError(400, "Request_BadRequest", "The @odata.type '%s' does not match the type of the collection '%s'."
                         % (value, ODATA_TYPES[kind]))


class GraphService(Service):
    name = "graph"

    def error(self, status, code, message, req=None):
        inner = {"date": timeutil.iso_z(timeutil.utcnow()), "request-id": req.request_id if req else new_guid(),
                 "client-request-id": (req.header("client-request-id") if req else None) or new_guid()}
        return json_response(status, {"error": {"code": code, "message": message, "innerError": inner}})

    def handle(self, req):
        resp = super().handle(req)
        resp.headers["request-id"] = req.request_id
        resp.headers["client-request-id"] = req.header("client-request-id") or req.request_id
        return resp

    def _ok(self, status, obj, context=None):
        if obj is not None and context:
            obj = dict({"@odata.context": "%s/v1.0/$metadata#%s" % (self.emulator.urls["graph"], context)}, **obj)
        return json_response(status, obj)

    def _authorize(self, req, write):
        try:
            claims = tokens.verify(self.emulator, req.bearer(), tokens.audiences(self.emulator, "graph"))
        except tokens.AuthError as exc:
            message = {"missing": "Access token is empty.", "expired": "Lifetime validation failed, the token is expired.",
                       "audience": "Access token validation failure. Invalid audience."}.get(exc.kind, "Access token validation failure.")
            raise GraphError(401, "InvalidAuthenticationToken", message) from exc
        req.claims = claims
        granted = set(claims.get("roles") or [])
        if not granted & set(WRITE_ROLES if write else READ_ROLES):
            raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        return claims

    def _body(self, req):
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise GraphError(400, "BadRequest", "Unable to read JSON request payload: %s" % exc) from exc
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "The request body must be a JSON object.")
        return body

    # --------------------------------------------------------------- routing
    def _handle(self, req):
        if not req.path.startswith("/v1.0/"):
            raise GraphError(404, "BadRequest", "Resource not found for the segment '%s'." % req.path.split("/")[1])
        parts = req.path[len("/v1.0/"):].rstrip("/").split("/")
        get_by_ids = parts == ["directoryObjects", "getByIds"]
        self._authorize(req, write=req.method not in ("GET", "HEAD") and not get_by_ids)
        with self.state.lock:
            head = parts[0]
            match = _REF_RE.match(head)
            if get_by_ids:
                if req.method != "POST":
                    raise GraphError(405, "Request_BadRequest", "Method not allowed.")
                return self._get_by_ids(req)
            if head in ("applications", "servicePrincipals") and parts[1:] == ["$count"] and req.method == "GET":
                return self._count(req, head)
            if head in ("applications", "servicePrincipals") and len(parts) == 1:
                if req.method == "GET":
                    return self._list(req, head)
                if req.method == "POST":
                    return self._create_app(req) if head == "applications" else self._create_sp(self._body(req))
                raise GraphError(405, "Request_BadRequest", "Method not allowed.")
            if match or (head in ("applications", "servicePrincipals") and len(parts) >= 2):
                kind = match.group(1) if match else head
                if match:
                    key, value = match.group(2), match.group(3).replace("''", "'")
                    rest = parts[1:]
                else:
                    key, value, rest = "id", parts[1], parts[2:]
                obj = self._lookup(kind, key, value)
                if not rest:
                    return self._entity(req, kind, key, value, obj)
                if obj is None or self._replicating(obj, req):
                    raise _not_found(value)
                if kind == "applications":
                    return self._app_action(req, obj, rest)
        raise GraphError(400, "BadRequest", "Resource not found for the segment '%s'." % parts[0])

    def _replicating(self, obj, req):
        """Whether ``obj`` is too new to be read back yet (setting ``graphReadDelaySeconds``, or a ``stale_read`` fault
        on ``req``)."""
        delay = float(self.state.settings.get("graphReadDelaySeconds") or 0)
        if req.fault is not None and req.fault.action == "stale_read":
            delay = max(delay, req.fault.lag_seconds)
        return bool(delay) and obj is not None and time.time() - (obj.get("_created") or 0) < delay

    def _lookup(self, kind, key, value):
        pool = self.state.applications.values() if kind == "applications" else self.state.service_principals.values()
        for obj in pool:
            current = obj.get(key)
            if current is not None and (current.lower() == value.lower() if key != "uniqueName" else current == value):
                return obj
        return None

    @staticmethod
    def _eventual(req, option):
        """``$search`` and ``$count`` are advanced queries: Graph serves them only with ``ConsistencyLevel: eventual``."""
        if (req.header("ConsistencyLevel") or "").strip().lower() != "eventual":
            raise GraphError(400, "Request_BadRequest", "%s is only supported with the request header 'ConsistencyLevel: eventual' "
                             "(an advanced query)." % option)

    def _matching(self, req, kind):
        """The objects of ``kind`` that ``$filter`` and ``$search`` select, in ``$orderby`` order (default: creation)."""
        for name in req.query:
            if name.startswith("$") and name not in LIST_OPTIONS:
                raise GraphError(400, "Request_BadRequest", "Query option '%s' is not supported%s." % (
                    name, " by the emulator" if name == "$expand" else ""))
        pool = list(self.state.applications.values() if kind == "applications" else self.state.service_principals.values())
        flt = (req.query.get("$filter") or "").strip()
        if "$filter" in req.query:
            spec = FILTERS[kind]
            try:
                predicate = odata.parse_filter(flt, spec["strings"], spec["collections"], spec["booleans"])
            except odata.FilterError as exc:
                raise GraphError(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for "
                                 "resource '%s': %s" % (kind, exc)) from exc
            pool = [o for o in pool if predicate(o)]
        if "$search" in req.query:
            self._eventual(req, "$search")
            clauses = [c.strip() for c in re.split(r"\s+OR\s+", req.query["$search"].strip())]
            terms = []
            for clause in clauses:
                match = _SEARCH_RE.match(clause)
                if not match or match.group(1) not in ("displayName", "description"):
                    raise GraphError(400, "Request_UnsupportedQuery", "Invalid $search clause %r: use \"displayName:term\" or "
                                     "\"description:term\", in double quotes, joined with OR." % clause)
                terms.append((match.group(1), match.group(2)))
            pool = [o for o in pool if any(odata.search_matches(o.get(prop), term) for prop, term in terms)]
        pool = [o for o in pool if not self._replicating(o, req)]
        pool.sort(key=lambda o: o.get("_created", 0))
        order = (req.query.get("$orderby") or "").strip()
        if order:
            match = re.match(r"^displayName(?:\s+(asc|desc))?$", order)
            if not match:
                raise GraphError(400, "Request_UnsupportedQuery", "Sorting is only supported on displayName: '%s'." % order)
            pool.sort(key=lambda o: (o.get("displayName") or "").lower(), reverse=match.group(1) == "desc")
        return pool

    def _count(self, req, kind):
        self._eventual(req, "$count")
        return Response(200, str(len(self._matching(req, kind))), "text/plain")

    def _list(self, req, kind):
        pool = self._matching(req, kind)
        view = app_view if kind == "applications" else _public
        try:
            offset = int(req.query.get("$skiptoken") or 0)
        except ValueError as exc:
            raise GraphError(400, "Request_BadRequest", "Invalid $skiptoken.") from exc
        size = max(1, int(self.state.settings.get("graphPageSize") or 100))
        if "$top" in req.query:
            top = req.query["$top"].strip()
            if not top.isdigit() or not 1 <= int(top) <= MAX_TOP:
                raise GraphError(400, "Request_BadRequest", "Invalid page size specified: '%s'. Must be between 1 and %d inclusive."
                                 % (top, MAX_TOP))
            size = int(top)
        page = {}
        count = req.query.get("$count")
        if count is not None:
            if count.lower() not in ("true", "false"):
                raise GraphError(400, "Request_BadRequest", "Invalid value '%s' for $count: use true or false." % count)
            if count.lower() == "true":
                self._eventual(req, "$count")
                page["@odata.count"] = len(pool)
        page["value"] = [_selected(req, view(o), kind) for o in pool[offset:offset + size]]
        if offset + size < len(pool):
            query = {k: v for k, v in req.query.items() if k != "$skiptoken"}
            query["$skiptoken"] = str(offset + size)
            page["@odata.nextLink"] = "%s%s?%s" % (self.emulator.urls["graph"], req.raw_path, urllib.parse.urlencode(query))
        return self._ok(200, page, kind)

    def _get_by_ids(self, req):
        """``POST /directoryObjects/getByIds``: the objects among ``ids`` of the given ``types``; unknown ids are left out."""
        body = self._body(req)
        ids, types = body.get("ids"), body.get("types")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise GraphError(400, "Request_BadRequest", "Property 'ids' must be a non-empty array of strings.")
        if len(ids) > MAX_GET_BY_IDS:
            raise GraphError(400, "Request_BadRequest", "At most %d ids can be requested at once." % MAX_GET_BY_IDS)
        known = ("application", "servicePrincipal", "user", "group", "device", "directoryObjectPartnerReference", "orgContact")
        if types is not None and (not isinstance(types, list) or not all(isinstance(t, str) for t in types)):
            raise GraphError(400, "Request_BadRequest", "Property 'types' must be an array of strings.")
        for item in types or []:
            if item.lower() not in [k.lower() for k in known]:
                raise GraphError(400, "Request_BadRequest", "Invalid type '%s' in 'types'." % item)
        wanted = {t.lower() for t in types} if types else {"application", "serviceprincipal"}
        value = []
        for object_id in ids:
            key = object_id.lower()
            app, sp = self.state.applications.get(key), self.state.service_principals.get(key)
            if app is not None and "application" in wanted and not self._replicating(app, req):
                value.append(dict({"@odata.type": ODATA_TYPES["applications"]}, **app_view(app)))
            elif sp is not None and "serviceprincipal" in wanted and not self._replicating(sp, req):
                value.append(dict({"@odata.type": ODATA_TYPES["servicePrincipals"]}, **_public(sp)))
        return self._ok(200, {"value": value}, "directoryObjects")

    # ----------------------------------------------------------- applications
    def _apply_app_fields(self, app, body, creating):
        _check_odata_type(body, "applications")
        for key in body:
            if key not in APP_FIELDS and key not in ("@odata.type",):
                if key in ("passwordCredentials",):
                    raise GraphError(400, "Request_BadRequest", "Property 'passwordCredentials' cannot be set here; use addPassword.")
                if key in ("id", "appId"):
                    raise GraphError(400, "Request_BadRequest", "Property '%s' is read-only and cannot be set." % key)
                raise GraphError(400, "Request_BadRequest", "Property '%s' does not exist on type 'microsoft.graph.application'." % key)
        if "uniqueName" in body and not creating and app.get("uniqueName") and body["uniqueName"] != app["uniqueName"]:
            raise GraphError(400, "Request_BadRequest", "Property 'uniqueName' cannot be changed once set.")
        if body.get("uniqueName"):
            other = self._lookup("applications", "uniqueName", body["uniqueName"])
            if other is not None and other is not app:
                raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue",
                                 "Another object with the same value for property uniqueName already exists.")
        if "displayName" in body and (not isinstance(body["displayName"], str) or not body["displayName"].strip()):
            raise GraphError(400, "Request_BadRequest", "Property 'displayName' must be a non-empty string.")
        if body.get("description") is not None and (not isinstance(body["description"], str) or len(body["description"]) > MAX_DESCRIPTION):
            raise GraphError(400, "Request_BadRequest", "Property 'description' must be a string of at most %d characters." % MAX_DESCRIPTION)
        audience = body.get("signInAudience", app.get("signInAudience"))
        if audience not in SIGN_IN_AUDIENCES:
            raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'signInAudience' of resource "
                             "'Application': use one of %s." % ", ".join(SIGN_IN_AUDIENCES))
        if "identifierUris" in body or "signInAudience" in body:
            self._check_identifier_uris(app, body.get("identifierUris", app.get("identifierUris") or []), audience)
        if "keyCredentials" in body:
            app["keyCredentials"] = self._key_credentials(app, body["keyCredentials"])
        values = {key: self._app_property(app, key, body[key]) for key in APP_DEFAULTS if key in body}
        for key in APP_FIELDS:
            if key in body and key != "keyCredentials":
                app[key] = values.get(key, body[key])

    @staticmethod
    def _app_property(app, key, value):
        """Check one of the v1.0 properties of APP_DEFAULTS and return what to store (complex values merged)."""
        def bad(rule):
            return GraphError(400, "Request_BadRequest", "Invalid value specified for property '%s' of resource 'Application': %s."
                              % (key, rule))
        if key in APP_COMPLEX:
            allowed, default = APP_COMPLEX[key]
            if value is None and key == "optionalClaims":
                return None
            if not isinstance(value, dict):
                raise bad("an object is required")
            for sub in value:
                if sub not in allowed and sub != "@odata.type":
                    raise GraphError(400, "Request_BadRequest", "Property '%s' does not exist on the type of '%s'." % (sub, key))
            for sub in ("redirectUris", "knownClientApplications"):
                if sub in value and (not isinstance(value[sub], list) or not all(isinstance(u, str) for u in value[sub])):
                    raise bad("'%s' must be an array of strings" % sub)
            if key in ("web", "spa") and any(not u.lower().startswith(("https://", "http://localhost")) for u in value.get("redirectUris") or []):
                raise bad("redirect URIs must use https (or http://localhost)")
            merged = dict(app.get(key) or copy.deepcopy(default) or {})
            merged.update({k: v for k, v in value.items() if k != "@odata.type"})
            return merged
        if key == "appRoles":
            if not isinstance(value, list):
                raise bad("an array is required")
            ids, names = set(), set()
            for role in value:
                if not isinstance(role, dict) or any(k not in APP_ROLE_FIELDS and k != "@odata.type" for k in role):
                    raise bad("each app role is an object with %s" % ", ".join(APP_ROLE_FIELDS))
                role_id = str(role.get("id") or "").lower()
                if not is_guid(role_id) or role_id in ids:
                    raise bad("every app role needs a unique GUID 'id'")
                if role.get("value") and role["value"] in names:
                    raise bad("app role values must be unique")
                members = role.get("allowedMemberTypes")
                if not isinstance(members, list) or not members or any(m not in ("User", "Application") for m in members):
                    raise bad("'allowedMemberTypes' must hold 'User' and/or 'Application'")
                ids.add(role_id)
                names.add(role.get("value"))
            return [{k: v for k, v in dict({"isEnabled": True, "origin": "Application"}, **r).items() if k != "@odata.type"}
                    for r in value]
        if key == "groupMembershipClaims":
            if value is not None and (not isinstance(value, str) or
                                      any(p.strip() not in GROUP_MEMBERSHIP_CLAIMS for p in value.split(","))):
                raise bad("use %s" % ", ".join(GROUP_MEMBERSHIP_CLAIMS))
            return value
        if value is not None and not isinstance(value, bool):
            raise bad("a boolean is required")
        return value

    def _check_identifier_uris(self, app, uris, audience):
        """The identifierUris rules of learn.microsoft.com/entra/identity-platform/supported-accounts-validation and
        .../identifier-uri-restrictions: unique in the tenant, no wildcard, at most 255 characters (120, no urn:, query
        or fragment and at most 50 URIs with personal accounts); http(s) ones on a verified domain of the tenant."""
        def bad(rule):
            return GraphError(400, "Request_BadRequest", "Invalid value specified for property 'identifierUris' of resource "
                              "'Application': %s." % rule)
        if not isinstance(uris, list) or not all(isinstance(u, str) and u for u in uris):
            raise bad("an array of non-empty strings is required")
        personal = audience in ("AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")
        if personal and len(uris) > 50:
            raise bad("at most 50 URIs with personal Microsoft accounts")
        domain = self.state.tenant_domain.lower()
        for uri in uris:
            parsed = urllib.parse.urlparse(uri)
            if "*" in uri:
                raise bad("wildcards are not supported (%s)" % uri)
            if len(uri) > (120 if personal else 255):
                raise bad("%s is longer than %d characters" % (uri, 120 if personal else 255))
            personal_refused = personal and (parsed.scheme == "urn" or parsed.query or parsed.fragment)
            if parsed.scheme not in ("api", "https", "http", "urn", "ms-appx") or personal_refused:
                raise bad("%s uses a scheme, query or fragment the audience %s does not allow" % (uri, audience))
            host = (parsed.hostname or "").lower()
            if parsed.scheme in ("http", "https") and not (host == domain or host.endswith("." + domain)):
                raise bad("%s must use a verified domain of the tenant (%s)" % (uri, self.state.tenant_domain))
            for other in self.state.applications.values():
                if other is not app and uri.lower() in [u.lower() for u in other.get("identifierUris") or []]:
                    raise GraphError(400, "Request_BadRequest", "Another object with the same value for property identifierUris "
                                     "already exists.")

    def _key_credentials(self, app, items):
        if not isinstance(items, list):
            raise GraphError(400, "Request_BadRequest", "Property 'keyCredentials' must be an array.")
        result = []
        holder = {"keyCredentials": []}
        for item in items:
            if not isinstance(item, dict):
                raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'keyCredentials' of resource 'Application'.")
            existing = next((c for c in app["keyCredentials"] if item.get("keyId") and c["keyId"] == str(item["keyId"]).lower()), None)
            if existing is not None and not item.get("key"):
                result.append(existing)
                continue
            if item.get("type") != "AsymmetricX509Cert" or item.get("usage") != "Verify":
                raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'keyCredentials' of resource "
                                 "'Application': type must be 'AsymmetricX509Cert' and usage 'Verify'.")
            try:
                raw = base64.b64decode(item.get("key") or "", validate=True)
                cert = pki.load_certificate(raw)
            except (ValueError, binascii.Error, TypeError) as exc:
                raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'keyCredentials' of resource "
                                 "'Application': the key is not a base64 X.509 certificate.") from exc
            cred = self.state.add_key_credential(holder, cert, display_name=item.get("displayName"), key_id=item.get("keyId"))
            result.append(cred)
        return result

    def _create_app(self, req, body=None, unique_name=None):
        body = self._body(req) if body is None else body
        if not body.get("displayName"):
            raise GraphError(400, "Request_BadRequest", "Property 'displayName' is required.")
        app = self.state.new_application(body["displayName"], unique_name=unique_name)
        try:
            self._apply_app_fields(app, dict(body, uniqueName=unique_name or body.get("uniqueName")), creating=True)
        except GraphError:
            del self.state.applications[app["id"]]
            raise
        return self._ok(201, app_view(app), "applications/$entity")

    def _entity(self, req, kind, key, value, obj):
        if req.method == "GET":
            if obj is None or self._replicating(obj, req):
                raise _not_found(value)
            with_keys = "keycredentials" in (req.query.get("$select") or "").lower()
            view = app_view(obj, with_keys) if kind == "applications" else _public(obj)
            return self._ok(200, _selected(req, view, kind), "%s/$entity" % kind)
        if req.method == "DELETE":
            if obj is None:
                raise _not_found(value)
            if kind == "applications":
                del self.state.applications[obj["id"]]
                sp = self.state.sp_by_app_id(obj["appId"])
                if sp is not None:
                    del self.state.service_principals[sp["id"]]
            else:
                del self.state.service_principals[obj["id"]]
            return json_response(204, None)
        if req.method != "PATCH":
            raise GraphError(405, "Request_BadRequest", "Method not allowed.")
        body = self._body(req)
        if obj is None:
            prefer = (req.header("Prefer") or "").lower()
            if key == "id" or "create-if-missing" not in prefer:
                raise _not_found(value)
            if kind == "applications":
                if key != "uniqueName":
                    raise GraphError(400, "Request_BadRequest", "Upsert of applications is supported by uniqueName only.")
                return self._create_app(req, body=body, unique_name=value)
            return self._create_sp(dict(body, appId=value))
        if kind == "applications":
            self._apply_app_fields(obj, body, creating=False)
        else:
            _check_odata_type(body, "servicePrincipals")
            for field in body:
                if field not in SP_FIELDS and field not in ("appId", "@odata.type"):
                    raise GraphError(400, "Request_BadRequest", "Property '%s' does not exist on type 'microsoft.graph.servicePrincipal'." % field)
            if "appId" in body and str(body["appId"]).lower() != obj["appId"]:
                raise GraphError(400, "Request_BadRequest", "Property 'appId' is read-only and cannot be changed.")
            obj.update({k: v for k, v in body.items() if k in SP_FIELDS})
        return json_response(204, None)

    def _create_sp(self, body):
        app_id = body.get("appId")
        if not app_id:
            raise GraphError(400, "Request_BadRequest", "Property 'appId' is required.")
        app = self.state.app_by_app_id(app_id)
        if app is None:
            raise GraphError(400, "Request_BadRequest", "The appId '%s' of the service principal does not reference a valid "
                             "application object." % app_id)
        if self.state.sp_by_app_id(app_id) is not None:
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue", "The service principal cannot be created, updated, or "
                             "restored because the service principal name %s is already in use." % app_id)
        _check_odata_type(body, "servicePrincipals")
        for field in body:
            if field not in SP_FIELDS and field not in ("appId", "@odata.type"):
                raise GraphError(400, "Request_BadRequest", "Property '%s' does not exist on type 'microsoft.graph.servicePrincipal'." % field)
        sp = self.state.new_service_principal(app)
        sp.update({k: v for k, v in body.items() if k in SP_FIELDS})
        return self._ok(201, _public(sp), "servicePrincipals/$entity")

    # ------------------------------------------------------------ app actions
    def _app_action(self, req, app, rest):
        action = rest[0]
        if action == "addPassword" and len(rest) == 1 and req.method == "POST":
            body = self._body(req) if req.body() else {}
            spec = body.get("passwordCredential") or {}
            if not isinstance(spec, dict):
                raise GraphError(400, "Request_BadRequest", "Property 'passwordCredential' must be an object.")
            try:
                start = timeutil.parse_iso(spec["startDateTime"]) if spec.get("startDateTime") else timeutil.utcnow()
                end = timeutil.parse_iso(spec["endDateTime"]) if spec.get("endDateTime") else start + datetime.timedelta(days=730)
            except ValueError as exc:
                raise GraphError(400, "Request_BadRequest", "Invalid date-time in passwordCredential: %s" % exc) from exc
            if start.tzinfo is None or end.tzinfo is None or end <= start:
                raise GraphError(400, "Request_BadRequest", "endDateTime must be a UTC date-time after startDateTime.")
            cred = self.state.add_password(app, spec.get("displayName"), start=timeutil.iso_z(start), end=timeutil.iso_z(end))
            view = {k: v for k, v in cred.items() if not k.startswith("_")}
            view["secretText"] = cred["_secret"]
            return self._ok(200, view, "microsoft.graph.passwordCredential")
        if action == "removePassword" and len(rest) == 1 and req.method == "POST":
            key_id = str(self._body(req).get("keyId") or "").lower()
            before = len(app["passwordCredentials"])
            app["passwordCredentials"] = [c for c in app["passwordCredentials"] if c["keyId"] != key_id]
            if len(app["passwordCredentials"]) == before:
                raise GraphError(400, "Request_BadRequest", "No password credential with keyId '%s' found on the application." % key_id)
            return json_response(204, None)
        if action == "federatedIdentityCredentials":
            return self._fics(req, app, rest[1:])
        by_name = _FIC_BY_NAME_RE.match(action)
        if by_name and len(rest) == 1:
            return self._fics(req, app, [by_name.group(1).replace("''", "'")], by_name=True)
        raise GraphError(400, "BadRequest", "Resource not found for the segment '%s'." % action)

    def _fics(self, req, app, rest, by_name=False):
        fics = app["federatedIdentityCredentials"]
        context = "applications('%s')/federatedIdentityCredentials" % app["id"]
        if not rest:
            if req.method == "GET":
                return self._ok(200, {"value": [dict(f) for f in fics]}, context)
            if req.method != "POST":
                raise GraphError(405, "Request_BadRequest", "Method not allowed.")
            body = self._body(req)
            fic = self._validate_fic(app, body, None)
            fics.append(fic)
            return self._ok(201, dict(fic), context + "/$entity")
        if len(rest) > 1:
            raise GraphError(400, "BadRequest", "Resource not found for the segment '%s'." % rest[1])
        wanted = rest[0]
        if by_name:
            fic = next((f for f in fics if f["name"] == wanted), None)
        else:
            fic = next((f for f in fics if f["id"] == wanted.lower() or f["name"] == wanted), None)
        if fic is None:
            raise _not_found(wanted)
        if req.method == "GET":
            return self._ok(200, dict(fic), context + "/$entity")
        if req.method == "DELETE":
            fics.remove(fic)
            return json_response(204, None)
        if req.method == "PATCH":
            body = self._body(req)
            updated = self._validate_fic(app, dict(fic, **body), fic)
            fic.update(updated)
            return json_response(204, None)
        raise GraphError(405, "Request_BadRequest", "Method not allowed.")

    def _validate_fic(self, app, body, current):
        allowed = ("name", "issuer", "subject", "audiences", "description", "id", "@odata.type")
        for key in body:
            if key not in allowed:
                raise GraphError(400, "Request_BadRequest", "Property '%s' does not exist on type "
                                 "'microsoft.graph.federatedIdentityCredential'." % key)
        for field in ("name", "issuer", "subject", "audiences"):
            if not body.get(field):
                raise GraphError(400, "Request_BadRequest", "Property '%s' is required." % field)
        name = body["name"]
        if current is not None and name != current["name"]:
            raise GraphError(400, "Request_BadRequest", "Property 'name' cannot be changed.")
        if not isinstance(name, str) or not 3 <= len(name) <= 120 or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", name):
            raise GraphError(400, "Request_BadRequest", "Property 'name' must be 3 to 120 characters: letters, digits, '-' and '_'.")
        audiences = body["audiences"]
        if not isinstance(audiences, list) or len(audiences) != 1 or not isinstance(audiences[0], str) or not audiences[0]:
            raise GraphError(400, "Request_BadRequest", "Property 'audiences' must contain exactly one value.")
        if not isinstance(body["issuer"], str) or not body["issuer"].startswith("https://"):
            raise GraphError(400, "Request_BadRequest", "Property 'issuer' must be an https URL.")
        for field in ("issuer", "subject", "description"):
            if body.get(field) is not None and (not isinstance(body[field], str) or len(body[field]) > MAX_FIC_TEXT):
                raise GraphError(400, "Request_BadRequest", "Property '%s' must be a string of at most %d characters." % (field, MAX_FIC_TEXT))
        if len(audiences[0]) > MAX_FIC_TEXT:
            raise GraphError(400, "Request_BadRequest", "An audience must be at most %d characters." % MAX_FIC_TEXT)
        others = [f for f in app["federatedIdentityCredentials"] if f is not current]
        if any(f["name"] == name for f in others):
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue", "FederatedIdentityCredential with name %s already exists." % name)
        if any(f["issuer"] == body["issuer"] and f["subject"] == body["subject"] for f in others):
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue",
                             "FederatedIdentityCredential with the same issuer and subject already exists.")
        if current is None and len(others) >= MAX_FICS:
            raise GraphError(400, "Request_BadRequest", "The application already has the maximum of %d federated identity "
                             "credentials." % MAX_FICS)
        return {"id": current["id"] if current else new_guid(), "name": name, "issuer": body["issuer"], "subject": body["subject"],
                "audiences": list(audiences), "description": body.get("description")}
