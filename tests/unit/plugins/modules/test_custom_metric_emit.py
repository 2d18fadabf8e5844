# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""custom_metric_emit's main() against the emulator's ingestion (modules/conftest.py: emit_args), signing in with an
access token the emulator issued."""

from __future__ import annotations

import json
import time

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._ledger import Ledger, LedgerError
from ansible_collections.azmon.metrics.plugins.modules import custom_metric_emit

# the emulator's seeded vm1, where its publisher may write
RID = '/subscriptions/1d2c3b4a-5e6f-4a8b-9c0d-e1f2a3b4c5d6/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1'


def posts(emu):
    """The ingestion requests the emulator received."""
    return emu.admin('GET', '/_admin/requests?service=ingest')['value']


def ingested(emu):
    """What the emulator holds: one row per series-minute."""
    return emu.admin('GET', '/_admin/metrics')['value']


def test_one_metric_then_idempotent(run_main, emu, emit_args, ingest_token):
    result = run_main(custom_metric_emit, emit_args(metric='QueueDepth', value=5, dimensions={'Queue': 'q1'}))
    assert result['changed'] is True and result['series_sent'] == 1 and result['requests_sent'] == 1
    assert result['url'] == emu.info['ingest'].replace('{region}', 'eastus') + RID + '/metrics'
    assert posts(emu)[0]['path'] == '/eastus' + RID + '/metrics'
    (row,) = ingested(emu)
    assert (row['metric'], row['dimensions'], row['min'], row['max'], row['sum'], row['count']) == (
        'QueueDepth', {'Queue': 'q1'}, 5, 5, 5, 1)
    assert result['series'][0]['status'] == 'sent'
    assert ingest_token not in json.dumps(result)

    again = run_main(custom_metric_emit, emit_args(metric='QueueDepth', value=5, dimensions={'Queue': 'q1'}))
    assert again['changed'] is False and again['series_skipped'] == 1 and again['requests_sent'] == 0
    assert len(posts(emu)) == 1


def test_check_mode_sends_and_writes_nothing(run_main, emu, emit_args, tmp_path):
    result = run_main(custom_metric_emit, emit_args(metric='m', values=[1, 2, 3], _ansible_check_mode=True))
    assert result['changed'] is True and result['series_would_send'] == 1
    assert result['payloads'][0][0]['data']['baseData']['series'][0] == {'min': 1, 'max': 3, 'sum': 6, 'count': 3}
    assert posts(emu) == []
    assert not (tmp_path / 'ledger.sqlite3').exists()


def test_invalid_entry_sends_nothing(run_main, emu, emit_args):
    result = run_main(custom_metric_emit, emit_args(metrics=[{'metric': 'ok', 'value': 1}, {'metric': 'bad', 'value': 'nan'}]))
    assert result['failed'] is True
    assert 'metrics[1] (bad): value must be a finite number' in result['msg']
    assert posts(emu) == []


@pytest.mark.parametrize('extra, words', [
    ({'resource_id': '/subscriptions/00000000-0000-0000-0000-000000000001'}, ['resource_id', 'resource ID is required']),
    ({'resource_id': RID + '/../../x'}, ['resource_id']),
    ({'region': 'east/us'}, ['region']),
    ({'max_request_bytes': 10}, ['max_request_bytes must be from 4096']),
    ({'metric': None}, ['give metric']),
    ({'metrics': [], 'metric': None, 'value': None}, ['at least one entry']),
    ({'metrics': [{'metric': 'x', 'value': 1}], 'value': None}, ['metrics', 'metric']),
])
def test_bad_options(run_main, emu, emit_args, extra, words):
    params = emit_args(metric='m', value=1)
    params.update(extra)
    params = {k: v for k, v in params.items() if v is not None}
    result = run_main(custom_metric_emit, params)
    assert result['failed'] is True
    for word in words:
        assert word in result['msg']
    assert 'Traceback' not in json.dumps(result)
    assert posts(emu) == []


def test_unknown_is_recorded_and_not_resent(run_main, emu, emit_args):
    # a 500 once the whole body was read: Azure may or may not hold it
    emu.admin('POST', '/_admin/faults', {'service': 'ingest', 'action': '500_after_body', 'count': 1})
    first = run_main(custom_metric_emit, emit_args(metric='m', value=1))
    assert first['failed'] is True and first['series_unknown'] == 1 and first['changed'] is True
    request_id = posts(emu)[0]['requestId']
    assert 'UNKNOWN' in first['msg'] and 'metrics[0] NS/m' in first['msg'] and request_id in first['msg']
    second = run_main(custom_metric_emit, emit_args(metric='m', value=1))
    assert second.get('failed') is not True and second['series_unknown_skipped'] == 1 and second['changed'] is False
    assert len(posts(emu)) == 1
    third = run_main(custom_metric_emit, emit_args(metric='m', value=1, resend_unknown=True))
    assert third['series_sent'] == 1 and len(posts(emu)) == 2


def test_403_names_principal_resource_and_role(run_main, emu, emit_args):
    # the seed's "nobody" holds no role
    token = emu.admin('POST', '/_admin/tokens/access', {'principal': 'nobody', 'audience': 'https://monitoring.azure.com/'})
    result = run_main(custom_metric_emit, emit_args(metrics=[{'metric': 'a', 'value': 1}, {'metric': 'b', 'value': 2}],
                                                    access_token=token['token']))
    assert result['failed'] is True and result['changed'] is False
    for word in ('a0000004-0000-4000-8000-000000000004', 'c0000004-0000-4000-8000-000000000004', RID,
                 'Monitoring Metrics Publisher', '10 minutes'):
        assert word in result['msg']
    assert result['series_failed'] + result['series_not_sent'] == 2


def test_splitting_stops_after_a_systemic_error(run_main, emu, emit_args):
    metrics = [{'metric': 'm', 'value': i, 'dimensions': {'Host': 'h%04d' % i}} for i in range(400)]
    missing = RID.replace('/vm1', '/vm-that-is-not-there')      # the emulator answers 404
    result = run_main(custom_metric_emit, emit_args(resource_id=missing, metrics=metrics, max_request_bytes=4096))
    assert result['failed'] is True and result['requests_planned'] > 3
    assert len(posts(emu)) == 1 and result['series_not_sent'] > 0
    assert result['series_truncated'] is True and len(result['series']) == 100


def test_dedupe_false_sends_every_time(run_main, emu, emit_args, tmp_path):
    for attempt in range(2):
        assert run_main(custom_metric_emit, emit_args(metric='m', value=1, dedupe=False))['series_sent'] == 1
    assert len(posts(emu)) == 2
    assert not (tmp_path / 'ledger.sqlite3').exists()


def test_dedupe_key(run_main, emu, emit_args):
    now = int(time.time())
    assert run_main(custom_metric_emit, emit_args(metric='m', value=1, dedupe_key='src-1', time=now))['series_sent'] == 1
    again = run_main(custom_metric_emit, emit_args(metric='m', value=1, dedupe_key='src-1', time=now - 120))
    assert again['series_skipped'] == 1 and len(posts(emu)) == 1


def test_a_batch_dedupe_key_over_several_requests_delivers_every_minute_once(run_main, emu, emit_args):
    # one key for the batch, five minutes of each of 40 series, 4 KiB requests: every series-minute arrives once,
    # and the same batch again sends nothing
    now = int(time.time()) // 60 * 60
    metrics = [{'metric': 'Load', 'value': 1, 'time': now - 60 * m, 'dimensions': {'Host': 'h%02d' % h}}
               for h in range(40) for m in range(5)]
    first = run_main(custom_metric_emit, emit_args(metrics=metrics, dedupe_key='batch-1', max_request_bytes=4096))
    assert first['series_sent'] == 200 and first['requests_planned'] > 2
    got = [(row['minute'], row['dimensions']['Host'], row['count']) for row in ingested(emu)]
    assert len(got) == len(set(got)) == 200 and all(count == 1 for _minute, _host, count in got)
    again = run_main(custom_metric_emit, emit_args(metrics=metrics, dedupe_key='batch-1', max_request_bytes=4096))
    assert again['changed'] is False and again['series_skipped'] == 200
    assert len(posts(emu)) == first['requests_sent']
    assert all(item['dedupe_key'] == 'batch-1' for item in again['series'][:3])


@pytest.mark.parametrize('name, content', [
    ('m.json', '[{"metric": "a", "value": 1}, {"metric": "b", "values": [1, 2]}]'),
    ('m.json', '{"metrics": [{"metric": "a", "value": 1}, {"metric": "b", "values": [1, 2]}]}'),
    ('m.ndjson', '{"metric": "a", "value": 1}\n\n{"metric": "b", "values": [1, 2]}\n'),
    ('m.yml', '- metric: a\n  value: 1\n- metric: b\n  values: [1, 2]\n'),
])
def test_metrics_file(run_main, emu, emit_args, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    result = run_main(custom_metric_emit, emit_args(metrics_file=str(path)))
    assert result['series_sent'] == 2
    assert sorted(row['metric'] for row in ingested(emu)) == ['a', 'b']


@pytest.mark.parametrize('name, content, words', [
    ('m.json', '{"not": "a list"}', ['metrics_file', 'must hold a list']),
    ('m.json', '[{"metric": "a", "value": 1},', ['metrics_file', 'not valid JSON']),
    ('m.yml', '- metric: [', ['metrics_file', 'not valid YAML']),
    ('m.json', '[]', ['metrics_file must hold at least one entry']),
    ('m.json', '[{"metric": "a", "value": "x"}]', ['metrics[0] (a): value must be a finite number']),
])
def test_bad_metrics_file(run_main, emu, emit_args, tmp_path, name, content, words):
    path = tmp_path / name
    path.write_text(content)
    result = run_main(custom_metric_emit, emit_args(metrics_file=str(path)))
    assert result['failed'] is True
    for word in words:
        assert word in result['msg']
    assert posts(emu) == []


def test_missing_metrics_file(run_main, emu, emit_args, tmp_path):
    result = run_main(custom_metric_emit, emit_args(metrics_file=str(tmp_path / 'none.json')))
    assert result['failed'] is True and 'metrics_file: cannot read' in result['msg']


@pytest.mark.parametrize('content, words', [
    ('- metric: a\n  value: 1\n- metric: b\n  values: [1, 2]\n', []),
    ('- metric: [', ['metrics_src: ', 'not valid YAML']),
    ('[]', ['metrics_src must hold at least one entry']),
    ('- {metric: a, value: 1}\n- {metric: b, value: x}\n', ['metrics[1] (b): value must be a finite number']),
])
def test_metrics_src_is_read_like_metrics_file_under_its_own_name(run_main, emu, emit_args, tmp_path,
                                                                  content, words):
    # on the managed node, metrics_src names the copy the action plugin made of the controller's file
    path = tmp_path / 'copy.yml'
    path.write_text(content)
    result = run_main(custom_metric_emit, emit_args(metrics_src=str(path)))
    if not words:
        assert result['series_sent'] == 2
        assert sorted(row['metric'] for row in ingested(emu)) == ['a', 'b']
        return
    assert result['failed'] is True
    for word in words:
        assert word in result['msg']
    assert posts(emu) == []


def test_metrics_src_goes_alone(run_main, emu, emit_args, tmp_path):
    path = tmp_path / 'm.json'
    path.write_text('[{"metric": "a", "value": 1}]')
    result = run_main(custom_metric_emit, emit_args(metrics_src=str(path), metrics_file=str(path)))
    assert result['failed'] is True
    assert 'mutually exclusive: metric|metrics|metrics_file|metrics_src' in result['msg']
    result = run_main(custom_metric_emit, emit_args(metrics_src=str(path), value=3))
    assert result['msg'] == 'metrics_src cannot be combined with value: put them in the entries'
    assert posts(emu) == []


def _bad_files(tmp_path):
    notpem = tmp_path / 'notpem.pem'
    notpem.write_text('hello')
    empty = tmp_path / 'empty.jwt'
    empty.write_text('')
    return notpem, empty


@pytest.mark.parametrize('extra, option, words', [
    ({'ca_path': '/nonexistent/ca.pem'}, 'ca_path', 'does not exist'),
    ({'ca_path': 'NOTPEM'}, 'ca_path', 'not a PEM CA bundle'),
    ({'ca_path': 'DIR'}, 'ca_path', 'is a directory'),
    ({'timeout': 0}, 'timeout', 'from 1 to 3600 seconds'),
    ({'timeout': -1}, 'timeout', 'from 1 to 3600 seconds'),
    ({'timeout': 86400 * 365}, 'timeout', 'from 1 to 3600 seconds'),
    ({'access_token': None, 'client_id': 'c', 'tenant': 't', 'x509_certificate_path': 'NOTPEM'},
     'x509_certificate_path', 'PKCS#12'),
    ({'access_token': None, 'client_id': 'c', 'tenant': 't', 'x509_certificate_path': 'DIR'},
     'x509_certificate_path', 'is a directory'),
    ({'access_token': None, 'client_id': 'c', 'tenant': 't', 'federated_token_file': '/nonexistent/t.jwt'},
     'federated_token_file', 'does not exist'),
    ({'access_token': None, 'client_id': 'c', 'tenant': 't', 'federated_token_file': 'EMPTY'},
     'federated_token_file', 'is empty'),
])
def test_bad_local_files_fail_naming_the_option_before_anything(run_main, emu, emit_args, tmp_path, extra,
                                                                option, words):
    notpem, empty = _bad_files(tmp_path)
    names = {'NOTPEM': str(notpem), 'EMPTY': str(empty), 'DIR': str(tmp_path)}
    params = emit_args(metric='m', value=1)
    params.update({k: names.get(v, v) if isinstance(v, str) else v for k, v in extra.items()})
    params = {k: v for k, v in params.items() if v is not None}
    result = run_main(custom_metric_emit, params)
    assert result['failed'] is True
    assert result['msg'].startswith(option) and words in result['msg'], result['msg']
    assert result.get('option') == option
    assert 'Traceback' not in json.dumps(result)
    assert posts(emu) == []
    assert not (tmp_path / 'ledger.sqlite3').exists()


def test_validate_certs_false_warns(run_main, emu, emit_args):
    result = run_main(custom_metric_emit, emit_args(metric='m', value=1, validate_certs=False))
    assert result['series_sent'] == 1
    assert 'validate_certs is false' in json.dumps(result.get('warnings')), result.get('warnings')


def test_a_ledger_that_cannot_be_pruned_keeps_the_result_and_warns(run_main, emu, emit_args, monkeypatch):
    def full(self, older_than_seconds):
        raise LedgerError('cannot write the delivery ledger %s: database or disk is full' % self.path)
    monkeypatch.setattr(Ledger, 'prune', full)
    result = run_main(custom_metric_emit, emit_args(metric='m', value=1))
    assert result.get('failed') is not True and result['series_sent'] == 1
    warnings = [w['event']['msg'] if isinstance(w, dict) else w for w in result.get('warnings', [])]
    assert any('were not removed' in w and 'disk is full' in w for w in warnings), warnings
