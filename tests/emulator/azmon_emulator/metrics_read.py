"""ARM metrics read API, routed here from arm.py for any ``{resourceId}/providers/Microsoft.Insights/...`` path.

Served: ``metrics`` (values), ``metricNamespaces`` and ``metricDefinitions``; other Microsoft.Insights paths 404.
Values come from what the ingestion service aggregated; a series-minute becomes readable ``readDelaySeconds``
after it was first ingested (Azure: new series within about 3 minutes).
"""

import datetime
import re
import time

from . import timeutil
from .web import HttpError, bad_request

PROVIDER = "/providers/microsoft.insights/"
API_VERSIONS = {
    "metrics": ("2018-01-01", "2019-07-01", "2021-05-01", "2023-10-01", "2024-02-01"),
    "metricnamespaces": ("2017-12-01-preview", "2023-10-01", "2024-02-01"),
    "metricdefinitions": ("2018-01-01", "2021-05-01", "2023-10-01", "2024-02-01"),
}
ACTIONS = {
    "metrics": "Microsoft.Insights/Metrics/Read",
    "metricnamespaces": "Microsoft.Insights/MetricNamespaces/Read",
    "metricdefinitions": "Microsoft.Insights/MetricDefinitions/Read",
}
INTERVALS = {"PT1M": 60, "PT5M": 300, "PT15M": 900, "PT30M": 1800, "PT1H": 3600, "PT6H": 21600, "PT12H": 43200, "P1D": 86400}
AGGREGATIONS = ("average", "count", "minimum", "maximum", "total")
ORDER_ALIASES = {"sum": "total", "avg": "average", "min": "minimum", "max": "maximum"}
RETENTION = "P93D"


def is_read_path(lower_path):
    """A metrics read of a resource (``{resource}/providers/microsoft.insights/{kind}``), not a Microsoft.Insights
    resource itself (``.../providers/microsoft.insights/datacollectionrules/{name}``)."""
    index = lower_path.rfind(PROVIDER)
    return index >= 0 and "/" not in lower_path[index + len(PROVIDER):]


def handle(service, req, claims, path):
    """Answer one read request; ``service`` is the ArmService (auth, scopes, api-version, error shape)."""
    try:
        index = path.lower().rfind(PROVIDER)
        resource_id, kind = path[:index], path[index + len(PROVIDER):].lower()
        if kind not in API_VERSIONS:
            raise HttpError(404, "NotFound", "The requested path '%s' is not served by this emulator." % req.path)
        if req.method != "GET":
            raise HttpError(405, "MethodNotAllowed", "The requested method '%s' is not allowed." % req.method)
        version = service._api_version(req, None)  # pylint: disable=protected-access
        if version not in API_VERSIONS[kind]:
            raise HttpError(400, "InvalidApiVersionParameter", "The api-version '%s' is invalid. The supported versions are '%s'."
                            % (version, ",".join(API_VERSIONS[kind])))
        res = _resource(service, claims, resource_id, ACTIONS[kind])
        if kind == "metrics":
            body = _metrics(service.state, req, res)
        elif kind == "metricnamespaces":
            body = _namespaces(service.state, req, res)
        else:
            body = _definitions(service.state, req, res)
        return service._respond(200, body)  # pylint: disable=protected-access
    except HttpError as exc:
        return service.error(exc.status, exc.code, exc.message)


def _resource(service, claims, resource_id, action):
    with service.state.lock:
        info = service._resolve(resource_id, claims, action)  # pylint: disable=protected-access
        if info["kind"] != "resource":
            raise bad_request("Metrics can only be read for a resource, not for '%s'." % resource_id)
        service._require(claims, info["id"], action)  # pylint: disable=protected-access
    return info["resource"]


def _visible(state, res, namespace=None):
    """Copies of the resource's readable series-minutes (older than the read delay)."""
    delay = float(state.settings.get("readDelaySeconds") or 0)
    now = time.time()
    with state.lock:
        return [dict(e) for e in state.metrics.values()
                if e["resourceId"].lower() == res["id"].lower() and now - e["firstIngested"] >= delay
                and (namespace is None or e["namespace"].lower() == namespace.lower())]


def _platform_namespace(res):
    return res["type"].lower()


