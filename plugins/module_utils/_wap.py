# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows Azure Pack admin API: an add-on's metrics, input checks, and response normalisation.

Nothing here knows about Ansible.  ``WapClient`` takes an ``HttpClient`` and
plain values and raises the collection's typed errors.  The check functions
(``parse_endpoint``, ``addon_segment``, ``check_token``, ``check_header``,
``check_window``) run before anything is sent; ``normalize_metrics`` turns
WAP's PascalCase answer into the documented snake_case shape.

Wire facts (docs/azure-facts.md, section 6): ``GET {endpoint}/addons/{AddonId}/metrics?
startTime=...&endTime=...`` on the admin API (port 30004) with ``Authorization:
Bearer {jwt}`` and ``x-ms-principal-id``; times as .NET round-trip UTC
(``2013-06-22T07:00:00.0000000Z``); a JSON array back, no paging.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from urllib.parse import quote, urlsplit, urlunsplit

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ServiceError, TransportError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._http import CLIENT_REQUEST_ID_HEADER, new_request_id
from ansible_collections.azmon.metrics.plugins.module_utils._jwt import claims as jwt_claims, header as jwt_header
from ansible_collections.azmon.metrics.plugins.module_utils._timespan import TimeSpanError, describe
from ansible_collections.azmon.metrics.plugins.module_utils._time import UTC, TimeFormatError, format_utc, parse_iso

SERVICE = 'WAP'
DEFAULT_PORT = 30004
PRINCIPAL_HEADER = 'x-ms-principal-id'
CLIENT_SESSION_ID_HEADER = 'x-ms-client-session-id'
PRINCIPAL_LIVEID_HEADER = 'x-ms-principal-liveid'

_B64URL = re.compile(r'^[A-Za-z0-9_-]*={0,2}$')
_FORBIDDEN_IN_ADDON_ID = re.compile(r'[/\\?#%\x00-\x1f\x7f]')


# --- checks made before anything is sent -------------------------------------------------------------------

def parse_endpoint(endpoint, option='endpoint'):
    """The base URL (``https://host:port[/prefix]``, no trailing ``/``) of a WAP admin API endpoint.

    ``https`` only; port 30004 when none is given; a path prefix is kept (a
    reverse proxy may publish the API under one); user info, a query string
    or a fragment are refused.
    """
    _text, parts, host, port = https_url(
        endpoint, option, what='the https URL of the WAP admin API, e.g. https://wap.contoso.com:30004',
        bare_note=' (port %d when none is given)' % DEFAULT_PORT,
        why_https=' (the WAP admin API is served over TLS on port %d)' % DEFAULT_PORT,
        credentials_hint='pass the token with the token option')
    netloc = '%s:%d' % (host, port if port is not None else DEFAULT_PORT)
    return urlunsplit(('https', netloc, parts.path.rstrip('/'), '', ''))


def https_url(endpoint, option, what, why_https, credentials_hint, bare_note=''):
    """``(text, parts, host, port)`` of an ``https`` URL option, before anything is sent to it.

    Refuses, naming ``option``: no value (``what`` says what to give), no
    scheme (``bare_note`` follows the suggested URL), another scheme than
    ``https`` (``why_https`` says why), no host, a user name or password in
    the URL (``credentials_hint`` says where they go instead), a query string
    or fragment, and a path with white space or ``.``/``..`` segments.
    ``host`` is in brackets for an IPv6 literal; ``port`` is ``None`` when the
    URL gives none.
    """
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ValidationError('%s is required: %s' % (option, what), option=option)
    text = endpoint.strip()
    if '://' not in text:
        raise ValidationError('%s %r is not a URL: write it as https://%s%s' % (option, text, text.rstrip('/'), bare_note),
                              option=option)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValidationError('%s %r is not a valid URL: %s' % (option, text, exc), option=option) from None
    if parts.scheme.lower() != 'https':
        raise ValidationError('%s %r must use https%s' % (option, text, why_https), option=option)
    if not parts.hostname:
        raise ValidationError('%s %r has no host name' % (option, text), option=option)
    if parts.username is not None or parts.password is not None:
        raise ValidationError('%s must not contain a user name or password; %s' % (option, credentials_hint),
                              option=option)
    if parts.query or parts.fragment or text.endswith(('?', '#')):
        raise ValidationError('%s %r must not have a query string or fragment' % (option, text), option=option)
    if any(c in parts.path for c in ' \t\r\n') or re.search(r'(^|/)\.\.?(/|$)', parts.path):
        raise ValidationError('%s %r has an invalid path' % (option, text), option=option)
    host = parts.hostname
    if ':' in host:  # IPv6 literal
        host = '[%s]' % host
    return text, parts, host, port


