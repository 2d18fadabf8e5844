"""Azure Monitor workspace: Prometheus remote write to a data collection endpoint, and the PromQL query API.

``DceService`` plays ``https://{dce}.{region}-1.metrics.ingest.monitor.azure.com``:
``POST /dataCollectionRules/{immutableId}/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24``.
``PrometheusService`` plays ``https://{workspace}.{region}.prometheus.monitor.azure.com`` for every seeded
workspace at once, the workspace name being the first path segment: ``/{workspace}/api/v1/query`` and
``/{workspace}/api/v1/query_range``, for plain selectors only (``name{label="value",...}``).

Stored samples live in ``state.prometheus``: workspace ID (lower case) -> label tuple -> {ms: value}.
"""

import datetime
import gc
import json
import math
import re

from . import jwt, timeutil, tokens
from .web import HttpError, Response, Service, json_response

WRITE_AUDIENCES = ("https://monitor.azure.com/", "https://monitor.azure.com")
QUERY_AUDIENCES = ("https://prometheus.monitor.azure.com", "https://prometheus.monitor.azure.com/")
WRITE_ACTION = "Microsoft.Insights/Telemetry/Write"
READ_ACTION = "Microsoft.Monitor/accounts/data/metrics/read"
API_VERSION = "2023-04-24"
DCR_TYPE = "microsoft.insights/datacollectionrules"
WORKSPACE_TYPE = "microsoft.monitor/accounts"
MAX_BODY = 10 * 1048576          # uncompressed bytes; the service's own limit is not published
LOOKBACK_MS = 5 * 60 * 1000      # PromQL's default lookback delta
MAX_POINTS = 11000               # PromQL's limit of points per series in a range query
_PATH = re.compile(r"^/dataCollectionRules/([^/]+)/streams/([^/]+)/api/v1/write$", re.IGNORECASE)
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_CLASSES = {}


def message_classes():
    """``(WriteRequest, Label, Sample)`` of remote write 1.0, built from a descriptor (no generated code).

    ``TimeSeries.labels`` and ``samples`` are declared ``repeated bytes`` rather than ``repeated Label`` and
    ``repeated Sample``: protobuf writes an embedded message and bytes alike (length-delimited), and having the
    bytes lets one request parse each distinct label or sample once with ``Label`` or ``Sample`` (a batch repeats
    the same few labels, and the same minute, thousands of times)."""
    if not _CLASSES:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # pylint: disable=import-outside-toplevel
        f = descriptor_pb2.FieldDescriptorProto
        proto = descriptor_pb2.FileDescriptorProto(name="emulator_remote.proto", package="prometheus", syntax="proto3")
        for name, fields in (
                ("WriteRequest", (("timeseries", 1, f.TYPE_MESSAGE, ".prometheus.TimeSeries", f.LABEL_REPEATED),)),
                ("TimeSeries", (("labels", 1, f.TYPE_BYTES, None, f.LABEL_REPEATED),
                                ("samples", 2, f.TYPE_BYTES, None, f.LABEL_REPEATED))),
                ("Label", (("name", 1, f.TYPE_STRING, None, f.LABEL_OPTIONAL), ("value", 2, f.TYPE_STRING, None, f.LABEL_OPTIONAL))),
                ("Sample", (("value", 1, f.TYPE_DOUBLE, None, f.LABEL_OPTIONAL), ("timestamp", 2, f.TYPE_INT64, None, f.LABEL_OPTIONAL)))):
            message = proto.message_type.add(name=name)
            for fname, number, ftype, type_name, label in fields:
                field = message.field.add(name=fname, number=number, type=ftype, label=label)
                if type_name:
                    field.type_name = type_name
        pool = descriptor_pool.DescriptorPool()
        pool.Add(proto)
        for name in ("WriteRequest", "Label", "Sample"):
            _CLASSES[name] = message_factory.GetMessageClass(pool.FindMessageTypeByName("prometheus." + name))
    return _CLASSES["WriteRequest"], _CLASSES["Label"], _CLASSES["Sample"]


