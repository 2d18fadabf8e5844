# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ServiceError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._prometheus_query import (
    PrometheusReader,
    check_endpoint,
    instant_params,
    parse_result,
    range_params,
    selector,
)

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
VM = '/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'


# ---------------------------------------------------------------- requests
def test_selector_of_a_custom_metric_follows_the_naming_rule():
    assert selector('QueueDepth') == 'QueueDepth_sum'
    assert selector('Disk.Read_Bytes', 'max', namespace='Ns', resource_id=VM, dimensions={'Queue Name': 'a'}) == (
        'Disk_2e_Read__Bytes_max{azure_namespace="Ns",azure_resource_id="%s",dim_Queue_20_Name="a"}' % VM)
    assert selector('5xx', 'count') == '_35_xx_count'


def test_selector_quotes_every_value():
    assert selector('m', dimensions={'d': 'a"b\\c\nd'}) == r'm_sum{dim_d="a\"b\\c\nd"}'
    assert selector('m', dimensions={'d': 'Tom\'s é'}) == 'm_sum{dim_d="Tom\'s é"}'


@pytest.mark.parametrize('kwargs, option', [
    ({'metric': ''}, 'metric'),
    ({'metric': 'm', 'aggregate': 'avg'}, 'aggregate'),
    ({'metric': 'm', 'dimensions': {'d': 3}}, 'dimensions'),
])
def test_selector_refuses(kwargs, option):
    with pytest.raises(ValidationError) as info:
        selector(**kwargs)
    assert info.value.details['option'] == option


def test_endpoint():
    assert check_endpoint('https://amw-1a.eastus.prometheus.monitor.azure.com/') == (
        'https://amw-1a.eastus.prometheus.monitor.azure.com')
    for bad in ('http://amw.eastus.prometheus.monitor.azure.com', 'https://amw/x?y=1', 'https://amw#f', '', None, 3):
        with pytest.raises(ValidationError, match='^query_endpoint: must be the https://'):
            check_endpoint(bad)


def test_instant_and_range_fields():
    assert instant_params('up') == [('query', 'up')]
    assert instant_params('up', T0) == [('query', 'up'), ('time', '1795341600')]
    assert instant_params('up', T0 + datetime.timedelta(milliseconds=500)) == [('query', 'up'),
                                                                               ('time', '1795341600.500')]
    assert range_params('up', T0, T0 + datetime.timedelta(hours=1), 60) == [
        ('query', 'up'), ('start', '1795341600'), ('end', '1795345200'), ('step', '60')]


@pytest.mark.parametrize('end, step, option, text', [
    (T0, 60, 'start_time', 'must be before end_time'),
    (T0 + datetime.timedelta(hours=1), 0, 'step', 'whole number of seconds'),
    (T0 + datetime.timedelta(days=8), 60, 'step', '11520 points per series'),
])
def test_range_refuses(end, step, option, text):
    with pytest.raises(ValidationError, match=text) as info:
        range_params('up', T0, end, step)
    assert info.value.details['option'] == option


# ---------------------------------------------------------------- answers
def test_vector_rows_with_the_naming_rule_reversed():
    doc = {'status': 'success', 'data': {'resultType': 'vector', 'result': [
        {'metric': {'__name__': 'QueueDepth_sum', 'azure_namespace': 'Queue.Processing', 'azure_resource_id': VM,
                    'dim_Queue__Name': 'images'}, 'value': [1795341600, '28']},
        {'metric': {'__name__': 'up', 'job': 'x'}, 'value': [1795341600.5, 'NaN']},
    ]}}
    kind, rows, series = parse_result(doc)
    assert (kind, series) == ('vector', 2)
    assert rows[0] == {'name': 'QueueDepth_sum', 'time': '2026-11-22T10:00:00Z', 'value': 28.0,
                       'labels': {'azure_namespace': 'Queue.Processing', 'azure_resource_id': VM,
                                  'dim_Queue__Name': 'images'},
                       'custom_metric': {'namespace': 'Queue.Processing', 'metric': 'QueueDepth', 'aggregate': 'sum',
                                         'resource_id': VM, 'dimensions': {'Queue_Name': 'images'}}}
    assert rows[1] == {'name': 'up', 'labels': {'job': 'x'}, 'time': '2026-11-22T10:00:00.500Z', 'value': 'NaN',
                       'custom_metric': None}


def test_matrix_rows_one_per_series_and_time_without_names():
    doc = {'status': 'success', 'data': {'resultType': 'matrix', 'result': [
        {'metric': {'dim_QueueName': 'a'}, 'values': [[1795341600, '1'], [1795341660, '2.5']]},
        {'metric': {'dim_QueueName': 'b'}, 'values': [[1795341600, '+Inf']]},
    ]}}
    kind, rows, series = parse_result(doc, names=False)
    assert (kind, series) == ('matrix', 2)
    assert [(r['labels']['dim_QueueName'], r['time'], r['value']) for r in rows] == [
        ('a', '2026-11-22T10:00:00Z', 1.0), ('a', '2026-11-22T10:01:00Z', 2.5), ('b', '2026-11-22T10:00:00Z', '+Inf')]
    assert all('custom_metric' not in r and r['name'] is None for r in rows)


def test_scalar_and_empty_answers():
    assert parse_result({'status': 'success', 'data': {'resultType': 'scalar', 'result': [1795341600, '3']}}) == (
        'scalar', [{'name': None, 'labels': {}, 'time': '2026-11-22T10:00:00Z', 'value': 3.0}], 0)
    assert parse_result({'status': 'success', 'data': {'resultType': 'vector', 'result': []}}) == ('vector', [], 0)


@pytest.mark.parametrize('doc', [
    {'status': 'error', 'errorType': 'bad_data', 'error': 'x'},
    {'status': 'success', 'data': {'resultType': 'histogram', 'result': []}},
    [],
])
def test_odd_answers_are_service_errors(doc):
    with pytest.raises(ServiceError):
        parse_result(doc)


class _RefusingHttp:
    """An HttpClient stand-in that refuses as HttpClient does for a Prometheus error body."""

    def __init__(self, status, code):
        self.status, self.code = status, code
        self.sent = []

    def request(self, method, url, service, **kwargs):
        self.sent.append((method, url, kwargs['data']))
        raise ServiceError('HTTP %d' % self.status, status=self.status, code=self.code, request_id='r1')


def test_a_403_names_the_reader_role_and_keeps_the_text_as_the_message():
    http = _RefusingHttp(403, 'The client x may not read')
    reader = PrometheusReader(http, 'https://amw.eastus.prometheus.monitor.azure.com/', token=None)
    with pytest.raises(ServiceError) as info:
        reader.query('instant', [('query', 'up')])
    assert http.sent == [('POST', 'https://amw.eastus.prometheus.monitor.azure.com/api/v1/query', [('query', 'up')])]
    assert 'Monitoring Data Reader (b0d8363b-8ddd-447d-831f-62ca05bff136)' in info.value.msg
    assert info.value.details['error_message'] == 'The client x may not read'
    assert info.value.details['error_code'] is None
    assert info.value.details['required_permission'] == 'Microsoft.Monitor/accounts/data/metrics/read'


def test_a_bad_query_says_why():
    reader = PrometheusReader(_RefusingHttp(400, 'parse error at char 3'), 'https://amw.eastus.x.com', token=None)
    with pytest.raises(ServiceError, match=r'the query was refused \(HTTP 400\): parse error at char 3'):
        reader.query('range', [('query', 'a b')])
