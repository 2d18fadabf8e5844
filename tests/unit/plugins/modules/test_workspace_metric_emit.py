# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""workspace_metric_emit's main() against the emulator's data collection endpoint (tests/unit/conftest.py: ``emu``),
signing in with an access token the emulator issued."""

from __future__ import annotations

import builtins

import pytest
import requests

from ansible_collections.azmon.metrics.plugins.modules import workspace_metric_emit

cramjam = pytest.importorskip('cramjam', reason='cramjam is a requirement of workspace_metric_emit')

# the emulator's seed: vm1 in rg-demo, and the rule there that writes to the workspace amw-demo
RID = '/subscriptions/1d2c3b4a-5e6f-4a8b-9c0d-e1f2a3b4c5d6/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1'
DCR = 'dcr-8c2d1e0f4b7a4c3d9e5f6a7b8c9d0e1f'
PUBLISHER_OID = 'c0000003-0000-4000-8000-000000000003'


def token(emu, handle, audience):
    return emu.admin('POST', '/_admin/tokens/access', {'principal': handle, 'audience': audience})['token']


@pytest.fixture
def args(emu, tmp_path):
    publisher = token(emu, 'publisher', 'https://monitor.azure.com/')

    def make(**extra):
        base = {'dce_endpoint': emu.info['dce'], 'dcr_immutable_id': DCR, 'resource_id': RID, 'namespace': 'NS',
                'access_token': publisher, 'ca_path': emu.info['ca_bundle'],
                'ledger_path': str(tmp_path / 'ledger.sqlite3')}
        base.update(extra)
        return base
    return make


def writes(emu):
    return emu.admin('GET', '/_admin/requests?service=dce')['value']


def test_sends_remote_write_then_nothing(run_main, emu, args):
    result = run_main(workspace_metric_emit, args(metric='Queue Depth', value=5, dimensions={'Queue': 'q1'}))
    assert result['changed'] is True and result['series_sent'] == 1, result
    assert result['url'] == emu.info['dce'] + '/dataCollectionRules/' + DCR + \
        '/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24'
    (write,) = writes(emu)
    assert write['status'] == 204
    headers = write['headers']
    assert headers['content-encoding'] == 'snappy'
    assert headers['content-type'] == 'application/x-protobuf'
    assert headers['x-prometheus-remote-write-version'] == '0.1.0'
    assert headers['authorization']['claims']['oid'] == PUBLISHER_OID
    # the workspace holds it, as the seed's reader (Monitoring Data Reader on amw-demo) reads it back
    url = emu.info['prometheus'].replace('{workspace}', 'amw-demo') + '/api/v1/query'
    reader = token(emu, 'reader', 'https://prometheus.monitor.azure.com')
    answer = requests.get(url, params={'query': 'Queue_20_Depth_sum'}, headers={'Authorization': 'Bearer ' + reader},
                          verify=emu.info['ca_bundle'], timeout=10).json()
    ((labels, value),) = [(series['metric'], series['value'][1]) for series in answer['data']['result']]
    assert labels['dim_Queue'] == 'q1' and RID in labels.values() and float(value) == 5
    again = run_main(workspace_metric_emit, args(metric='Queue Depth', value=5, dimensions={'Queue': 'q1'}))
    assert again['changed'] is False and again['series_skipped'] == 1
    assert len(writes(emu)) == 1


def test_bad_endpoint_fails_before_sending(run_main, emu, args):
    result = run_main(workspace_metric_emit, args(dce_endpoint='http://plain.example', metric='m', value=1))
    assert result['failed'] and result['msg'].startswith('dce_endpoint: must be the https:// URL')
    assert result['option'] == 'dce_endpoint'
    assert writes(emu) == []


def test_missing_cramjam_names_the_package(run_main, emu, args, monkeypatch):
    real = builtins.__import__

    def fake(name, *a, **kw):
        if name == 'cramjam':
            raise ImportError('no cramjam')
        return real(name, *a, **kw)
    monkeypatch.setattr(builtins, '__import__', fake)
    result = run_main(workspace_metric_emit, args(metric='m', value=1))
    assert result['failed']
    assert 'cramjam' in result['msg']
    assert writes(emu) == []


@pytest.mark.parametrize('extra, words', [
    ({'dcr_resource_id': '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/r'},
     ['mutually exclusive', 'dcr_resource_id', 'dce_endpoint']),
    ({'dcr_immutable_id': None, 'dce_endpoint': None}, ['one of the following is required', 'dcr_resource_id']),
    ({'dce_endpoint': None}, ['parameters are required together', 'dce_endpoint', 'dcr_immutable_id']),
])
def test_the_rule_is_given_one_way_only(run_main, emu, args, extra, words):
    given = {k: v for k, v in args(metric='m', value=1, **extra).items() if v is not None}
    result = run_main(workspace_metric_emit, given)
    assert result['failed']
    for word in words:
        assert word in result['msg']
    assert writes(emu) == []
