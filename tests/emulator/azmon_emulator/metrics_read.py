"""ARM metrics read API: ``GET {resourceId}/providers/Microsoft.Insights/metrics`` (routed here from arm.py)."""

import datetime
import re
import time

from . import timeutil

METRICS_SUFFIX = "/providers/microsoft.insights/metrics"
INTERVALS = {"PT1M": 60, "PT5M": 300, "PT15M": 900, "PT30M": 1800, "PT1H": 3600, "PT6H": 21600, "PT12H": 43200, "P1D": 86400}
API_VERSIONS = ("2018-01-01", "2019-07-01", "2021-05-01", "2023-10-01", "2024-02-01")
AGGREGATIONS = {"average": "average", "count": "count", "minimum": "minimum", "maximum": "maximum", "total": "total"}


class ReadError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def is_read_path(lower_path):
    return lower_path.endswith(METRICS_SUFFIX)


def handle(service, req, claims, path):
    """Answer one read request; ``service`` is the ArmService (auth, scopes, api-version, error shape)."""
    try:
        if req.method != "GET":
            raise ReadError(405, "MethodNotAllowed", "The requested method '%s' is not allowed." % req.method)
        version = service._api_version(req, None)  # pylint: disable=protected-access
        if version not in API_VERSIONS:
            raise ReadError(400, "InvalidApiVersionParameter", "The api-version '%s' is invalid. The supported versions are '%s'."
                            % (version, ",".join(API_VERSIONS)))
        return _metrics(service, req, claims, path[:-len(METRICS_SUFFIX)])
    except ReadError as exc:
        return service.error(exc.status, exc.code, exc.message)


