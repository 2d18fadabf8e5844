"""Custom metrics ingestion: ``POST /{region}{resourceId}/metrics`` (plays ``{region}.monitoring.azure.com``)."""

import datetime
import json
import math
import re
import time
import urllib.parse
import zlib

from . import jwt, timeutil, tokens
from .state import ScopeError
from .web import HttpError, Service, bad_request, json_response

MAX_BODY = 1048576                 # bytes, uncompressed (Container Insights' 1 MB; the true limit is unverified)
MAX_DIMENSIONS = 10
MAX_NAME = 256
MAX_METRIC_NAMES_BYTES = 65536
WINDOW_PAST = datetime.timedelta(minutes=20)    # documented 20; the service message says 30: stricter wins
WINDOW_FUTURE = datetime.timedelta(minutes=4)   # documented 5; the service message says 4: stricter wins
INT32_MAX = 2147483647
RESERVED_NAMESPACES = ("genevakustoqos", "logstometricsqos", "mdmqos", "recoveryservice/v2", "monitorsla", "warmpathqos")
WRITE_ACTION = "Microsoft.Insights/Metrics/Write"
_REGION_RE = re.compile(r"^[A-Za-z0-9]+$")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_name(value, what, where):
    if not isinstance(value, str):
        raise bad_request("%s: '%s' must be a string." % (where, what))
    if not value:
        raise bad_request("%s: '%s' must not be empty." % (where, what))
    if len(value) > MAX_NAME:
        raise bad_request("%s: '%s' is %d characters long; the maximum is %d." % (where, what, len(value), MAX_NAME))