def _authenticate(emulator, req, audiences, expected):
    try:
        return tokens.verify(emulator, req.bearer(), audiences)
    except tokens.AuthError as exc:
        if exc.kind == "audience":
            raise HttpError(401, "InvalidAudience", "The audience of the access token is invalid: '%s'. The expected audience is '%s'."
                            % ((jwt.unverified_claims(req.bearer() or "") or {}).get("aud"), expected)) from exc
        if exc.kind == "expired":
            raise HttpError(401, "TokenExpired", "The access token has expired: %s" % exc.message) from exc
        if exc.kind == "missing":
            raise HttpError(401, "MissingToken", "No bearer access token in the Authorization header.") from exc
        raise HttpError(401, "InvalidToken", exc.message) from exc


def _forbidden(claims, action, scope):
    return HttpError(403, "AuthorizationFailed",
                     "The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or "
                     "the scope is invalid. If access was recently granted, please refresh your credentials."
                     % (claims.get("appid"), claims.get("oid"), action, scope))


def find_dcr(state, immutable_id):
    for res in state.resources.values():
        if res["type"].lower() == DCR_TYPE and (res.get("properties") or {}).get("immutableId") == immutable_id:
            return res
    return None


def dcr_workspace(res):
    accounts = ((res.get("properties") or {}).get("destinations") or {}).get("monitoringAccounts") or []
    return accounts[0]["accountResourceId"] if accounts else None


class DceService(Service):
    name = "dce"

    def _handle(self, req):
        match = _PATH.match(req.path)
        if not match or match.group(2) != "Microsoft-PrometheusMetrics":
            raise HttpError(404, "NotFound", "The requested resource '%s' was not found on this host." % req.path)
        if req.method != "POST":
            raise HttpError(405, "MethodNotAllowed", "The HTTP method '%s' is not supported; use POST." % req.method)
        if req.query_ci("api-version") != API_VERSION:
            raise HttpError(400, "InvalidApiVersion", "The api-version '%s' is not supported; use %s."
                            % (req.query_ci("api-version"), API_VERSION))
        claims = _authenticate(self.emulator, req, WRITE_AUDIENCES, "https://monitor.azure.com")
        with self.state.lock:
            dcr = find_dcr(self.state, match.group(1))
            if dcr is None:
                raise HttpError(404, "DataCollectionRuleNotFound", "No data collection rule with immutable id '%s'." % match.group(1))
            if not self.state.has_permission(claims.get("oid"), dcr["id"], WRITE_ACTION, data=True):
                raise _forbidden(claims, WRITE_ACTION, dcr["id"])
            workspace = dcr_workspace(dcr)
        encoding = (req.header("Content-Encoding") or "").strip().lower()
        if encoding != "snappy":
            raise HttpError(415, "UnsupportedMediaType", "Content-Encoding must be snappy, got '%s'." % encoding)
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-protobuf":
            raise HttpError(415, "UnsupportedMediaType", "Content-Type must be application/x-protobuf, got '%s'." % ctype)
        version = req.header("X-Prometheus-Remote-Write-Version") or ""
        if not version.startswith("0.1."):
            raise HttpError(400, "BadRequest", "X-Prometheus-Remote-Write-Version must be 0.1.x (remote write 1.0), got '%s'." % version)
        body = req.body(limit=MAX_BODY)
        # Tens of thousands of small tuples per request, no cycle among them: the cyclic garbage collector would
        # scan the whole growing store again and again for nothing.
        collecting = gc.isenabled()
        gc.disable()
        try:
            series = self._decode(body)
            with self.state.lock:
                store = self.state.prometheus.setdefault(workspace.lower(), {})
                additions = self._check(store, series)
                for key, stamp, value in additions:
                    store.setdefault(key, {})[stamp] = value
        finally:
            if collecting:
                gc.enable()
        return Response(204)

    @staticmethod
    def _decode(raw):
        import cramjam  # pylint: disable=import-outside-toplevel
        try:
            if cramjam.snappy.decompress_raw_len(raw) > MAX_BODY:
                raise HttpError(413, "RequestEntityTooLarge", "The uncompressed body exceeds %d bytes." % MAX_BODY)
            data = bytes(cramjam.snappy.decompress_raw(raw))
        except cramjam.DecompressionError as exc:
            raise HttpError(400, "BadRequest", "The body is not snappy (block format): %s" % exc) from exc
        write_request, label_class, sample_class = message_classes()
        try:
            message = write_request.FromString(data)
        except Exception as exc:  # pylint: disable=broad-except  # protobuf's DecodeError and its kin
            raise HttpError(400, "BadRequest", "The body is not a remote write WriteRequest: %s" % exc) from exc
        seen = {}     # label bytes -> (name, value), each checked once: a batch repeats most labels thousands of times
        seen_samples = {}     # sample bytes -> (timestamp, value): a batch's samples share their minute
        metrics_ok = set()
        out = []
        for number, ts in enumerate(message.timeseries):
            raw_labels = tuple(ts.labels)
            try:
                labels = tuple([seen[raw] for raw in raw_labels])
            except KeyError:
                labels = tuple([_parse_label(label_class, raw, seen, number) for raw in raw_labels])
            names = [name for name, _value in labels]
            if names != sorted(set(names)):
                raise HttpError(400, "BadRequest", "timeseries[%d]: label names must be unique and sorted (%s)." % (number, ", ".join(names)))
            metric = dict(labels).get("__name__", "")
            if metric not in metrics_ok:
                if not _METRIC_NAME.match(metric):
                    raise HttpError(400, "BadRequest", "timeseries[%d]: invalid metric name %r." % (number, metric))
                metrics_ok.add(metric)
            raw_samples = tuple(ts.samples)
            try:
                samples = [seen_samples[raw] for raw in raw_samples]
            except KeyError:
                samples = [_parse_sample(sample_class, raw, seen_samples, number) for raw in raw_samples]
            if not samples:
                raise HttpError(400, "BadRequest", "timeseries[%d]: no samples." % number)
            out.append((number, labels, samples))
        return out

    @staticmethod
    def _check(store, series):
        """Every sample to add, or ``HttpError`` for the whole request (nothing stored): out of order, or a different
        value for a timestamp the series already has.  A repeated sample (same timestamp, same value) is taken and
        stored once, so a re-sent request counts once."""
        additions, pending = [], {}
        for number, key, samples in series:
            stored = store.get(key) or {}
            added = pending.setdefault(key, {})
            newest = max([max(d) for d in (stored, added) if d], default=None)
            for stamp, value in samples:
                known = stored.get(stamp, added.get(stamp))
                if known is not None:
                    if not _same(known, value):
                        raise HttpError(400, "BadRequest", "timeseries[%d]: duplicate sample for timestamp %d with a different value (%r, stored %r)."
                                        % (number, stamp, value, known))
                    continue
                if newest is not None and stamp < newest:
                    raise HttpError(400, "BadRequest", "timeseries[%d]: out of order sample: timestamp %s is older than %s." % (number, stamp, newest))
                added[stamp] = value
                newest = stamp
                additions.append((key, stamp, value))
        return additions


