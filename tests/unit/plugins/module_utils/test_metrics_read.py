# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
from urllib.parse import parse_qsl

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._metrics_read import (
    check_duration,
    dimension_filter,
    order_by,
    parse_definitions,
    parse_namespaces,
    parse_values,
    timespan,
    values_query,
)

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
T1 = datetime.datetime(2026, 11, 22, 11, 30, tzinfo=UTC)


# ---------------------------------------------------------------- filters
def test_filter_joins_values_with_or_and_dimensions_with_and():
    assert dimension_filter({'Queue': ['a', 'b'], 'Type': '*'}) == "Queue eq 'a' or Queue eq 'b' and Type eq '*'"


def test_filter_doubles_quotes_and_keeps_special_characters():
    assert dimension_filter({'Queue': "it's"}) == "Queue eq 'it''s'"
    assert dimension_filter({'Queue': "''"}) == "Queue eq ''''''"
    assert dimension_filter({'Queue': 'salt and pepper'}) == "Queue eq 'salt and pepper'"
    assert dimension_filter({'Path': "a/b?c=d&e#f%20"}) == "Path eq 'a/b?c=d&e#f%20'"


def test_filter_star_wins_and_numbers_become_text():
    assert dimension_filter({'Queue': ['a', '*']}) == "Queue eq '*'"
    assert dimension_filter({'Port': 443}) == "Port eq '443'"
    assert dimension_filter({}) is None
    assert dimension_filter(None) is None


@pytest.mark.parametrize('dims, rule', [
    ({'Queue Name': 'a'}, 'cannot be used in a filter'),
    ({"Queue'": 'a'}, 'cannot be used in a filter'),
    ({'Q(x)': 'a'}, 'cannot be used in a filter'),
    ({'': 'a'}, 'cannot be used in a filter'),
    ({'Queue': ''}, 'non-empty strings'),
    ({'Queue': ['a', None]}, 'non-empty strings'),
    ({'Queue': True}, 'a value, a list of values'),
    ({'Queue': []}, 'a value, a list of values'),
    ({'Queue': {'a': 1}}, 'a value, a list of values'),
])
def test_filter_refuses(dims, rule):
    with pytest.raises(ValidationError) as info:
        dimension_filter(dims)
    assert rule in info.value.msg
    assert info.value.details['option'] == 'dimensions'


# ---------------------------------------------------------------- query string
def test_query_percent_encodes_every_value():
    query = values_query('Queue Processing', ['QueueDepth', 'Latency'], '2026-11-22T10:00:00Z/2026-11-22T11:30:00Z',
                         'PT5M', ['Total', 'Count'], "Queue eq 'it''s & more'", 5, 'Total desc')
    assert query == ('api-version=2023-10-01&metricnamespace=Queue%20Processing&metricnames=QueueDepth%2CLatency'
                     '&timespan=2026-11-22T10%3A00%3A00Z%2F2026-11-22T11%3A30%3A00Z&interval=PT5M'
                     '&aggregation=Total%2CCount&$filter=Queue%20eq%20%27it%27%27s%20%26%20more%27&top=5'
                     '&orderby=Total%20desc')
    assert dict(parse_qsl(query))['$filter'] == "Queue eq 'it''s & more'"


def test_query_without_optional_parts():
    assert values_query('ns', ['m']) == ('api-version=2023-10-01&metricnamespace=ns&metricnames=m&interval=PT1M'
                                         '&aggregation=Total%2CCount%2CMinimum%2CMaximum%2CAverage')


@pytest.mark.parametrize('kwargs, option', [
    ({'namespace': ''}, 'namespace'),
    ({'metrics': []}, 'metrics'),
    ({'metrics': ['a,b']}, 'metrics'),
    ({'metrics': [str(i) for i in range(21)]}, 'metrics'),
    ({'interval': 'PT2M'}, 'interval'),
    ({'top': 0}, 'top'),
])
def test_query_refuses(kwargs, option):
    args = dict({'namespace': 'ns', 'metrics': ['m']}, **kwargs)
    with pytest.raises(ValidationError) as info:
        values_query(**args)
    assert info.value.details['option'] == option


def test_twenty_metric_names_pass():
    assert 'metricnames=' + '%2C'.join(str(i) for i in range(20)) in values_query('ns', [str(i) for i in range(20)])


# ---------------------------------------------------------------- time ranges
def test_timespan_forms():
    assert timespan(T0, T1) == '2026-11-22T10:00:00Z/2026-11-22T11:30:00Z'
    assert timespan(T0, None, 'PT30M') == '2026-11-22T10:00:00Z/PT30M'
    assert timespan(None, T1, 'PT30M') == 'PT30M/2026-11-22T11:30:00Z'
    assert timespan(None, None, 'PT1H') == 'PT1H'
    assert timespan() is None


def test_timespan_refuses():
    with pytest.raises(ValidationError, match='must be before'):
        timespan(T1, T0)
    with pytest.raises(ValidationError, match='cannot all be set'):
        timespan(T0, T1, 'PT1H')


@pytest.mark.parametrize('text, expected', [('PT1H', 'PT1H'), ('pt30m', 'PT30M'), ('PT3600.0S', 'PT3600.0S'),
                                            ('P1D', 'P1D'), ('P1DT2H', 'P1DT2H'), (' PT5M ', 'PT5M')])
def test_durations(text, expected):
    assert check_duration(text, 'duration') == expected


@pytest.mark.parametrize('text', ['P', 'PT', '1h', 'PT1H30', 'P1W', '', 'PTM', None])
def test_bad_durations(text):
    with pytest.raises(ValidationError, match='ISO 8601 duration'):
        check_duration(text, 'duration')


