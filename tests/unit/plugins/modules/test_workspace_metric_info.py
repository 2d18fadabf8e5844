# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.modules.workspace_metric_info import OWN_OPTIONS, plan

NOW = datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.timezone.utc)
ENDPOINT = 'https://amw-1a.eastus.prometheus.monitor.azure.com'


def params(**given):
    out = {name: spec.get('default') for name, spec in OWN_OPTIONS.items()}
    out['query_endpoint'] = ENDPOINT
    out.update(given)
    return out


def test_a_metric_becomes_an_instant_selector():
    assert plan(params(metric='QueueDepth', namespace='Ns', dimensions={'QueueName': 'images'}), NOW) == (
        ENDPOINT, 'instant', 'QueueDepth_sum{azure_namespace="Ns",dim_QueueName="images"}',
        [('query', 'QueueDepth_sum{azure_namespace="Ns",dim_QueueName="images"}')])


def test_start_time_makes_a_range_query_ending_now():
    assert plan(params(promql='sum(x_sum)', start_time='-1h', step=300), NOW) == (
        ENDPOINT, 'range', 'sum(x_sum)',
        [('query', 'sum(x_sum)'), ('start', '1795338000'), ('end', '1795341600'), ('step', '300')])


def test_an_instant_query_at_a_given_time():
    assert plan(params(metric='m', aggregate='count', time='2026-11-22T09:59:00Z'), NOW)[3] == [
        ('query', 'm_count'), ('time', '1795341540')]


@pytest.mark.parametrize('given, option', [
    ({}, 'promql'),
    ({'promql': 'up', 'metric': 'm'}, 'promql'),
    ({'promql': 'up', 'namespace': 'Ns'}, 'namespace'),
    ({'metric': 'm', 'end_time': 'now'}, 'end_time'),
    ({'metric': 'm', 'start_time': '-1h', 'time': 'now'}, 'time'),
    ({'metric': 'm', 'time': 'yesterday'}, 'time'),
    ({'metric': 'm', 'start_time': '-1h', 'step': 0}, 'step'),
    ({'metric': 'm', 'query_endpoint': 'amw.eastus.prometheus.monitor.azure.com'}, 'query_endpoint'),
])
def test_bad_options_are_refused_naming_the_option(given, option):
    with pytest.raises(ValidationError) as info:
        plan(params(**given), NOW)
    assert info.value.details['option'] == option
