"""The emulator judged by Microsoft's own Python clients: fixtures.

`make conformance` starts an emulator of its own (tests/tools/emulator run), which passes EMULATOR_INFO_FILE and
EMULATOR_SEED_FILE. The tests talk to it only through azure-identity, msgraph-sdk and the azure-mgmt clients,
configured the way a user of a custom cloud would configure them: base URLs, the login authority and a CA bundle.
Nothing here imports the emulator or the collection.
"""

import asyncio
import json
import os
import ssl
import urllib.parse
import urllib.request

import httpx
import pytest
from azure.identity import CertificateCredential, ClientSecretCredential
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph_core import GraphClientFactory

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def _required_file(variable):
    path = os.environ.get(variable)
    if not path or not os.path.isfile(path):
        raise pytest.UsageError("%s is not set to an existing file: run the suite with `make conformance`, which starts "
                                "the emulator and sets it." % variable)
    return path


class Emulator:
    """The running emulator: its info file, its seed, and its admin port (for reset and test tokens)."""

    def __init__(self, info, seed):
        self.info = info
        self.seed = seed
        self.ca = info["ca_bundle"]
        self._context = ssl.create_default_context(cafile=self.ca)

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.info["admin"] + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=self._context, timeout=15) as response:  # nosec - the local emulator
            text = response.read().decode("utf-8")
        return json.loads(text) if text else None

    def principal(self, handle):
        return self.seed["principals"][handle]

    def secret(self, handle):
        return self.principal(handle)["secrets"][0]["secretText"]

    @property
    def subscription_id(self):
        return self.info["subscription_id"]

    @property
    def sub(self):
        return "/subscriptions/" + self.subscription_id

    @property
    def rg_demo(self):
        return self.sub + "/resourceGroups/rg-demo"

    @property
    def vm1(self):
        return self.rg_demo + "/providers/Microsoft.Compute/virtualMachines/vm1"

    def identity_kwargs(self):
        """What azure-identity needs for a private authority: the authority host, no instance discovery, the CA."""
        return {"authority": self.info["login"], "disable_instance_discovery": True, "connection_verify": self.ca}

    def secret_credential(self, handle):
        return ClientSecretCredential(self.info["tenant_id"], self.principal(handle)["appId"], self.secret(handle),
                                      **self.identity_kwargs())

    def certificate_credential(self, handle):
        return CertificateCredential(self.info["tenant_id"], self.principal(handle)["appId"],
                                     self.info["certificates"][handle], **self.identity_kwargs())

    def mgmt_kwargs(self, **extra):
        """azure-mgmt clients pointed at the emulator's ARM (as at Azure Stack or another custom cloud)."""
        return dict({"base_url": self.info["arm"], "connection_verify": self.ca}, **extra)

    def graph_client(self, credential, scopes=(GRAPH_SCOPE,)):
        """msgraph-sdk's GraphServiceClient with its default middleware, on the emulator's Graph."""
        host = urllib.parse.urlparse(self.info["graph"]).hostname
        auth = AzureIdentityAuthenticationProvider(credential, scopes=list(scopes), allowed_hosts=[host])
        http = GraphClientFactory.create_with_default_middleware(client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=self.ca), timeout=30))
        adapter = GraphRequestAdapter(auth, client=http)
        adapter.base_url = self.info["graph"] + "/v1.0"
        return GraphServiceClient(request_adapter=adapter)


@pytest.fixture(scope="session", name="emulator_session")
def emulator_session_fixture():
    with open(_required_file("EMULATOR_INFO_FILE"), encoding="utf-8") as handle:
        info = json.load(handle)
    with open(_required_file("EMULATOR_SEED_FILE"), encoding="utf-8") as handle:
        seed = json.load(handle)
    return Emulator(info, seed)


@pytest.fixture(name="emu")
def emu_fixture(emulator_session):
    """The emulator, back at its seed before each test."""
    emulator_session.admin("POST", "/_admin/reset")
    return emulator_session


@pytest.fixture(name="run")
def run_fixture():
    """Run one coroutine (msgraph-sdk is asynchronous) in a fresh event loop."""
    return asyncio.run


def pytest_configure(config):
    # The emulator's tenant is the only one: azure-identity must not try to follow another tenant.
    os.environ.setdefault("AZURE_IDENTITY_DISABLE_MULTITENANTAUTH", "1")
    del config
