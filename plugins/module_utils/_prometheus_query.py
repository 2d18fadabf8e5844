# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading an Azure Monitor workspace back through its Prometheus query API (PromQL).

No Ansible here.  ``PrometheusReader`` takes an ``HttpClient``, the workspace's
query endpoint (``https://{workspace}-{suffix}.{region}.prometheus.monitor.azure.com``)
and a ``TokenSource`` for the audience ``https://prometheus.monitor.azure.com``.
The caller needs the data action ``Microsoft.Monitor/accounts/data/metrics/read``
on the workspace (Monitoring Data Reader grants it).

Request building and response parsing are pure functions: ``selector`` writes the
PromQL selector of a custom metric under the naming rule of ``_prometheus``,
``parse_result`` turns an answer into one row per series and time.
"""

from __future__ import annotations

import json
import math
import re

from ansible_collections.azmon.metrics.plugins.module_utils import _prometheus
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ServiceError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._time import format_utc, parse_time

SERVICE = 'Azure Monitor workspace (Prometheus query)'
MONITORING_DATA_READER = 'b0d8363b-8ddd-447d-831f-62ca05bff136'
READ_ACTION = 'Microsoft.Monitor/accounts/data/metrics/read'
# Prometheus refuses a range query of more than 11,000 points per series.
MAX_POINTS = 11000
_ENDPOINT = re.compile(r'^https://[^/?#\s]+(/[^?#\s]*)?$')


# ---------------------------------------------------------------------- requests
def check_endpoint(value, option='query_endpoint'):
    """The query endpoint without a trailing slash; raises ``ValidationError`` naming ``option``."""
    endpoint = (value or '').strip().rstrip('/') if isinstance(value, str) else ''
    if not _ENDPOINT.match(endpoint):
        raise ValidationError('%s: must be the https:// query endpoint of an Azure Monitor workspace (for example'
                              ' https://NAME-SUFFIX.eastus.prometheus.monitor.azure.com), without a query string; got %r'
                              % (option, value), option=option)
    return endpoint


def _quote_label_value(value):
    """A PromQL double-quoted string: JSON's escaping (backslash, quote, control characters) is valid PromQL."""
    return json.dumps(value, ensure_ascii=False)


def selector(metric, aggregate='sum', namespace=None, resource_id=None, dimensions=None):
    """The PromQL selector of one aggregate of a custom metric, under the naming rule of ``_prometheus``.

    ``dimensions`` maps dimension names to values (as given to the emit modules); every
    given part becomes an equality matcher, so the selector matches only that series set.
    """
    if not isinstance(metric, str) or not metric:
        raise ValidationError('metric must be a non-empty string', option='metric')
    try:
        name = _prometheus.metric_name(metric, aggregate)
    except ValueError as exc:
        raise ValidationError('aggregate: %s' % exc, option='aggregate') from None
    matchers = []
    if namespace is not None:
        matchers.append((_prometheus.NAMESPACE_LABEL, namespace))
    if resource_id is not None:
        matchers.append((_prometheus.RESOURCE_LABEL, resource_id))
    for dim, value in (dimensions or {}).items():
        if not isinstance(value, str):
            raise ValidationError('dimensions: the value of %r must be a string, got %r' % (dim, value),
                                  option='dimensions')
        matchers.append((_prometheus.dimension_label(dim), value))
    if not matchers:
        return name
    return '%s{%s}' % (name, ','.join('%s=%s' % (label, _quote_label_value(value)) for label, value in matchers))


def _stamp(when):
    """Unix seconds as Prometheus takes them (``1764757860`` or ``1764757860.5``)."""
    seconds = when.timestamp()
    return ('%d' % seconds) if float(seconds).is_integer() else ('%.3f' % seconds)


def instant_params(query, at=None):
    """Form fields of ``/api/v1/query``; ``at`` an aware datetime, or None for the server's now."""
    params = [('query', query)]
    if at is not None:
        params.append(('time', _stamp(at)))
    return params


def range_params(query, start, end, step):
    """Form fields of ``/api/v1/query_range``; ``step`` in whole seconds; raises ``ValidationError``."""
    if end <= start:
        raise ValidationError('start_time (%s) must be before end_time (%s)' % (format_utc(start), format_utc(end)),
                              option='start_time')
    if not isinstance(step, int) or isinstance(step, bool) or step < 1:
        raise ValidationError('step must be a whole number of seconds, 1 or more; got %r' % (step,), option='step')
    points = (end - start).total_seconds() / step
    if points > MAX_POINTS:
        raise ValidationError('step: %d seconds over %s to %s gives %d points per series; Prometheus takes at most'
                              ' %d, so use a larger step or a shorter range'
                              % (step, format_utc(start), format_utc(end), int(points), MAX_POINTS), option='step')
    return [('query', query), ('start', _stamp(start)), ('end', _stamp(end)), ('step', '%d' % step)]


# ---------------------------------------------------------------------- answers
def _number(text):
    """A sample value: a float when finite, else Prometheus's own spelling (``NaN``, ``+Inf``, ``-Inf``)."""
    value = float(text)
    return value if math.isfinite(value) else str(text)


def _row(labels, sample, names):
    stamp, text = float(sample[0]), sample[1]
    row = {'name': labels.get('__name__'), 'labels': {k: v for k, v in labels.items() if k != '__name__'},
           'time': format_utc(parse_time(stamp), 0 if stamp.is_integer() else 3),
           'value': _number(text)}
    if names:
        try:
            row['custom_metric'] = _prometheus.parse_series(labels)
        except ValueError:
            row['custom_metric'] = None
    return row


def parse_result(doc, names=True):
    """``(result_type, rows, series)`` of a query answer: one row per series and time, in the answer's order.

    A row: ``name`` (the metric name), ``labels`` (the other labels), ``time`` (UTC), ``value``; with ``names``
    also ``custom_metric``: the namespace, metric, aggregate, resource ID and dimensions the naming rule gives
    back, or None for a series it did not make.  Scalars and strings come back as one row without labels.
    """
    if not isinstance(doc, dict) or doc.get('status') != 'success' or not isinstance(doc.get('data'), dict):
        raise ServiceError('%s: the answer is not a Prometheus success document: %.200r' % (SERVICE, doc))
    data = doc['data']
    kind = data.get('resultType')
    result = data.get('result')
    rows = []
    if kind == 'vector':
        for item in result or ():
            rows.append(_row(item.get('metric') or {}, item['value'], names))
        series = len(result or ())
    elif kind == 'matrix':
        for item in result or ():
            for sample in item.get('values') or ():
                rows.append(_row(item.get('metric') or {}, sample, names))
        series = len(result or ())
    elif kind in ('scalar', 'string'):
        row = _row({}, result, False)
        if kind == 'string':
            row['value'] = result[1]
        rows.append(row)
        series = 0
    else:
        raise ServiceError('%s: unknown resultType %r' % (SERVICE, kind))
    return kind, rows, series


# ---------------------------------------------------------------------- client
class PrometheusReader:
    """Instant and range queries on one workspace's query endpoint."""

    def __init__(self, http, endpoint, token):
        self.http = http
        self.endpoint = check_endpoint(endpoint)
        self.token = token
        self.request_ids = []

    def _post(self, path, params):
        url = self.endpoint + path
        try:
            # POST with a form body, as Prometheus allows, so that long selectors do not meet URL limits; a query
            # changes nothing, so it may be retried like a GET.
            resp = self.http.request('POST', url, SERVICE, data=params, token=self.token, idempotent=True,
                                     ok=(200,))
        except ServiceError as exc:
            raise self._explain(exc) from None
        self.request_ids.append(resp.request_id)
        return resp.json() or {}

    def _explain(self, exc):
        if exc.message is None and exc.code and ' ' in exc.code:
            # a Prometheus error body {"status": "error", "errorType": ..., "error": TEXT} decodes with TEXT as
            # the code: make it the message
            exc = ServiceError(exc.msg, status=exc.status, message=exc.code, request_id=exc.request_id)
        if exc.status == 403:
            return ServiceError(
                '%s: the signed-in principal may not query %s (HTTP 403). It needs the data action %s on the'
                ' Azure Monitor workspace, which the built-in role Monitoring Data Reader (%s) grants;'
                ' Monitoring Metrics Publisher on the data collection rule does not.%s'
                % (SERVICE, self.endpoint, READ_ACTION, MONITORING_DATA_READER,
                   ' The service said: %s' % (exc.message or exc.code) if (exc.message or exc.code) else ''),
                status=exc.status, code=exc.code, message=exc.message, request_id=exc.request_id,
                required_permission=READ_ACTION)
        if exc.status in (400, 422):
            why = exc.message or exc.code
            return ServiceError('%s: the query was refused (HTTP %s): %s' % (SERVICE, exc.status, why),
                                status=exc.status, code=exc.code, message=exc.message, request_id=exc.request_id)
        return exc

    def query(self, kind, fields, names=True):
        """``(result_type, rows, series)`` for ``kind`` ``instant`` or ``range`` and fields from ``instant_params``
        or ``range_params``."""
        path = '/api/v1/query' if kind == 'instant' else '/api/v1/query_range'
        return parse_result(self._post(path, fields), names)
