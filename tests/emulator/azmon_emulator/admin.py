"""Admin port (no auth, loopback only): inspection, reset, faults, token minting, settings."""

import datetime
import ipaddress
import os
import time
import uuid

from . import jwt, state as state_mod, timeutil, tokens
from .faults import FaultError
from .web import Service, json_response

WAP_ISSUER = "http://azureservices/AdminSite"
WAP_AUDIENCE = "http://azureservices/AdminSite"


def metrics_rows(state):
    rows = []
    for entry in state.metrics.values():
        row = {k: v for k, v in entry.items() if not k.startswith("_")}
        row["minute"] = timeutil.iso_z(datetime.datetime.fromtimestamp(entry["minute"], datetime.timezone.utc))
        rows.append(row)
    rows.sort(key=lambda r: (r["resourceId"].lower(), r["namespace"], r["metric"], r["minute"], sorted(r["dimensions"].items())))
    return rows


def assignment_rows(state):
    rows = []
    for ra in state.role_assignments.values():
        row = {k: v for k, v in ra.items() if not k.startswith("_")}
        row["principalHandle"] = state.handle_of(ra["principalId"])
        rows.append(row)
    rows.sort(key=lambda r: (r["scope"].lower(), r["name"]))
    return rows


def application_rows(state):
    apps = []
    for app in state.applications.values():
        row = {k: v for k, v in app.items() if not k.startswith("_")}
        row["passwordCredentials"] = [{k: v for k, v in c.items() if not k.startswith("_")} for c in app["passwordCredentials"]]
        row["keyCredentials"] = [{k: v for k, v in c.items() if not k.startswith("_")} for c in app["keyCredentials"]]
        row["handle"] = app.get("_handle")
        sp = state.sp_by_app_id(app["appId"])
        row["servicePrincipalId"] = sp["id"] if sp else None
        apps.append(row)
    sps = []
    for sp in state.service_principals.values():
        row = {k: v for k, v in sp.items() if not k.startswith("_")}
        row.update({"graphAppRoles": sp.get("_graphRoles", []), "handle": sp.get("_handle")})
        sps.append(row)
    return {"value": apps, "servicePrincipals": sps}


