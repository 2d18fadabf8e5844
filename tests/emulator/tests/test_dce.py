"""Prometheus remote write to the DCE, and the workspace's PromQL query API."""

import time

import cramjam
import pytest

from azmon_emulator.testing import remote_write_class

SUB = "/subscriptions/1d2c3b4a-5e6f-4a8b-9c0d-e1f2a3b4c5d6"
DCR_ID = "dcr-8c2d1e0f4b7a4c3d9e5f6a7b8c9d0e1f"
DCR_OTHER = "dcr-0f1e2d3c4b5a49687766554433221100"   # in rg-other, where the publisher has no role
WRITE_SCOPE = "https://monitor.azure.com/.default"
QUERY_SCOPE = "https://prometheus.monitor.azure.com/.default"
HEADERS = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0"}


WriteRequest = remote_write_class()
MINUTE = (int(time.time()) // 60 - 2) * 60 * 1000


def body(*series):
    message = WriteRequest()
    for labels, samples in series:
        item = message.timeseries.add()
        for name, value in labels:
            item.labels.add(name=name, value=value)
        for stamp, value in samples:
            item.samples.add(timestamp=stamp, value=value)
    return bytes(cramjam.snappy.compress_raw(message.SerializeToString()))


DEPTH = [("__name__", "QueueDepth_sum"), ("azure_namespace", "QP"), ("dim_q", "a")]


def write(client, data, dcr=DCR_ID, handle="publisher", headers=None, api_version="2023-04-24", token=None):
    hdrs = dict(HEADERS, Authorization="Bearer " + (token or client.token(handle, WRITE_SCOPE)))
    hdrs.update(headers or {})
    url = "%s/dataCollectionRules/%s/streams/Microsoft-PrometheusMetrics/api/v1/write" % (client.info["dce"], dcr)
    return client.session.post(url, params={"api-version": api_version}, data=data, headers=hdrs)


def query(client, kind, handle="reader", workspace="amw-demo", **params):
    url = client.info["prometheus"].replace("{workspace}", workspace) + "/api/v1/" + kind
    return client.session.get(url, params=params, headers={"Authorization": "Bearer " + client.token(handle, QUERY_SCOPE)})


def test_write_then_query_back(client):
    resp = write(client, body((DEPTH, [(MINUTE, 3.0), (MINUTE + 60000, 4.5)])))
    assert resp.status_code == 204, resp.text
    got = query(client, "query", query='QueueDepth_sum{dim_q="a"}', time=str((MINUTE + 60000) / 1000))
    assert got.status_code == 200, got.text
    assert got.json() == {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"__name__": "QueueDepth_sum", "azure_namespace": "QP", "dim_q": "a"},
         "value": [(MINUTE + 60000) / 1000, "4.5"]}]}}
    rng = query(client, "query_range", query='{__name__="QueueDepth_sum"}', start=str(MINUTE / 1000),
                end=str((MINUTE + 60000) / 1000), step="60")
    assert rng.json()["data"]["result"][0]["values"] == [[MINUTE / 1000, "3"], [(MINUTE + 60000) / 1000, "4.5"]]


def test_a_resent_request_counts_once(client):
    data = body((DEPTH, [(MINUTE, 3.0)]))
    assert write(client, data).status_code == 204
    assert write(client, data).status_code == 204
    rng = query(client, "query_range", query="QueueDepth_sum", start=str(MINUTE / 1000 - 120),
                end=str(MINUTE / 1000 + 120), step="60")
    samples = rng.json()["data"]["result"][0]["values"]
    assert [v for _t, v in samples] == ["3", "3", "3"]    # one sample, seen through the 5-minute lookback


def test_a_different_value_for_a_stored_timestamp_is_refused_whole(client):
    assert write(client, body((DEPTH, [(MINUTE, 3.0)]))).status_code == 204
    other = [("__name__", "Other_sum"), ("azure_namespace", "QP")]
    resp = write(client, body((other, [(MINUTE, 1.0)]), (DEPTH, [(MINUTE, 9.0)])))
    assert resp.status_code == 400
    assert "duplicate sample for timestamp" in resp.json()["error"]["message"]
    assert query(client, "query", query="Other_sum", time=str(MINUTE / 1000)).json()["data"]["result"] == []