def addon_segment(addon_id, option='addon_id'):
    """``addon_id`` as one percent-encoded path segment; refuses what could change the request path.

    ``/``, ``\\``, ``?``, ``#``, ``%``, control characters, surrounding white
    space and the segments ``.`` and ``..`` are refused; everything else
    (spaces, ``:``, non-ASCII) is percent-encoded.
    """
    if not isinstance(addon_id, str) or not addon_id:
        raise ValidationError('%s is required' % option, option=option)
    if addon_id != addon_id.strip():
        raise ValidationError('%s %r has leading or trailing white space' % (option, addon_id), option=option)
    bad = _FORBIDDEN_IN_ADDON_ID.search(addon_id)
    if bad:
        raise ValidationError('%s %r must not contain %r: an add-on ID is one path segment and must not contain'
                              ' / \\ ? # %% or control characters' % (option, addon_id, bad.group(0)), option=option)
    if addon_id in ('.', '..'):
        raise ValidationError('%s %r is not an add-on ID (a relative path segment)' % (option, addon_id),
                              option=option)
    return quote(addon_id, safe='')


def check_header(option, value, required=False):
    """A header value from an option: no control characters (no header injection), Latin-1 only (HTTP/1.1)."""
    if value is None or value == '':
        if required:
            raise ValidationError('%s is required' % option, option=option)
        return None
    if not isinstance(value, str):
        raise ValidationError('%s must be a string' % option, option=option)
    if re.search(r'[\x00-\x1f\x7f]', value):
        raise ValidationError('%s must not contain control characters (such as a line break)' % option,
                              option=option)
    if value != value.strip():
        raise ValidationError('%s %r has leading or trailing white space' % (option, value), option=option)
    try:
        value.encode('latin-1')
    except UnicodeEncodeError:
        raise ValidationError('%s %r has characters an HTTP header cannot carry (only Latin-1 is allowed)'
                              % (option, value), option=option) from None
    return value


def token_value(token, option='token'):
    """The JWT in ``token``: the token itself, or the registered result of ``wap_token`` (a dict with ``token``)."""
    if not isinstance(token, dict):
        return token
    if token.get('failed'):
        raise ValidationError('%s is the result of a wap_token task that failed: %s' % (option, token.get('msg')),
                              option=option)
    value = token.get('token')
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            '%s is a dict without a "token" key: give the JWT, or the registered result of azmon.metrics.wap_token'
            ' (which holds the token only when that task ran with "no_log: true", and not in check mode)' % option,
            option=option)
    return value