class AdminService(Service):
    name = "admin"

    def handle(self, req):
        try:
            if not ipaddress.ip_address(req.handler.client_address[0]).is_loopback:
                return self.error(403, "Forbidden", "The admin port answers loopback clients only.")
        except ValueError:
            return self.error(403, "Forbidden", "The admin port answers loopback clients only.")
        route = (req.method, req.path.rstrip("/"))
        state = self.state
        emulator = self.emulator
        if route == ("GET", "/_admin/info"):
            return json_response(200, emulator.info())
        if route == ("GET", "/_admin/requests"):
            return self._requests(req)
        if route == ("DELETE", "/_admin/requests"):
            with state.lock:
                state.requests = []
            return json_response(204, None)
        if route == ("GET", "/_admin/metrics"):
            with state.lock:
                return json_response(200, {"value": metrics_rows(state)})
        if route == ("GET", "/_admin/role-assignments"):
            with state.lock:
                return json_response(200, {"value": assignment_rows(state)})
        if route == ("GET", "/_admin/applications"):
            with state.lock:
                return json_response(200, application_rows(state))
        if route == ("GET", "/_admin/certificates"):
            with state.lock:
                return json_response(200, state.certificates)
        if route == ("GET", "/_admin/errors"):
            return json_response(200, {"value": list(emulator.errors)})
        if route == ("POST", "/_admin/reset"):
            state.reset()
            emulator.faults.reset()
            return json_response(200, {"reset": True})
        if req.path.startswith("/_admin/faults"):
            return self._faults(req)
        if route == ("GET", "/_admin/settings"):
            with state.lock:
                return json_response(200, dict(state.settings))
        if route == ("POST", "/_admin/settings"):
            return self._settings(req)
        if route == ("POST", "/_admin/tokens/oidc"):
            return self._oidc_token(req)
        if route == ("POST", "/_admin/tokens/wap"):
            return self._wap_token(req)
        if route == ("POST", "/_admin/tokens/access"):
            return self._access_token(req)
        return self.error(404, "NotFound", "No admin endpoint %s %s" % route)

    def _body(self, req):
        if not req.body():
            return {}
        data = req.json()
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    def _requests(self, req):
        service = req.query.get("service")
        since = int(req.query.get("since") or 0)
        with self.state.lock:
            rows = [r for r in self.state.requests if r["n"] > since and (not service or r["service"] == service)]
        return json_response(200, {"value": rows})

    def _faults(self, req):
        faults = self.emulator.faults
        parts = req.path.rstrip("/").split("/")
        if req.method == "GET":
            return json_response(200, {"value": faults.list()})
        if req.method == "DELETE":
            removed = faults.clear(parts[3] if len(parts) > 3 else None)
            return json_response(200, {"removed": removed})
        if req.method != "POST":
            return self.error(405, "MethodNotAllowed", "GET, POST or DELETE")
        try:
            body = self._body(req)
            if body.get("clear"):
                faults.clear(None if body["clear"] is True else body["clear"])
                if "faults" not in body:
                    return json_response(200, {"value": faults.list()})
            added = [faults.add(spec).describe() for spec in (body["faults"] if "faults" in body else [body])]
        except (ValueError, FaultError, TypeError) as exc:
            return self.error(400, "BadFault", str(exc))
        return json_response(201, {"value": added})

    def _settings(self, req):
        try:
            body = self._body(req)
        except ValueError as exc:
            return self.error(400, "BadRequest", str(exc))
        unknown = sorted(set(body) - set(state_mod.DEFAULT_SETTINGS))
        if unknown:
            return self.error(400, "BadRequest", "Unknown settings: %s (known: %s)" % (", ".join(unknown), ", ".join(state_mod.DEFAULT_SETTINGS)))
        with self.state.lock:
            self.state.settings.update(body)
            return json_response(200, dict(self.state.settings))

    def _oidc_token(self, req):
        try:
            body = self._body(req)
        except ValueError as exc:
            return self.error(400, "BadRequest", str(exc))
        now = int(time.time())
        lifetime = int(body.get("lifetime", 600))
        claims = {"iss": body.get("issuer", "https://token.actions.githubusercontent.com"),
                  "sub": body.get("subject", "repo:example/azmon:ref:refs/heads/main"),
                  "aud": body.get("audience", "api://AzureADTokenExchange"), "jti": str(uuid.uuid4()),
                  "iat": min(now, now + lifetime - 60), "nbf": min(now, now + lifetime - 60), "exp": now + lifetime}
        claims.update(body.get("claims") or {})
        pki = self.emulator.pki
        token = jwt.encode(claims, pki.oidc_key, {"kid": pki.oidc_kid})
        path = os.path.join(self.state.state_dir, "oidc", "token-%s.jwt" % uuid.uuid4().hex[:12])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="ascii") as out:
            out.write(token)
        return json_response(200, {"token": token, "tokenFile": os.path.abspath(path), "claims": claims})

    def _wap_token(self, req):
        try:
            body = self._body(req)
        except ValueError as exc:
            return self.error(400, "BadRequest", str(exc))
        now = int(time.time())
        lifetime = int(body.get("lifetime", 3600))
        claims = {"iss": body.get("issuer", WAP_ISSUER), "aud": body.get("audience", WAP_AUDIENCE),
                  "upn": body.get("upn", "CONTOSO\\wapadmin"), "primarysid": "S-1-5-21-0-0-0-500",
                  "iat": min(now, now + lifetime - 60), "nbf": min(now, now + lifetime - 60), "exp": now + lifetime}
        claims.update(body.get("claims") or {})
        pki = self.emulator.pki
        key = pki.wap_key if body.get("signedBy", "wap") == "wap" else pki.oidc_key
        token = jwt.encode(claims, key, {"kid": pki.wap_kid, "x5t": pki.wap_kid})
        return json_response(200, {"token": token, "claims": claims})

    def _access_token(self, req):
        try:
            body = self._body(req)
        except ValueError as exc:
            return self.error(400, "BadRequest", str(exc))
        with self.state.lock:
            principal_id = body.get("principalId")
            if not principal_id and body.get("principal"):
                principal_id = next((sp["id"] for sp in self.state.service_principals.values()
                                     if sp.get("_handle") == body["principal"]), None)
            sp = self.state.service_principals.get((principal_id or "").lower())
            if sp is None:
                return self.error(404, "NotFound", "No such principal: %s" % (body.get("principal") or principal_id))
            token, claims = tokens.issue(self.emulator, sp, body.get("audience", "https://monitoring.azure.com/"),
                                         lifetime=body.get("lifetime"))
        return json_response(200, {"token": token, "claims": claims})