class IngestService(Service):
    name = "ingest"

    def refuse(self, req, exc):
        resp = super().refuse(req, exc)
        if exc.status == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer authorization_uri="%s/%s", error="invalid_token"' % (
                self.emulator.urls["login"], self.state.tenant_id)
        return resp

    # ---------------------------------------------------------------- checks
    def _route(self, req):
        match = re.match(r"^/([^/]*)(/.*)?$", req.raw_path)
        rest = (match.group(2) or "") if match else ""
        region = match.group(1) if match else ""
        if not region or not _REGION_RE.match(region) or "//" in rest or not rest.lower().startswith("/subscriptions/") \
                or not rest.endswith("/metrics"):
            raise HttpError(404, "NotFound", "The requested resource '%s' was not found on this host." % req.raw_path)
        resource_id = urllib.parse.unquote(rest[:-len("/metrics")])
        if req.method != "POST":
            raise HttpError(405, "MethodNotAllowed", "The HTTP method '%s' is not supported; use POST." % req.method)
        return region.lower(), resource_id

    def _authenticate(self, req):
        try:
            return tokens.verify(self.emulator, req.bearer(), tokens.MONITORING_AUDIENCES)
        except tokens.AuthError as exc:
            if exc.kind == "audience":
                raise HttpError(401, "InvalidAudience", "The audience of the access token is invalid: '%s'. The expected audience is "
                                "'https://monitoring.azure.com/'." % (jwt.unverified_claims(req.bearer() or "") or {}).get("aud")) from exc
            if exc.kind == "expired":
                raise HttpError(401, "TokenExpired", "The access token has expired: %s" % exc.message) from exc
            if exc.kind == "missing":
                raise HttpError(401, "MissingToken", "No bearer access token in the Authorization header.") from exc
            raise HttpError(401, "InvalidToken", exc.message) from exc

    def _read_body(self, req):
        encoding = (req.header("Content-Encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip"):
            raise HttpError(415, "UnsupportedMediaType", "Content-Encoding '%s' is not supported (gzip or none)." % encoding)
        raw = req.body()
        if encoding == "gzip":
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                data = decoder.decompress(raw, MAX_BODY + 1)
            except zlib.error as exc:
                raise bad_request("The request body is not valid gzip: %s" % exc) from exc
            if len(data) > MAX_BODY:
                raise HttpError(413, "RequestEntityTooLarge", "The uncompressed request body exceeds %d bytes." % MAX_BODY)
            if not decoder.eof:
                raise bad_request("The gzip request body is truncated.")
        else:
            data = raw
        return data

    def _handle(self, req):
        region, resource_id = self._route(req)
        try:
            length = req.content_length()
        except ValueError as exc:
            raise bad_request("The Content-Length header is not a number.") from exc
        if length is None:
            raise HttpError(411, "LengthRequired", "The Content-Length header is required.")
        req.claims = self._authenticate(req)
        if length > MAX_BODY:
            raise HttpError(413, "RequestEntityTooLarge", "The request body of %d bytes exceeds the limit of %d bytes." % (length, MAX_BODY))
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype not in ("application/json", "application/x-ndjson"):
            raise HttpError(415, "UnsupportedMediaType",
                            "Content-Type '%s' is not supported; use application/json or application/x-ndjson." % ctype)
        data = self._read_body(req)
        with self.state.lock:
            try:
                scope = self.state.resolve_scope(resource_id)
            except ScopeError as exc:
                raise HttpError(exc.status, exc.code, exc.message) from exc
            if scope["kind"] != "resource":
                raise bad_request("The resource ID '%s' is not a resource: custom metrics can only be sent to a resource, not to a "
                                  "subscription or resource group." % resource_id)
            resource = scope["resource"]
            if resource["location"].replace(" ", "").lower() != region:
                raise HttpError(400, "RegionMismatch", "The region '%s' of the request does not match the region '%s' of the "
                                "resource '%s'." % (region, resource["location"], resource["id"]))
            oid, appid = req.claims.get("oid"), req.claims.get("appid")
            if not self.state.has_permission(oid, resource["id"], WRITE_ACTION, data=True):
                raise HttpError(403, "AuthorizationFailed",
                                "The client '%s' with object id '%s' does not have authorization to perform action '%s' over "
                                "scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials."
                                % (appid, oid, WRITE_ACTION, resource["id"]))
        docs = self._parse(data, ctype)
        points = []
        for index, doc in enumerate(docs):
            points.extend(self._validate(doc, index, len(docs) > 1))
        with self.state.lock:
            self._check_limits(resource, points)
            self._aggregate(resource, points)
        return json_response(200, {"approximateCount": len(points)})

    @staticmethod
    def _parse(data, ctype):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise bad_request("The request body is not UTF-8.") from exc
        lines = [line for line in text.split("\n") if line.strip()]
        if not lines:
            raise bad_request("The request body is empty.")
        chunks = [text] if ctype == "application/json" else lines
        docs = []
        for number, chunk in enumerate(chunks, 1):
            try:
                docs.append(json.loads(chunk, parse_constant=_reject_constant))
            except ValueError as exc:
                hint = " (several documents need Content-Type application/x-ndjson)" if ctype == "application/json" else ""
                raise bad_request("The request body is not valid JSON (line %d): %s%s" % (number, exc, hint)) from exc
        return docs

    @staticmethod
    def _validate(doc, index, many):
        where = "Document %d" % (index + 1) if many else "Request"
        if not isinstance(doc, dict):
            raise bad_request("%s: the body must be a JSON object." % where)
        if "time" not in doc:
            raise bad_request("%s: the required field 'time' is missing." % where)
        try:
            stamp = timeutil.parse_iso(doc["time"])
        except ValueError as exc:
            raise bad_request("%s: 'time' is not a valid ISO 8601 date-time: %r." % (where, doc["time"])) from exc
        if stamp.tzinfo is None:
            # Microsoft's own how-to sends "2023-01-03T11:00:20" (no zone) and the service takes it as UTC.
            stamp = stamp.replace(tzinfo=timeutil.UTC)
        now = timeutil.utcnow()
        if stamp < now - WINDOW_PAST or stamp > now + WINDOW_FUTURE:
            raise bad_request("%s: the time '%s' is outside the allowed window: the time must be not older than 20 minutes and "
                              "not more than 4 minutes in the future (server time %s)." % (where, doc["time"], timeutil.iso_z(now)))
        data = doc.get("data")
        base = data.get("baseData") if isinstance(data, dict) else None
        if not isinstance(base, dict):
            raise bad_request("%s: the required field 'data.baseData' is missing or not an object." % where)
        for field in ("metric", "namespace", "series"):
            if field not in base:
                raise bad_request("%s: the required field 'data.baseData.%s' is missing." % (where, field))
        _check_name(base["metric"], "metric", where)
        _check_name(base["namespace"], "namespace", where)
        namespace = base["namespace"].lower()
        if namespace.startswith("microsoft.") or namespace in RESERVED_NAMESPACES:
            raise bad_request("%s: the namespace '%s' is reserved." % (where, base["namespace"]))
        dim_names = base.get("dimNames")
        if dim_names is None:
            dim_names = []
        if not isinstance(dim_names, list):
            raise bad_request("%s: 'dimNames' must be an array of strings." % where)
        if len(dim_names) > MAX_DIMENSIONS:
            raise bad_request("%s: %d dimensions given; dimension names and values lengths should be at most %d."
                              % (where, len(dim_names), MAX_DIMENSIONS))
        for name in dim_names:
            _check_name(name, "dimNames[]", where)
        if len({n.lower() for n in dim_names}) != len(dim_names):
            raise bad_request("%s: 'dimNames' contains duplicate names." % where)
        series = base["series"]
        if not isinstance(series, list) or not series:
            raise bad_request("%s: 'series' must be a non-empty array." % where)
        points = []
        for number, item in enumerate(series):
            spot = "%s: series[%d]" % (where, number)
            if not isinstance(item, dict):
                raise bad_request("%s must be an object." % spot)
            values = item.get("dimValues")
            if values is None:
                values = []
            if not isinstance(values, list):
                raise bad_request("%s: 'dimValues' must be an array of strings." % spot)
            if len(values) != len(dim_names):
                raise bad_request("%s: the number of dimValues (%d) does not match the number of dimNames (%d)."
                                  % (spot, len(values), len(dim_names)))
            for value in values:
                if isinstance(value, str) and not value:
                    raise bad_request("%s: empty dimension values are not allowed." % spot)
                _check_name(value, "dimValues[]", spot)
            for field in ("min", "max", "sum", "count"):
                if field not in item:
                    raise bad_request("%s: the required field '%s' is missing." % (spot, field))
            for field in ("min", "max", "sum"):
                if not _is_number(item[field]):
                    raise bad_request("%s: '%s' must be a finite number (double)." % (spot, field))
            count = item["count"]
            if isinstance(count, bool) or not isinstance(count, int):
                raise bad_request("%s: 'count' must be an integer (int32)." % spot)
            if count < 1 or count > INT32_MAX:
                raise bad_request("%s: 'count' must be between 1 and %d." % (spot, INT32_MAX))
            if item["min"] > item["max"]:
                raise bad_request("%s: 'min' (%s) is greater than 'max' (%s)." % (spot, item["min"], item["max"]))
            points.append({"time": stamp, "metric": base["metric"], "namespace": base["namespace"],
                           "dims": dict(zip(dim_names, values)), "min": item["min"], "max": item["max"],
                           "sum": item["sum"], "count": count})
        return points

    def _check_limits(self, resource, points):
        state = self.state
        names = state.metric_names.setdefault(resource["id"].lower(), {})
        new_names = {("%s\x00%s" % (p["namespace"], p["metric"])).lower(): p["metric"] for p in points}
        total = sum(len(v.encode("utf-8")) for v in names.values())
        total += sum(len(v.encode("utf-8")) for k, v in new_names.items() if k not in names)
        if total > MAX_METRIC_NAMES_BYTES:
            raise bad_request("The metric names of resource '%s' together exceed %d bytes." % (resource["id"], MAX_METRIC_NAMES_BYTES))
        region_key = (resource["subscription"], resource["location"].lower())
        seen = state.series_seen.setdefault(region_key, {})
        horizon = time.time() - 12 * 3600
        for key in [k for k, v in seen.items() if v < horizon]:
            del seen[key]
        fresh = {_series_key(resource, p) for p in points} - set(seen)
        if len(seen) + len(fresh) > int(state.settings.get("maxActiveSeries") or 50000):
            raise HttpError(429, "TooManyTimeSeries", "The subscription exceeds %s active time series in region %s."
                            % (state.settings.get("maxActiveSeries"), resource["location"]))
        names.update(new_names)

    def _aggregate(self, resource, points):
        state = self.state
        now = time.time()
        region_key = (resource["subscription"], resource["location"].lower())
        seen = state.series_seen.setdefault(region_key, {})
        for point in points:
            series = _series_key(resource, point)
            seen[series] = now
            minute = int(point["time"].timestamp()) // 60 * 60
            key = series + (minute,)
            entry = state.metrics.get(key)
            if entry is None:
                state.metrics[key] = {"resourceId": resource["id"], "namespace": point["namespace"], "metric": point["metric"],
                                      "dimensions": point["dims"], "minute": minute, "sum": point["sum"], "count": point["count"],
                                      "min": point["min"], "max": point["max"], "posts": 1, "firstIngested": now,
                                      "lastIngested": now}
            else:
                entry["sum"] += point["sum"]
                entry["count"] += point["count"]
                entry["min"] = min(entry["min"], point["min"])
                entry["max"] = max(entry["max"], point["max"])
                entry["posts"] += 1
                entry["lastIngested"] = now


def _series_key(resource, point):
    dims = tuple(sorted((k.lower(), v) for k, v in point["dims"].items()))
    return (resource["id"].lower(), point["namespace"].lower(), point["metric"].lower(), dims)


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)
