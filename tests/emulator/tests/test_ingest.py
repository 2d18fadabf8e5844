"""Ingestion rules: one refused and one accepted request per rule, and aggregation arithmetic."""

import datetime
import gzip
import json

import pytest
import requests

from conftest import doc, now_z


def _error(resp):
    return resp.json()["error"]


def test_accepts_valid_post_and_aggregates_double_send(c):
    body = doc()
    first = c.post_metrics(body)
    assert first.status_code == 200, first.text
    assert first.json() == {"approximateCount": 1}
    assert first.headers["x-ms-request-id"]
    assert c.post_metrics(body).status_code == 200
    rows = c.metrics()
    assert len(rows) == 1
    row = rows[0]
    assert (row["sum"], row["count"], row["min"], row["max"], row["posts"]) == (56, 6, 3, 20, 2)
    assert row["dimensions"] == {"QueueName": "ImagesToProcess", "MessageType": "JPEG"}


def test_min_max_combine_and_minutes_separate(c):
    t = now_z(-2)
    a = doc(series=[{"dimValues": ["q", "x"], "min": 5, "max": 9, "sum": 14, "count": 2}], time=t)
    b = doc(series=[{"dimValues": ["q", "x"], "min": 1, "max": 7, "sum": 8, "count": 2}], time=t)
    other_minute = doc(series=[{"dimValues": ["q", "x"], "min": 1, "max": 1, "sum": 1, "count": 1}], time=now_z(-5))
    for body in (a, b, other_minute):
        assert c.post_metrics(body).status_code == 200
    rows = sorted(c.metrics(), key=lambda r: r["minute"])
    assert [(r["sum"], r["count"], r["min"], r["max"]) for r in rows] == [(1, 1, 1, 1), (22, 4, 1, 9)]


def test_ndjson_and_gzip(c):
    lines = "\n".join(json.dumps(doc(metric="M%d" % i)) for i in range(3)) + "\n"
    resp = c.post_metrics(None, raw=gzip.compress(lines.encode()),
                          headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
    assert resp.status_code == 200, resp.text
    assert {r["metric"] for r in c.metrics()} == {"M0", "M1", "M2"}
    multi_as_json = c.post_metrics(None, raw=lines.encode())
    assert multi_as_json.status_code == 400 and _error(multi_as_json)["code"] == "BadRequest"


def test_bad_gzip_and_encoding(c):
    resp = c.post_metrics(None, raw=b"not gzip", headers={"Content-Encoding": "gzip"})
    assert resp.status_code == 400
    resp = c.post_metrics(doc(), headers={"Content-Encoding": "br"})
    assert resp.status_code == 415


def test_content_type_required(c):
    resp = c.post_metrics(doc(), headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415 and _error(resp)["code"] == "UnsupportedMediaType"


@pytest.mark.parametrize("mutate, fragment", [
    (lambda d: d.pop("time"), "'time' is missing"),
    (lambda d: d["data"]["baseData"].pop("metric"), "baseData.metric' is missing"),
    (lambda d: d["data"]["baseData"].pop("namespace"), "baseData.namespace' is missing"),
    (lambda d: d["data"]["baseData"].pop("series"), "baseData.series' is missing"),
    (lambda d: d["data"]["baseData"]["series"][0].pop("min"), "'min' is missing"),
    (lambda d: d["data"]["baseData"]["series"][0].pop("max"), "'max' is missing"),
    (lambda d: d["data"]["baseData"]["series"][0].pop("sum"), "'sum' is missing"),
    (lambda d: d["data"]["baseData"]["series"][0].pop("count"), "'count' is missing"),
    (lambda d: d["data"]["baseData"]["series"][0].update(count=2.5), "'count' must be an integer"),
    (lambda d: d["data"]["baseData"]["series"][0].update(count=0), "'count' must be between 1"),
    (lambda d: d["data"]["baseData"]["series"][0].update(count=2 ** 31), "'count' must be between 1"),
    (lambda d: d["data"]["baseData"]["series"][0].update(sum="28"), "'sum' must be a finite number"),
    (lambda d: d["data"]["baseData"]["series"][0].update(min=True), "'min' must be a finite number"),
    (lambda d: d["data"]["baseData"]["series"][0].update(min=30), "'min' (30) is greater than 'max'"),
    (lambda d: d["data"]["baseData"]["series"][0].update(dimValues=["only-one"]), "does not match the number of dimNames"),
    (lambda d: d["data"]["baseData"]["series"][0].update(dimValues=["", "JPEG"]), "empty dimension values"),
    (lambda d: d["data"]["baseData"]["series"][0].update(dimValues=["x" * 257, "JPEG"]), "the maximum is 256"),
    (lambda d: d["data"]["baseData"].update(metric="m" * 257), "the maximum is 256"),
    (lambda d: d["data"]["baseData"].update(metric=""), "must not be empty"),
    (lambda d: d["data"]["baseData"].update(namespace="n" * 257), "the maximum is 256"),
    (lambda d: d["data"]["baseData"].update(dimNames=["d" * 257, "MessageType"]), "the maximum is 256"),
    (lambda d: d["data"]["baseData"].update(dimNames=["A", "a"]), "duplicate"),
    (lambda d: d["data"]["baseData"].update(namespace="Microsoft.Compute"), "reserved"),
    (lambda d: d["data"]["baseData"].update(namespace="MdmQos"), "reserved"),
    (lambda d: d["data"]["baseData"].update(series=[]), "non-empty array"),
    (lambda d: d.update(time="yesterday"), "not a valid ISO 8601"),
    (lambda d: d.update(time=now_z(-21)), "not older than 20 minutes"),
    (lambda d: d.update(time=now_z(4.5)), "not more than 4 minutes in the future"),
    (lambda d: d.pop("data"), "data.baseData"),
])
def test_validation_rule_refused(c, mutate, fragment):
    body = doc()
    mutate(body)
    resp = c.post_metrics(body)
    assert resp.status_code == 400, resp.text
    assert _error(resp)["code"] == "BadRequest"
    assert fragment in _error(resp)["message"]
    assert c.metrics() == []


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(time=now_z(-19)),
    lambda d: d.update(time=now_z(3)),
    lambda d: d["data"]["baseData"].update(metric="m" * 256, namespace="n" * 256),
    lambda d: d["data"]["baseData"]["series"][0].update(dimValues=["x" * 256, "JPEG"]),
    lambda d: d["data"]["baseData"]["series"][0].update(min=-5.5, max=-1, sum=-6.5, count=2),
    lambda d: (d["data"]["baseData"].pop("dimNames"), d["data"]["baseData"]["series"][0].pop("dimValues")),
    lambda d: d.update(time=now_z(-1).replace("Z", ".1234567Z")),
    lambda d: d["data"]["baseData"].update(namespace="Custom.Microsoft"),
])
def test_validation_boundary_accepted(c, mutate):
    body = doc()
    mutate(body)
    resp = c.post_metrics(body)
    assert resp.status_code == 200, resp.text