# ---------------------------------------------------------------- values
def _metrics(state, req, res):
    namespace = req.query_ci("metricnamespace") or _platform_namespace(res)
    names = [n.strip() for n in (req.query_ci("metricnames") or "").split(",") if n.strip()]
    if namespace.lower() == _platform_namespace(res) or not names:
        raise bad_request("Failed to find metric configuration for provider: %s, resource Type: %s, metric: %s, Valid metrics: "
                          % (res["type"].split("/")[0].lower(), res["type"].split("/")[1].lower(), ",".join(names) or "(none)"))
    if len(names) > 20:
        raise bad_request("At most 20 metric names can be requested at once; got %d." % len(names))
    start, end = parse_timespan(req.query_ci("timespan"))
    interval_text, step = _interval(req.query_ci("interval"), start, end)
    aggregations = _aggregations(req.query_ci("aggregation"))
    filters, split = parse_filter(req.query_ci("$filter"))
    top = _top(req.query_ci("top"))
    order = _orderby(req.query_ci("orderby"))
    start_s, end_s = int(start.timestamp()) // step * step, int(end.timestamp())  # Azure aligns the start to the interval
    if interval_text == "FULL":
        start_s, step = int(start.timestamp()), max(1, end_s - int(start.timestamp()))
    entries = [e for e in _visible(state, res, namespace) if start_s <= e["minute"] < end_s]
    value = []
    for name in names:
        series = {}
        for entry in entries:
            if entry["metric"].lower() != name.lower():
                continue
            dims = {k.lower(): v for k, v in entry["dimensions"].items()}
            if any(dims.get(d) not in allowed for d, allowed in filters.items()):
                continue
            key = tuple((d, dims.get(d, "")) for d in split)
            bucket = start_s + (entry["minute"] - start_s) // step * step
            _add(series.setdefault(key, {}), bucket, entry)
        keys = sorted(series)
        if order:
            agg, descending = order
            keys.sort(key=lambda k: _overall(series[k], agg), reverse=descending)
        if split:
            keys = keys[:top]
        timeseries = []
        for key in keys:
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
    return {"cost": 0, "timespan": "%s/%s" % (timeutil.iso_z(start), timeutil.iso_z(end)), "interval": interval_text,
            "value": value, "namespace": namespace, "resourceregion": res["location"]}


def _add(bins, bucket, entry):
    acc = bins.get(bucket)
    if acc is None:
        bins[bucket] = {"total": entry["sum"], "count": entry["count"], "minimum": entry["min"], "maximum": entry["max"]}
        return
    acc["total"] += entry["sum"]
    acc["count"] += entry["count"]
    acc["minimum"] = min(acc["minimum"], entry["min"])
    acc["maximum"] = max(acc["maximum"], entry["max"])


def _overall(bins, agg):
    accs = list(bins.values())
    if agg == "minimum":
        return min(a["minimum"] for a in accs)
    if agg == "maximum":
        return max(a["maximum"] for a in accs)
    total, count = sum(a["total"] for a in accs), sum(a["count"] for a in accs)
    return {"total": total, "count": count, "average": total / count}[agg]


def parse_timespan(text, now=None):
    """``start/end``, ``start/duration``, ``duration/end`` or a bare duration (ending now); none: the last hour."""
    now = now or timeutil.utcnow()
    if not text:
        end = now.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        return end - datetime.timedelta(hours=1), end
    try:
        first, sep, second = text.strip().partition("/")
        if not sep:
            if not first.upper().startswith("P"):
                raise ValueError("a single value must be an ISO 8601 duration such as PT1H")
            end = now
            start = end - timeutil.parse_duration(first.upper())
        elif first.upper().startswith("P"):
            end = timeutil.parse_iso(second, datetime.timezone.utc)
            start = end - timeutil.parse_duration(first.upper())
        else:
            start = timeutil.parse_iso(first, datetime.timezone.utc)
            if second.upper().startswith("P"):
                end = start + timeutil.parse_duration(second.upper())
            else:
                end = timeutil.parse_iso(second, datetime.timezone.utc)
    except ValueError as exc:
        raise bad_request("Invalid timespan '%s': %s" % (text, exc)) from exc
    if end <= start:
        raise bad_request("Invalid timespan '%s': the end is not after the start." % text)
    return start, end


def _interval(text, start, end):
    text = (text or "PT1M").strip().upper()
    if text == "FULL":
        return "FULL", max(1, int((end - start).total_seconds()))
    try:
        seconds = timeutil.parse_duration(text).total_seconds()
    except ValueError:
        seconds = None
    for name, step in INTERVALS.items():
        if seconds == step:
            return name, step
    raise bad_request("Invalid interval '%s'; supported: %s, FULL." % (text, ", ".join(INTERVALS)))


def _aggregations(text):
    result = []
    for item in (text or "Average").split(","):
        name = item.strip().lower()
        if name not in AGGREGATIONS:
            raise bad_request("Invalid aggregation '%s'; supported: Average, Count, Minimum, Maximum, Total." % item.strip())
        if name not in result:
            result.append(name)
    return result


def _top(text):
    if text is None or text == "":
        return 10
    if not text.strip().isdigit() or int(text) < 1:
        raise bad_request("Invalid top '%s': a positive integer is required." % text)
    return int(text)


def _orderby(text):
    if not text:
        return None
    parts = text.strip().lower().split()
    agg = ORDER_ALIASES.get(parts[0], parts[0]) if parts else None
    if agg not in AGGREGATIONS or len(parts) > 2 or (len(parts) == 2 and parts[1] not in ("asc", "desc")):
        raise bad_request("Invalid orderby '%s': use an aggregation and asc or desc, e.g. 'total desc'." % text)
    return agg, len(parts) == 2 and parts[1] == "desc"


