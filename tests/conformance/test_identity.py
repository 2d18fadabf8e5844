"""azure-identity against the emulator's sign-in service, every credential kind the collection offers.

Azure's documented behaviour asserted here:
- a client credentials request for ``{resource}/.default`` on the v2 endpoint returns a token whose ``aud`` is the
  resource's App ID URI, with ``appid``, ``oid`` and ``tid`` claims
  (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference,
  https://learn.microsoft.com/entra/identity-platform/scopes-oidc#the-default-scope);
- a wrong secret fails with AADSTS7000215
  (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
"""

import base64
import json
import time

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential, EnvironmentCredential, ManagedIdentityCredential, WorkloadIdentityCredential


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_client_secret(emu):
    token = emu.secret_credential("publisher").get_token("https://monitoring.azure.com/.default")
    got = claims(token.token)
    assert got["aud"] == "https://monitoring.azure.com/"
    assert got["appid"] == emu.principal("publisher")["appId"]
    assert got["oid"] == emu.principal("publisher")["principalId"]
    assert got["tid"] == emu.info["tenant_id"]
    assert token.expires_on > time.time() + 600


def test_client_certificate(emu):
    token = emu.certificate_credential("certapp").get_token("https://management.azure.com/.default")
    assert claims(token.token)["appid"] == emu.principal("certapp")["appId"]
    assert claims(token.token)["aud"] == "https://management.azure.com/"


def test_workload_identity(emu):
    # The emulator's admin port plays GitHub's OIDC issuer; the credential exchanges that token (a client assertion).
    token_file = emu.admin("POST", "/_admin/tokens/oidc", {"subject": "repo:example/azmon:ref:refs/heads/main"})["tokenFile"]
    credential = WorkloadIdentityCredential(tenant_id=emu.info["tenant_id"], client_id=emu.principal("ciapp")["appId"],
                                            token_file_path=token_file, **emu.identity_kwargs())
    assert claims(credential.get_token("https://monitoring.azure.com/.default").token)["oid"] == emu.principal("ciapp")["principalId"]


def test_managed_identity_resource_as_sent(emu, monkeypatch):
    # App Service's identity endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER) takes ``resource=`` and puts it into ``aud``
    # as sent: azure-identity strips "/.default", so ARM receives "https://management.azure.com" without the slash.
    monkeypatch.setenv("IDENTITY_ENDPOINT", emu.info["msi"])
    monkeypatch.setenv("IDENTITY_HEADER", emu.info["msi_header"])
    token = ManagedIdentityCredential(connection_verify=emu.ca).get_token("https://management.azure.com/.default")
    assert claims(token.token)["aud"] == "https://management.azure.com"
    assert claims(token.token)["oid"] == emu.principal("mi")["principalId"]


def test_wrong_secret_is_aadsts7000215(emu):
    credential = ClientSecretCredential(emu.info["tenant_id"], emu.principal("publisher")["appId"], "not-the-secret",
                                        **emu.identity_kwargs())
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        credential.get_token("https://monitoring.azure.com/.default")


def test_unknown_resource_is_aadsts500011(emu):
    with pytest.raises(ClientAuthenticationError, match="AADSTS500011"):
        emu.secret_credential("admin").get_token("https://unknown.example.com/.default")


def test_custom_cloud_resources(emu):
    # A custom cloud's clients ask for tokens for the cloud's own ARM and Graph URLs.
    credential = emu.secret_credential("admin")
    assert claims(credential.get_token(emu.info["arm"] + "/.default").token)["aud"].rstrip("/") == emu.info["arm"]
    assert claims(credential.get_token(emu.info["graph"] + "/.default").token)["aud"].rstrip("/") == emu.info["graph"]


def test_environment_credential(emu, monkeypatch):
    # azure-identity's documented variables; AZURE_AUTHORITY_HOST points it at the emulator's sign-in service.
    monkeypatch.setenv("AZURE_TENANT_ID", emu.info["tenant_id"])
    monkeypatch.setenv("AZURE_CLIENT_ID", emu.principal("reader")["appId"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", emu.secret("reader"))
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", emu.info["login"])
    credential = EnvironmentCredential(disable_instance_discovery=True, connection_verify=emu.ca)
    assert claims(credential.get_token("https://graph.microsoft.com/.default").token)["roles"] == ["Application.Read.All"]
