"""Windows Azure Pack admin API: ``GET /addons/{id}/metrics?startTime=&endTime=``."""

import datetime
import json
import re
from xml.sax.saxutils import escape

from . import jwt, timeutil
from .web import HttpError, Response, Service

ISSUERS = ("http://azureservices/AdminSite",)
AUDIENCE = "http://azureservices/AdminSite"
_PATH_RE = re.compile(r"^/addons/([^/]+)/metrics$")


class WapError(HttpError):
    """WAP's refusal; ``body_format`` (json, xml, text) overrides the add-on's error format."""

    def __init__(self, status, code, message, body_format=None):
        super().__init__(status, code, message)
        self.body_format = body_format


def render_error(status, code, message, body_format):
    if body_format == "xml":
        body = '<Error xmlns="http://schemas.microsoft.com/windowsazure" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">' \
               "<Code>%s</Code><Message>%s</Message></Error>" % (escape(code), escape(message))
        return Response(status, body, "application/xml; charset=utf-8")
    if body_format == "text":
        return Response(status, "%s: %s" % (code, message), "text/plain; charset=utf-8")
    body = json.dumps({"Code": code, "Message": message, "Severity": "Error", "State": "Unknown"})
    return Response(status, body, "application/json; charset=utf-8")


def format_time(value, style, offset=None):
    """Render an aware datetime the way a WAP metric of ``style`` does (z7, z0, offset, nozone)."""
    value = value.astimezone(datetime.timezone.utc)
    if style == "z0":
        return timeutil.iso_z(value, 0)
    if style == "nozone":
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if style == "offset":
        zone = datetime.timezone.utc
        if offset:
            sign = -1 if offset.startswith("-") else 1
            hours, minutes = offset.lstrip("+-").split(":")
            zone = datetime.timezone(sign * datetime.timedelta(hours=int(hours), minutes=int(minutes)))
        local = value.astimezone(zone)
        return local.strftime("%Y-%m-%dT%H:%M:%S.") + ("%06d0" % local.microsecond) + (offset or "+00:00")
    return timeutil.iso_z(value, 7)


class WapService(Service):
    name = "wap"

    def _default_format(self):
        return self.state.settings.get("wapErrorFormat") or self.state.wap.get("errorFormat") or "json"

    def error(self, status, code, message, req=None):
        return render_error(status, code, message, self._default_format())

    def fault_response(self, req, fault):
        resp = render_error(fault.status, {429: "TooManyRequests", 503: "ServiceUnavailable"}.get(fault.status, "InternalError"),
                            "Injected fault: HTTP %d." % fault.status, fault.body_format or self._default_format())
        if fault.status in (429, 503) and fault.retry_after is not None:
            resp.headers["Retry-After"] = str(fault.retry_after)
        return resp

    def refuse(self, req, exc):
        return render_error(exc.status, exc.code, exc.message, getattr(exc, "body_format", None) or self._default_format())

    def _handle(self, req):
        match = _PATH_RE.match(req.path)
        if not match:
            raise WapError(404, "NotFound", "The requested resource '%s' does not exist." % req.path)
        if req.method != "GET":
            raise WapError(405, "MethodNotAllowed", "The requested method is not allowed.")
        self._authenticate(req)
        principal = req.header("x-ms-principal-id")
        if not principal:
            raise WapError(400, "MissingPrincipalId", "The request header 'x-ms-principal-id' is required.")
        admins = {p["id"].lower(): bool(p.get("administrator")) for p in self.state.wap.get("principals") or []}
        if not admins.get(principal.strip().lower()):
            raise WapError(403, "Forbidden", "The principal '%s' is not an administrator of this service management API." % principal)
        addon_id = match.group(1)
        addon = next((a for a in self.state.wap.get("addons") or [] if a["id"].lower() == addon_id.lower()), None)
        if addon is None:
            raise WapError(404, "ResourceNotFound", "The add-on '%s' was not found." % addon_id)
        body_format = addon.get("errorFormat")
        times = []
        for name in ("startTime", "endTime"):
            text = req.query.get(name)
            if not text:
                raise WapError(404, "InvalidParameter", "The parameter '%s' is required." % name, body_format)
            try:
                times.append(timeutil.parse_iso(text, datetime.timezone.utc))
            except ValueError as exc:
                raise WapError(404, "InvalidParameter", "The parameter '%s' value '%s' is not a valid date-time." % (name, text),
                               body_format) from exc
        start, end = times[0], times[1]
        if end < start:
            raise WapError(404, "InvalidParameter", "The startTime is after the endTime.", body_format)
        body = [self._metric(metric, start, end) for metric in addon.get("metrics") or []]
        return Response(200, json.dumps(body), "application/json; charset=utf-8")

    def _authenticate(self, req):
        token = req.bearer()
        if not token:
            raise WapError(401, "Unauthorized", "The request has no bearer token.")
        try:
            header, claims = jwt.verify_signature(token, self.emulator.pki.wap_key.public_key())
            if header.get("kid") not in (None, self.emulator.pki.wap_kid) and header.get("x5t") != self.emulator.pki.wap_kid:
                raise jwt.JWTError("key", "unknown signing key")
            jwt.check_times(claims)
        except jwt.JWTError as exc:
            code = "TokenExpired" if exc.reason == "expired" else "InvalidToken"
            raise WapError(401, code, "The bearer token is not valid: %s" % exc) from exc
        if claims.get("iss") not in ISSUERS or claims.get("aud") != AUDIENCE:
            raise WapError(401, "InvalidToken", "The bearer token issuer '%s' or audience '%s' is not trusted."
                           % (claims.get("iss"), claims.get("aud")))
        req.claims = claims

    def _metric(self, metric, start, end):
        style = metric.get("timeFormat", "z7")
        offset = metric.get("utcOffset")
        grain = timeutil.parse_timespan(metric.get("TimeGrain", "00:05:00"))
        now = timeutil.utcnow()
        values = []
        for value in metric.get("Values") or []:
            item = {k: v for k, v in value.items() if k not in ("ago", "TimeCreated")}
            if "ago" in value:
                stamp = now - timeutil.parse_timespan(value["ago"])
                epoch = stamp.timestamp()
                step = grain.total_seconds() or 60
                stamp = datetime.datetime.fromtimestamp(epoch - epoch % step, datetime.timezone.utc)
                text = format_time(stamp, style, offset)
            else:
                text = value["TimeCreated"]
                stamp = timeutil.parse_iso(text, datetime.timezone.utc)
            if start <= stamp <= end:
                values.append(dict({"TimeCreated": text}, **item))
        out = {"Name": metric["Name"], "PrimaryAggregationType": metric.get("PrimaryAggregationType", "Total")}
        for unit_key in ("Unit", "ConfigState"):
            if unit_key in metric:
                out[unit_key] = metric[unit_key]
        out.update({"TimeGrain": metric.get("TimeGrain", "00:05:00"), "StartTime": format_time(start, style, offset),
                    "EndTime": format_time(end, style, offset), "Values": values})
        return out