def test_out_of_order_is_refused(client):
    assert write(client, body((DEPTH, [(MINUTE + 60000, 1.0)]))).status_code == 204
    resp = write(client, body((DEPTH, [(MINUTE, 1.0)])))
    assert resp.status_code == 400
    assert "out of order" in resp.json()["error"]["message"]
    assert write(client, body((DEPTH, [(MINUTE + 60000, 2.0), (MINUTE, 1.0)]))).status_code == 400


def test_no_role_on_the_dcr_is_403(client):
    resp = write(client, body((DEPTH, [(MINUTE, 1.0)])), dcr=DCR_OTHER)
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "AuthorizationFailed"
    assert DCR_OTHER not in resp.text and "dcr-amw-other" in resp.text


def test_unknown_dcr_is_404(client):
    assert write(client, body((DEPTH, [(MINUTE, 1.0)])), dcr="dcr-" + "9" * 32).status_code == 404


def test_wrong_audience_is_401(client):
    token = client.token("publisher", "https://monitoring.azure.com/.default")
    resp = write(client, body((DEPTH, [(MINUTE, 1.0)])), token=token)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "InvalidAudience"


@pytest.mark.parametrize("headers, status", [
    ({"Content-Encoding": "gzip"}, 415),
    ({"Content-Type": "application/json"}, 415),
    ({"X-Prometheus-Remote-Write-Version": "2.0.0"}, 400),
])
def test_headers(client, headers, status):
    assert write(client, body((DEPTH, [(MINUTE, 1.0)])), headers=headers).status_code == status


def test_api_version_is_required(client):
    assert write(client, body((DEPTH, [(MINUTE, 1.0)])), api_version="2021-11-01-preview").status_code == 400


@pytest.mark.parametrize("labels", [
    [("__name__", "bad.name")],
    [("__name__", "ok"), ("bad-label", "x")],
    [("b", "x"), ("__name__", "ok")],          # not sorted
    [("__name__", "ok"), ("a", "")],           # empty value
])
def test_names_are_checked(client, labels):
    resp = write(client, body((labels, [(MINUTE, 1.0)])))
    assert resp.status_code == 400, resp.text


def test_not_snappy_or_not_protobuf_is_400(client):
    assert write(client, b"plain bytes").status_code == 400
    assert write(client, bytes(cramjam.snappy.compress_raw(b"\xff\xff\xff"))).status_code == 400


def test_a_label_that_is_not_utf8_is_400(client):
    # WriteRequest{timeseries: [TimeSeries{labels: [Label{name: b"\xff"}], samples: [Sample{value: 1.0, timestamp: 1}]}]}
    label = b"\x0a\x01\xff"
    sample = b"\x09" + b"\x00" * 6 + b"\xf0\x3f" + b"\x10\x01"
    series = b"\x0a" + bytes([len(label)]) + label + b"\x12" + bytes([len(sample)]) + sample
    resp = write(client, bytes(cramjam.snappy.compress_raw(b"\x0a" + bytes([len(series)]) + series)))
    assert resp.status_code == 400, resp.text
    assert "timeseries[0]" in resp.json()["error"]["message"]


def test_series_sharing_labels_and_samples_are_each_stored(client):
    # the decoder reads each distinct label and sample once per request; every series must still get its own
    names = ["Shared_%s" % agg for agg in ("min", "max", "sum", "count")]
    series = [([("__name__", name), ("azure_namespace", "QP"), ("dim_q", "s%d" % i)], [(MINUTE, 2.0)])
              for i in range(3) for name in names]
    assert write(client, body(*series)).status_code == 204
    got = query(client, "query", query='Shared_count{azure_namespace="QP"}', time=str(MINUTE / 1000))
    assert sorted((r["metric"]["dim_q"], r["value"][1]) for r in got.json()["data"]["result"]) == [
        ("s0", "2"), ("s1", "2"), ("s2", "2")]


def test_query_needs_the_reader_role_and_its_audience(client):
    assert query(client, "query", handle="publisher", query="x").status_code == 403
    url = client.info["prometheus"].replace("{workspace}", "amw-demo") + "/api/v1/query"
    token = client.token("reader", WRITE_SCOPE)
    assert client.session.get(url, params={"query": "x"}, headers={"Authorization": "Bearer " + token}).status_code == 401


@pytest.mark.parametrize("promql", ["rate(x[5m])", 'x{a=~"b"}', "sum(x)"])
def test_query_serves_plain_selectors_only(client, promql):
    resp = query(client, "query", query=promql)
    assert resp.status_code == 400
    assert resp.json()["status"] == "error"
