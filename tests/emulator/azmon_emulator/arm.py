"""Azure Resource Manager: role assignments, role definitions, and GET of seeded scopes (metrics reads: metrics_read.py)."""

import copy
import datetime
import re
import time
import urllib.parse
import uuid

from . import metrics_read, roles, timeutil, tokens
from .state import ScopeError, is_guid, scope_at_or_above
from .web import HttpError, Service, json_response

AUTH_PROVIDER = "/providers/microsoft.authorization/"
API_VERSIONS = {
    "roleAssignments": ("2015-07-01", "2017-10-01-preview", "2018-01-01-preview", "2018-09-01-preview", "2020-03-01-preview",
                        "2020-04-01-preview", "2020-08-01-preview", "2020-10-01-preview", "2022-01-01-preview", "2022-04-01"),
    "roleDefinitions": ("2015-07-01", "2018-01-01-preview", "2022-04-01", "2022-05-01-preview"),
    # Microsoft.Insights dataCollectionRules and dataCollectionEndpoints (the stable ones of the REST API specs)
    "dataCollection": ("2021-04-01", "2022-06-01", "2023-03-11"),
}
DATA_COLLECTION_TYPES = ("microsoft.insights/datacollectionrules", "microsoft.insights/datacollectionendpoints")
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
_ROLE_DEF_RE = re.compile(r"^(?:/subscriptions/(?P<sub>[^/]+))?/providers/Microsoft\.Authorization/roleDefinitions/(?P<id>[^/]+)$", re.I)
_DATE_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha)?$")


class ArmError(HttpError):
    """ARM's refusal."""


def echo_scope(scope):
    """Render a canonical scope the way ARM often echoes it: 'resourcegroups', RG name upper case, provider lower case."""
    parts = scope.split("/")
    if len(parts) >= 5 and parts[3].lower() == "resourcegroups":
        parts[3] = "resourcegroups"
        parts[4] = parts[4].upper()
        if len(parts) >= 9:
            parts[6] = parts[6].lower()
            for index in range(7, len(parts) - 1, 2):
                parts[index] = parts[index].lower()
    return "/".join(parts)


def _released(version):
    """Whether a date api-version names a real day no later than today: ARM refuses versions no provider has published.
    (Resource providers publish their own lists; without them the emulator refuses at least invalid and future dates.)"""
    try:
        day = datetime.date.fromisoformat(version[:10])
    except ValueError:
        return False
    return day <= datetime.datetime.now(datetime.timezone.utc).date()


def _stamp():
    return timeutil.iso_z(timeutil.utcnow(), 7)


