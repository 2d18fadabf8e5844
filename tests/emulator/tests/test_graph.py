"""Graph: applications, upsert, service principals, passwords that sign in, key credentials, federated credentials."""

import base64
import datetime

from azmon_emulator import jwt, pki


def _code(resp):
    return resp.json()["error"]["code"]


def test_auth_and_permissions(c):
    resp = c.session.get(c.info["graph"] + "/v1.0/applications")
    assert resp.status_code == 401 and _code(resp) == "InvalidAuthenticationToken"
    assert set(resp.json()["error"]["innerError"]) >= {"request-id", "date"}
    resp = c.graph("GET", "/applications", token=c.token("admin", "https://management.azure.com/.default"))
    assert resp.status_code == 401
    resp = c.graph("GET", "/applications", handle="nobody")
    assert resp.status_code == 403 and _code(resp) == "Authorization_RequestDenied"
    assert c.graph("GET", "/applications", handle="reader").status_code == 200
    resp = c.graph("POST", "/applications", handle="reader", json={"displayName": "x"})
    assert resp.status_code == 403 and _code(resp) == "Authorization_RequestDenied"


def test_create_list_filter_get_delete(c):
    first = c.graph("POST", "/applications", json={"displayName": "dup-name"})
    assert first.status_code == 201
    app = first.json()
    assert len(app["id"]) == 36 and len(app["appId"]) == 36 and app["passwordCredentials"] == []
    assert c.graph("POST", "/applications", json={"displayName": "dup-name"}).status_code == 201
    found = c.graph("GET", "/applications", params={"$filter": "displayName eq 'dup-name'"}).json()["value"]
    assert len(found) == 2
    assert c.graph("GET", "/applications/" + app["id"]).json()["appId"] == app["appId"]
    assert c.graph("GET", "/applications(appId='%s')" % app["appId"]).json()["id"] == app["id"]
    assert c.graph("DELETE", "/applications/" + app["id"]).status_code == 204
    resp = c.graph("GET", "/applications/" + app["id"])
    assert resp.status_code == 404 and _code(resp) == "Request_ResourceNotFound"
    assert c.graph("GET", "/applications", params={"$filter": "contains(displayName,'x')"}).status_code == 400


def test_upsert_by_unique_name(c):
    path = "/applications(uniqueName='azmon-publisher-x')"
    missing = c.graph("PATCH", path, json={"displayName": "azmon publisher"})
    assert missing.status_code == 404
    created = c.graph("PATCH", path, json={"displayName": "azmon publisher"}, headers={"Prefer": "create-if-missing"})
    assert created.status_code == 201
    assert created.json()["uniqueName"] == "azmon-publisher-x"
    updated = c.graph("PATCH", path, json={"displayName": "renamed"}, headers={"Prefer": "create-if-missing"})
    assert updated.status_code == 204 and updated.content == b""
    assert c.graph("GET", path).json()["displayName"] == "renamed"
    sp_path = "/servicePrincipals(appId='%s')" % created.json()["appId"]
    assert c.graph("PATCH", sp_path, json={}, headers={"Prefer": "create-if-missing"}).status_code == 201
    assert c.graph("PATCH", sp_path, json={"tags": ["a"]}, headers={"Prefer": "create-if-missing"}).status_code == 204
    assert c.graph("GET", "/servicePrincipals", params={"$filter": "appId eq '%s'" % created.json()["appId"]}).json()["value"][0]["tags"] == ["a"]


def test_service_principals(c):
    app = c.graph("POST", "/applications", json={"displayName": "sp-test"}).json()
    sp = c.graph("POST", "/servicePrincipals", json={"appId": app["appId"]})
    assert sp.status_code == 201
    assert c.graph("POST", "/servicePrincipals", json={"appId": app["appId"]}).status_code == 409
    assert c.graph("POST", "/servicePrincipals", json={"appId": "00000000-0000-4000-8000-000000000000"}).status_code == 400
    assert c.graph("GET", "/servicePrincipals/" + sp.json()["id"]).json()["appId"] == app["appId"]
    assert c.graph("GET", "/servicePrincipals(appId='%s')" % app["appId"]).status_code == 200


