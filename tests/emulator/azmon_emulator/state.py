"""The emulator's in-memory state: seeded directory, subscriptions, role assignments, metrics, request log."""

import base64
import copy
import datetime
import json
import os
import threading
import time
import uuid

from . import pki, roles, timeutil
from .web import HttpError

DEFAULT_SETTINGS = {
    "replicationDelaySeconds": 0,       # new service principals unknown to ARM role assignment PUT for this long
    "tokenLifetimeSeconds": 3600,       # access token lifetime issued by login and managed identity
    "pageSize": 2,                      # ARM role assignment list page size (nextLink paging)
    "readDelaySeconds": 0,              # ingested metrics invisible to the metrics read API for this long
    "rolePropagationDelaySeconds": 0,   # a new role assignment takes effect for data actions after this long
    "maxActiveSeries": 50000,           # active time series per subscription and region
    "wapErrorFormat": "json",           # default WAP error body format: json, xml or text
    "idempotentPutStatus": 200,         # status of a repeated identical role assignment PUT (first one is 201)
    "graphPageSize": 100,               # Graph list page size (@odata.nextLink paging; Graph's default is 100)
    "graphReadDelaySeconds": 0,         # Graph objects created this recently answer 404 when read (eventual consistency)
}

MAX_LOG = 50000


def new_guid():
    return str(uuid.uuid4())


def is_guid(text):
    try:
        return isinstance(text, str) and len(text) == 36 and str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def load_seed(path):
    with open(path, "r", encoding="utf-8") as handle:
        text = handle.read()
    if path.endswith((".yml", ".yaml")):
        import yaml  # pylint: disable=import-outside-toplevel
        return yaml.safe_load(text)
    return json.loads(text)


def scope_at_or_above(outer, inner):
    """True when scope ``outer`` is ``inner`` or one of its parents (case-insensitive, trailing / ignored)."""
    outer = outer.lower().rstrip("/")
    inner = inner.lower().rstrip("/")
    return outer == "" or outer == inner or inner.startswith(outer + "/")


class ScopeError(HttpError):
    """An ARM scope that does not resolve; each service answers it in its own words."""


