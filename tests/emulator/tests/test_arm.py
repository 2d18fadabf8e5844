"""ARM: role assignments (PUT/GET/DELETE/list, 409/400/403, paging, case echo, replication delay), definitions, metrics read."""

import time

import pytest

from conftest import doc, now_z

PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
OWNER = "8e3af657-a8ff-4c83-a602-7a9e3c95d1cb"
NAME1 = "0a1b2c3d-0000-4000-8000-000000000001"
NAME2 = "0a1b2c3d-0000-4000-8000-000000000002"


def _ra_path(scope, name=""):
    return scope + "/providers/Microsoft.Authorization/roleAssignments" + ("/" + name if name else "")


def _body(c, principal, role=PUBLISHER, principal_type="ServicePrincipal"):
    props = {"roleDefinitionId": c.sub + "/providers/Microsoft.Authorization/roleDefinitions/" + role, "principalId": principal}
    if principal_type:
        props["principalType"] = principal_type
    return {"properties": props}


def _code(resp):
    return resp.json()["error"]["code"]


def test_api_version_required(c):
    resp = c.arm("GET", _ra_path(c.sub), api_version=None)
    assert resp.status_code == 400 and _code(resp) == "MissingApiVersionParameter"
    assert resp.headers["x-ms-request-id"] and resp.headers["x-ms-correlation-request-id"]
    resp = c.arm("GET", _ra_path(c.sub), api_version="2099-01-01")
    assert resp.status_code == 400 and _code(resp) == "InvalidApiVersionParameter"


def test_auth_errors(c):
    resp = c.session.get(c.info["arm"] + _ra_path(c.sub), params={"api-version": "2022-04-01"})
    assert resp.status_code == 401 and _code(resp) == "AuthenticationFailed"
    resp = c.arm("GET", _ra_path(c.sub), token=c.token("admin"))
    assert resp.status_code == 401 and _code(resp) == "InvalidAuthenticationTokenAudience"
    resp = c.arm("GET", _ra_path(c.sub), token=c.mint("admin", "https://management.azure.com/", lifetime=-10))
    assert resp.status_code == 401 and _code(resp) == "ExpiredAuthenticationToken"
    legacy = c.token("admin", "https://management.core.windows.net//.default")
    assert c.arm("GET", _ra_path(c.sub), token=legacy).status_code == 200


def test_put_idempotent_and_case_echo(c):
    principal = c.principal("nobody")["principalId"]
    scope = c.sub + "/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1"
    first = c.arm("PUT", _ra_path(scope, NAME1), json=_body(c, principal))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["name"] == NAME1 and body["type"] == "Microsoft.Authorization/roleAssignments"
    echoed = body["properties"]["scope"]
    assert echoed != scope and echoed.lower() == scope.lower()
    assert "/resourcegroups/RG-DEMO/providers/microsoft.compute/virtualmachines/vm1" in echoed
    assert body["id"].lower() == _ra_path(scope, NAME1).lower()
    assert body["properties"]["roleDefinitionId"].endswith(PUBLISHER)
    again = c.arm("PUT", _ra_path(scope.upper().replace("SUBSCRIPTIONS", "subscriptions"), NAME1), json=_body(c, principal))
    assert again.status_code in (200, 201) and again.json()["name"] == NAME1
    got = c.arm("GET", _ra_path(scope, NAME1))
    assert got.status_code == 200 and got.json()["properties"]["principalId"] == principal


def test_conflicts(c):
    principal = c.principal("nobody")["principalId"]
    scope = c.sub + "/resourceGroups/rg-demo"
    assert c.arm("PUT", _ra_path(scope, NAME1), json=_body(c, principal)).status_code == 201
    dup = c.arm("PUT", _ra_path(scope, NAME2), json=_body(c, principal))
    assert dup.status_code == 409 and _code(dup) == "RoleAssignmentExists"
    other_principal = c.arm("PUT", _ra_path(scope, NAME1), json=_body(c, c.principal("reader")["principalId"]))
    assert other_principal.status_code == 400 and _code(other_principal) == "RoleAssignmentUpdateNotPermitted"
    other_scope = c.arm("PUT", _ra_path(c.sub, NAME1), json=_body(c, principal))
    assert other_scope.status_code == 400 and _code(other_scope) == "RoleAssignmentUpdateNotPermitted"