def check_token(token, now=None, option='token'):
    """``(token, claims)`` for a well-formed JWT whose ``exp`` has not passed; raises ``ValidationError``.

    ``token`` is the JWT or a ``wap_token`` result (see ``token_value``).  A
    leading ``Bearer `` is removed.  The signature is not verified (WAP does
    that); the token itself never appears in a message.
    """
    now = time_now() if now is None else now
    token = token_value(token, option)
    if not isinstance(token, str) or not token.strip():
        raise ValidationError('%s is required: a JWT from the WAP authentication site' % option, option=option)
    token = token.strip()
    if token[:7].lower() == 'bearer ':
        token = token[7:].strip()
    parts = token.split('.')
    if len(parts) != 3 or not parts[0] or not parts[1] or not all(_B64URL.match(p) for p in parts):
        raise ValidationError('%s is not a JWT: expected three base64url parts separated by "." (found %d part(s))'
                              % (option, len(parts)), option=option)
    header = jwt_header(token)
    claims = jwt_claims(token)
    if not header or not claims:
        raise ValidationError('%s is not a well-formed JWT: its %s is not base64url-encoded JSON object'
                              % (option, 'header' if not header else 'payload'), option=option)
    exp = claims.get('exp')
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not math.isfinite(exp):
        raise ValidationError('%s has no numeric "exp" (expiry) claim; WAP tokens always carry one' % option,
                              option=option)
    who = _token_subject(claims)
    now_ts = now.timestamp()
    if exp <= now_ts:
        expired_at = datetime.datetime.fromtimestamp(min(exp, 253402300799), UTC)
        whose = ' for %s' % who if who else ''
        raise ValidationError(
            '%s%s expired at %s (%s ago). Get a new token from the WAP authentication site (the admin site on port'
            ' 30072, or ADFS) and run again.' % (option, whose, format_utc(expired_at), _ago(now_ts - exp)),
            option=option, token_expired_at=format_utc(expired_at))
    return token, claims


def check_window(start, end):
    """``start`` must be before ``end`` (both aware datetimes)."""
    if start >= end:
        raise ValidationError('start_time (%s) must be before end_time (%s)' % (format_utc(start), format_utc(end)),
                              option='start_time')


def wap_time(when):
    """A .NET round-trip UTC time as WAP writes it: ``2013-06-22T07:00:00.0000000Z``."""
    return format_utc(when, 7)


def time_now():
    return datetime.datetime.now(UTC)


def _token_subject(claims):
    for key in ('upn', 'unique_name', 'email', 'sub'):
        if isinstance(claims.get(key), str) and claims[key]:
            return claims[key]
    return None