def test_add_password_signs_in_and_is_shown_once(c):
    app = c.graph("POST", "/applications", json={"displayName": "pw-test"}).json()
    end = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    resp = c.graph("POST", "/applications/%s/addPassword" % app["id"], json={"passwordCredential": {"displayName": "ci", "endDateTime": end}})
    assert resp.status_code == 200
    cred = resp.json()
    assert set(cred) >= {"customKeyIdentifier", "displayName", "endDateTime", "hint", "keyId", "secretText", "startDateTime"}
    assert cred["endDateTime"] == end and cred["hint"] == cred["secretText"][:3]
    shown = c.graph("GET", "/applications/" + app["id"]).json()["passwordCredentials"]
    assert shown and all("secretText" not in p for p in shown)
    no_sp = c.sign_in(app["appId"], cred["secretText"], "https://monitoring.azure.com/.default")
    assert no_sp.status_code == 401 and no_sp.json()["error_codes"] == [7000229]
    c.graph("POST", "/servicePrincipals", json={"appId": app["appId"]})
    assert c.sign_in(app["appId"], cred["secretText"], "https://monitoring.azure.com/.default").status_code == 200
    assert c.graph("POST", "/applications/%s/removePassword" % app["id"], json={"keyId": cred["keyId"]}).status_code == 204
    resp = c.sign_in(app["appId"], cred["secretText"], "https://monitoring.azure.com/.default")
    assert resp.status_code == 401 and resp.json()["error_codes"] == [7000215]


