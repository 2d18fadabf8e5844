"""Sign-in: Entra error codes, v1/v2 forms, discovery, managed identity, and azure-identity credentials over verified TLS."""

import time

import pytest
from azmon_emulator import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization


def _codes(resp):
    return resp.json()["error_codes"]


def test_client_secret_token_claims(c):
    admin = c.principal("admin")
    resp = c.sign_in(admin["appId"], c.secret("admin"), "https://monitoring.azure.com/.default")
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and 3500 < body["expires_in"] <= 3600
    claims = jwt.unverified_claims(body["access_token"])
    assert claims["aud"] == "https://monitoring.azure.com/"
    assert claims["iss"] == "https://sts.windows.net/%s/" % c.info["tenant_id"]
    assert claims["oid"] == admin["principalId"] and claims["appid"] == admin["appId"] and claims["tid"] == c.info["tenant_id"]
    assert claims["nbf"] <= time.time() < claims["exp"]
    graph = jwt.unverified_claims(c.token("admin", "https://graph.microsoft.com/.default"))
    assert graph["aud"] == "https://graph.microsoft.com" and graph["roles"] == ["Application.ReadWrite.All"]


@pytest.mark.parametrize("change, status, error, code", [
    ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
    ({"client_id": "00000000-0000-4000-8000-000000000099"}, 400, "unauthorized_client", 700016),
    ({"scope": "https://unknown.example.com/.default"}, 400, "invalid_resource", 500011),
    ({"scope": "https://monitoring.azure.com/user_impersonation"}, 400, "invalid_scope", 1002012),
    ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
    ({"client_secret": None}, 401, "invalid_client", 7000218),
])
def test_sign_in_errors(c, change, status, error, code):
    data = {"grant_type": "client_credentials", "client_id": c.principal("admin")["appId"], "client_secret": c.secret("admin"),
            "scope": "https://monitoring.azure.com/.default"}
    data.update(change)
    data = {k: v for k, v in data.items() if v is not None}
    resp = c.session.post(c.token_url(), data=data)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == error and _codes(resp) == [code]
    assert body["error_description"].startswith("AADSTS%d:" % code)
    assert body["trace_id"] and body["correlation_id"] and body["timestamp"]