def test_nan_and_infinity_rejected(c):
    text = json.dumps(doc()).replace('"sum": 28', '"sum": NaN')
    resp = c.post_metrics(None, raw=text.encode())
    assert resp.status_code == 400


def test_dimension_limit_10_ok_11_refused(c):
    names = ["D%d" % i for i in range(10)]
    ok = doc(dim_names=names, series=[{"dimValues": ["v"] * 10, "min": 1, "max": 1, "sum": 1, "count": 1}])
    assert c.post_metrics(ok).status_code == 200
    bad = doc(dim_names=names + ["D10"], series=[{"dimValues": ["v"] * 11, "min": 1, "max": 1, "sum": 1, "count": 1}])
    resp = c.post_metrics(bad)
    assert resp.status_code == 400 and "11 dimensions" in _error(resp)["message"]


def test_size_limit_413(c):
    series = [{"dimValues": ["q%06d" % i, "JPEG"], "min": 1, "max": 1, "sum": 1, "count": 1} for i in range(20000)]
    big = json.dumps(doc(series=series)).encode()
    assert len(big) > 1048576
    resp = c.post_metrics(None, raw=big)
    assert resp.status_code == 413
    compressed = c.post_metrics(None, raw=gzip.compress(big), headers={"Content-Encoding": "gzip"})
    assert compressed.status_code == 413
    small = json.dumps(doc(series=series[:8000])).encode()
    assert len(small) < 1048576
    assert c.post_metrics(None, raw=small).status_code == 200


def test_content_length_required(c):
    def chunks():
        yield json.dumps(doc()).encode()
    resp = requests.post(c.ingest_url(c.vm1), data=chunks(), verify=c.ca, timeout=10,
                         headers={"Content-Type": "application/json", "Authorization": "Bearer " + c.token("publisher")})
    assert resp.status_code == 411
    assert c.metrics() == []


def test_region_mismatch_and_routing(c):
    resp = c.post_metrics(doc(), region="westus")
    assert resp.status_code == 400 and _error(resp)["code"] == "RegionMismatch"
    assert c.post_metrics(doc(), resource_id=c.storage, region="westeurope").status_code == 200
    double = c.session.post(c.info["ingest"].replace("{region}", "eastus") + "/" + c.vm1 + "/metrics", data=json.dumps(doc()),
                            headers={"Content-Type": "application/json", "Authorization": "Bearer " + c.token("publisher")})
    assert double.status_code == 404


