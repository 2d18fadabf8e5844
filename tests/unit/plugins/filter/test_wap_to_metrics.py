# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.azmon.metrics.plugins.filter.wap_to_metrics import (
    FilterModule,
    dedupe_key,
    parse_max_age,
    wap_to_metrics,
)
from ansible_collections.azmon.metrics.plugins.module_utils._wap import normalize_metrics

NOW = '2026-11-22T10:31:00Z'


def value(time, total, minimum=None, maximum=None, count=1):
    return {'time': time, 'time_raw': time, 'total': total, 'minimum': minimum, 'maximum': maximum, 'count': count}


def metric(name, values, unit='Bytes'):
    return {'name': name, 'unit': unit, 'primary_aggregation_type': 'Average', 'time_grain': '1.00:00:00',
            'time_grain_seconds': 86400, 'time_grain_iso8601': 'P1D', 'data_points': values}


def result(*metrics, addon_id='contoso-backup'):
    return {'changed': False, 'addon_id': addon_id, 'metrics': list(metrics), 'client_request_id': 'x'}


def test_registered_in_the_filter_module():
    assert FilterModule().filters()['wap_to_metrics'] is wap_to_metrics


def test_newest_value_of_each_metric_with_no_time():
    data = result(
        metric('StorageUsed', [value('2026-11-21T10:00:00Z', 4.5, 1, 3.5, 2),
                               value('2026-11-22T10:00:00Z', 2147483648, None, None, 2),
                               value('2026-11-20T10:00:00Z', 1)]),
        metric('JobsCompleted', [value('2026-11-22T10:25:00Z', 12, 1, 5, 6)], unit='Count'),
    )
    out = wap_to_metrics(data, now=NOW)
    assert out['skipped'] == []
    assert out['metrics'] == [
        {'metric': 'StorageUsed', 'namespace': 'WAP/Addons', 'dimensions': {'AddonId': 'contoso-backup',
                                                                            'Unit': 'Bytes'},
         'dedupe_key': 'wap/contoso-backup/StorageUsed/2026-11-22T10:00:00Z',
         'min': 1073741824.0, 'max': 1073741824.0, 'sum': 2147483648, 'count': 2},
        {'metric': 'JobsCompleted', 'namespace': 'WAP/Addons', 'dimensions': {'AddonId': 'contoso-backup',
                                                                              'Unit': 'Count'},
         'dedupe_key': 'wap/contoso-backup/JobsCompleted/2026-11-22T10:25:00Z',
         'min': 1, 'max': 5, 'sum': 12, 'count': 6},
    ]
    for entry in out['metrics']:
        assert 'time' not in entry
        assert set(entry) == {'metric', 'namespace', 'dimensions', 'dedupe_key', 'min', 'max', 'sum', 'count'}
        assert isinstance(entry['count'], int) and entry['count'] >= 1
        assert entry['min'] <= entry['max']


def test_same_source_value_gives_the_same_key_on_every_run():
    data = result(metric('StorageUsed', [value('2026-11-22T10:00:00Z', 5)]))
    first = wap_to_metrics(data, now='2026-11-22T10:31:00Z')['metrics'][0]['dedupe_key']
    later = wap_to_metrics(data, now='2026-11-22T23:59:00Z')['metrics'][0]['dedupe_key']
    assert first == later
    # the raw forms of the same instant give the same key too
    same = result(metric('StorageUsed', [{'time_raw': '2026-11-22T03:00:00.0000000-07:00', 'total': 5}]))
    assert wap_to_metrics(same, now=NOW)['metrics'][0]['dedupe_key'] == first
    newer = result(metric('StorageUsed', [value('2026-11-22T10:05:00Z', 5)]))
    assert wap_to_metrics(newer, now=NOW)['metrics'][0]['dedupe_key'] != first


def test_dedupe_keys_cannot_collide():
    assert dedupe_key('a', 'b/c', 't') != dedupe_key('a/b', 'c', 't')
    assert dedupe_key('a b', 'm%', '2026-11-22T10:00:00Z') == 'wap/a%20b/m%25/2026-11-22T10:00:00Z'


def test_old_values_are_reported_as_skipped():
    data = result(metric('Old', [value('2026-11-19T10:00:00Z', 7), value('2026-11-20T10:30:00Z', 8)]),
                  metric('Fresh', [value('2026-11-20T10:31:00Z', 9)]))
    out = wap_to_metrics(data, now=NOW, max_age='2d')
    assert [m['metric'] for m in out['metrics']] == ['Fresh']  # exactly max_age old is kept
    (skip,) = out['skipped']
    assert skip == {'addon_id': 'contoso-backup', 'metric': 'Old', 'reason': 'the newest value is older than'
                    ' max_age (2d)', 'time': '2026-11-20T10:30:00Z', 'age_seconds': 172860.0, 'total': 8,
                    'dedupe_key': 'wap/contoso-backup/Old/2026-11-20T10:30:00Z'}
    assert len(wap_to_metrics(data, now=NOW, max_age=None)['metrics']) == 2
    assert len(wap_to_metrics(data, now=NOW, max_age='3d')['metrics']) == 2
    assert len(wap_to_metrics(data, now=NOW, max_age='1h')['metrics']) == 0