def test_put_validation(c):
    principal = c.principal("nobody")["principalId"]
    resp = c.arm("PUT", _ra_path(c.sub, "not-a-guid"), json=_body(c, principal))
    assert resp.status_code == 400 and _code(resp) == "InvalidRoleAssignmentId"
    resp = c.arm("PUT", _ra_path(c.sub, NAME1), json=_body(c, principal, role="00000000-0000-4000-8000-000000000000"))
    assert resp.status_code == 400 and _code(resp) == "RoleDefinitionDoesNotExist"
    resp = c.arm("PUT", _ra_path(c.sub, NAME1), json=_body(c, "00000000-0000-4000-8000-00000000abcd"))
    assert resp.status_code == 400 and _code(resp) == "PrincipalNotFound"
    resp = c.arm("PUT", _ra_path(c.sub, NAME1), json=_body(c, principal, principal_type="User"))
    assert resp.status_code == 400 and _code(resp) == "UnmatchedPrincipalType"
    resp = c.arm("PUT", _ra_path(c.sub, NAME1), data="{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and _code(resp) == "InvalidRequestContent"


def test_unknown_scopes_404(c):
    principal = c.principal("nobody")["principalId"]
    resp = c.arm("PUT", _ra_path("/subscriptions/00000000-0000-4000-8000-000000000999", NAME1), json=_body(c, principal))
    assert resp.status_code == 404 and _code(resp) == "SubscriptionNotFound"
    resp = c.arm("PUT", _ra_path(c.sub + "/resourceGroups/rg-missing", NAME1), json=_body(c, principal))
    assert resp.status_code == 404 and _code(resp) == "ResourceGroupNotFound"
    resp = c.arm("PUT", _ra_path(c.sub + "/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/nope", NAME1),
                 json=_body(c, principal))
    assert resp.status_code == 404 and _code(resp) == "ResourceNotFound"


def test_rbac_403(c):
    principal = c.principal("nobody")["principalId"]
    for handle in ("reader", "publisher", "nobody"):
        resp = c.arm("PUT", _ra_path(c.sub, NAME1), handle=handle, json=_body(c, principal))
        assert resp.status_code == 403, handle
        assert _code(resp) == "AuthorizationFailed"
        assert "does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write'" in \
            resp.json()["error"]["message"]
    assert c.arm("GET", _ra_path(c.sub), handle="nobody").status_code == 403
    assert c.arm("GET", _ra_path(c.sub), handle="reader").status_code == 200


def test_replication_delay(c):
    c.admin("POST", "/_admin/settings", {"replicationDelaySeconds": 300})
    app = c.graph("POST", "/applications", json={"displayName": "fresh-app"}).json()
    sp = c.graph("POST", "/servicePrincipals", json={"appId": app["appId"]}).json()
    resp = c.arm("PUT", _ra_path(c.sub, NAME1), json=_body(c, sp["id"], principal_type=None))
    assert resp.status_code == 400 and _code(resp) == "PrincipalNotFound"
    resp = c.arm("PUT", _ra_path(c.sub, NAME1), json=_body(c, sp["id"]))
    assert resp.status_code == 201, resp.text
    c.admin("POST", "/_admin/settings", {"replicationDelaySeconds": 0})
    resp = c.arm("PUT", _ra_path(c.sub, NAME2), json=_body(c, sp["id"], role=OWNER, principal_type=None))
    assert resp.status_code == 201


def test_principal_not_found_fault_for_the_next_puts(c):
    """Replication lag injected: the next N role assignment PUTs answer PrincipalNotFound even with principalType set."""
    publisher = c.principal("publisher")["principalId"]
    c.admin("POST", "/_admin/faults", {"action": "principal_not_found", "count": 2})
    assert c.arm("GET", _ra_path(c.vm1)).status_code == 200            # a list is not a PUT: not counted
    for _attempt in range(2):
        resp = c.arm("PUT", _ra_path(c.vm1, NAME1), json=_body(c, publisher))
        assert resp.status_code == 400 and _code(resp) == "PrincipalNotFound"
        assert publisher.replace("-", "") in resp.json()["error"]["message"]
    assert all(a["name"] != NAME1 for a in c.admin("GET", "/_admin/role-assignments")["value"])
    assert c.arm("PUT", _ra_path(c.vm1, NAME1), json=_body(c, publisher)).status_code == 201
    assert c.admin("GET", "/_admin/faults")["value"][0]["fired"] == 2
    puts = [r for r in c.admin("GET", "/_admin/requests?service=arm")["value"] if r["method"] == "PUT"]
    assert [r["json"] for r in puts] == [_body(c, publisher)] * 3    # ARM request bodies are in the log


def test_stale_read_fault_hides_new_assignments_for_the_next_reads(c):
    nobody = c.principal("nobody")["principalId"]
    assert c.arm("PUT", _ra_path(c.vm1, NAME1), json=_body(c, nobody)).status_code == 201
    c.admin("POST", "/_admin/faults", {"action": "stale_read", "count": 1})
    params = {"$filter": "principalId eq '%s'" % nobody}
    assert c.arm("GET", _ra_path(c.vm1, NAME1)).status_code == 200      # a single GET is not a list: not counted
    assert c.arm("GET", _ra_path(c.vm1), params=params).json()["value"] == []
    resp = c.arm("PUT", _ra_path(c.vm1, NAME2), json=_body(c, nobody))  # the PUT still sees it
    assert resp.status_code == 409 and _code(resp) == "RoleAssignmentExists"
    assert [i["name"] for i in c.arm("GET", _ra_path(c.vm1), params=params).json()["value"]] == [NAME1]
    c.admin("POST", "/_admin/faults", {"clear": True, "faults": [{"action": "stale_read", "lagSeconds": 0}]})
    assert [i["name"] for i in c.arm("GET", _ra_path(c.vm1), params=params).json()["value"]] == [NAME1]


def test_service_faults_refuse_another_service(c):
    for action in ("principal_not_found", "stale_read"):
        with pytest.raises(RuntimeError, match="applies to the arm"):
            c.admin("POST", "/_admin/faults", {"action": action, "service": "ingest"})


def test_list_filters_and_paging(c):
    nobody = c.principal("nobody")["principalId"]
    vm_scope = c.vm1
    assert c.arm("PUT", _ra_path(vm_scope, NAME1), json=_body(c, nobody)).status_code == 201
    assert c.arm("PUT", _ra_path(c.sub + "/resourceGroups/rg-other", NAME2), json=_body(c, nobody)).status_code == 201

    def collect(path, flt):
        params = {"$filter": flt} if flt else {}
        resp = c.arm("GET", path, params=params)
        assert resp.status_code == 200, resp.text
        items, pages = list(resp.json()["value"]), 1
        while resp.json().get("nextLink"):
            assert len(resp.json()["value"]) == 2
            resp = c.session.get(resp.json()["nextLink"], headers={"Authorization": "Bearer " + c.token("admin", "https://management.azure.com/.default")})
            assert resp.status_code == 200, resp.text
            items += resp.json()["value"]
            pages += 1
        return items, pages

    at_rg, pages = collect(_ra_path(c.sub + "/resourceGroups/rg-demo"), "atScope()")
    names = {i["name"] for i in at_rg}
    assert pages >= 3
    assert NAME1 not in names and NAME2 not in names        # below / elsewhere
    assert "f0000001-0000-4000-8000-000000000001" in names   # inherited from the subscription
    assert "f0000004-0000-4000-8000-000000000004" in names   # at the resource group
    mine = collect(_ra_path(c.sub + "/resourceGroups/rg-demo"), "principalId eq '%s'" % nobody)[0]
    assert {i["name"] for i in mine} == {NAME1}               # below included, rg-other excluded
    whole = collect(_ra_path(c.sub), "principalId eq '%s'" % nobody)[0]
    assert {i["name"] for i in whole} == {NAME1, NAME2}
    resp = c.arm("GET", _ra_path(c.sub), params={"$filter": "roleName eq 'x'"})
    assert resp.status_code == 400


def test_delete(c):
    nobody = c.principal("nobody")["principalId"]
    assert c.arm("PUT", _ra_path(c.sub, NAME1), json=_body(c, nobody)).status_code == 201
    assert c.arm("DELETE", _ra_path(c.sub, NAME1)).status_code == 200
    assert c.arm("DELETE", _ra_path(c.sub, NAME1)).status_code == 204
    resp = c.arm("GET", _ra_path(c.sub, NAME1))
    assert resp.status_code == 404 and _code(resp) == "RoleAssignmentNotFound"
    assert c.arm("DELETE", _ra_path(c.sub, "f0000001-0000-4000-8000-000000000001"), handle="reader").status_code == 403


def test_role_definitions(c):
    resp = c.arm("GET", c.sub + "/providers/Microsoft.Authorization/roleDefinitions/" + PUBLISHER)
    assert resp.status_code == 200
    body = resp.json()
    assert body["properties"]["roleName"] == "Monitoring Metrics Publisher"
    assert body["properties"]["permissions"][0]["dataActions"] == ["Microsoft.Insights/Metrics/Write", "Microsoft.Insights/Telemetry/Write"]
    assert body["id"] == c.sub + "/providers/Microsoft.Authorization/roleDefinitions/" + PUBLISHER
    listed = c.arm("GET", c.sub + "/resourceGroups/rg-demo/providers/Microsoft.Authorization/roleDefinitions",
                   params={"$filter": "roleName eq 'Monitoring Metrics Publisher'"})
    assert [d["name"] for d in listed.json()["value"]] == [PUBLISHER]
    owner = c.arm("GET", c.sub + "/providers/Microsoft.Authorization/roleDefinitions/" + OWNER).json()
    assert owner["properties"]["permissions"][0]["dataActions"] == []
    missing = c.arm("GET", c.sub + "/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404


def test_get_resource(c):
    resp = c.arm("GET", c.storage, api_version="2023-01-01", handle="reader")
    assert resp.status_code == 200 and resp.json()["location"] == "westeurope"
    assert c.arm("GET", c.storage, api_version="2023-01-01", handle="nobody").status_code == 403


def _read(c, handle="reader", **params):
    query = {"metricnamespace": "QueueProcessing", "metricnames": "QueueDepth", "interval": "PT1M",
             "aggregation": "Total,Count,Minimum,Maximum"}
    query.update(params)
    return c.arm("GET", c.vm1 + "/providers/Microsoft.Insights/metrics", handle=handle, api_version="2023-10-01", params=query)


def test_metrics_read(c):
    t = now_z(-2)
    body = doc(series=[{"dimValues": ["A", "JPEG"], "min": 1, "max": 4, "sum": 5, "count": 2},
                       {"dimValues": ["B", "PNG"], "min": 2, "max": 2, "sum": 2, "count": 1}], time=t)
    assert c.post_metrics(body).status_code == 200
    assert c.post_metrics(body).status_code == 200
    start, end = now_z(-10), now_z(2)
    resp = _read(c, timespan="%s/%s" % (start, end))
    assert resp.status_code == 200, resp.text
    value = resp.json()["value"]
    assert value[0]["name"]["value"] == "QueueDepth"
    series = value[0]["timeseries"]
    assert len(series) == 1 and series[0]["metadatavalues"] == []
    points = [p for p in series[0]["data"] if "total" in p]
    assert points == [{"timeStamp": t[:17] + "00Z", "total": 14, "count": 6, "minimum": 1, "maximum": 4}]
    split = _read(c, timespan="%s/%s" % (start, end), **{"$filter": "QueueName eq '*'"}).json()["value"][0]["timeseries"]
    assert sorted(s["metadatavalues"][0]["value"] for s in split) == ["A", "B"]
    only_b = _read(c, timespan="%s/%s" % (start, end), **{"$filter": "QueueName eq 'B'"}).json()["value"][0]["timeseries"]
    assert [p["total"] for p in only_b[0]["data"] if "total" in p] == [4]
    assert _read(c, handle="publisher").status_code == 403
    assert _read(c, handle="admin").status_code == 200
    assert _read(c, metricnamespace="").status_code == 400


def test_metrics_read_delay(c):
    c.admin("POST", "/_admin/settings", {"readDelaySeconds": 60})
    assert c.post_metrics(doc()).status_code == 200
    series = _read(c).json()["value"][0]["timeseries"]
    assert series == []
    c.admin("POST", "/_admin/settings", {"readDelaySeconds": 0})
    time.sleep(0.01)
    assert len(_read(c).json()["value"][0]["timeseries"]) == 1