def test_unknown_tenant(c):
    resp = c.session.post(c.token_url(tenant="00000000-0000-4000-8000-000000000000"),
                          data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y", "scope": "s/.default"})
    assert resp.status_code == 400 and _codes(resp) == [90002]


def test_v1_form_and_domain_tenant(c):
    admin = c.principal("admin")
    resp = c.session.post(c.token_url(v2=False, tenant="contoso.onmicrosoft.com"),
                          data={"grant_type": "client_credentials", "client_id": admin["appId"], "client_secret": c.secret("admin"),
                                "resource": "https://monitoring.azure.com/"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["resource"] == "https://monitoring.azure.com/" and int(body["expires_on"]) > time.time()
    assert jwt.unverified_claims(body["access_token"])["aud"] == "https://monitoring.azure.com/"


def test_discovery_documents(c):
    conf = c.session.get("%s/%s/v2.0/.well-known/openid-configuration" % (c.info["login"], c.info["tenant_id"])).json()
    assert conf["token_endpoint"] == c.token_url()
    keys = c.session.get(conf["jwks_uri"]).json()["keys"]
    assert keys[0]["kty"] == "RSA"
    inst = c.session.get(c.info["login"] + "/common/discovery/instance",
                         params={"api-version": "1.1", "authorization_endpoint": "x"}).json()
    assert inst["tenant_discovery_endpoint"].endswith("/v2.0/.well-known/openid-configuration")


def test_token_lifetime_setting(c):
    c.admin("POST", "/_admin/settings", {"tokenLifetimeSeconds": 120})
    resp = c.sign_in(c.principal("admin")["appId"], c.secret("admin"), "https://monitoring.azure.com/.default")
    assert resp.json()["expires_in"] <= 120


def _assertion(c, key, cert, client_id, aud=None, exp_delta=600):
    der = cert.public_bytes(serialization.Encoding.DER)
    now = int(time.time())
    claims = {"aud": aud or c.token_url(), "iss": client_id, "sub": client_id, "jti": "x%d" % now, "nbf": now - 10,
              "exp": now + exp_delta}
    return jwt.encode(claims, key, {"x5t": jwt.thumbprints(der)[0]})


def _cert_post(c, client_id, assertion):
    return c.session.post(c.token_url(), data={
        "grant_type": "client_credentials", "client_id": client_id, "scope": "https://monitoring.azure.com/.default",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": assertion})


def test_certificate_assertion_raw(c):
    spec = c.principal("certapp")["certificate"]
    key = serialization.load_pem_private_key(spec["privateKeyPem"].encode(), None)
    cert = x509.load_pem_x509_certificate(spec["certificatePem"].encode())
    app_id = c.principal("certapp")["appId"]
    assert _cert_post(c, app_id, _assertion(c, key, cert, app_id)).status_code == 200
    expired = _cert_post(c, app_id, _assertion(c, key, cert, app_id, exp_delta=-600))
    assert expired.status_code == 401 and _codes(expired) == [700024]
    wrong_aud = _cert_post(c, app_id, _assertion(c, key, cert, app_id, aud="https://example.com/token"))
    assert wrong_aud.status_code == 401
    other = c.principal("admin")["appId"]
    unknown_key = _cert_post(c, other, _assertion(c, key, cert, other))
    assert unknown_key.status_code == 401 and _codes(unknown_key) == [700027]
    assert cert.fingerprint(hashes.SHA1()).hex()  # nosec - thumbprint only


def test_federated_errors(c):
    app_id = c.principal("ciapp")["appId"]

    def post(token):
        return c.session.post(c.token_url(), data={
            "grant_type": "client_credentials", "client_id": app_id, "scope": "https://monitoring.azure.com/.default",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": token})
    good = c.admin("POST", "/_admin/tokens/oidc", {})["token"]
    assert post(good).status_code == 200
    wrong_subject = c.admin("POST", "/_admin/tokens/oidc", {"subject": "repo:example/azmon:ref:refs/heads/dev"})["token"]
    resp = post(wrong_subject)
    assert resp.status_code == 400 and _codes(resp) == [70021]
    assert "refs/heads/dev" in resp.json()["error_description"]
    expired = c.admin("POST", "/_admin/tokens/oidc", {"lifetime": -60})["token"]
    resp = post(expired)
    assert _codes(resp) == [700024]


def test_managed_identity_endpoint(c):
    url = c.info["msi"]
    ok = c.session.get(url, params={"api-version": "2019-08-01", "resource": "https://monitoring.azure.com/"},
                       headers={"X-IDENTITY-HEADER": c.info["msi_header"]})
    assert ok.status_code == 200
    body = ok.json()
    assert set(body) >= {"access_token", "expires_on", "resource", "token_type"}
    claims = jwt.unverified_claims(body["access_token"])
    assert claims["oid"] == c.principal("mi")["principalId"] and claims["aud"] == "https://monitoring.azure.com/"
    assert c.session.get(url, params={"api-version": "2019-08-01", "resource": "https://monitoring.azure.com/"}).status_code == 401
    assert c.session.get(url, params={"api-version": "2017-09-01", "resource": "https://monitoring.azure.com/"},
                         headers={"X-IDENTITY-HEADER": c.info["msi_header"]}).status_code == 400
    # the managed identity publishes (Monitoring Metrics Publisher on rg-demo)
    from conftest import doc  # pylint: disable=import-outside-toplevel
    assert c.post_metrics(doc(), token=body["access_token"]).status_code == 200


# ---------------------------------------------------------------- azure-identity
def _kwargs(c):
    return {"authority": c.info["login"], "disable_instance_discovery": True, "connection_verify": c.info["ca_bundle"]}


def test_azure_identity_client_secret(c):
    from azure.identity import ClientSecretCredential  # pylint: disable=import-outside-toplevel
    cred = ClientSecretCredential(c.info["tenant_id"], c.principal("publisher")["appId"], c.secret("publisher"), **_kwargs(c))
    token = cred.get_token("https://monitoring.azure.com/.default")
    from conftest import doc  # pylint: disable=import-outside-toplevel
    assert c.post_metrics(doc(), token=token.token).status_code == 200


def test_azure_identity_certificate(c):
    from azure.identity import CertificateCredential  # pylint: disable=import-outside-toplevel
    cred = CertificateCredential(c.info["tenant_id"], c.principal("certapp")["appId"], c.info["certificates"]["certapp"], **_kwargs(c))
    assert jwt.unverified_claims(cred.get_token("https://monitoring.azure.com/.default").token)["appid"] == c.principal("certapp")["appId"]
    cred = CertificateCredential(c.info["tenant_id"], c.principal("certapp")["appId"], c.info["certificates"]["certapp"],
                                 send_certificate_chain=True, **_kwargs(c))
    assert cred.get_token("https://management.azure.com/.default").token


def test_azure_identity_workload_identity(c):
    from azure.identity import WorkloadIdentityCredential  # pylint: disable=import-outside-toplevel
    token_file = c.admin("POST", "/_admin/tokens/oidc", {"subject": "repo:example/azmon:ref:refs/heads/main"})["tokenFile"]
    cred = WorkloadIdentityCredential(tenant_id=c.info["tenant_id"], client_id=c.principal("ciapp")["appId"],
                                      token_file_path=token_file, **_kwargs(c))
    assert jwt.unverified_claims(cred.get_token("https://monitoring.azure.com/.default").token)["oid"] == c.principal("ciapp")["principalId"]


def test_azure_identity_managed_identity(c, monkeypatch):
    from azure.identity import ManagedIdentityCredential  # pylint: disable=import-outside-toplevel
    monkeypatch.setenv("IDENTITY_ENDPOINT", c.info["msi"])
    monkeypatch.setenv("IDENTITY_HEADER", c.info["msi_header"])
    cred = ManagedIdentityCredential(connection_verify=c.info["ca_bundle"])
    # "//.default" keeps the trailing slash of the resource: azure-identity strips only "/.default"
    token = cred.get_token("https://monitoring.azure.com//.default")
    assert jwt.unverified_claims(token.token)["aud"] == "https://monitoring.azure.com/"
    from conftest import doc  # pylint: disable=import-outside-toplevel
    assert c.post_metrics(doc(), token=token.token).status_code == 200
    no_slash = ManagedIdentityCredential(connection_verify=c.info["ca_bundle"]).get_token("https://monitoring.azure.com/.default")
    resp = c.post_metrics(doc(), token=no_slash.token)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "InvalidAudience"


def test_azure_identity_secret_errors_surface(c):
    from azure.core.exceptions import ClientAuthenticationError  # pylint: disable=import-outside-toplevel
    from azure.identity import ClientSecretCredential  # pylint: disable=import-outside-toplevel
    cred = ClientSecretCredential(c.info["tenant_id"], c.principal("publisher")["appId"], "wrong", **_kwargs(c))
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        cred.get_token("https://monitoring.azure.com/.default")


@pytest.mark.parametrize("scope, aud", [
    ("https://storage.azure.com/.default", "https://storage.azure.com/"),
    ("https://storage.azure.com//.default", "https://storage.azure.com/"),
])
def test_a_storage_token_carries_what_azurite_and_blob_storage_check(c, scope, aud):
    # Azurite (--oauth basic) accepts aud https://storage.azure.com[/] and iss starting https://sts.windows.net/,
    # and checks nbf and exp; real Blob Storage checks the same claims and the signature.
    claims = jwt.unverified_claims(c.token("publisher", scope))
    assert claims["aud"] == aud
    assert claims["iss"] == "https://sts.windows.net/%s/" % c.info["tenant_id"]
    assert claims["nbf"] <= time.time() < claims["exp"]