@pytest.mark.parametrize('given, seconds', [
    ('2d', 172800), ('36h', 129600), ('90m', 5400), ('45s', 45), ('1w', 604800), ('1.5d', 129600),
    (3600, 3600), (1.5, 1.5), ('3600', 3600), ('P2D', 172800), ('2.00:00:00', 172800), ('PT30M', 1800),
    (None, None), ('', None), (0, None), ('0s', None),
])
def test_max_age_forms(given, seconds):
    assert parse_max_age(given) == seconds


@pytest.mark.parametrize('given', ['two days', '-2d', -5, True, '2y', [1], '-00:05:00'])
def test_bad_max_age(given):
    with pytest.raises(AnsibleFilterError, match='max_age'):
        parse_max_age(given)


@pytest.mark.parametrize('wap, expected', [
    # Minimum/Maximum null: min = max = Total/Count
    ({'total': 10, 'count': 4}, {'min': 2.5, 'max': 2.5, 'sum': 10, 'count': 4}),
    # Count missing, null or 0: one observation
    ({'total': 10}, {'min': 10.0, 'max': 10.0, 'sum': 10, 'count': 1}),
    ({'total': 10, 'count': None}, {'min': 10.0, 'max': 10.0, 'sum': 10, 'count': 1}),
    ({'total': 10, 'count': 0}, {'min': 10.0, 'max': 10.0, 'sum': 10, 'count': 1}),
    ({'total': 10, 'count': 0, 'minimum': 4, 'maximum': 6}, {'min': 4, 'max': 6, 'sum': 10, 'count': 1}),
    # float whole count becomes int
    ({'total': 3.0, 'count': 3.0}, {'min': 1.0, 'max': 1.0, 'sum': 3.0, 'count': 3}),
    # only one side known: the derived side stays on the right side of it
    ({'total': 12, 'count': 6, 'maximum': 5}, {'min': 2.0, 'max': 5, 'sum': 12, 'count': 6}),
    ({'total': 12, 'count': 6, 'maximum': 1}, {'min': 1, 'max': 1, 'sum': 12, 'count': 6}),
    ({'total': 12, 'count': 6, 'minimum': 1}, {'min': 1, 'max': 2.0, 'sum': 12, 'count': 6}),
    ({'total': 12, 'count': 6, 'minimum': 3}, {'min': 3, 'max': 3, 'sum': 12, 'count': 6}),
    # negative and zero values are passed on
    ({'total': -4, 'count': 2}, {'min': -2.0, 'max': -2.0, 'sum': -4, 'count': 2}),
    ({'total': 0, 'count': 1, 'minimum': 0, 'maximum': 0}, {'min': 0, 'max': 0, 'sum': 0, 'count': 1}),
])
def test_min_max_sum_count(wap, expected):
    v = {'time': '2026-11-22T10:00:00Z'}
    v.update(wap)
    (entry,) = wap_to_metrics(result(metric('m', [v])), now=NOW)['metrics']
    assert {k: entry[k] for k in ('min', 'max', 'sum', 'count')} == expected
    assert isinstance(entry['count'], int) and not isinstance(entry['count'], bool)


@pytest.mark.parametrize('wap, reason', [
    ({'total': None, 'count': 2}, 'no Total'),
    ({'count': 2}, 'no Total'),
    ({'total': 5, 'count': 2.5}, 'not a whole number'),
    ({'total': 5, 'count': -1}, 'not a whole number'),
    ({'total': 5, 'count': 'many'}, 'not a number'),
    ({'total': 5, 'count': 2 ** 31}, 'larger than Azure Monitor accepts'),
    ({'total': 5, 'count': 2, 'minimum': 4, 'maximum': 1}, 'Minimum 4 is greater than Maximum 1'),
    ({'total': float('nan'), 'count': 2}, 'no Total'),
])
def test_unusable_values_are_skipped_with_a_reason(wap, reason):
    v = {'time': '2026-11-22T10:00:00Z'}
    v.update(wap)
    out = wap_to_metrics(result(metric('m', [v])), now=NOW)
    assert out['metrics'] == []
    (skip,) = out['skipped']
    assert reason in skip['reason']
    assert skip['metric'] == 'm' and skip['time'] == '2026-11-22T10:00:00Z'
    assert skip['dedupe_key'] == 'wap/contoso-backup/m/2026-11-22T10:00:00Z'


def test_metrics_without_values_or_name_are_skipped():
    data = result(metric('Empty', []), metric('NoTime', [{'time': None, 'time_raw': 'noon', 'total': 1}]),
                  {'name': None, 'values': [value('2026-11-22T10:00:00Z', 1)]})
    out = wap_to_metrics(data, now=NOW)
    assert out['metrics'] == []
    assert [(s['metric'], s['reason']) for s in out['skipped']] == [
        ('Empty', 'no value with a time in the window read'),
        ('NoTime', 'no value has a time'),
        (None, 'the metric has no name'),
    ]
    assert all(s['time'] is None and s['dedupe_key'] is None and s['age_seconds'] is None for s in out['skipped'])