def test_key_credentials_patch_then_certificate_signs_in(c):
    app = c.graph("POST", "/applications", json={"displayName": "cert-test"}).json()
    c.graph("POST", "/servicePrincipals", json={"appId": app["appId"]})
    key, cert = pki.self_signed_rsa("cert-test", days=30)
    der = pki.cert_der(cert)
    bad = c.graph("PATCH", "/applications/" + app["id"], json={"keyCredentials": [{"type": "Symmetric", "usage": "Verify", "key": "AA=="}]})
    assert bad.status_code == 400
    resp = c.graph("PATCH", "/applications/" + app["id"], json={"keyCredentials": [
        {"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.b64encode(der).decode(), "displayName": "ci cert"}]})
    assert resp.status_code == 204, resp.text
    shown = c.graph("GET", "/applications/" + app["id"]).json()["keyCredentials"]
    assert shown[0]["customKeyIdentifier"] == cert.fingerprint(pki.hashes.SHA1()).hex().upper()  # nosec - thumbprint
    import time  # pylint: disable=import-outside-toplevel
    now = int(time.time())
    assertion = jwt.encode({"aud": c.token_url(), "iss": app["appId"], "sub": app["appId"], "jti": "1", "nbf": now, "exp": now + 300},
                           key, {"x5t": jwt.thumbprints(der)[0]})
    resp = c.session.post(c.token_url(), data={
        "grant_type": "client_credentials", "client_id": app["appId"], "scope": "https://graph.microsoft.com/.default",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": assertion})
    assert resp.status_code == 200, resp.text


def test_federated_identity_credentials(c):
    app = c.graph("POST", "/applications", json={"displayName": "fic-test"}).json()
    c.graph("POST", "/servicePrincipals", json={"appId": app["appId"]})
    base = "/applications/%s/federatedIdentityCredentials" % app["id"]
    fic = {"name": "gh-main", "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:o/r:environment:prod",
           "audiences": ["api://AzureADTokenExchange"]}
    created = c.graph("POST", base, json=fic)
    assert created.status_code == 201
    assert c.graph("POST", base, json=fic).status_code == 409
    assert c.graph("POST", base, json=dict(fic, name="two", audiences=["a", "b"])).status_code == 400
    assert [f["name"] for f in c.graph("GET", base).json()["value"]] == ["gh-main"]
    token = c.admin("POST", "/_admin/tokens/oidc", {"subject": "repo:o/r:environment:prod"})["token"]

    def sign_in():
        return c.session.post(c.token_url(), data={
            "grant_type": "client_credentials", "client_id": app["appId"], "scope": "https://monitoring.azure.com/.default",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": token})
    assert sign_in().status_code == 200
    assert c.graph("PATCH", base + "/" + created.json()["id"], json={"subject": "repo:o/r:environment:dev"}).status_code == 204
    assert sign_in().json()["error_codes"] == [70021]
    assert c.graph("DELETE", base + "/gh-main").status_code == 204
    assert c.graph("GET", base).json()["value"] == []
    for index in range(20):
        assert c.graph("POST", base, json=dict(fic, name="f%02d" % index, subject="s%d" % index)).status_code == 201
    assert c.graph("POST", base, json=dict(fic, name="f20", subject="s20")).status_code == 400


def test_admin_applications_view(c):
    c.graph("POST", "/applications", json={"displayName": "seen-by-admin"})
    apps = c.admin("GET", "/_admin/applications")
    assert "seen-by-admin" in [a["displayName"] for a in apps["value"]]
    assert all("_secret" not in p and "secretText" not in p for a in apps["value"] for p in a["passwordCredentials"])


def test_lists_page_with_next_link(c):
    c.admin("POST", "/_admin/settings", {"graphPageSize": 2})
    for number in range(3):
        assert c.graph("POST", "/applications", json={"displayName": "paged-%d" % number}).status_code == 201
    flt = {"$filter": "startswith(displayName,'paged-')"}
    page = c.graph("GET", "/applications", params=flt).json()
    assert [a["displayName"] for a in page["value"]] == ["paged-0", "paged-1"]
    assert page["@odata.nextLink"].startswith(c.info["graph"] + "/v1.0/applications?")
    rest = c.session.get(page["@odata.nextLink"], headers={"Authorization": "Bearer " + c.token("admin", "https://graph.microsoft.com/.default")}).json()
    assert [a["displayName"] for a in rest["value"]] == ["paged-2"] and "@odata.nextLink" not in rest


def test_read_after_write_is_404_during_the_read_delay(c):
    c.admin("POST", "/_admin/settings", {"graphReadDelaySeconds": 60})
    app = c.graph("POST", "/applications", json={"displayName": "fresh"}).json()
    resp = c.graph("GET", "/applications/" + app["id"])
    assert resp.status_code == 404 and _code(resp) == "Request_ResourceNotFound"
    assert c.graph("POST", "/applications/%s/addPassword" % app["id"], json={}).status_code == 404
    assert c.graph("GET", "/applications", params={"$filter": "displayName eq 'fresh'"}).json()["value"] == []
    c.admin("POST", "/_admin/settings", {"graphReadDelaySeconds": 0})
    assert c.graph("GET", "/applications/" + app["id"]).status_code == 200


def test_stale_read_fault_hides_new_objects_from_the_next_reads(c):
    app = c.graph("POST", "/applications", json={"displayName": "fresh"}).json()
    c.admin("POST", "/_admin/faults", {"action": "stale_read", "service": "graph", "path": "^/v1.0/applications$", "count": 1})
    flt = {"$filter": "displayName eq 'fresh'"}
    assert c.graph("GET", "/applications/" + app["id"]).status_code == 200       # not selected by the path
    assert c.graph("GET", "/applications", params=flt).json()["value"] == []      # the list misses it once
    assert [a["id"] for a in c.graph("GET", "/applications", params=flt).json()["value"]] == [app["id"]]
    c.admin("POST", "/_admin/faults", {"clear": True, "faults": [{"action": "stale_read", "service": "graph", "count": 1}]})
    resp = c.graph("GET", "/applications(appId='%s')" % app["appId"])           # a key read answers 404 once
    assert resp.status_code == 404 and _code(resp) == "Request_ResourceNotFound"
    assert c.graph("GET", "/applications(appId='%s')" % app["appId"]).status_code == 200
    posts = [r for r in c.admin("GET", "/_admin/requests?service=graph")["value"] if r["method"] == "POST"]
    assert posts[0]["json"] == {"displayName": "fresh"}                          # Graph request bodies are logged


def test_certificate_key_only_with_select_on_one_object(c):
    certapp = c.principal("certapp")
    plain = c.graph("GET", "/applications/" + certapp["applicationObjectId"]).json()
    assert plain["keyCredentials"] and all(k["key"] is None for k in plain["keyCredentials"])
    listed = c.graph("GET", "/applications", params={"$filter": "appId eq '%s'" % certapp["appId"]}).json()["value"][0]
    assert all(k["key"] is None for k in listed["keyCredentials"])
    chosen = c.graph("GET", "/applications/" + certapp["applicationObjectId"], params={"$select": "keyCredentials"}).json()
    assert set(chosen) <= {"id", "keyCredentials", "@odata.context"}
    der = base64.b64decode(chosen["keyCredentials"][0]["key"])
    assert pki.load_certificate(der) is not None
