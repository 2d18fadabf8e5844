# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""custom_metric_info's main(): every refusal happens before signing in or sending anything."""

from __future__ import annotations

import pytest

from ansible_collections.azmon.metrics.plugins.modules import custom_metric_info

VM = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'
# an unreachable endpoint and an access token: a request would fail with a connection error, not with the rule
BASE = {'resource_id': VM, 'access_token': 'not-a-real-token', 'arm_endpoint': 'https://127.0.0.1:9'}


@pytest.mark.parametrize('args, option, rule', [
    ({'namespace': 'NS'}, 'metrics', 'metrics is required with query=values'),
    ({'metrics': ['m']}, 'namespace', 'namespace is required with query=values'),
    ({'namespace': 'NS', 'metrics': ['m'], 'duration': '90 minutes'}, 'duration', 'ISO 8601 duration'),
    ({'namespace': 'NS', 'metrics': ['m'], 'end_time': 'now'}, 'end_time', 'end_time needs start_time or duration'),
    ({'namespace': 'NS', 'metrics': ['m'], 'start_time': 'now', 'end_time': '-1h'}, 'start_time', 'must be before'),
    ({'namespace': 'NS', 'metrics': ['m'], 'dimensions': {'Queue Name': 'a'}}, 'dimensions', 'cannot be used in a filter'),
    ({'namespace': 'NS', 'metrics': ['m'], 'top': 0}, 'top', 'top must be 1 or more'),
    ({'namespace': 'NS', 'metrics': ['m'], 'order_by': 'Total up'}, 'order_by', 'order_by must be an aggregation'),
    ({'query': 'namespaces', 'namespace': 'NS'}, 'namespace', 'does not apply to query=namespaces'),
    ({'query': 'definitions', 'metrics': ['m']}, 'metrics', 'only applies to query=values'),
    ({'resource_id': VM.rsplit('/providers/', 1)[0], 'namespace': 'NS', 'metrics': ['m']}, 'resource_id', 'resource'),
])
def test_refusals_name_the_option(run_main, args, option, rule):
    result = run_main(custom_metric_info, dict(BASE, **args))
    assert result['failed']
    assert result['option'] == option
    assert rule in result['msg']
    assert 'Traceback' not in result['msg']


def test_a_transport_failure_is_reported_not_raised(run_main):
    result = run_main(custom_metric_info, dict(BASE, namespace='NS', metrics=['m'], timeout=2))
    assert result['failed']
    assert 'Azure Monitor metrics (ARM)' in result['msg']
    assert 'not-a-real-token' not in str(result)


@pytest.mark.parametrize('params, result, line', [
    ({'query': 'values', 'resource_id': VM},
     {'rows': [{}, {}, {}], 'metrics': [{'series': 2}, {'series': 0}], 'timespan': '2026-11-22T10:00:00Z/2026-11-22T11:00:00Z'},
     '3 row(s) in 2 series of 2 metric(s) read for 2026-11-22T10:00:00Z/2026-11-22T11:00:00Z'),
    ({'query': 'namespaces', 'resource_id': VM}, {'namespaces': [{}, {}]}, '2 metric namespace(s) of ' + VM),
    ({'query': 'definitions', 'resource_id': VM, 'namespace': 'Deployments'}, {'definitions': [{}]},
     '1 metric definition(s) in Deployments'),
    ({'query': 'definitions', 'resource_id': VM, 'namespace': None}, {'definitions': []},
     '0 metric definition(s) in the platform namespace'),
])
def test_summary_says_what_was_read_in_one_line(params, result, line):
    assert custom_metric_info.summary(params, result) == line


@pytest.mark.parametrize('args, option, rule', [
    ({'query': 'namespaces'}, 'expect', 'expect only applies to query=values'),
    ({'metrics': ['m']}, 'metrics', 'metrics cannot be used with expect'),
    ({'duration': 'PT1H'}, 'duration', 'duration cannot be used with expect'),
    ({'expect': [{'metric': 'm', 'namespace': 'NS', 'time': '2026-12-03T19:31:00Z', 'count': 1}]}, 'expect',
     'expect[0].sum must be a number'),
])
def test_expect_refusals_name_the_option_before_anything_is_sent(run_main, args, option, rule):
    result = run_main(custom_metric_info, dict(dict(BASE, expect=[]), **args))
    assert result['failed']
    assert result['option'] == option
    assert rule in result['msg']


def test_expect_with_nothing_sent_reads_nothing(run_main):
    result = run_main(custom_metric_info, dict(BASE, expect=[{'metric': 'm', 'status': 'skipped'}]))
    assert not result.get('failed'), result
    assert result['expected'] == [] and result['mismatched'] == 0
    assert result['msg'] == 'nothing to check: no expected series with status sent'