def test_only_resources_and_existing_ones(c):
    resp = c.post_metrics(doc(), resource_id=c.sub + "/resourceGroups/rg-demo")
    assert resp.status_code == 400
    resp = c.post_metrics(doc(), resource_id=c.sub)
    assert resp.status_code == 400
    resp = c.post_metrics(doc(), resource_id=c.vm1 + "x")
    assert resp.status_code == 404 and _error(resp)["code"] == "ResourceNotFound"


def test_audience_and_token_checks(c):
    arm_token = c.token("publisher", "https://management.azure.com/.default")
    resp = c.post_metrics(doc(), token=arm_token)
    assert resp.status_code == 401 and _error(resp)["code"] == "InvalidAudience"
    monitor = c.token("publisher", "https://monitor.azure.com/.default")
    assert c.post_metrics(doc(), token=monitor).status_code == 401
    expired = c.mint("publisher", "https://monitoring.azure.com/", lifetime=-60)
    resp = c.post_metrics(doc(), token=expired)
    assert resp.status_code == 401 and _error(resp)["code"] == "TokenExpired"
    resp = c.post_metrics(doc(), token=c.token("publisher")[:-4] + "AAAA")
    assert resp.status_code == 401 and _error(resp)["code"] == "InvalidToken"
    resp = c.session.post(c.ingest_url(c.vm1), data=json.dumps(doc()), headers={"Content-Type": "application/json"})
    assert resp.status_code == 401
    assert c.metrics() == []


def test_rbac(c):
    for handle in ("admin", "nobody", "reader"):
        resp = c.post_metrics(doc(), handle=handle)
        assert resp.status_code == 403, handle
        assert _error(resp)["code"] == "AuthorizationFailed"
        assert "Microsoft.Insights/Metrics/Write" in _error(resp)["message"]
    # publisher holds the role on rg-demo only
    assert c.post_metrics(doc(), resource_id=c.vm_other, region="westus2").status_code == 403
    assert c.post_metrics(doc(), handle="publisher").status_code == 200


def test_role_propagation_delay(c):
    c.admin("POST", "/_admin/settings", {"rolePropagationDelaySeconds": 600})
    principal = c.principal("nobody")["principalId"]
    put = c.arm("PUT", c.vm1 + "/providers/Microsoft.Authorization/roleAssignments/11111111-2222-4333-8444-555555555555",
                json={"properties": {"principalId": principal, "principalType": "ServicePrincipal",
                                     "roleDefinitionId": c.sub + "/providers/Microsoft.Authorization/roleDefinitions/"
                                     "3913510d-42f4-4e42-8a64-420c390055eb"}})
    assert put.status_code == 201, put.text
    assert c.post_metrics(doc(), handle="nobody").status_code == 403
    c.admin("POST", "/_admin/settings", {"rolePropagationDelaySeconds": 0})
    assert c.post_metrics(doc(), handle="nobody").status_code == 200


def test_metric_names_64k_limit(c):
    for index in range(3):
        names = [("m%03d-%d" % (i, index)) + "x" * 240 for i in range(90)]
        lines = "\n".join(json.dumps(doc(metric=n)) for n in names)
        resp = c.post_metrics(None, raw=lines.encode(), headers={"Content-Type": "application/x-ndjson"})
        if index < 2:
            assert resp.status_code == 200, resp.text
        else:
            assert resp.status_code == 400 and "65536" in _error(resp)["message"]


def test_active_series_limit(c):
    c.admin("POST", "/_admin/settings", {"maxActiveSeries": 2})
    series = [{"dimValues": ["q%d" % i, "x"], "min": 1, "max": 1, "sum": 1, "count": 1} for i in range(3)]
    assert c.post_metrics(doc(series=series[:2])).status_code == 200
    resp = c.post_metrics(doc(series=series[2:]))
    assert resp.status_code == 429 and _error(resp)["code"] == "TooManyTimeSeries"
    assert c.post_metrics(doc(series=series[:1])).status_code == 200


def test_time_without_zone_is_utc_and_offsets_convert(c):
    """The how-to's own document carries "time": "2023-01-03T11:00:20" (no zone); Azure takes it as UTC."""
    naive = now_z(-2)[:-1]
    assert c.post_metrics(doc(time=naive)).status_code == 200
    local = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=3)).astimezone(
        datetime.timezone(datetime.timedelta(hours=-7)))
    assert c.post_metrics(doc(metric="Offset", time=local.strftime("%Y-%m-%dT%H:%M:%S-07:00"))).status_code == 200
    minutes = {row["metric"]: row["minute"] for row in c.metrics()}
    assert minutes["QueueDepth"] == naive[:16] + ":00Z"
    assert minutes["Offset"] == local.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:00Z")
    assert c.post_metrics(doc(time=now_z(-25)[:-1])).status_code == 400
