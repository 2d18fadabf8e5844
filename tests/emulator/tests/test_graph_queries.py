"""Graph: v1.0 application properties, @odata.type, filters, getByIds, query options that are served or refused."""

import pytest

SP_TYPE = "#microsoft.graph.servicePrincipal"


def _code(resp):
    return resp.json()["error"]["code"]


def _app(c, name, **extra):
    resp = c.graph("POST", "/applications", json=dict({"displayName": name}, **extra))
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_odata_type_on_service_principal_writes(c):
    app = _app(c, "typed", **{"@odata.type": "#microsoft.graph.application"})
    created = c.graph("POST", "/servicePrincipals", json={"@odata.type": SP_TYPE, "appId": app["appId"]})
    assert created.status_code == 201, created.text
    patched = c.graph("PATCH", "/servicePrincipals/" + created.json()["id"], json={"@odata.type": SP_TYPE, "tags": ["t"]})
    assert patched.status_code == 204
    wrong = c.graph("PATCH", "/servicePrincipals/" + created.json()["id"], json={"@odata.type": "#microsoft.graph.user"})
    assert wrong.status_code == 400
    moved = c.graph("PATCH", "/servicePrincipals/" + created.json()["id"], json={"appId": "00000000-0000-4000-8000-000000000001"})
    assert moved.status_code == 400
    assert c.graph("PATCH", "/servicePrincipals/" + created.json()["id"], json={"appId": app["appId"].upper()}).status_code == 204


def test_v1_application_properties(c):
    role = {"id": "11111111-2222-4333-8444-555555555555", "allowedMemberTypes": ["Application"], "displayName": "Writer",
            "description": "writes", "value": "Data.Write"}
    app = _app(c, "props", web={"redirectUris": ["https://example.com/cb"]}, spa={"redirectUris": ["https://example.com/spa"]},
               publicClient={"redirectUris": ["http://localhost"]}, api={"requestedAccessTokenVersion": 2},
               appRoles=[role], optionalClaims={"idToken": []}, groupMembershipClaims="SecurityGroup", isFallbackPublicClient=True)
    got = c.graph("GET", "/applications/" + app["id"]).json()
    assert got["web"]["redirectUris"] == ["https://example.com/cb"]
    assert got["web"]["implicitGrantSettings"] == {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}
    assert got["spa"] == {"redirectUris": ["https://example.com/spa"]} and got["publicClient"] == {"redirectUris": ["http://localhost"]}
    assert got["api"]["requestedAccessTokenVersion"] == 2 and got["api"]["oauth2PermissionScopes"] == []
    assert got["appRoles"][0]["value"] == "Data.Write" and got["appRoles"][0]["isEnabled"] is True
    assert got["optionalClaims"] == {"idToken": []}
    assert got["groupMembershipClaims"] == "SecurityGroup" and got["isFallbackPublicClient"] is True
    assert c.graph("PATCH", "/applications/" + app["id"], json={"web": {"homePageUrl": "https://example.com"}}).status_code == 204
    web = c.graph("GET", "/applications/" + app["id"]).json()["web"]
    assert web["homePageUrl"] == "https://example.com" and web["redirectUris"] == ["https://example.com/cb"]
    fresh = c.graph("GET", "/applications/" + _app(c, "defaults")["id"]).json()
    assert fresh["appRoles"] == [] and fresh["spa"] == {"redirectUris": []} and fresh["isFallbackPublicClient"] is None


@pytest.mark.parametrize("body", [{"web": {"redirectUri": ["https://x"]}}, {"web": {"redirectUris": ["http://example.com"]}},
                                  {"appRoles": [{"id": "not-a-guid", "allowedMemberTypes": ["User"]}]},
                                  {"groupMembershipClaims": "Everyone"}, {"isFallbackPublicClient": "yes"}, {"spa": []}])
def test_v1_application_properties_refused(c, body):
    resp = c.graph("POST", "/applications", json=dict({"displayName": "bad"}, **body))
    assert resp.status_code == 400, resp.text


def test_filters(c):
    one, two = _app(c, "alpha one"), _app(c, "beta two")
    for app in (one, two):
        c.graph("POST", "/servicePrincipals", json={"appId": app["appId"]})
    got = c.graph("GET", "/servicePrincipals", params={"$filter": "servicePrincipalNames/any(x:x eq '%s')" % one["appId"]}).json()
    assert [sp["appId"] for sp in got["value"]] == [one["appId"]]
    either = "appId in ('%s', '%s')" % (one["appId"], two["appId"])
    assert len(c.graph("GET", "/applications", params={"$filter": either}).json()["value"]) == 2
    both = "displayName eq 'alpha one' and appId eq '%s'" % two["appId"]
    assert c.graph("GET", "/applications", params={"$filter": both}).json()["value"] == []
    alt = "(displayName eq 'alpha one' or displayName eq 'beta two') and startswith(displayName, 'b')"
    assert [a["id"] for a in c.graph("GET", "/applications", params={"$filter": alt}).json()["value"]] == [two["id"]]
    for bad in ("displayName ne 'x'", "endswith(displayName,'x')", "notAProperty eq 'x'"):
        resp = c.graph("GET", "/applications", params={"$filter": bad})
        assert resp.status_code == 400 and _code(resp) == "Request_UnsupportedQuery"