def test_order_by():
    assert order_by('total desc') == 'Total desc'
    assert order_by('Maximum') == 'Maximum'
    assert order_by('count ASC') == 'Count asc'
    for bad in ('sum desc', 'Total sideways', '', 'Total desc extra'):
        with pytest.raises(ValidationError, match='order_by'):
            order_by(bad)


# ---------------------------------------------------------------- responses
RESPONSE = {
    'cost': 0, 'timespan': '2026-11-22T10:00:00Z/2026-11-22T10:03:00Z', 'interval': 'PT1M', 'namespace': 'QueueProcessing',
    'resourceregion': 'eastus',
    'value': [
        {'id': '/x/providers/Microsoft.Insights/metrics/QueueDepth', 'name': {'value': 'QueueDepth', 'localizedValue': 'Depth'},
         'unit': 'Count', 'errorCode': 'Success',
         'timeseries': [
             {'metadatavalues': [{'name': {'value': 'queuename', 'localizedValue': 'queuename'}, 'value': "it's"},
                                 {'name': {'value': 'host', 'localizedValue': 'host'}, 'value': 'h1'}],
              'data': [{'timeStamp': '2026-11-22T10:00:00Z'},
                       {'timeStamp': '2026-11-22T10:01:00Z', 'total': 5.0, 'count': 2.0, 'minimum': 1.0, 'maximum': 4.0,
                        'average': 2.5},
                       {'timeStamp': '2026-11-22T10:02:00Z', 'total': 0.0, 'count': 0.0}]},
             {'metadatavalues': [{'name': {'value': 'queuename', 'localizedValue': 'queuename'}, 'value': 'b'},
                                 {'name': {'value': 'host', 'localizedValue': 'host'}, 'value': 'h2'}],
              'data': [{'timeStamp': '2026-11-22T10:02:00Z', 'total': 7.0}]}]},
        {'name': {'value': 'Gone'}, 'unit': 'Count', 'errorCode': 'MetricNotFound', 'errorMessage': 'no such metric',
         'timeseries': []},
    ],
}


def test_rows_one_per_series_and_time_with_data():
    rows, metrics = parse_values(RESPONSE, 'QueueProcessing', ['QueueName'])
    assert rows == [
        {'metric': 'QueueDepth', 'namespace': 'QueueProcessing', 'time': '2026-11-22T10:01:00Z',
         'dimensions': {'QueueName': "it's", 'host': 'h1'}, 'total': 5.0, 'count': 2.0, 'minimum': 1.0, 'maximum': 4.0,
         'average': 2.5},
        {'metric': 'QueueDepth', 'namespace': 'QueueProcessing', 'time': '2026-11-22T10:02:00Z',
         'dimensions': {'QueueName': "it's", 'host': 'h1'}, 'total': 0.0, 'count': 0.0},
        {'metric': 'QueueDepth', 'namespace': 'QueueProcessing', 'time': '2026-11-22T10:02:00Z',
         'dimensions': {'QueueName': 'b', 'host': 'h2'}, 'total': 7.0},
    ]
    assert metrics == [
        {'name': 'QueueDepth', 'unit': 'Count', 'series': 2, 'error_code': 'Success', 'error_message': None},
        {'name': 'Gone', 'unit': 'Count', 'series': 0, 'error_code': 'MetricNotFound', 'error_message': 'no such metric'},
    ]


def test_rows_of_an_empty_or_odd_answer():
    assert parse_values({}, 'ns') == ([], [])
    assert parse_values({'value': [None, 'x', {'name': 'plain', 'timeseries': [{'data': [None]}]}]}, 'ns') == (
        [], [{'name': 'plain', 'unit': None, 'series': 1, 'error_code': None, 'error_message': None}])


def test_namespaces_and_definitions():
    namespaces = {'value': [
        {'id': '/x/providers/microsoft.insights/metricNamespaces/microsoft.compute-virtualmachines',
         'name': 'microsoft.compute-virtualmachines', 'classification': 'Platform',
         'properties': {'metricNamespaceName': 'microsoft.compute/virtualmachines'}},
        {'id': '/x/providers/microsoft.insights/metricNamespaces/QueueProcessing', 'name': 'QueueProcessing',
         'classification': 'Custom', 'properties': {'metricNamespaceName': 'QueueProcessing'}}]}
    assert [(n['name'], n['classification']) for n in parse_namespaces(namespaces)] == [
        ('microsoft.compute/virtualmachines', 'Platform'), ('QueueProcessing', 'Custom')]
    definitions = {'value': [{
        'id': '/x/providers/microsoft.insights/metricdefinitions/QueueDepth', 'namespace': 'QueueProcessing',
        'name': {'value': 'QueueDepth', 'localizedValue': 'Queue depth'}, 'unit': 'Count', 'category': 'Custom',
        'primaryAggregationType': 'Average', 'supportedAggregationTypes': ['Average', 'Total'],
        'metricAvailabilities': [{'timeGrain': 'PT1M', 'retention': 'P93D'}, {'timeGrain': 'PT1H', 'retention': 'P93D'}],
        'dimensions': [{'value': 'QueueName', 'localizedValue': 'Queue'}], 'isDimensionRequired': False}]}
    assert parse_definitions(definitions) == [{
        'name': 'QueueDepth', 'namespace': 'QueueProcessing', 'unit': 'Count', 'category': 'Custom',
        'primary_aggregation': 'Average', 'aggregations': ['Average', 'Total'], 'dimensions': ['QueueName'],
        'time_grains': ['PT1M', 'PT1H'], 'dimension_required': False,
        'id': '/x/providers/microsoft.insights/metricdefinitions/QueueDepth'}]