def _parse_label(label_class, raw, seen, number):
    if raw not in seen:
        try:
            label = label_class.FromString(raw)
        except Exception as exc:  # pylint: disable=broad-except  # protobuf's DecodeError and its kin
            raise HttpError(400, "BadRequest", "timeseries[%d]: a label is not a remote write Label: %s" % (number, exc)) from exc
        if not label.value or not _LABEL_NAME.match(label.name):
            raise HttpError(400, "BadRequest", "timeseries[%d]: invalid label %r=%r (names [a-zA-Z_][a-zA-Z0-9_]*, values not empty)."
                            % (number, label.name, label.value))
        seen[raw] = (label.name, label.value)
    return seen[raw]


def _parse_sample(sample_class, raw, seen, number):
    if raw not in seen:
        try:
            sample = sample_class.FromString(raw)
        except Exception as exc:  # pylint: disable=broad-except  # protobuf's DecodeError and its kin
            raise HttpError(400, "BadRequest", "timeseries[%d]: a sample is not a remote write Sample: %s" % (number, exc)) from exc
        seen[raw] = (sample.timestamp, sample.value)
    return seen[raw]


def _same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


# ------------------------------------------------------------------------------------------------ query API
def parse_selector(text):
    """``name{label="v",...}`` or ``{__name__="name",...}`` -> dict of equality matchers; raises ValueError."""
    text = text.strip()
    match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?$", text, re.DOTALL)
    if not text or not match or not (match.group(1) or match.group(2)):
        raise ValueError("only plain selectors are served: name{label=\"value\",...}")
    matchers = {}
    if match.group(1):
        matchers["__name__"] = match.group(1)
    body = (match.group(2) or "").strip()
    pos = 0
    pair = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)', re.DOTALL)
    while pos < len(body):
        item = pair.match(body, pos)
        if not item or item.end() == pos:
            raise ValueError("only equality matchers label=\"value\" are served, at %r" % body[pos:])
        matchers[item.group(1)] = json.loads('"%s"' % item.group(2))
        pos = item.end()
    if not matchers:
        raise ValueError("a selector needs at least one matcher")
    return matchers


