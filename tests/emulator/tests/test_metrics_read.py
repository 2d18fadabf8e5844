"""Metrics read API: timespans (start/end, durations), intervals, aggregations, $filter, top/orderby, namespaces,
definitions, read permission, unserved paths, read delay."""

import time

from conftest import doc, now_z

VALUES = "/providers/Microsoft.Insights/metrics"


def _read(c, handle="reader", path=VALUES, api_version="2023-10-01", **params):
    query = {"metricnamespace": "QueueProcessing", "metricnames": "QueueDepth", "aggregation": "Total,Count,Minimum,Maximum,Average"}
    query.update(params)
    return c.arm("GET", c.vm1 + path, handle=handle, api_version=api_version, params=query)


def _post(c, series, metric="QueueDepth", dim_names=("QueueName", "MessageType")):
    stamp = now_z(-2)
    resp = c.post_metrics(doc(metric=metric, dim_names=dim_names, series=series, time=stamp))
    assert resp.status_code == 200, resp.text
    return stamp


def _series(resp):
    assert resp.status_code == 200, resp.text
    return resp.json()["value"][0]["timeseries"]


def _points(series):
    return [p for p in series["data"] if len(p) > 1]


def test_durations_and_timespans(c):
    _post(c, [{"dimValues": ["A", "JPEG"], "min": 1, "max": 4, "sum": 5, "count": 2}])
    for span in ("PT1H", "PT3600.0S", "%s/PT30M" % now_z(-20), "PT30M/%s" % now_z(5), "%s/%s" % (now_z(-20), now_z(5))):
        series = _series(_read(c, timespan=span))
        assert len(series) == 1, span
        assert _points(series[0])[0]["total"] == 5, span
    old = "%s/%s" % (now_z(-120), now_z(-60))
    assert _series(_read(c, timespan=old)) == []
    assert _read(c, timespan="yesterday").status_code == 400
    assert _read(c, timespan="%s/%s" % (now_z(5), now_z(-5))).status_code == 400


def test_aggregations_intervals(c):
    stamp = _post(c, [{"dimValues": ["A", "JPEG"], "min": 1, "max": 4, "sum": 5, "count": 2},
                      {"dimValues": ["B", "PNG"], "min": 0.5, "max": 9, "sum": 11, "count": 3}])
    points = _points(_series(_read(c, timespan="PT1H"))[0])
    assert points == [{"timeStamp": stamp[:17] + "00Z", "total": 16, "count": 5, "minimum": 0.5, "maximum": 9, "average": 3.2}]
    full = _read(c, timespan="PT1H", interval="FULL")
    assert full.json()["interval"] == "FULL"
    assert [p["total"] for p in _series(full)[0]["data"]] == [16]
    hourly = _read(c, timespan="PT3H", interval="PT60M", aggregation="count")
    assert hourly.json()["interval"] == "PT1H"
    assert [p["count"] for p in _points(_series(hourly)[0])] == [5]
    assert _read(c, interval="PT2M").status_code == 400
    assert _read(c, aggregation="Total,Median").status_code == 400


def test_filter_escaping_or_and_split(c):
    _post(c, [{"dimValues": ["it's", "salt and pepper"], "min": 1, "max": 1, "sum": 1, "count": 1},
              {"dimValues": ["B", "PNG"], "min": 2, "max": 2, "sum": 2, "count": 1},
              {"dimValues": ["C", "PNG"], "min": 4, "max": 4, "sum": 4, "count": 1}])
    quoted = _series(_read(c, timespan="PT1H", **{"$filter": "QueueName eq 'it''s' and MessageType eq 'salt and pepper'"}))
    assert [(s["metadatavalues"], _points(s)[0]["total"]) for s in quoted] == [
        ([{"name": {"value": "queuename", "localizedValue": "queuename"}, "value": "it's"},
          {"name": {"value": "messagetype", "localizedValue": "messagetype"}, "value": "salt and pepper"}], 1)]
    either = _series(_read(c, timespan="PT1H", **{"$filter": "(QueueName eq 'B' or queuename eq 'C')"}))
    assert sorted(_points(s)[0]["total"] for s in either) == [2, 4]
    unparenthesised = _series(_read(c, timespan="PT1H", **{"$filter": "MessageType eq 'PNG' and QueueName eq 'B' or QueueName eq 'C'"}))
    assert sorted(_points(s)[0]["total"] for s in unparenthesised) == [2, 4]
    by_type = _series(_read(c, timespan="PT1H", **{"$filter": "MessageType eq '*'"}))
    assert sorted((s["metadatavalues"][0]["value"], _points(s)[0]["total"]) for s in by_type) == [("PNG", 6), ("salt and pepper", 1)]
    assert _read(c, **{"$filter": "QueueName eq 'B' or MessageType eq 'PNG'"}).status_code == 400
    assert _read(c, **{"$filter": "QueueName eq 'it's'"}).status_code == 400
    assert _read(c, **{"$filter": "QueueName ne 'B'"}).status_code == 400


