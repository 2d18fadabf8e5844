"""ARM as clients of a custom cloud see it: metadata, subscriptions, tenants, HEAD, lists, the four audiences."""

import pytest


def _code(resp):
    return resp.json()["error"]["code"]


def test_metadata_endpoints_are_anonymous(c):
    resp = c.session.get(c.info["arm"] + "/metadata/endpoints", params={"api-version": "2022-09-01"})
    assert resp.status_code == 200
    cloud = resp.json()[0]
    assert cloud["resourceManager"] == c.info["arm"] + "/"
    assert cloud["authentication"]["loginEndpoint"] == c.info["login"] + "/"
    assert "https://management.core.windows.net/" in cloud["authentication"]["audiences"]
    legacy = c.session.get(c.info["arm"] + "/metadata/endpoints", params={"api-version": "2015-01-01"}).json()
    assert legacy["graphEndpoint"] == c.info["graph"] + "/"
    resp = c.session.get(c.info["arm"] + "/metadata/endpoints")
    assert resp.status_code == 400 and _code(resp) == "MissingApiVersionParameter"


def test_list_subscriptions_and_tenants(c):
    subs = c.arm("GET", "/subscriptions", api_version="2022-12-01").json()
    assert [s["subscriptionId"] for s in subs["value"]] == [c.info["subscription_id"]]
    assert subs["value"][0]["tenantId"] == c.info["tenant_id"] and subs["value"][0]["state"] == "Enabled"
    # The publisher holds a role on a resource group only: the subscription is still listed; nobody sees none.
    assert len(c.arm("GET", "/subscriptions", handle="publisher", api_version="2022-12-01").json()["value"]) == 1
    assert c.arm("GET", "/subscriptions", handle="nobody", api_version="2022-12-01").json()["value"] == []
    tenants = c.arm("GET", "/tenants", api_version="2022-12-01").json()["value"]
    assert [t["tenantId"] for t in tenants] == [c.info["tenant_id"]]


def test_head_checks_existence(c):
    rg = c.sub + "/resourceGroups/rg-demo"
    assert c.arm("HEAD", rg, api_version="2021-04-01").status_code == 204
    assert c.arm("HEAD", c.sub + "/resourceGroups/rg-missing", api_version="2021-04-01").status_code == 404
    assert c.arm("HEAD", c.vm1, api_version="2021-04-01").status_code == 204
    assert c.arm("HEAD", c.sub + "/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/nope",
                 api_version="2021-04-01").status_code == 404


def test_resource_lists(c):
    groups = c.arm("GET", c.sub + "/resourcegroups", api_version="2021-04-01").json()["value"]
    assert sorted(g["name"] for g in groups) == ["rg-demo", "rg-other"]
    in_rg = c.arm("GET", c.sub + "/resourceGroups/rg-demo/resources", api_version="2021-04-01").json()["value"]
    assert sorted(r["name"] for r in in_rg) == ["amw-demo", "dce-amw-demo", "dcr-amw-demo", "stdemo01", "vm1"]
    assert len(c.arm("GET", c.sub + "/resources", api_version="2021-04-01").json()["value"]) == 7
    resp = c.arm("GET", c.sub + "/resources", api_version="2021-04-01", params={"$filter": "resourceType eq 'x'"})
    assert resp.status_code == 400


@pytest.mark.parametrize("audience", ["https://management.azure.com", "https://management.azure.com/",
                                      "https://management.core.windows.net", "https://management.core.windows.net/"])
def test_four_arm_audiences(c, audience):
    resp = c.arm("GET", c.sub, api_version="2022-12-01", token=c.mint("admin", audience))
    assert resp.status_code == 200, resp.text


def test_custom_cloud_resources_sign_in(c):
    arm, graph = c.info["arm"], c.info["graph"]
    resp = c.sign_in(c.principal("admin")["appId"], c.secret("admin"), arm + "/.default")
    assert resp.status_code == 200, resp.text
    assert c.arm("GET", c.sub, api_version="2022-12-01", token=resp.json()["access_token"]).status_code == 200
    resp = c.sign_in(c.principal("admin")["appId"], c.secret("admin"), graph + "/.default")
    assert resp.status_code == 200, resp.text
    assert c.graph("GET", "/applications", token=resp.json()["access_token"]).status_code == 200
    resp = c.sign_in(c.principal("admin")["appId"], c.secret("admin"), "https://127.0.0.2:1/.default")
    assert resp.status_code == 400 and resp.json()["error_codes"] == [500011]


def test_unpublished_api_versions_refused(c):
    for version in ("2023-02-30", "2999-01-01"):
        resp = c.arm("GET", c.sub + "/resourceGroups/rg-demo", api_version=version)
        assert resp.status_code == 400 and _code(resp) == "InvalidApiVersionParameter"
    assert c.arm("GET", c.sub + "/resourceGroups/rg-demo", api_version="2021-04-01").status_code == 200


def test_unserved_reads_are_404(c):
    for path in (c.sub + "/providers", c.sub + "/locations", c.sub + "/resourceGroups/rg-demo/providers/Microsoft.Compute"):
        resp = c.arm("GET", path, api_version="2021-04-01")
        assert resp.status_code == 404 and _code(resp) == "NotFound", (path, resp.text)