def _parse_time(text, name):
    if text is None:
        raise ValueError("%s is required" % name)
    try:
        return float(text)
    except ValueError:
        pass
    try:
        stamp = timeutil.parse_iso(text)
    except ValueError as exc:
        raise ValueError("%s: cannot parse %r as a Unix time or RFC 3339" % (name, text)) from exc
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.timestamp()


def _format(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _at(samples, t_ms):
    """The newest sample at or before ``t_ms`` within the lookback, or None."""
    best = None
    for stamp in samples:
        if t_ms - LOOKBACK_MS < stamp <= t_ms and (best is None or stamp > best):
            best = stamp
    return best


class PrometheusService(Service):
    name = "prometheus"

    def error(self, status, code, message, req=None):
        return json_response(status, {"status": "error", "errorType": code, "error": message})

    def _handle(self, req):
        match = re.match(r"^/([^/]+)/api/v1/(query|query_range)$", req.path)
        if not match:
            raise HttpError(404, "not_found", "The requested path '%s' is not served." % req.path)
        if req.method not in ("GET", "POST"):
            raise HttpError(405, "bad_data", "Use GET or POST.")
        claims = _authenticate(self.emulator, req, QUERY_AUDIENCES, "https://prometheus.monitor.azure.com")
        params = dict(req.query)
        if req.method == "POST":
            params.update(req.form())
        with self.state.lock:
            workspace = next((r for r in self.state.resources.values()
                              if r["type"].lower() == WORKSPACE_TYPE and r["name"].lower() == match.group(1).lower()), None)
            if workspace is None:
                raise HttpError(404, "not_found", "No Azure Monitor workspace named '%s'." % match.group(1))
            if not self.state.has_permission(claims.get("oid"), workspace["id"], READ_ACTION, data=True):
                raise _forbidden(claims, READ_ACTION, workspace["id"])
            store = {k: dict(v) for k, v in (self.state.prometheus.get(workspace["id"].lower()) or {}).items()}
        try:
            matchers = parse_selector(params.get("query") or "")
            if match.group(2) == "query":
                now = timeutil.utcnow().timestamp()
                at = _parse_time(params.get("time", str(now)), "time")
                data = {"resultType": "vector", "result": self._vector(store, matchers, at)}
            else:
                start, end = _parse_time(params.get("start"), "start"), _parse_time(params.get("end"), "end")
                step = float(params.get("step") or "nan")
                if math.isnan(step) or step <= 0:
                    raise ValueError("step must be a positive number of seconds")
                if end < start:
                    raise ValueError("end must not be before start")
                if (end - start) / step > MAX_POINTS:
                    raise ValueError("exceeded maximum resolution of %d points per timeseries" % MAX_POINTS)
                data = {"resultType": "matrix", "result": self._matrix(store, matchers, start, end, step)}
        except ValueError as exc:
            raise HttpError(400, "bad_data", str(exc)) from exc
        return json_response(200, {"status": "success", "data": data})

    @staticmethod
    def _select(store, matchers):
        for key, samples in store.items():
            labels = dict(key)
            if all(labels.get(name) == value for name, value in matchers.items()):
                yield labels, samples

    def _vector(self, store, matchers, at):
        out = []
        for labels, samples in self._select(store, matchers):
            stamp = _at(samples, int(at * 1000))
            if stamp is not None:
                out.append({"metric": labels, "value": [at, _format(samples[stamp])]})
        return out

    def _matrix(self, store, matchers, start, end, step):
        out = []
        for labels, samples in self._select(store, matchers):
            values, t = [], start
            while t <= end + 1e-9:
                stamp = _at(samples, int(round(t * 1000)))
                if stamp is not None:
                    values.append([t, _format(samples[stamp])])
                t += step
            if values:
                out.append({"metric": labels, "values": values})
        return out
