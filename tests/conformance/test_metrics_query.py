"""azure-monitor-query's MetricsQueryClient against the emulator's ARM metrics read API.

The data goes in through the custom metrics REST API (no Microsoft Python client sends custom metrics; the post is
plain HTTPS with an azure-identity token, as in https://learn.microsoft.com/azure/azure-monitor/essentials/metrics-store-custom-rest-api),
then is read back with MetricsQueryClient as Azure documents the read API
(https://learn.microsoft.com/rest/api/monitor/metrics/list, .../metric-namespaces/list, .../metric-definitions/list):
- ``timespan`` as a duration alone (the client sends ``PT3600.0S`` for a timedelta) or as start/end;
- per-minute bins with Total, Count, Minimum and Maximum; ``$filter`` on a dimension value, ``'*'`` to split;
- the custom namespace and its metric appear in metricNamespaces and metricDefinitions;
- reading needs Microsoft.Insights/Metrics/Read: Monitoring Metrics Publisher has only the write data actions (403).
The client derives its token audience from its endpoint, so it also asks for the custom cloud's own ARM URL.
"""

import datetime
import json
import ssl
import urllib.request

import pytest
from azure.core.exceptions import HttpResponseError
from azure.monitor.query import MetricAggregationType, MetricsQueryClient

UTC = datetime.timezone.utc


def _ingest(emu, minute, series):
    token = emu.secret_credential("publisher").get_token("https://monitoring.azure.com/.default").token
    body = {"time": minute.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": {"baseData": {"metric": "QueueDepth", "namespace": "QueueProcessing", "dimNames": ["QueueName", "MessageType"],
                                  "series": series}}}
    request = urllib.request.Request(emu.info["ingest"].replace("{region}", "eastus") + emu.vm1 + "/metrics",
                                     data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=emu.ca), timeout=15) as response:  # nosec
        assert response.status == 200


@pytest.fixture(name="minute")
def minute_fixture(emu):
    minute = (datetime.datetime.now(UTC) - datetime.timedelta(minutes=3)).replace(second=10, microsecond=0)
    _ingest(emu, minute, [{"dimValues": ["ImagesToProcess", "JPEG"], "min": 3, "max": 20, "sum": 28, "count": 3},
                          {"dimValues": ["Thumbnails", "PNG"], "min": 1, "max": 1, "sum": 2, "count": 2}])
    return minute.replace(second=0)


def _client(emu, handle="reader"):
    return MetricsQueryClient(emu.secret_credential(handle), endpoint=emu.info["arm"], connection_verify=emu.ca)


ALL = [MetricAggregationType.TOTAL, MetricAggregationType.COUNT, MetricAggregationType.MINIMUM, MetricAggregationType.MAXIMUM]


def test_duration_timespan(emu, minute):
    result = _client(emu).query_resource(emu.vm1, ["QueueDepth"], metric_namespace="QueueProcessing",
                                         timespan=datetime.timedelta(hours=1), granularity=datetime.timedelta(minutes=1),
                                         aggregations=ALL)
    points = [p for ts in result.metrics[0].timeseries for p in ts.data if p.count is not None]
    assert [(p.timestamp, p.total, p.count, p.minimum, p.maximum) for p in points] == [(minute, 30, 5, 1, 20)]


def test_start_end_and_dimension_filter(emu, minute):
    client = _client(emu)
    window = (minute - datetime.timedelta(minutes=10), minute + datetime.timedelta(minutes=5))
    only = client.query_resource(emu.vm1, ["QueueDepth"], metric_namespace="QueueProcessing", timespan=window,
                                 granularity=datetime.timedelta(minutes=1), aggregations=ALL,
                                 filter="QueueName eq 'Thumbnails'")
    points = [p for ts in only.metrics[0].timeseries for p in ts.data if p.count is not None]
    assert [(p.total, p.count) for p in points] == [(2, 2)]
    split = client.query_resource(emu.vm1, ["QueueDepth"], metric_namespace="QueueProcessing", timespan=window,
                                  granularity=datetime.timedelta(minutes=1), aggregations=ALL, filter="QueueName eq '*'")
    totals = {next(v for k, v in ts.metadata_values.items() if k.lower() == "queuename"): sum(p.total or 0 for p in ts.data)
              for ts in split.metrics[0].timeseries}
    assert totals == {"ImagesToProcess": 28, "Thumbnails": 2}


@pytest.mark.usefixtures("minute")
def test_namespaces_and_definitions(emu):
    client = _client(emu)
    assert "QueueProcessing" in [n.fully_qualified_namespace for n in client.list_metric_namespaces(emu.vm1)]
    definitions = list(client.list_metric_definitions(emu.vm1, namespace="QueueProcessing"))
    assert [d.name for d in definitions] == ["QueueDepth"]
    assert sorted(definitions[0].dimensions) == ["MessageType", "QueueName"]


@pytest.mark.usefixtures("minute")
def test_publisher_cannot_read(emu):
    with pytest.raises(HttpResponseError) as caught:
        _client(emu, "publisher").query_resource(emu.vm1, ["QueueDepth"], metric_namespace="QueueProcessing",
                                                 timespan=datetime.timedelta(hours=1))
    assert caught.value.status_code == 403