def _metrics(service, req, claims, resource_id):
    state = service.state
    action = "Microsoft.Insights/Metrics/Read"
    with state.lock:
        info = service._resolve(resource_id, claims, action)  # pylint: disable=protected-access
        if info["kind"] != "resource":
            raise ReadError(400, "BadRequest", "Metrics can only be read for a resource, not for '%s'." % resource_id)
        service._require(claims, info["id"], action)  # pylint: disable=protected-access
    res = info["resource"]
    namespace = req.query_ci("metricnamespace")
    names = [n.strip() for n in (req.query_ci("metricnames") or "").split(",") if n.strip()]
    if not namespace or not names:
        raise ReadError(400, "BadRequest", "Failed to find metric configuration for provider: %s, resource Type: %s, metric: %s. "
                       "Custom metrics need both 'metricnamespace' and 'metricnames'."
                       % (res["type"].split("/")[0].lower(), res["type"].split("/")[1].lower(), ",".join(names) or "(none)"))
    start, end = _timespan(req.query_ci("timespan"))
    interval_text = (req.query_ci("interval") or "PT1M").upper()
    if interval_text not in INTERVALS:
        raise ReadError(400, "BadRequest", "Invalid interval '%s'; supported: %s." % (interval_text, ", ".join(INTERVALS)))
    step = INTERVALS[interval_text]
    aggregations = []
    for item in (req.query_ci("aggregation") or "Average").split(","):
        if item.strip().lower() not in AGGREGATIONS:
            raise ReadError(400, "BadRequest", "Invalid aggregation '%s'; supported: Average, Count, Minimum, Maximum, Total." % item)
        aggregations.append(AGGREGATIONS[item.strip().lower()])
    filters, split = _filter(req.query_ci("$filter"))
    try:
        top = int(req.query_ci("top") or 10)
    except ValueError as exc:
        raise ReadError(400, "BadRequest", "Invalid top.") from exc
    delay = float(state.settings.get("readDelaySeconds") or 0)
    now = time.time()
    start_s, end_s = int(start.timestamp()) // step * step, int(end.timestamp())  # Azure aligns the start to the interval
    with state.lock:
        entries = [dict(e) for e in state.metrics.values()
                   if e["resourceId"].lower() == res["id"].lower() and e["namespace"].lower() == namespace.lower()
                   and start_s <= e["minute"] < end_s and now - e["firstIngested"] >= delay]
    value = []
    for name in names:
        series = {}
        for entry in entries:
            if entry["metric"].lower() != name.lower():
                continue
            dims = {k.lower(): (k, v) for k, v in entry["dimensions"].items()}
            if any(dims.get(d, (None, None))[1] not in allowed for d, allowed in filters.items()):
                continue
            key = tuple((dims[d][0] if d in dims else d, dims.get(d, (None, ""))[1]) for d in split)
            bucket = start_s + (entry["minute"] - start_s) // step * step
            bins = series.setdefault(key, {})
            acc = bins.get(bucket)
            if acc is None:
                bins[bucket] = {"total": entry["sum"], "count": entry["count"], "minimum": entry["min"], "maximum": entry["max"]}
            else:
                acc["total"] += entry["sum"]
                acc["count"] += entry["count"]
                acc["minimum"] = min(acc["minimum"], entry["min"])
                acc["maximum"] = max(acc["maximum"], entry["max"])
        timeseries = []
        for key in sorted(series)[:top]:
            data = []
            for bucket in range(start_s, end_s, step):
                point = {"timeStamp": timeutil.iso_z(datetime.datetime.fromtimestamp(bucket, datetime.timezone.utc))}
                acc = series[key].get(bucket)
                if acc:
                    for agg in aggregations:
                        point[agg] = acc["total"] / acc["count"] if agg == "average" else acc[agg]
                data.append(point)
            timeseries.append({"metadatavalues": [{"name": {"value": dim, "localizedValue": dim}, "value": val} for dim, val in key],
                               "data": data})
        value.append({"id": "%s/providers/Microsoft.Insights/metrics/%s" % (res["id"], name), "type": "Microsoft.Insights/metrics",
                      "name": {"value": name, "localizedValue": name}, "displayDescription": "", "unit": "Unspecified",
                      "timeseries": timeseries, "errorCode": "Success"})
    body = {"cost": 0, "timespan": "%s/%s" % (timeutil.iso_z(start), timeutil.iso_z(end)), "interval": interval_text,
            "value": value, "namespace": namespace, "resourceregion": res["location"]}
    return service._respond(200, body)  # pylint: disable=protected-access


def _timespan(text):
    if not text:
        end = timeutil.utcnow().replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        return end - datetime.timedelta(hours=1), end
    try:
        first, _sep, second = text.partition("/")
        start = timeutil.parse_iso(first, datetime.timezone.utc)
        if second.upper().startswith("P"):
            end = start + timeutil.parse_duration(second.upper())
        else:
            end = timeutil.parse_iso(second, datetime.timezone.utc)
    except ValueError as exc:
        raise ReadError(400, "BadRequest", "Invalid timespan '%s': %s" % (text, exc)) from exc
    if end <= start:
        raise ReadError(400, "BadRequest", "Invalid timespan '%s': the end is not after the start." % text)
    return start, end


def _filter(text):
    """``Dim eq 'a' and Other eq '*'`` -> ({dim: {allowed values}}, [split dims])."""
    filters, split = {}, []
    if not text:
        return filters, split
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.I):
        names, values = set(), set()
        for alt in re.split(r"\s+or\s+", clause.strip().strip("()"), flags=re.I):
            match = re.match(r"^\s*([^\s]+)\s+eq\s+'((?:[^']|'')*)'\s*$", alt)
            if not match:
                raise ReadError(400, "BadRequest", "The $filter '%s' is not valid." % text)
            names.add(match.group(1).lower())
            values.add(match.group(2).replace("''", "'"))
        if len(names) != 1:
            raise ReadError(400, "BadRequest", "The $filter '%s' mixes dimensions inside an 'or'." % text)
        name = names.pop()
        split.append(name)
        if "*" not in values:
            filters[name] = values
    return filters, split