class State:
    """Everything the services share. Hold ``lock`` while reading or changing it."""

    def __init__(self, seed, state_dir):
        self.lock = threading.RLock()
        self.seed = copy.deepcopy(seed or {})
        self.state_dir = state_dir
        self.log_path = os.path.join(state_dir, "requests.jsonl")
        self.requests = []
        self.certificates = {}   # principal handle -> {"path", "privateKeyPem", "certificatePem"}
        self.subscriptions, self.resource_groups, self.resources = {}, {}, {}
        self.reset()

    # ------------------------------------------------------------------ seed
    def reset(self):
        with self.lock:
            seed = copy.deepcopy(self.seed)
            self.settings = dict(DEFAULT_SETTINGS)
            self.settings.update(seed.get("settings") or {})
            tenant = seed.get("tenant") or {}
            self.tenant_id = (tenant.get("id") or "00000000-0000-0000-0000-000000000000").lower()
            self.tenant_domain = tenant.get("domain") or "emulator.onmicrosoft.com"
            self.tenant_name = tenant.get("displayName") or "Emulator"
            self._load_subscriptions(seed.get("subscriptions") or [])
            self.applications = {}
            self.service_principals = {}
            for handle, spec in (seed.get("principals") or {}).items():
                self._load_principal(handle, spec)
            self.role_assignments = {}
            for spec in seed.get("roleAssignments") or []:
                self._load_assignment(spec)
            self.metrics = {}
            self.metric_names = {}
            self.series_seen = {}
            self.prometheus = {}   # Azure Monitor workspace samples (dce.py)
            self.wap = copy.deepcopy(seed.get("wap") or {})
            self.requests = []
            self.request_counter = 0
            self.started = time.time()

    def _load_subscriptions(self, subs):
        self.subscriptions = {}
        self.resource_groups = {}
        self.resources = {}
        for sub in subs:
            sub_id = sub["id"].lower()
            self.subscriptions[sub_id] = {"id": sub_id, "displayName": sub.get("displayName", sub_id), "state": "Enabled"}
            for group in sub.get("resourceGroups") or []:
                rg_id = "/subscriptions/%s/resourceGroups/%s" % (sub_id, group["name"])
                self.resource_groups[rg_id.lower()] = {"id": rg_id, "name": group["name"],
                                                       "location": group.get("location", "eastus"), "subscription": sub_id}
                for res in group.get("resources") or []:
                    res_id = "%s/providers/%s/%s" % (rg_id, res["type"], res["name"])
                    self.resources[res_id.lower()] = {
                        "id": res_id, "name": res["name"], "type": res["type"],
                        "location": res.get("location") or group.get("location", "eastus"),
                        "subscription": sub_id, "resourceGroup": group["name"], "tags": res.get("tags") or {},
                        "properties": copy.deepcopy(res.get("properties") or {}), "kind": res.get("kind"),
                    }

    def _load_principal(self, handle, spec):
        kind = spec.get("type", "application")
        if kind == "managedIdentity":
            sp = {"id": spec["principalId"].lower(), "appId": spec["clientId"].lower(),
                  "displayName": spec.get("displayName", handle), "servicePrincipalType": "ManagedIdentity",
                  "accountEnabled": True, "_created": 0.0, "_graphRoles": list(spec.get("graphAppRoles") or []),
                  "_handle": handle, "_systemAssigned": bool(spec.get("systemAssigned", False)),
                  "_resourceId": spec.get("resourceId")}
            self.service_principals[sp["id"]] = sp
            return
        app = self.new_application(spec.get("displayName", handle), app_id=spec.get("appId"),
                                   object_id=spec.get("applicationObjectId"), unique_name=spec.get("uniqueName"))
        app["_handle"] = handle
        for secret in spec.get("secrets") or []:
            self.add_password(app, secret.get("displayName"), secret_text=secret["secretText"], key_id=secret.get("keyId"),
                              end=secret.get("endDateTime"))
        cert_spec = spec.get("certificate")
        if cert_spec:
            if cert_spec.get("generate"):
                key, cert = pki.self_signed_rsa(spec.get("displayName", handle))
                key_text, cert_text = pki.key_pem(key), pki.cert_pem(cert)
            else:
                key_text, cert_text = cert_spec.get("privateKeyPem", ""), cert_spec["certificatePem"]
            cert = pki.load_certificate(cert_text)
            self.add_key_credential(app, cert, display_name=cert_spec.get("displayName", "seed certificate"))
            if key_text:
                path = os.path.join(self.state_dir, "certs", "%s.pem" % handle)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="ascii") as out:
                    out.write(key_text.strip() + "\n" + cert_text.strip() + "\n")
                os.chmod(path, 0o600)
                self.certificates[handle] = {"path": os.path.abspath(path), "privateKeyPem": key_text,
                                             "certificatePem": cert_text}
        for fic in spec.get("federatedIdentityCredentials") or []:
            entry = {"id": fic.get("id") or new_guid(), "name": fic["name"], "issuer": fic["issuer"], "subject": fic["subject"],
                     "audiences": list(fic.get("audiences") or ["api://AzureADTokenExchange"]),
                     "description": fic.get("description")}
            app["federatedIdentityCredentials"].append(entry)
        if spec.get("servicePrincipal", True):
            sp = self.new_service_principal(app, object_id=spec.get("principalId"))
            sp["_created"] = 0.0
            sp["_graphRoles"] = list(spec.get("graphAppRoles") or [])
            sp["_handle"] = handle

    def _load_assignment(self, spec):
        principal_id = spec.get("principalId")
        if not principal_id and spec.get("principal"):
            principal_id = self.seed["principals"][spec["principal"]]["principalId"]
        role_id = spec["roleDefinitionId"].rsplit("/", 1)[-1].lower()
        scope = spec["scope"].rstrip("/")
        name = (spec.get("name") or str(uuid.uuid5(uuid.NAMESPACE_URL, "%s|%s|%s" % (scope.lower(), principal_id.lower(), role_id))))
        self.role_assignments[name.lower()] = {
            "name": name.lower(), "scope": scope, "roleDefinitionId": role_id, "principalId": principal_id.lower(),
            "principalType": spec.get("principalType", "ServicePrincipal"), "createdOn": "2024-01-01T00:00:00.0000000Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z", "createdBy": None, "updatedBy": None, "description": spec.get("description"),
            "_created": 0.0,
        }

    # ------------------------------------------------------------ directory
    def new_application(self, display_name, app_id=None, object_id=None, unique_name=None):
        app = {
            "id": (object_id or new_guid()).lower(), "appId": (app_id or new_guid()).lower(), "displayName": display_name,
            "uniqueName": unique_name, "createdDateTime": timeutil.iso_z(timeutil.utcnow()), "deletedDateTime": None,
            "description": None, "signInAudience": "AzureADMyOrg", "identifierUris": [], "tags": [], "notes": None,
            "publisherDomain": self.tenant_domain, "passwordCredentials": [], "keyCredentials": [],
            "federatedIdentityCredentials": [], "requiredResourceAccess": [], "_created": time.time(),
        }
        self.applications[app["id"]] = app
        return app

    def new_service_principal(self, app, object_id=None):
        sp = {"id": (object_id or new_guid()).lower(), "appId": app["appId"], "displayName": app["displayName"],
              "servicePrincipalType": "Application", "accountEnabled": True, "appOwnerOrganizationId": self.tenant_id,
              "servicePrincipalNames": [app["appId"]], "tags": [], "_created": time.time(), "_graphRoles": []}
        self.service_principals[sp["id"]] = sp
        return sp

    @staticmethod
    def add_password(app, display_name, secret_text=None, key_id=None, end=None, start=None):
        now = timeutil.utcnow()
        secret_text = secret_text or ("Emu8Q~" + uuid.uuid4().hex + uuid.uuid4().hex[:8])
        cred = {"customKeyIdentifier": None, "displayName": display_name,
                "endDateTime": end or timeutil.iso_z(now + datetime.timedelta(days=730)),
                "hint": secret_text[:3], "keyId": (key_id or new_guid()).lower(),
                "startDateTime": start or timeutil.iso_z(now), "_secret": secret_text}
        app["passwordCredentials"].append(cred)
        return cred

    @staticmethod
    def add_key_credential(app, cert, display_name=None, key_id=None):
        x5t, x5t256 = pki.cert_thumbprints(cert)
        cred = {"customKeyIdentifier": cert.fingerprint(pki.hashes.SHA1()).hex().upper(),  # nosec - thumbprint
                "displayName": display_name or cert.subject.rfc4514_string(),
                "endDateTime": timeutil.iso_z(cert.not_valid_after_utc), "key": None, "keyId": (key_id or new_guid()).lower(),
                "_key": base64.b64encode(cert.public_bytes(pki.serialization.Encoding.DER)).decode("ascii"),
                "startDateTime": timeutil.iso_z(cert.not_valid_before_utc), "type": "AsymmetricX509Cert", "usage": "Verify",
                "_x5t": x5t, "_x5t256": x5t256, "_publicKey": cert.public_key()}
        app["keyCredentials"].append(cred)
        return cred

    def app_by_app_id(self, app_id):
        app_id = (app_id or "").lower()
        for app in self.applications.values():
            if app["appId"] == app_id:
                return app
        return None

    def sp_by_app_id(self, app_id):
        app_id = (app_id or "").lower()
        for sp in self.service_principals.values():
            if sp["appId"] == app_id:
                return sp
        return None

    def handle_of(self, principal_id):
        sp = self.service_principals.get((principal_id or "").lower())
        return sp.get("_handle") if sp else None

    # ---------------------------------------------------------------- scopes
    def resolve_scope(self, scope):
        """Check an ARM scope; returns a dict with ``kind`` and canonical ``id`` or raises ScopeError."""
        scope = scope.rstrip("/")
        if scope == "":
            return {"kind": "root", "id": "/", "subscription": None}
        parts = scope.split("/")
        if parts[0] != "" or len(parts) < 3 or parts[1].lower() != "subscriptions" or not parts[2]:
            raise ScopeError(400, "InvalidScope", "The scope '%s' is not valid." % scope)
        sub_id = parts[2].lower()
        if sub_id not in self.subscriptions:
            if not is_guid(sub_id):
                raise ScopeError(400, "InvalidSubscriptionId", "The provided subscription identifier '%s' is malformed or invalid." % parts[2])
            raise ScopeError(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % parts[2])
        if len(parts) == 3:
            return {"kind": "subscription", "id": "/subscriptions/%s" % sub_id, "subscription": sub_id}
        if parts[3].lower() != "resourcegroups" or len(parts) < 5 or not parts[4]:
            raise ScopeError(400, "InvalidScope", "The scope '%s' is not valid." % scope)
        rg = self.resource_groups.get("/subscriptions/%s/resourcegroups/%s" % (sub_id, parts[4].lower()))
        if rg is None:
            raise ScopeError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % parts[4])
        if len(parts) == 5:
            return {"kind": "resourceGroup", "id": rg["id"], "subscription": sub_id, "resourceGroup": rg}
        if len(parts) < 9 or parts[5].lower() != "providers" or len(parts) % 2 == 0 or not all(parts[6:]):
            raise ScopeError(400, "InvalidScope", "The scope '%s' is not valid." % scope)
        res = self.resources.get(scope.lower())
        if res is None:
            raise ScopeError(404, "ResourceNotFound",
                             "The Resource '%s' under resource group '%s' was not found. For more details please go to "
                             "https://aka.ms/ARMResourceNotFoundFix" % ("/".join(parts[6:]), parts[4]))
        return {"kind": "resource", "id": res["id"], "subscription": sub_id, "resourceGroup": rg, "resource": res}

    # ------------------------------------------------------------ permissions
    def has_permission(self, principal_id, scope, action, data=False, now=None):
        now = time.time() if now is None else now
        principal_id = (principal_id or "").lower()
        delay = float(self.settings.get("rolePropagationDelaySeconds") or 0)
        for ra in self.role_assignments.values():
            if ra["principalId"] != principal_id or not scope_at_or_above(ra["scope"], scope):
                continue
            if data and delay and now - ra["_created"] < delay:
                continue
            role = roles.BUILTIN.get(ra["roleDefinitionId"])
            if role and roles.allows(role, action, data=data):
                return True
        return False

    # ----------------------------------------------------------------- log
    def log_request(self, entry):
        with self.lock:
            self.requests.append(entry)
            if len(self.requests) > MAX_LOG:
                del self.requests[:len(self.requests) - MAX_LOG]
            try:
                with open(self.log_path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry, default=str) + "\n")
            except OSError:
                pass

    def next_request_number(self):
        with self.lock:
            self.request_counter += 1
            return self.request_counter
