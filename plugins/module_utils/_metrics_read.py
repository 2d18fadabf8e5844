# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading metrics back through Azure Resource Manager: values, metric namespaces and metric definitions.

Nothing here knows about Ansible.  ``MetricsReader`` takes an ``HttpClient``,
the ARM endpoint and a ``TokenSource`` for the ARM audience.  The caller needs
the action ``Microsoft.Insights/Metrics/Read`` on the resource (Monitoring
Reader, Reader; the Monitoring Metrics Publisher role cannot read).

Request building and response parsing are pure functions so that they can be
tested without a server: every option value that goes into the query string is
checked or quoted for its place (dimension values as OData string literals with
``'`` doubled, then percent-encoded).
"""

from __future__ import annotations

import re

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ServiceError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._graph import encode_query_value, odata_string
from ansible_collections.azmon.metrics.plugins.module_utils._http import quote_path
from ansible_collections.azmon.metrics.plugins.module_utils._time import format_utc

SERVICE = 'Azure Monitor metrics (ARM)'
API_VERSION = '2023-10-01'
# the built-in role whose actions include Microsoft.Insights/Metrics/Read (an action, not a data action)
MONITORING_READER = '43d0d8ad-25c7-4714-9337-8ba259a9fe05'
READ_ACTION = 'Microsoft.Insights/Metrics/Read'
PROVIDER = '/providers/Microsoft.Insights'
AGGREGATIONS = ('Total', 'Count', 'Minimum', 'Maximum', 'Average')
INTERVALS = ('PT1M', 'PT5M', 'PT15M', 'PT30M', 'PT1H', 'PT6H', 'PT12H', 'P1D', 'FULL')
MAX_METRIC_NAMES = 20
# a dimension name goes into $filter unquoted: no whitespace, quotes, parentheses or commas
DIMENSION_NAME_RE = re.compile(r"^[^\s'\"(),]+$")
DURATION_RE = re.compile(r'^P(?=\d|T\d)(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$')
ORDER_RE = re.compile(r'^(?P<agg>[A-Za-z]+)(?:\s+(?P<dir>asc|desc))?$', re.IGNORECASE)
_AGG_KEYS = {name.lower(): name for name in AGGREGATIONS}


# ---------------------------------------------------------------------- requests
def check_duration(value, option):
    """``value`` upper-cased when it is an ISO 8601 duration of days, hours, minutes, seconds (``PT1H``)."""
    text = value.strip().upper() if isinstance(value, str) else ''
    if not DURATION_RE.match(text):
        raise ValidationError('%s must be an ISO 8601 duration such as PT30M, PT1H or P1D, got %r' % (option, value),
                              option=option)
    return text


def timespan(start=None, end=None, duration=None):
    """The ``timespan`` parameter: ``start/end``, ``start/duration``, or a bare duration ending now.

    ``start`` and ``end`` are aware datetimes; ``duration`` a checked ISO 8601 duration.
    """
    if start is not None and end is not None:
        if duration is not None:
            raise ValidationError('start_time, end_time and duration cannot all be set: give two of them, or'
                                  ' duration alone', option='duration')
        if end <= start:
            raise ValidationError('start_time (%s) must be before end_time (%s)' % (format_utc(start), format_utc(end)),
                                  option='start_time')
        return '%s/%s' % (format_utc(start), format_utc(end))
    if start is not None:
        return '%s/%s' % (format_utc(start), duration) if duration else None
    if end is not None:
        return '%s/%s' % (duration, format_utc(end)) if duration else None
    return duration


def dimension_filter(dimensions):
    """The ``$filter`` for ``{name: value | [values] | '*'}``, in the order given, or ``None`` for no dimensions.

    Values of one dimension are joined by ``or``, dimensions by ``and``, as the
    metrics API documents (``A eq 'a1' or A eq 'a2' and B eq '*'``); ``'*'``
    splits the result by that dimension without filtering it.
    """
    clauses = []
    for name, values in (dimensions or {}).items():
        if not isinstance(name, str) or not DIMENSION_NAME_RE.match(name):
            raise ValidationError('dimensions: the dimension name %r cannot be used in a filter: it must be non-empty'
                                  ' and hold no whitespace, quotes, parentheses or commas' % (name,), option='dimensions')
        if isinstance(values, (str, int, float)) and not isinstance(values, bool):
            values = [values]
        if not isinstance(values, (list, tuple)) or not values:
            raise ValidationError('dimensions: %s must be a value, a list of values, or "*"' % name, option='dimensions')
        texts = []
        for value in values:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == '':
                raise ValidationError('dimensions: %s has the value %r; values are non-empty strings' % (name, value),
                                      option='dimensions')
            texts.append(str(value))
        if '*' in texts:
            texts = ['*']
        clauses.append(' or '.join('%s eq %s' % (name, odata_string(text)) for text in texts))
    return ' and '.join(clauses) or None


def order_by(value):
    """``'Total desc'`` from ``'total desc'``, ``'Maximum'``; raises naming the option."""
    match = ORDER_RE.match(value.strip()) if isinstance(value, str) else None
    if not match or match.group('agg').lower() not in _AGG_KEYS:
        raise ValidationError("order_by must be an aggregation (%s) optionally followed by asc or desc, e.g."
                              " 'Total desc'; got %r" % (', '.join(AGGREGATIONS), value), option='order_by')
    text = _AGG_KEYS[match.group('agg').lower()]
    return text + (' ' + match.group('dir').lower() if match.group('dir') else '')


def values_query(namespace, metrics, span=None, interval='PT1M', aggregations=AGGREGATIONS, filter_text=None,
                 top=None, orderby=None, api_version=API_VERSION):
    """The query string of a metric values request, every value percent-encoded (spaces as ``%20``)."""
    if not namespace:
        raise ValidationError('namespace is required to read metric values', option='namespace')
    if not metrics or any(not isinstance(m, str) or not m or ',' in m for m in metrics):
        raise ValidationError('metrics must list 1 to %d metric names, none empty or holding a comma'
                              % MAX_METRIC_NAMES, option='metrics')
    if len(metrics) > MAX_METRIC_NAMES:
        raise ValidationError('metrics lists %d names; the metrics API takes at most %d in one request'
                              % (len(metrics), MAX_METRIC_NAMES), option='metrics')
    if interval not in INTERVALS:
        raise ValidationError('interval must be one of %s, got %r' % (', '.join(INTERVALS), interval), option='interval')
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ValidationError('top must be a whole number of 1 or more, got %r' % (top,), option='top')
    params = [('api-version', api_version), ('metricnamespace', namespace), ('metricnames', ','.join(metrics))]
    if span:
        params.append(('timespan', span))
    params += [('interval', interval), ('aggregation', ','.join(aggregations))]
    if filter_text:
        params.append(('$filter', filter_text))
    if top is not None:
        params.append(('top', str(top)))
    if orderby:
        params.append(('orderby', orderby))
    return '&'.join('%s=%s' % (key, encode_query_value(value)) for key, value in params)


# ---------------------------------------------------------------------- responses
def parse_values(doc, namespace, dimension_names=()):
    """``(rows, metrics)`` from a metric values response.

    ``rows``: one dict per series and time that has data: ``metric``, ``namespace``,
    ``time``, ``dimensions`` (a mapping; names in the case of ``dimension_names``
    when they match ignoring case, since Azure echoes them in lower case) and the
    aggregations present (``total``, ``count``, ``minimum``, ``maximum``, ``average``).
    ``metrics``: one dict per metric: ``name``, ``unit``, ``series``, ``error_code``, ``error_message``.
    """
    cased = {name.lower(): name for name in dimension_names or ()}
    rows, metrics = [], []
    for item in (doc or {}).get('value') or []:
        if not isinstance(item, dict):
            continue
        name = _localizable(item.get('name'))
        series = [s for s in item.get('timeseries') or [] if isinstance(s, dict)]
        metrics.append({'name': name, 'unit': item.get('unit'), 'series': len(series),
                        'error_code': item.get('errorCode'), 'error_message': item.get('errorMessage')})
        for entry in series:
            dims = {}
            for meta in entry.get('metadatavalues') or []:
                key = _localizable(meta.get('name')) if isinstance(meta, dict) else None
                if key is not None:
                    dims[cased.get(key.lower(), key)] = meta.get('value')
            for point in entry.get('data') or []:
                if not isinstance(point, dict):
                    continue
                row = {'metric': name, 'namespace': namespace, 'time': point.get('timeStamp'), 'dimensions': dict(dims)}
                found = False
                for key in ('total', 'count', 'minimum', 'maximum', 'average'):
                    if point.get(key) is not None:
                        row[key] = point[key]
                        found = True
                if found:
                    rows.append(row)
    return rows, metrics


def parse_namespaces(doc):
    return [{'name': (item.get('properties') or {}).get('metricNamespaceName') or item.get('name'),
             'classification': item.get('classification'), 'id': item.get('id')}
            for item in (doc or {}).get('value') or [] if isinstance(item, dict)]


def parse_definitions(doc):
    found = []
    for item in (doc or {}).get('value') or []:
        if not isinstance(item, dict):
            continue
        found.append({
            'name': _localizable(item.get('name')), 'namespace': item.get('namespace'), 'unit': item.get('unit'),
            'category': item.get('category'), 'primary_aggregation': item.get('primaryAggregationType'),
            'aggregations': list(item.get('supportedAggregationTypes') or []),
            'dimensions': [_localizable(d) for d in item.get('dimensions') or []],
            'time_grains': [a.get('timeGrain') for a in item.get('metricAvailabilities') or [] if isinstance(a, dict)],
            'dimension_required': item.get('isDimensionRequired'), 'id': item.get('id'),
        })
    return found


def _localizable(value):
    if isinstance(value, dict):
        return value.get('value')
    return value


# ---------------------------------------------------------------------- client
class MetricsReader:
    """The three read calls of the metrics API on one resource (no paging: these answers are not paged)."""

    def __init__(self, http, endpoint, token, api_version=API_VERSION):
        if not endpoint:
            raise ValidationError('arm_endpoint is empty')
        self.http = http
        self.endpoint = endpoint.rstrip('/')
        self.token = token
        self.api_version = api_version
        self.request_ids = []

    def _get(self, resource_id, kind, query):
        url = '%s%s%s/%s?%s' % (self.endpoint, quote_path(resource_id), PROVIDER, kind, query)
        try:
            resp = self.http.request('GET', url, SERVICE, token=self.token, ok=(200,))
        except ServiceError as exc:
            if exc.status != 403:
                raise
            raise exc.recast(
                ServiceError,
                '%s: the signed-in principal may not read metrics of %s (HTTP 403 %s). It needs the action %s there,'
                ' which the built-in roles Monitoring Reader (%s) and Reader grant at the resource or a parent scope;'
                ' Monitoring Metrics Publisher cannot read. azmon.metrics.metrics_publisher_role with role=reader'
                ' assigns it.%s' % (SERVICE, resource_id, exc.code or '', READ_ACTION, MONITORING_READER,
                                    ' ARM said: %s' % exc.message if exc.message else ''),
                required_permission=READ_ACTION) from None
        self.request_ids.append(resp.request_id)
        return resp.json() or {}

    def values(self, resource_id, namespace, metrics, span=None, interval='PT1M', aggregations=AGGREGATIONS,
               dimensions=None, top=None, orderby=None):
        """``(doc, rows, metrics)`` for one values request; ``dimensions`` as for ``dimension_filter``."""
        query = values_query(namespace, metrics, span, interval, aggregations, dimension_filter(dimensions), top,
                             orderby, self.api_version)
        doc = self._get(resource_id, 'metrics', query)
        rows, summary = parse_values(doc, namespace, list(dimensions or {}))
        return doc, rows, summary

    def namespaces(self, resource_id, start=None):
        query = 'api-version=' + encode_query_value(self.api_version)
        if start is not None:
            query += '&startTime=' + encode_query_value(format_utc(start))
        return parse_namespaces(self._get(resource_id, 'metricNamespaces', query))

    def definitions(self, resource_id, namespace=None):
        query = 'api-version=' + encode_query_value(self.api_version)
        if namespace:
            query += '&metricnamespace=' + encode_query_value(namespace)
        return parse_definitions(self._get(resource_id, 'metricDefinitions', query))