def test_get_by_ids(c):
    app = _app(c, "by-ids")
    sp = c.graph("POST", "/servicePrincipals", json={"appId": app["appId"]}).json()
    body = {"ids": [sp["id"], app["id"], "00000000-0000-4000-8000-00000000abcd"], "types": ["servicePrincipal"]}
    got = c.graph("POST", "/directoryObjects/getByIds", json=body, handle="reader")
    assert got.status_code == 200, got.text
    assert [(o["@odata.type"], o["id"]) for o in got.json()["value"]] == [(SP_TYPE, sp["id"])]
    assert c.graph("POST", "/directoryObjects/getByIds", json={"ids": []}).status_code == 400


def test_federated_credential_by_name(c):
    app = c.principal("ciapp")["applicationObjectId"]
    got = c.graph("GET", "/applications/%s/federatedIdentityCredentials(name='github-main')" % app)
    assert got.status_code == 200 and got.json()["subject"] == "repo:example/azmon:ref:refs/heads/main"
    assert c.graph("GET", "/applications/%s/federatedIdentityCredentials(name='nope')" % app).status_code == 404


def test_query_options_served_or_refused(c):
    for index in range(3):
        _app(c, "page-%d" % index)
    top = c.graph("GET", "/applications", params={"$top": "2"}).json()
    assert len(top["value"]) == 2 and "@odata.nextLink" in top
    assert c.graph("GET", "/applications", params={"$top": "0"}).status_code == 400
    selected = c.graph("GET", "/applications", params={"$select": "displayName"}).json()["value"]
    assert all(set(a) == {"id", "displayName"} for a in selected)
    assert c.graph("GET", "/applications", params={"$select": "nope"}).status_code == 400
    search = {"$search": '"displayName:page"'}
    assert c.graph("GET", "/applications", params=search).status_code == 400
    eventual = {"ConsistencyLevel": "eventual"}
    found = c.graph("GET", "/applications", params=dict(search, **{"$count": "true"}), headers=eventual).json()
    assert found["@odata.count"] == 3 and len(found["value"]) == 3
    assert c.graph("GET", "/applications", params={"$count": "true"}).status_code == 400
    count = c.graph("GET", "/applications/$count", params={"$filter": "startswith(displayName,'page-')"}, headers=eventual)
    assert count.status_code == 200 and count.text == "3"
    assert c.graph("GET", "/applications", params={"$expand": "owners"}).status_code == 400
    ordered = c.graph("GET", "/applications", params={"$orderby": "displayName desc", "$filter": "startswith(displayName,'page-')"})
    assert [a["displayName"] for a in ordered.json()["value"]] == ["page-2", "page-1", "page-0"]


@pytest.mark.parametrize("body", [
    {"signInAudience": "Everyone"},
    {"description": "d" * 1025},
    {"identifierUris": ["api://*"]},
    {"identifierUris": ["https://evil.example.com/app"]},
    {"identifierUris": ["api://" + "x" * 250]},
    {"identifierUris": ["urn:azmon:x"], "signInAudience": "AzureADandPersonalMicrosoftAccount"},
])
def test_application_rules_graph_enforces(c, body):
    resp = c.graph("POST", "/applications", json=dict({"displayName": "strict"}, **body))
    assert resp.status_code == 400, resp.text


def test_identifier_uris_accepted_and_unique(c):
    first = _app(c, "uri-one", identifierUris=["api://azmon-one", "https://contoso.onmicrosoft.com/azmon"])
    assert first["identifierUris"] == ["api://azmon-one", "https://contoso.onmicrosoft.com/azmon"]
    resp = c.graph("POST", "/applications", json={"displayName": "uri-two", "identifierUris": ["API://azmon-one"]})
    assert resp.status_code == 400 and "already exists" in resp.json()["error"]["message"]


@pytest.mark.parametrize("field", ["issuer", "subject", "description", "audiences"])
def test_federated_credential_600_characters(c, field):
    app = _app(c, "fic-limits")
    body = {"name": "limits", "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:o/r:ref:refs/heads/main",
            "audiences": ["api://AzureADTokenExchange"], "description": "ok"}
    long = "https://" + "a" * 593 if field == "issuer" else "a" * 601
    body[field] = [long] if field == "audiences" else long
    resp = c.graph("POST", "/applications/%s/federatedIdentityCredentials" % app["id"], json=body)
    assert resp.status_code == 400, resp.text