def _ago(seconds):
    seconds = int(seconds)
    if seconds < 120:
        return '%d seconds' % seconds
    if seconds < 7200:
        return '%d minutes' % (seconds // 60)
    if seconds < 172800:
        return '%d hours' % (seconds // 3600)
    return '%d days' % (seconds // 86400)


# --- the client ----------------------------------------------------------------------------------------------

class WapResult:
    """The raw metrics list WAP returned, with the ids of the request."""

    def __init__(self, metrics, request_id, client_request_id, url):
        self.metrics = metrics
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.url = url


class WapClient:
    """Calls on the WAP Service Management admin API.

    ``endpoint`` is a base URL from ``parse_endpoint``; ``token`` a checked
    JWT (``check_token``); ``principal_id`` the acting user sent as
    ``x-ms-principal-id``.  ``client_request_id`` is sent as
    ``x-ms-client-request-id`` (a new UUID when not given) and appears in
    every error.
    """

    def __init__(self, http, endpoint, token, principal_id, client_request_id=None, client_session_id=None,
                 principal_liveid=None):
        self.http = http
        self.endpoint = endpoint.rstrip('/')
        self.token = token
        self.principal_id = principal_id
        self.client_request_id = client_request_id or new_request_id()
        self.client_session_id = client_session_id
        self.principal_liveid = principal_liveid

    def headers(self):
        headers = {
            'Authorization': 'Bearer ' + self.token,
            PRINCIPAL_HEADER: self.principal_id,
            CLIENT_REQUEST_ID_HEADER: self.client_request_id,
            'Accept': 'application/json',
        }
        if self.client_session_id:
            headers[CLIENT_SESSION_ID_HEADER] = self.client_session_id
        if self.principal_liveid:
            headers[PRINCIPAL_LIVEID_HEADER] = self.principal_liveid
        return headers

    def addon_metrics(self, addon_id, start, end):
        """The add-on's metrics between ``start`` and ``end`` (aware datetimes) as WAP returned them."""
        url = '%s/addons/%s/metrics' % (self.endpoint, addon_segment(addon_id))
        params = {'startTime': wap_time(start), 'endTime': wap_time(end)}
        window = '%s to %s' % (params['startTime'], params['endTime'])
        try:
            resp = self.http.request('GET', url, SERVICE, params=params, headers=self.headers(), ok=(200,))
        except ServiceError as exc:
            raise self._service_error(exc, addon_id, window) from None
        except TransportError as exc:
            details = dict(exc.details)
            details['client_request_id'] = self.client_request_id
            raise TransportError('%s (client request id %s)' % (exc.msg, self.client_request_id), exc.sent,
                                 **details) from None
        return WapResult(self._decode(resp, url), resp.request_id, self.client_request_id, url)

    def _decode(self, resp, url):
        text = (resp.body or b'').decode('utf-8-sig', errors='replace').strip()
        doc = None
        what = 'an empty body'
        if text:
            try:
                doc = json.loads(text)
            except ValueError:
                what = 'a body that is not JSON (%s)' % (resp.headers.get('Content-Type') or 'no Content-Type')
            else:
                what = 'JSON that is not a list of metrics'
        if isinstance(doc, dict):
            for key in ('value', 'Value', 'Metrics', 'metrics'):
                if isinstance(doc.get(key), list):
                    doc = doc[key]
                    break
        if isinstance(doc, list) and all(isinstance(item, dict) for item in doc):
            return doc
        raise ServiceError(
            'WAP: GET %s returned HTTP %d with %s; is endpoint the WAP admin API (port %d)? (client request id %s)'
            % (url, resp.status, what, DEFAULT_PORT, self.client_request_id),
            status=resp.status, request_id=resp.request_id, client_request_id=self.client_request_id)

    def _service_error(self, exc, addon_id, window):
        status = exc.status
        said = ''
        if exc.code or exc.message:
            said = ' WAP said: %s' % ': '.join(x for x in (exc.code, exc.message) if x)
        if status == 401:
            why = ('the token was refused (HTTP 401): it has expired, was revoked, or is not valid for this WAP'
                   ' (issuer, audience or signing certificate). Get a new token from the WAP admin authentication'
                   ' site.')
        elif status == 403:
            why = ("access denied (HTTP 403): the principal '%s' (x-ms-principal-id) is not a WAP administrator, or"
                   ' the token does not allow acting as it.' % self.principal_id)
        elif status == 404:
            why = ('not found (HTTP 404): either the add-on %r does not exist (check addon_id), or WAP rejected the'
                   ' time window %s (check start_time and end_time); WAP answers 404 for both.' % (addon_id, window))
        elif status == 400:
            why = 'WAP refused the request as invalid (HTTP 400).'
        elif status == 409:
            why = 'conflict (HTTP 409).'
        elif status is not None and status >= 500:
            why = 'WAP failed with a server error (HTTP %d); try again later or check the WAP event logs.' % status
        else:
            why = 'unexpected answer (HTTP %s).' % status
        ids = 'client request id %s' % self.client_request_id
        if exc.request_id and exc.request_id != self.client_request_id:
            ids = 'request id %s, %s' % (exc.request_id, ids)
        details = dict(exc.details)
        for key in ('status', 'error_code', 'error_message', 'request_id'):
            details.pop(key, None)
        details['client_request_id'] = self.client_request_id
        return ServiceError('WAP: reading metrics of add-on %r: %s%s (%s)' % (addon_id, why, said, ids),
                            status=status, code=exc.code, message=exc.message,
                            request_id=exc.request_id or self.client_request_id, **details)


# --- normalising the answer ----------------------------------------------------------------------------------

def format_time(when):
    """UTC ISO 8601 with ``Z``: fraction digits only when there is a fraction, trailing zeros removed."""
    if when.microsecond:
        return format_utc(when, 6)[:-1].rstrip('0') + 'Z'
    return format_utc(when)


def normalize_metrics(raw_metrics, metric_names=None):
    """``(metrics, warnings)``: WAP's metrics in the documented shape, filtered by ``metric_names``.

    ``metric_names`` match case-insensitively; a requested name WAP did not
    return gives a warning.  A field that does not parse becomes ``None``
    with a warning (its raw text is kept), rather than failing the read.
    """
    warnings = []
    wanted = None
    if metric_names:
        wanted = {name.lower(): name for name in metric_names}
    metrics = []
    seen = set()
    for raw in raw_metrics:
        metric = normalize_metric(raw, warnings)
        key = (metric['name'] or '').lower()
        if wanted is not None and key not in wanted:
            continue
        seen.add(key)
        metrics.append(metric)
    if wanted is not None:
        missing = [name for key, name in wanted.items() if key not in seen]
        if missing:
            warnings.append('WAP returned no metric named %s' % ', '.join(repr(n) for n in missing))
    return metrics, warnings


def normalize_metric(raw, warnings):
    fields = _fields(raw)
    name = _str(fields.get('name'))
    label = name or '(unnamed)'
    unit = fields.get('unit')
    if unit in (None, ''):
        unit = fields.get('configstate')
    grain = fields.get('timegrain')
    grain_seconds = grain_iso = None
    if grain is not None:
        try:
            grain_seconds, grain_iso = describe(grain)
        except TimeSpanError as exc:
            warnings.append('metric %s: TimeGrain: %s' % (label, exc))
        if grain_seconds is not None and grain_seconds < 0:
            warnings.append('metric %s: TimeGrain: %r is negative; a time grain is a positive duration' % (label, grain))
            grain_seconds = grain_iso = None
    points = [normalize_value(v, label, warnings) for v in (fields.get('values') or []) if isinstance(v, dict)]
    points.sort(key=_time_order)
    return {
        'name': name,
        'primary_aggregation_type': _str(fields.get('primaryaggregationtype')),
        'unit': _str(unit),
        'time_grain': grain,
        'time_grain_seconds': grain_seconds,
        'time_grain_iso8601': grain_iso,
        'start_time': _time(fields.get('starttime'), label, 'StartTime', warnings),
        'start_time_raw': fields.get('starttime'),
        'end_time': _time(fields.get('endtime'), label, 'EndTime', warnings),
        'end_time_raw': fields.get('endtime'),
        'data_points': points,
    }


def normalize_value(raw, label, warnings):
    fields = _fields(raw)
    raw_time = fields.get('timecreated')
    if raw_time is None:
        raw_time = fields.get('time')
    value = {'time': _time(raw_time, label, 'TimeCreated', warnings), 'time_raw': raw_time}
    for key in ('total', 'minimum', 'maximum', 'count'):
        value[key] = _number(fields.get(key), label, key.capitalize(), warnings)
    return value


def _time_order(point):
    """Oldest first, points without a time last."""
    if point['time'] is None:
        return (1, None)
    return (0, parse_iso(point['time']))


def _fields(raw):
    """Keys lower-cased (WAP writes PascalCase; camelCase from a proxy is accepted too)."""
    return {k.lower(): v for k, v in raw.items() if isinstance(k, str)} if isinstance(raw, dict) else {}


def _str(value):
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _time(value, label, field, warnings):
    """UTC ISO 8601 from any WAP time form; a time without a zone is taken as UTC."""
    if value is None or value == '':
        return None
    try:
        return format_time(parse_iso(value))
    except TimeFormatError as exc:
        warnings.append('metric %s: %s: %s' % (label, field, exc))
        return None


def _number(value, label, field, warnings):
    if value is None:
        return None
    number = value
    if isinstance(value, str):
        try:
            number = float(value) if any(c in value for c in '.eE') else int(value)
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, (int, float)) or (
            isinstance(number, float) and not math.isfinite(number)):
        warnings.append('metric %s: %s %r is not a finite number; reported as null' % (label, field, value))
        return None
    return number