class ArmService(Service):
    name = "arm"

    def error(self, status, code, message, req=None):
        resp = json_response(status, {"error": {"code": code, "message": message}})
        resp.headers["x-ms-correlation-request-id"] = str(uuid.uuid4())
        return resp

    def _respond(self, status, obj):
        resp = json_response(status, obj)
        resp.headers["x-ms-correlation-request-id"] = str(uuid.uuid4())
        return resp

    # ----------------------------------------------------------------- auth
    def _authenticate(self, req):
        token = req.bearer()
        try:
            return tokens.verify(self.emulator, token, tokens.audiences(self.emulator, "arm"))
        except tokens.AuthError as exc:
            if exc.kind == "missing":
                raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.") from exc
            if exc.kind == "expired":
                raise ArmError(401, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current "
                               "UTC time '%s'." % datetime.datetime.now(datetime.timezone.utc).strftime("%m/%d/%Y %H:%M:%S")) from exc
            if exc.kind == "audience":
                raise ArmError(401, "InvalidAuthenticationTokenAudience", "The access token has been obtained for wrong audience "
                               "or resource. It should exactly match with one of the allowed audiences '%s'."
                               % "','".join(tokens.ARM_AUDIENCES)) from exc
            if exc.kind == "tenant":
                raise ArmError(401, "InvalidAuthenticationTokenTenant", "The access token is from the wrong issuer.") from exc
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.") from exc

    @staticmethod
    def _api_version(req, kind):
        version = req.query_ci("api-version")
        if not version:
            raise ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
        supported = API_VERSIONS.get(kind)
        if (supported and version not in supported) or not _DATE_VERSION_RE.match(version) or not _released(version):
            raise ArmError(400, "InvalidApiVersionParameter", "The api-version '%s' is invalid. The supported versions are '%s'."
                           % (version, ",".join(supported or ("2021-04-01",))))
        return version

    def _denied(self, claims, action, scope):
        return ArmError(403, "AuthorizationFailed",
                        "The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' "
                        "or the scope is invalid. If access was recently granted, please refresh your credentials."
                        % (claims.get("appid"), claims.get("oid"), action, scope))

    def _require(self, claims, scope, action):
        if not self.state.has_permission(claims.get("oid"), scope, action):
            raise self._denied(claims, action, scope)

    def _resolve(self, scope, claims=None, action=None):
        """Resolve a scope; a caller without ``action`` gets 403 rather than 404 for a missing RG/resource."""
        try:
            return self.state.resolve_scope(scope)
        except ScopeError as exc:
            if claims is not None and exc.code not in ("SubscriptionNotFound", "InvalidSubscriptionId") and \
                    not self.state.has_permission(claims.get("oid"), scope, action):
                raise self._denied(claims, action, scope) from exc
            raise ArmError(exc.status, exc.code, exc.message) from exc

    # --------------------------------------------------------------- routing
    def _handle(self, req):
        path = req.path.rstrip("/") if req.path != "/" else req.path
        lower = path.lower()
        if lower == "/metadata/endpoints" and req.method == "GET":
            return self._metadata(req)  # anonymous, as ARM serves it: clients read it before they can sign in
        claims = self._authenticate(req)
        req.claims = claims
        if req.method in ("GET", "HEAD") and lower in ("/subscriptions", "/tenants"):
            self._api_version(req, None)
            with self.state.lock:
                return self._list_subscriptions(claims) if lower == "/subscriptions" else self._list_tenants()
        index = lower.rfind(AUTH_PROVIDER)
        if index >= 0:
            scope = path[:index]
            rest = path[index + len(AUTH_PROVIDER):].split("/")
            kind = rest[0].lower()
            if kind == "roleassignments" and len(rest) in (1, 2):
                self._api_version(req, "roleAssignments")
                with self.state.lock:
                    if len(rest) == 1:
                        if req.method != "GET":
                            raise ArmError(405, "MethodNotAllowed", "The requested method is not allowed.")
                        return self._list_assignments(req, claims, scope)
                    return self._assignment(req, claims, scope, rest[1])
            if kind == "roledefinitions" and len(rest) in (1, 2) and req.method == "GET":
                self._api_version(req, "roleDefinitions")
                with self.state.lock:
                    return self._role_definitions(req, scope, rest[1] if len(rest) == 2 else None)
        if metrics_read.is_read_path(lower):
            return metrics_read.handle(self, req, claims, path)
        if req.method in ("GET", "HEAD") and lower.startswith("/subscriptions/") and "/providers/microsoft.authorization" not in lower:
            self._api_version(req, None)
            with self.state.lock:
                listing = re.match(r"^(/subscriptions/[^/]+(?:/resourcegroups/[^/]+)?)/(resourcegroups|resources)$", lower)
                if listing and req.method == "GET" and not (listing.group(1).count("/") == 4 and listing.group(2) == "resourcegroups"):
                    return self._list_children(req, claims, path[:len(listing.group(1))], listing.group(2))
                try:
                    if req.method == "HEAD":
                        return self._check_existence(claims, path)
                    return self._get_scope(claims, path, req)
                except ArmError as exc:
                    if exc.code != "InvalidScope":
                        raise
                    # A path that is no group or resource (providers, locations, deployments...) is a read the
                    # emulator does not serve: 404 as for any unknown path, not a 400 that claims the path is wrong.
        raise ArmError(404, "NotFound", "The requested path '%s' does not exist in this emulator." % req.path)

    # ------------------------------------------------------- role assignments
    def _assignment_body(self, ra):
        sub = ra["scope"].split("/")[2] if ra["scope"].lower().startswith("/subscriptions/") else None
        prefix = "/subscriptions/%s" % sub if sub else ""
        role_id = "%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (prefix, ra["roleDefinitionId"])
        scope = echo_scope(ra["scope"])
        return {
            "properties": {"roleDefinitionId": role_id, "principalId": ra["principalId"], "principalType": ra["principalType"],
                           "scope": scope, "condition": None, "conditionVersion": None, "createdOn": ra["createdOn"],
                           "updatedOn": ra["updatedOn"], "createdBy": ra["createdBy"], "updatedBy": ra["updatedBy"],
                           "delegatedManagedIdentityResourceId": None, "description": ra.get("description")},
            "id": "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (scope if scope != "/" else "", ra["name"]),
            "type": "Microsoft.Authorization/roleAssignments",
            "name": ra["name"],
        }

    def _assignment(self, req, claims, scope, name):
        state = self.state
        if req.method == "GET":
            action = "Microsoft.Authorization/roleAssignments/read"
        elif req.method == "PUT":
            action = "Microsoft.Authorization/roleAssignments/write"
        elif req.method == "DELETE":
            action = "Microsoft.Authorization/roleAssignments/delete"
        else:
            raise ArmError(405, "MethodNotAllowed", "The requested method '%s' is not allowed." % req.method)
        info = self._resolve(scope, claims, action)
        self._require(claims, info["id"], action)
        if not is_guid(name.lower()):
            raise ArmError(400, "InvalidRoleAssignmentId", "The role assignment ID '%s' is not valid. The role assignment ID must be a GUID." % name)
        name = name.lower()
        existing = state.role_assignments.get(name)
        same_scope = existing is not None and existing["scope"].lower() == info["id"].lower()
        if req.method == "GET":
            if not same_scope:
                raise ArmError(404, "RoleAssignmentNotFound", "The role assignment '%s' is not found." % name)
            return self._respond(200, self._assignment_body(existing))
        if req.method == "DELETE":
            if not same_scope:
                return self._respond(204, None)
            del state.role_assignments[name]
            return self._respond(200, self._assignment_body(existing))
        return self._put_assignment(req, info, name, existing, claims)

    def _put_assignment(self, req, info, name, existing, claims):
        state = self.state
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: %s" % exc) from exc
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content must contain a 'properties' object.")
        role_ref = props.get("roleDefinitionId")
        match = _ROLE_DEF_RE.match(role_ref) if isinstance(role_ref, str) else None
        if not match or not is_guid(match.group("id").lower()):
            raise ArmError(400, "InvalidRoleDefinitionId", "The role definition ID '%s' is not valid." % role_ref)
        role_id = match.group("id").lower()
        if match.group("sub") and match.group("sub").lower() != (info.get("subscription") or ""):
            raise ArmError(400, "InvalidRoleDefinitionId", "The role definition ID '%s' is in another subscription than the "
                           "scope '%s'." % (role_ref, info["id"]))
        if role_id not in roles.BUILTIN:
            raise ArmError(400, "RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist." % role_id)
        principal_id = props.get("principalId")
        if not isinstance(principal_id, str) or not is_guid(principal_id.lower()):
            raise ArmError(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
        principal_id = principal_id.lower()
        principal_type = props.get("principalType")
        if principal_type is not None and principal_type not in PRINCIPAL_TYPES:
            raise ArmError(400, "InvalidPrincipalType", "The principal type '%s' is not valid; use one of %s."
                           % (principal_type, ", ".join(PRINCIPAL_TYPES)))
        sp = state.service_principals.get(principal_id)
        delay = float(state.settings.get("replicationDelaySeconds") or 0)
        replicating = sp is not None and time.time() - sp["_created"] < delay
        lagging = req.fault is not None and req.fault.action == "principal_not_found"   # injected replication lag
        if sp is None or (replicating and principal_type is None) or lagging:
            raise ArmError(400, "PrincipalNotFound",
                           "Principal %s does not exist in the directory %s. Check that you have the correct principal ID. If you "
                           "are creating this principal and then immediately assigning a role, this error might be related to a "
                           "replication delay. In this case, set the role assignment principalType property to a value, such as "
                           "ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype"
                           % (principal_id.replace("-", ""), state.tenant_id))
        if principal_type is not None and principal_type != "ServicePrincipal":
            raise ArmError(400, "UnmatchedPrincipalType", "The PrincipalId '%s' has type 'ServicePrincipal' , which is different "
                           "from specified PrincipalType '%s'." % (principal_id.replace("-", ""), principal_type))
        if existing is not None:
            if existing["scope"].lower() == info["id"].lower() and existing["principalId"] == principal_id and \
                    existing["roleDefinitionId"] == role_id:
                return self._respond(int(state.settings.get("idempotentPutStatus") or 200), self._assignment_body(existing))
            raise ArmError(400, "RoleAssignmentUpdateNotPermitted",
                           "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
        for other in state.role_assignments.values():
            if other["scope"].lower() == info["id"].lower() and other["principalId"] == principal_id and \
                    other["roleDefinitionId"] == role_id:
                raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists. The ID of the existing role "
                               "assignment is %s." % other["name"].replace("-", ""))
        now = _stamp()
        ra = {"name": name, "scope": info["id"] if info["kind"] != "root" else "/", "roleDefinitionId": role_id,
              "principalId": principal_id, "principalType": principal_type or "ServicePrincipal", "createdOn": now,
              "updatedOn": now, "createdBy": claims.get("oid"), "updatedBy": claims.get("oid"),
              "description": props.get("description"), "_created": time.time()}
        state.role_assignments[name] = ra
        return self._respond(201, self._assignment_body(ra))

    def _list_assignments(self, req, claims, scope):
        action = "Microsoft.Authorization/roleAssignments/read"
        info = self._resolve(scope, claims, action)
        self._require(claims, info["id"], action)
        flt = (req.query_ci("$filter") or "").strip()
        at_scope, principal = False, None
        for clause in [c.strip() for c in re.split(r"\s+and\s+", flt, flags=re.I)] if flt else []:
            if clause.lower() == "atscope()":
                at_scope = True
                continue
            match = re.match(r"^(?:principalId\s+eq\s+'([^']*)'|assignedTo\('([^']*)'\))$", clause, re.I)
            if not match:
                raise ArmError(400, "InvalidFilterParameter", "The filter '%s' is not supported. Supported filters are "
                               "'atScope()', 'principalId eq '{id}'' and 'assignedTo('{id}')'." % flt)
            principal = (match.group(1) or match.group(2) or "").lower()
        target = info["id"] if info["kind"] != "root" else "/"
        rows = []
        # an injected stale read: the list does not show assignments made in the last lagSeconds yet
        fresh_after = time.time() - req.fault.lag_seconds if req.fault is not None and req.fault.action == "stale_read" else None
        for ra in sorted(self.state.role_assignments.values(), key=lambda r: (r["_created"], r["name"])):
            if fresh_after is not None and ra["_created"] > fresh_after:
                continue
            above = scope_at_or_above(ra["scope"], target)
            below = scope_at_or_above(target, ra["scope"])
            if at_scope and not above:
                continue
            if not (above or below):
                continue
            if principal is not None and ra["principalId"] != principal:
                continue
            rows.append(ra)
        try:
            skip = int(req.query_ci("$skiptoken") or 0)
        except ValueError as exc:
            raise ArmError(400, "InvalidSkipToken", "The $skiptoken is not valid.") from exc
        size = max(1, int(self.state.settings.get("pageSize") or 2))
        page = rows[skip:skip + size]
        body = {"value": [self._assignment_body(ra) for ra in page]}
        if skip + size < len(rows):
            query = {"api-version": req.query_ci("api-version"), "$skiptoken": str(skip + size)}
            if flt:
                query["$filter"] = flt
            body["nextLink"] = "%s%s?%s" % (self.emulator.urls["arm"], req.raw_path, urllib.parse.urlencode(query, quote_via=urllib.parse.quote))
        return self._respond(200, body)

    # ------------------------------------------------------- role definitions
    def _role_definitions(self, req, scope, role_id):
        info = self._resolve(scope)
        prefix = "/subscriptions/%s" % info["subscription"] if info.get("subscription") else ""
        if role_id is not None:
            if role_id.lower() not in roles.BUILTIN:
                raise ArmError(404, "RoleDefinitionDoesNotExist", "The role definition '%s' could not be found." % role_id)
            return self._respond(200, roles.definition_body(role_id.lower(), prefix))
        flt = (req.query_ci("$filter") or "").strip()
        wanted = None
        if flt:
            match = re.match(r"^roleName\s+eq\s+'(.*)'$", flt, re.I)
            type_match = re.match(r"^type\s+eq\s+'(.*)'$", flt, re.I)
            if match:
                wanted = match.group(1).replace("''", "'")
            elif not (type_match and type_match.group(1) in ("BuiltInRole", "CustomRole")):
                raise ArmError(400, "InvalidFilterParameter", "The filter '%s' is not supported." % flt)
            elif type_match.group(1) == "CustomRole":
                return self._respond(200, {"value": []})
        value = [roles.definition_body(rid, prefix) for rid, role in roles.BUILTIN.items()
                 if wanted is None or role["roleName"].lower() == wanted.lower()]
        return self._respond(200, {"value": value})

    # -------------------------------------------------------------- scopes
    def _metadata(self, req):
        """``GET /metadata/endpoints``: the cloud's endpoints (2015-01-01: one object; later versions: a list of clouds)."""
        version = self._api_version(req, None)
        urls = self.emulator.urls
        login, graph, arm = urls["login"], urls["graph"], urls["arm"]
        audiences = [tokens.ARM_AUDIENCES[0], tokens.ARM_AUDIENCES[2], arm + "/"]
        if version == "2015-01-01":
            return self._respond(200, {"galleryEndpoint": "", "graphEndpoint": graph + "/", "portalEndpoint": "",
                                       "authentication": {"loginEndpoint": login + "/", "audiences": audiences}})
        return self._respond(200, [{
            "name": "AzmonEmulator", "portal": "", "resourceManager": arm + "/", "graph": graph + "/", "graphAudience": graph + "/",
            "microsoftGraphResourceId": graph + "/", "media": "", "batch": "", "vmImageAliasDoc": "", "sqlManagement": "",
            "activeDirectoryDataLake": "", "appInsightsResourceId": "", "appInsightsTelemetryChannelResourceId": "",
            "attestationResourceId": "", "synapseAnalyticsResourceId": "", "logAnalyticsResourceId": "", "ossrDbmsResourceId": "",
            "authentication": {"loginEndpoint": login + "/", "audiences": audiences, "tenant": "common", "identityProvider": "AAD"},
            "suffixes": {"acrLoginServer": "azurecr.io", "keyVaultDns": "vault.azure.net", "storage": "core.windows.net",
                         "sqlServerHostname": "database.windows.net"},
        }])

    def _subscription_body(self, sub):
        return {"id": "/subscriptions/%s" % sub["id"], "authorizationSource": "RoleBased", "managedByTenants": [],
                "subscriptionId": sub["id"], "tenantId": self.state.tenant_id, "displayName": sub["displayName"],
                "state": sub["state"], "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                                                "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}}

    def _list_subscriptions(self, claims):
        """``GET /subscriptions``: the subscriptions in which the caller holds any role assignment (at, above or below)."""
        oid = (claims.get("oid") or "").lower()
        value = []
        for sub in self.state.subscriptions.values():
            sub_scope = "/subscriptions/%s" % sub["id"]
            if any(ra["principalId"] == oid and (scope_at_or_above(ra["scope"], sub_scope) or scope_at_or_above(sub_scope, ra["scope"]))
                   for ra in self.state.role_assignments.values()):
                value.append(self._subscription_body(sub))
        return self._respond(200, {"value": value, "count": {"type": "Total", "value": len(value)}})

    def _list_tenants(self):
        state = self.state
        return self._respond(200, {"value": [{"id": "/tenants/%s" % state.tenant_id, "tenantId": state.tenant_id,
                                              "tenantCategory": "Home", "displayName": state.tenant_name,
                                              "defaultDomain": state.tenant_domain, "domains": [state.tenant_domain]}]})

    def _check_existence(self, claims, path):
        """``HEAD`` on a resource group or resource (Resource Groups - Check Existence): 204 when it exists, else 404."""
        info = self._resolve(path, claims, "*/read")
        if info["kind"] == "subscription":
            raise ArmError(405, "MethodNotAllowed", "HEAD is not supported on a subscription.")
        return self._respond(204, None)

    def _list_children(self, req, claims, scope, kind):
        """``GET /subscriptions/{id}/resourcegroups``, ``.../resources`` and ``.../resourceGroups/{rg}/resources``: what the caller may read."""
        for name in ("$filter", "$expand", "$top"):
            if req.query_ci(name) is not None:
                raise ArmError(400, "InvalidRequestParameter", "The emulator does not implement '%s' on resource lists; it refuses "
                               "it rather than answer a list that ignores it." % name)
        info = self._resolve(scope, claims, "*/read")
        oid = claims.get("oid")
        if kind == "resourcegroups":
            value = [{"id": rg["id"], "name": rg["name"], "type": "Microsoft.Resources/resourceGroups", "location": rg["location"],
                      "properties": {"provisioningState": "Succeeded"}}
                     for rg in self.state.resource_groups.values() if rg["subscription"] == info["subscription"]
                     and self.state.has_permission(oid, rg["id"], "Microsoft.Resources/subscriptions/resourceGroups/read")]
        else:
            value = [{"id": res["id"], "name": res["name"], "type": res["type"], "location": res["location"], "tags": res["tags"]}
                     for res in self.state.resources.values() if scope_at_or_above(info["id"], res["id"])
                     and self.state.has_permission(oid, res["id"], "%s/read" % res["type"])]
        return self._respond(200, {"value": value})

    def _get_scope(self, claims, path, req=None):
        info = self._resolve(path, claims, "*/read")
        if info["kind"] == "subscription":
            self._require(claims, info["id"], "Microsoft.Resources/subscriptions/read")
            sub = self.state.subscriptions[info["subscription"]]
            return self._respond(200, {"id": info["id"], "subscriptionId": sub["id"], "tenantId": self.state.tenant_id,
                                       "displayName": sub["displayName"], "state": sub["state"],
                                       "authorizationSource": "RoleBased"})
        if info["kind"] == "resourceGroup":
            self._require(claims, info["id"], "Microsoft.Resources/subscriptions/resourceGroups/read")
            rg = info["resourceGroup"]
            return self._respond(200, {"id": rg["id"], "name": rg["name"], "type": "Microsoft.Resources/resourceGroups",
                                       "location": rg["location"], "properties": {"provisioningState": "Succeeded"}})
        res = info["resource"]
        if req is not None and res["type"].lower() in DATA_COLLECTION_TYPES:
            self._api_version(req, "dataCollection")
        self._require(claims, info["id"], "%s/read" % res["type"])
        return self._respond(200, self._resource_body(res))

    def _resource_body(self, res):
        """A resource as ARM returns it: its seeded properties, and for data collection endpoints and rules of kind
        Direct the ingestion endpoint this emulator serves (metrics only: the logs and configuration endpoints a
        real one also shows are not served here, so they are left out)."""
        properties = copy.deepcopy(res.get("properties") or {})
        kind = res["type"].lower()
        if kind == "microsoft.insights/datacollectionendpoints":
            properties["metricsIngestion"] = {"endpoint": self.emulator.urls["dce"]}
        elif kind == "microsoft.insights/datacollectionrules" and (res.get("kind") or "").lower() == "direct":
            properties["endpoints"] = {"metricsIngestion": self.emulator.urls["dce"]}
        properties["provisioningState"] = "Succeeded"
        body = {"id": res["id"], "name": res["name"], "type": res["type"], "location": res["location"], "tags": res["tags"]}
        if res.get("kind"):
            body["kind"] = res["kind"]
        body["properties"] = properties
        return body