_TOKEN_RE = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<paren>[()])|(?P<word>[^\s()']+))")


def _tokens(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise bad_request("The $filter '%s' is not valid (near position %d)." % (text, pos))
        pos = match.end()
        if match.group("str") is not None:
            out.append(("str", match.group("str")[1:-1].replace("''", "'")))
        elif match.group("paren"):
            out.append((match.group("paren"), None))
        elif match.group("word"):
            out.append(("word", match.group("word")))
    return out


def parse_filter(text):
    """``A eq 'a1' and (B eq 'b1' or B eq 'b2') and C eq '*'`` -> ({dim: {values}}, [split dims], lower-case names).

    As Azure documents, ``or`` may only join conditions on the same dimension, with or without parentheses;
    ``'*'`` splits by a dimension without filtering it; a quote inside a value is doubled.
    """
    filters, split = {}, []
    if not text or not text.strip():
        return filters, split
    groups, current = [], []
    for kind, val in _tokens(text):
        if kind == "word" and val.lower() == "and":
            groups.append(current)
            current = []
        elif kind not in ("(", ")"):
            current.append((kind, val))
    groups.append(current)
    for group in groups:
        names, values, index = set(), set(), 0
        while index < len(group):
            chunk = group[index:index + 3]
            if len(chunk) < 3 or chunk[0][0] != "word" or chunk[1] != ("word", chunk[1][1]) or \
                    chunk[1][1].lower() != "eq" or chunk[2][0] != "str":
                raise bad_request("The $filter '%s' is not valid: each condition is <dimension> eq '<value>'." % text)
            names.add(chunk[0][1].lower())
            values.add(chunk[2][1])
            index += 3
            if index < len(group):
                if group[index][0] != "word" or group[index][1].lower() != "or":
                    raise bad_request("The $filter '%s' is not valid: conditions are joined by 'and' or 'or'." % text)
                index += 1
                if index == len(group):
                    raise bad_request("The $filter '%s' is not valid: it ends with 'or'." % text)
        if len(names) != 1:
            raise bad_request("The $filter '%s' is not valid: the logical or operator cannot separate two different metadata names."
                              % text)
        name = names.pop()
        if name in split:
            raise bad_request("The $filter '%s' names dimension '%s' twice." % (text, name))
        split.append(name)
        if "*" not in values:
            filters[name] = values
    return filters, split


# --------------------------------------------------------- namespaces
def _namespaces(state, req, res):
    since = req.query_ci("startTime")
    floor = None
    if since:
        try:
            floor = timeutil.parse_iso(since, datetime.timezone.utc).timestamp()
        except ValueError as exc:
            raise bad_request("Invalid startTime '%s': %s" % (since, exc)) from exc
    custom = {}
    for entry in _visible(state, res):
        if floor is None or entry["minute"] + 60 > floor:
            custom.setdefault(entry["namespace"].lower(), entry["namespace"])
    base = "%s/providers/microsoft.insights/metricNamespaces/" % res["id"]
    platform = _platform_namespace(res)
    value = [{"id": base + platform.replace("/", "-"), "name": platform.replace("/", "-"), "type": "Microsoft.Insights/metricNamespaces",
              "classification": "Platform", "properties": {"metricNamespaceName": platform}}]
    for _key, name in sorted(custom.items()):
        value.append({"id": base + name, "name": name, "type": "Microsoft.Insights/metricNamespaces", "classification": "Custom",
                      "properties": {"metricNamespaceName": name}})
    return {"value": value}


# -------------------------------------------------------- definitions
def _definitions(state, req, res):
    namespace = req.query_ci("metricnamespace") or _platform_namespace(res)
    if namespace.lower() == _platform_namespace(res):
        return {"value": []}  # the emulator produces no platform metrics
    metrics = {}
    for entry in _visible(state, res, namespace):
        spec = metrics.setdefault(entry["metric"].lower(), {"name": entry["metric"], "dims": {}})
        for dim in entry["dimensions"]:
            spec["dims"].setdefault(dim.lower(), dim)
    value = []
    for _key, spec in sorted(metrics.items()):
        value.append({
            "id": "%s/providers/microsoft.insights/metricdefinitions/%s" % (res["id"], spec["name"]),
            "resourceId": res["id"], "namespace": namespace, "category": "Custom",
            "name": {"value": spec["name"], "localizedValue": spec["name"]}, "isDimensionRequired": False,
            "unit": "Unspecified", "primaryAggregationType": "Average",
            "supportedAggregationTypes": ["None", "Average", "Minimum", "Maximum", "Total", "Count"],
            "metricAvailabilities": [{"timeGrain": grain, "retention": RETENTION} for grain in INTERVALS],
            "dimensions": [{"value": dim, "localizedValue": dim} for _k, dim in sorted(spec["dims"].items())],
        })
    return {"value": value}