def test_a_name_longer_than_azure_accepts_is_skipped_and_the_rest_forwarded():
    long_name = 'n' * 257
    data = result(metric(long_name, [value('2026-11-22T10:00:00Z', 1)]),
                  metric('m' * 256, [value('2026-11-22T10:00:00Z', 2)]))
    out = wap_to_metrics(data, now=NOW)
    assert [m['metric'] for m in out['metrics']] == ['m' * 256]
    assert [(s['metric'], s['reason']) for s in out['skipped']] == [
        (long_name, 'the metric name has 257 characters; Azure Monitor accepts at most 256')]


def test_a_negative_time_grain_is_not_taken():
    raw = [{'Name': 'Jobs', 'Unit': 'Count', 'TimeGrain': '-00:05:00', 'Values': []},
           {'Name': 'Neg', 'Unit': 'Count', 'TimeGrain': '-1.00:00:00', 'Values': []},
           {'Name': 'Ok', 'Unit': 'Count', 'TimeGrain': '00:05:00', 'Values': []}]
    metrics, warnings = normalize_metrics(raw)
    assert [(m['name'], m['time_grain'], m['time_grain_seconds'], m['time_grain_iso8601']) for m in metrics] == [
        ('Jobs', '-00:05:00', None, None), ('Neg', '-1.00:00:00', None, None), ('Ok', '00:05:00', 300, 'PT5M')]
    assert warnings == ["metric Jobs: TimeGrain: '-00:05:00' is negative; a time grain is a positive duration",
                        "metric Neg: TimeGrain: '-1.00:00:00' is negative; a time grain is a positive duration"]


def test_hand_built_values_key_is_read_too():
    out = wap_to_metrics([{'name': 'm', 'values': [value('2026-11-22T10:00:00Z', 1)]}], addon_id='a', now=NOW)
    assert out['metrics'][0]['sum'] == 1


def test_dimensions_and_namespace():
    data = metric('m', [value('2026-11-22T10:00:00Z', 1)], unit=None)
    out = wap_to_metrics([data], addon_id='a1', namespace='Contoso/WAP', dimensions={'Stamp': 'prod'}, now=NOW)
    entry = out['metrics'][0]
    assert entry['namespace'] == 'Contoso/WAP'
    assert entry['dimensions'] == {'AddonId': 'a1', 'Unit': 'Unspecified', 'Stamp': 'prod'}
    out = wap_to_metrics([data], addon_id='a1', addon_dimension='Addon', unit_dimension=None, now=NOW)
    assert out['metrics'][0]['dimensions'] == {'Addon': 'a1'}


def test_addon_id_argument_overrides_the_result():
    out = wap_to_metrics(result(metric('m', [value('2026-11-22T10:00:00Z', 1)])), addon_id='other', now=NOW)
    assert out['metrics'][0]['dimensions']['AddonId'] == 'other'
    assert out['metrics'][0]['dedupe_key'].startswith('wap/other/')


@pytest.mark.parametrize('data, kwargs, says', [
    ([metric('m', [])], {}, 'addon_id is required'),
    ({'failed': True, 'msg': 'HTTP 404'}, {}, 'failed: HTTP 404'),
    ({'changed': False}, {}, 'no metrics key'),
    ('text', {}, 'got str'),
    (42, {}, 'got int'),
    ([42], {'addon_id': 'a'}, 'must be a mapping'),
    (result(), {'namespace': ''}, 'namespace'),
    (result(), {'dimensions': {'AddonId': 'x'}}, 'must not set AddonId'),
    (result(), {'dimensions': ['x']}, 'dimensions must be a mapping'),
    (result(), {'unit_dimension': ''}, 'unit_dimension'),
    (result(), {'now': 'teatime'}, 'now:'),
])
def test_misuse_is_an_error(data, kwargs, says):
    with pytest.raises(AnsibleFilterError) as info:
        wap_to_metrics(data, **kwargs)
    assert says in str(info.value)


def test_end_to_end_with_normalised_module_output():
    raw = [{'Name': 'JobsCompleted', 'PrimaryAggregationType': 'Total', 'ConfigState': 'Count',
            'TimeGrain': '00:05:00',
            'Values': [{'TimeCreated': '2026-11-22T03:15:00.0000000-07:00', 'Total': 12, 'Minimum': 1, 'Maximum': 5,
                        'Count': 6},
                       {'TimeCreated': '2026-11-22T03:20:00.0000000-07:00', 'Total': 7, 'Minimum': None,
                        'Maximum': None, 'Count': 7}]}]
    metrics, _warnings = normalize_metrics(raw)
    out = wap_to_metrics({'addon_id': 'contoso-backup', 'metrics': metrics}, now=NOW)
    assert out == {'skipped': [], 'metrics': [{
        'metric': 'JobsCompleted', 'namespace': 'WAP/Addons', 'dimensions': {'AddonId': 'contoso-backup',
                                                                             'Unit': 'Count'},
        'dedupe_key': 'wap/contoso-backup/JobsCompleted/2026-11-22T10:20:00Z',
        'min': 1.0, 'max': 1.0, 'sum': 7, 'count': 7}]}
