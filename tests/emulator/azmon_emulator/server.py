"""The emulator process: one TLS threading server per service, the info file, start and stop."""

import json
import os
import secrets
import tempfile

from . import admin, arm, dce, faults, graph, ingest, login, pki, state, wap, wap_auth
from .web import TLSServer

SERVICES = (
    ("login", login.LoginService),
    ("graph", graph.GraphService),
    ("arm", arm.ArmService),
    ("ingest", ingest.IngestService),
    ("dce", dce.DceService),
    ("prometheus", dce.PrometheusService),
    ("wap", wap.WapService),
    ("wap_auth", wap_auth.WapAuthService),
    ("msi", login.MsiService),
    ("admin", admin.AdminService),
)


class Emulator:
    def __init__(self, seed=None, state_dir=None, host="127.0.0.1", fault_specs=None, ports=None, seed_path=None):
        self.host = host
        self.state_dir = os.path.abspath(state_dir or tempfile.mkdtemp(prefix="azmon-emulator-"))
        os.makedirs(self.state_dir, exist_ok=True)
        self.seed_path = os.path.abspath(seed_path) if seed_path else None
        self.pki = pki.PKI(self.state_dir, host)
        self.state = state.State(seed or {}, self.state_dir)
        self.faults = faults.Faults(fault_specs)
        self.msi_header = secrets.token_urlsafe(24)
        self.errors = []
        self.urls = {}
        self.services = {}
        self.servers = {}
        context = self.pki.server_context()
        ports = ports or {}
        for name, cls in SERVICES:
            service = cls(self)
            server = TLSServer((host, int(ports.get(name, 0))), context, self, service)
            self.services[name] = service
            self.servers[name] = server
            base = "https://%s:%d" % (_url_host(host), server.server_address[1])
            self.urls[name] = base
        self.threads = []

    def start(self):
        for server in self.servers.values():
            self.threads.append(server.start())

    def info(self):
        urls = self.urls
        return {
            "pid": os.getpid(), "ca_bundle": self.pki.ca_bundle, "state_dir": self.state_dir,
            "login": urls["login"], "graph": urls["graph"], "arm": urls["arm"], "ingest": urls["ingest"] + "/{region}",
            "dce": urls["dce"], "prometheus": urls["prometheus"] + "/{workspace}",
            "wap": urls["wap"], "wap_auth": urls["wap_auth"], "msi": urls["msi"] + "/msi/token", "msi_header": self.msi_header, "admin": urls["admin"],
            "tenant_id": self.state.tenant_id, "subscription_id": next(iter(self.state.subscriptions), None),
            "seed": self.seed_path, "certificates": {k: v["path"] for k, v in self.state.certificates.items()},
        }

    def write_info(self, path):
        path = os.path.abspath(path)
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=directory, prefix=".info-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(self.info(), out, indent=2)
        os.replace(tmp, path)

    def stop(self):
        for server in self.servers.values():
            server.shutdown()
        for server in self.servers.values():
            server.server_close()
        try:
            with self.state.lock:
                snapshot = {"metrics": admin.metrics_rows(self.state), "roleAssignments": admin.assignment_rows(self.state),
                            "errors": self.errors}
            with open(os.path.join(self.state_dir, "final-state.json"), "w", encoding="utf-8") as out:
                json.dump(snapshot, out, indent=2, default=str)
        except OSError:
            pass


def _url_host(host):
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return "[%s]" % host if ":" in host else host