def test_top_and_orderby(c):
    _post(c, [{"dimValues": [name, "PNG"], "min": 1, "max": 1, "sum": total, "count": 1}
              for name, total in (("A", 3), ("B", 7), ("C", 5))])
    first_two = _series(_read(c, timespan="PT1H", top="2", orderby="Total desc", **{"$filter": "QueueName eq '*'"}))
    assert [s["metadatavalues"][0]["value"] for s in first_two] == ["B", "C"]
    lowest = _series(_read(c, timespan="PT1H", top="1", orderby="sum asc", **{"$filter": "QueueName eq '*'"}))
    assert [s["metadatavalues"][0]["value"] for s in lowest] == ["A"]
    assert _read(c, top="0", **{"$filter": "QueueName eq '*'"}).status_code == 400
    assert _read(c, orderby="total sideways").status_code == 400


def test_namespaces_and_definitions(c):
    _post(c, [{"dimValues": ["A", "PNG"], "min": 1, "max": 1, "sum": 1, "count": 1}])
    _post(c, [{"dimValues": ["A"], "min": 1, "max": 1, "sum": 1, "count": 1}], metric="Latency", dim_names=("Queue",))
    spaces = c.arm("GET", c.vm1 + "/providers/Microsoft.Insights/metricNamespaces", handle="reader", api_version="2023-10-01")
    assert spaces.status_code == 200, spaces.text
    assert [(v["classification"], v["properties"]["metricNamespaceName"]) for v in spaces.json()["value"]] == [
        ("Platform", "microsoft.compute/virtualmachines"), ("Custom", "QueueProcessing")]
    defs = c.arm("GET", c.vm1 + "/providers/microsoft.insights/metricDefinitions", handle="reader", api_version="2023-10-01",
                 params={"metricnamespace": "QueueProcessing"})
    assert defs.status_code == 200, defs.text
    assert [(d["name"]["value"], [x["value"] for x in d["dimensions"]]) for d in defs.json()["value"]] == [
        ("Latency", ["Queue"]), ("QueueDepth", ["MessageType", "QueueName"])]
    assert defs.json()["value"][0]["metricAvailabilities"][0] == {"timeGrain": "PT1M", "retention": "P93D"}
    assert c.arm("GET", c.vm1 + "/providers/Microsoft.Insights/metricDefinitions", handle="reader",
                 api_version="2023-10-01").json() == {"value": []}
    assert c.arm("GET", c.vm1 + "/providers/Microsoft.Insights/metricNamespaces", handle="publisher",
                 api_version="2023-10-01").status_code == 403


def test_permissions_versions_and_unserved_paths(c):
    assert _read(c, handle="publisher").status_code == 403
    assert _read(c, handle="nobody").status_code == 403
    assert _read(c, handle="reader").status_code == 200
    assert _read(c, api_version="2017-12-01-preview").status_code == 400
    assert _read(c, metricnamespace="").status_code == 400
    assert _read(c, metricnames="").status_code == 400
    resp = _read(c, path="/providers/Microsoft.Insights/metricBaselines")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "NotFound"
    assert c.arm("GET", c.sub + "/resourceGroups/rg-demo" + VALUES, handle="reader", api_version="2023-10-01",
                 params={"metricnamespace": "QueueProcessing", "metricnames": "QueueDepth"}).status_code == 400


def test_read_delay(c):
    c.admin("POST", "/_admin/settings", {"readDelaySeconds": 1.5})
    _post(c, [{"dimValues": ["A", "PNG"], "min": 1, "max": 1, "sum": 1, "count": 1}])
    assert _series(_read(c, timespan="PT1H")) == []
    assert c.arm("GET", c.vm1 + "/providers/Microsoft.Insights/metricNamespaces", handle="reader",
                 api_version="2023-10-01").json()["value"][1:] == []
    time.sleep(1.6)
    assert len(_series(_read(c, timespan="PT1H"))) == 1
