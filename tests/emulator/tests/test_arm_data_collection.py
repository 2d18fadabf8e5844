"""ARM reads of data collection rules and endpoints, as a client that resolves a rule's remote write URL sees them."""

RG_DEMO = "/resourceGroups/rg-demo/providers/Microsoft.Insights"
DCR_DEMO = RG_DEMO + "/dataCollectionRules/dcr-amw-demo"
DCE_DEMO = RG_DEMO + "/dataCollectionEndpoints/dce-amw-demo"
DCR_OTHER = "/resourceGroups/rg-other/providers/Microsoft.Insights/dataCollectionRules/dcr-amw-other"


def test_a_workspace_rule_names_its_endpoint(c):
    resp = c.arm("GET", c.sub + DCR_DEMO, api_version="2023-03-11")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["id"] == c.sub + DCR_DEMO
    assert body["type"] == "Microsoft.Insights/dataCollectionRules"
    assert body["properties"]["immutableId"] == "dcr-8c2d1e0f4b7a4c3d9e5f6a7b8c9d0e1f"
    assert body["properties"]["dataCollectionEndpointId"] == c.sub + DCE_DEMO
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert "endpoints" not in body["properties"] and "kind" not in body
    dce = c.arm("GET", c.sub + DCE_DEMO, api_version="2023-03-11").json()
    assert dce["properties"]["metricsIngestion"] == {"endpoint": c.info["dce"]}
    assert dce["properties"]["immutableId"] == "dce-5b0f3c2a9e7d4e1f8a6b2c4d0e9f1a37"


def test_a_direct_rule_has_its_own_endpoints(c):
    body = c.arm("GET", c.sub + DCR_OTHER, api_version="2022-06-01").json()
    assert body["kind"] == "Direct"
    assert body["properties"]["endpoints"] == {"metricsIngestion": c.info["dce"]}
    assert body["properties"]["immutableId"] == "dcr-0f1e2d3c4b5a49687766554433221100"
    assert "dataCollectionEndpointId" not in body["properties"]


def test_versions_the_provider_does_not_serve_are_refused(c):
    resp = c.arm("GET", c.sub + DCR_DEMO, api_version="2020-01-01")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_the_metrics_publisher_role_does_not_read_rules(c):
    resp = c.arm("GET", c.sub + DCR_DEMO, handle="publisher", api_version="2023-03-11")
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "AuthorizationFailed"
    assert "Microsoft.Insights/dataCollectionRules/read" in resp.json()["error"]["message"]
