# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""workspace_metric_emit's main() against a real TLS server, signing in with a ready access token."""

from __future__ import annotations

import builtins

import pytest

from ansible_collections.azmon.metrics.plugins.modules import workspace_metric_emit

cramjam = pytest.importorskip('cramjam', reason='cramjam is a requirement of workspace_metric_emit')

RID = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'
DCR = 'dcr-0123456789abcdef0123456789abcdef'


@pytest.fixture
def args(server, tmp_path):
    def make(**extra):
        base = {'dce_endpoint': server.url, 'dcr_immutable_id': DCR, 'resource_id': RID, 'namespace': 'NS',
                'access_token': 'header.payload.sig', 'ca_path': server.cert,
                'ledger_path': str(tmp_path / 'ledger.sqlite3')}
        base.update(extra)
        return base
    return make


def test_sends_remote_write_then_nothing(run_main, server, args):
    server.script = [('ok', 204, {}, b'')]
    result = run_main(workspace_metric_emit, args(metric='Queue Depth', value=5, dimensions={'Queue': 'q1'}))
    assert result['changed'] is True and result['series_sent'] == 1, result
    assert result['url'] == server.url + '/dataCollectionRules/' + DCR + \
        '/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24'
    headers = server.requests[0]['headers']
    assert headers['Content-Encoding'] == 'snappy'
    assert headers['Content-Type'] == 'application/x-protobuf'
    assert headers['X-Prometheus-Remote-Write-Version'] == '0.1.0'
    assert headers['Authorization'] == 'Bearer header.payload.sig'
    raw = bytes(cramjam.snappy.decompress_raw(server.received[0]))
    assert b'Queue_20_Depth_sum' in raw and b'dim_Queue' in raw and RID.encode() in raw
    again = run_main(workspace_metric_emit, args(metric='Queue Depth', value=5, dimensions={'Queue': 'q1'}))
    assert again['changed'] is False and again['series_skipped'] == 1
    assert len(server.requests) == 1


def test_bad_endpoint_fails_before_sending(run_main, server, args):
    result = run_main(workspace_metric_emit, args(dce_endpoint='http://plain.example', metric='m', value=1))
    assert result['failed'] and result['msg'].startswith('dce_endpoint: must be the https:// URL')
    assert result['option'] == 'dce_endpoint'
    assert server.requests == []


def test_missing_cramjam_names_the_package(run_main, server, args, monkeypatch):
    real = builtins.__import__

    def fake(name, *a, **kw):
        if name == 'cramjam':
            raise ImportError('no cramjam')
        return real(name, *a, **kw)
    monkeypatch.setattr(builtins, '__import__', fake)
    result = run_main(workspace_metric_emit, args(metric='m', value=1))
    assert result['failed']
    assert 'cramjam' in result['msg']
    assert server.requests == []


@pytest.mark.parametrize('extra, words', [
    ({'dcr_resource_id': '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/r'},
     ['mutually exclusive', 'dcr_resource_id', 'dce_endpoint']),
    ({'dcr_immutable_id': None, 'dce_endpoint': None}, ['one of the following is required', 'dcr_resource_id']),
    ({'dce_endpoint': None}, ['parameters are required together', 'dce_endpoint', 'dcr_immutable_id']),
])
def test_the_rule_is_given_one_way_only(run_main, server, args, extra, words):
    given = {k: v for k, v in args(metric='m', value=1, **extra).items() if v is not None}
    result = run_main(workspace_metric_emit, given)
    assert result['failed']
    for word in words:
        assert word in result['msg']
    assert server.requests == []
