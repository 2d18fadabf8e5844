"""Fixtures: one emulator per session (reset before every test), raw HTTP helpers with TLS verified against its CA."""

import datetime
import json
import os

import pytest
import requests

from azmon_emulator.testing import DEFAULT_SEED, start_emulator


class VerifiedSession(requests.Session):
    """Passes ``verify`` on every call: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override ``Session.verify``."""

    def __init__(self, ca_bundle):
        super().__init__()
        self.ca_bundle = ca_bundle

    def request(self, method, url, *args, **kwargs):  # pylint: disable=arguments-differ
        kwargs.setdefault("verify", self.ca_bundle)
        kwargs.setdefault("timeout", 15)
        return super().request(method, url, *args, **kwargs)


class Client:
    def __init__(self, emu, seed):
        self.emu = emu
        self.info = emu.info
        self.seed = seed
        self.ca = emu.info["ca_bundle"]
        self.session = VerifiedSession(self.ca)
        self._tokens = {}

    # -------------------------------------------------------------- seed data
    def principal(self, handle):
        return self.seed["principals"][handle]

    def secret(self, handle):
        return self.principal(handle)["secrets"][0]["secretText"]

    @property
    def sub(self):
        return "/subscriptions/" + self.info["subscription_id"]

    @property
    def vm1(self):
        return self.sub + "/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1"

    @property
    def storage(self):
        return self.sub + "/resourceGroups/rg-demo/providers/Microsoft.Storage/storageAccounts/stdemo01"

    @property
    def vm_other(self):
        return self.sub + "/resourceGroups/rg-other/providers/Microsoft.Compute/virtualMachines/vm-other"

    # ---------------------------------------------------------------- tokens
    def token_url(self, v2=True, tenant=None):
        return "%s/%s/oauth2/%stoken" % (self.info["login"], tenant or self.info["tenant_id"], "v2.0/" if v2 else "")

    def sign_in(self, client_id, secret, scope, **extra):
        data = dict({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": scope}, **extra)
        return self.session.post(self.token_url(), data=data, timeout=10)

    def token(self, handle, scope="https://monitoring.azure.com/.default"):
        key = (handle, scope)
        if key not in self._tokens:
            resp = self.sign_in(self.principal(handle)["appId"], self.secret(handle), scope)
            assert resp.status_code == 200, resp.text
            self._tokens[key] = resp.json()["access_token"]
        return self._tokens[key]

    def mint(self, handle, audience, lifetime=None):
        body = {"principal": handle, "audience": audience}
        if lifetime is not None:
            body["lifetime"] = lifetime
        return self.emu.admin("POST", "/_admin/tokens/access", body)["token"]

    # ------------------------------------------------------------------ calls
    def ingest_url(self, resource_id, region="eastus"):
        return self.info["ingest"].replace("{region}", region) + resource_id + "/metrics"

    def post_metrics(self, body, resource_id=None, region="eastus", token=None, handle="publisher", headers=None, raw=None):
        resource_id = resource_id or self.vm1
        hdrs = {"Content-Type": "application/json", "Authorization": "Bearer " + (token or self.token(handle))}
        hdrs.update(headers or {})
        data = raw if raw is not None else json.dumps(body).encode()
        return self.session.post(self.ingest_url(resource_id, region), data=data, headers=hdrs, timeout=10)

    def arm(self, method, path, handle="admin", api_version="2022-04-01", token=None, **kwargs):
        params = kwargs.pop("params", {})
        if api_version:
            params = dict({"api-version": api_version}, **params)
        token = token or self.token(handle, "https://management.azure.com/.default")
        headers = dict({"Authorization": "Bearer " + token}, **kwargs.pop("headers", {}))
        return self.session.request(method, self.info["arm"] + path, params=params, headers=headers, timeout=10, **kwargs)

    def graph(self, method, path, handle="admin", token=None, **kwargs):
        token = token or self.token(handle, "https://graph.microsoft.com/.default")
        headers = dict({"Authorization": "Bearer " + token}, **kwargs.pop("headers", {}))
        return self.session.request(method, self.info["graph"] + "/v1.0" + path, headers=headers, timeout=10, **kwargs)

    def admin(self, method, path, json=None):  # pylint: disable=redefined-outer-name
        return self.emu.admin(method, path, json)

    def metrics(self):
        return self.admin("GET", "/_admin/metrics")["value"]


def now_z(delta_minutes=0.0):
    value = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=delta_minutes)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def doc(metric="QueueDepth", namespace="QueueProcessing", dim_names=("QueueName", "MessageType"), series=None, time=None):
    base = {"metric": metric, "namespace": namespace,
            "series": series if series is not None else [{"dimValues": ["ImagesToProcess", "JPEG"], "min": 3, "max": 20,
                                                          "sum": 28, "count": 3}]}
    if dim_names is not None:
        base["dimNames"] = list(dim_names)
    return {"time": time or now_z(-1), "data": {"baseData": base}}


@pytest.fixture(scope="session", name="seed")
def seed_fixture():
    with open(DEFAULT_SEED, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="session", name="emulator")
def emulator_fixture(tmp_path_factory):
    emu = start_emulator(tmpdir=tmp_path_factory.mktemp("emulator"))
    yield emu
    emu.stop()


@pytest.fixture(name="client")
def client_fixture(emulator, seed):
    emulator.admin("POST", "/_admin/reset")
    return Client(emulator, seed)


@pytest.fixture(scope="session", name="shared_client")
def shared_client_fixture(emulator, seed):
    return Client(emulator, seed)


@pytest.fixture
def c(client, shared_client):
    """A reset emulator with the session's token cache (tokens survive a reset: keys do not change)."""
    client._tokens = shared_client._tokens  # pylint: disable=protected-access
    return client


def pytest_configure(config):
    os.environ.setdefault("AZURE_IDENTITY_DISABLE_MULTITENANTAUTH", "1")
    del config
