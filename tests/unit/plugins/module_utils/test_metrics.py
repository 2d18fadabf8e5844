# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import (
    MAX_REQUEST_BYTES,
    build_points,
    normalize_region,
    pack,
    series_key,
)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 22, 10, 31, 17, tzinfo=UTC)
RID = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'


def points(entries, **defaults):
    defaults.setdefault('namespace', 'NS')
    return build_points(entries, RID, now=NOW, defaults=defaults)


def problem(entries, **defaults):
    with pytest.raises(ValidationError) as exc:
        points(entries, **defaults)
    return exc.value.msg


# --- value forms -------------------------------------------------------------------------------------------

def test_single_value():
    (p,) = points([{'metric': 'm', 'value': 42}])
    assert (p.min, p.max, p.sum, p.count) == (42, 42, 42, 1)
    assert p.minute == datetime.datetime(2026, 11, 22, 10, 31, tzinfo=UTC)


def test_values_are_aggregated():
    (p,) = points([{'metric': 'm', 'values': [3, 5, '20', 0.5]}])
    assert (p.min, p.max, p.sum, p.count) == (0.5, 20, 28.5, 4)


def test_explicit_aggregates():
    (p,) = points([{'metric': 'm', 'min': 3, 'max': 20, 'sum': 28, 'count': 3}])
    assert (p.min, p.max, p.sum, p.count) == (3, 20, 28, 3)


def test_numeric_strings_are_accepted():
    (p,) = points([{'metric': 'm', 'value': ' 7.5 '}])
    assert p.sum == 7.5


@pytest.mark.parametrize('entry, words', [
    ({'metric': 'm'}, ['metrics[0] (m)', 'value', 'exactly one of value, values, or min/max/sum/count', 'none']),
    ({'metric': 'm', 'value': 1, 'values': [1]}, ['value and values']),
    ({'metric': 'm', 'value': 1, 'min': 1}, ['value and min/max/sum/count']),
    ({'metric': 'm', 'value': float('nan')}, ['value', 'finite']),
    ({'metric': 'm', 'value': float('inf')}, ['value', 'finite']),
    ({'metric': 'm', 'value': 'nan'}, ['value', 'finite']),
    ({'metric': 'm', 'value': 'abc'}, ['value', 'finite number']),
    ({'metric': 'm', 'value': '1_000'}, ['value', 'finite number']),
    ({'metric': 'm', 'values': [1, '2_5']}, ['values[1]', 'finite number']),
    ({'metric': 'm', 'min': 1, 'max': 1, 'sum': '1_0', 'count': 1}, ['sum', 'finite number']),
    ({'metric': 'm', 'value': True}, ['value', 'finite number']),
    ({'metric': 'm', 'values': []}, ['values', 'non-empty list']),
    ({'metric': 'm', 'values': 5}, ['values', 'non-empty list']),
    ({'metric': 'm', 'values': [1, None]}, ['values[1]', 'finite']),
    ({'metric': 'm', 'min': 1, 'max': 2, 'sum': 3}, ['count', 'must be given with']),
    ({'metric': 'm', 'min': 1, 'max': 2, 'sum': 3, 'count': 0}, ['count', 'whole number from 1']),
    ({'metric': 'm', 'min': 1, 'max': 2, 'sum': 3, 'count': 2.5}, ['count', 'whole number']),
    ({'metric': 'm', 'min': 1, 'max': 2, 'sum': 3, 'count': 2 ** 31}, ['count', '2147483647']),
    ({'metric': 'm', 'min': 5, 'max': 2, 'sum': 3, 'count': 1}, ['min', 'greater than max']),
    ({'metric': 'm', 'min': 1, 'max': float('-inf'), 'sum': 3, 'count': 1}, ['max', 'finite']),
])
def test_value_rules(entry, words):
    msg = problem([entry])
    assert msg.startswith('invalid metrics, nothing was sent')
    for word in words:
        assert word in msg


# --- names, namespaces, dimensions --------------------------------------------------------------------------

@pytest.mark.parametrize('entry, defaults, words', [
    ({'value': 1}, {}, ['metrics[0] (no metric name)', 'metric must be a string']),
    ({'metric': '', 'value': 1}, {}, ['metric must not be empty']),
    ({'metric': 'x' * 257, 'value': 1}, {}, ['metric must be at most 256 characters (got 257)']),
    ({'metric': 'a\nb', 'value': 1}, {}, ['control characters']),
    ({'metric': 'm', 'value': 1}, {'namespace': None}, ['namespace', 'set it on the entry or on the task']),
    ({'metric': 'm', 'value': 1, 'namespace': 'Microsoft.Compute'}, {}, ['namespace', 'reserved']),
    ({'metric': 'm', 'value': 1, 'namespace': 'microsoft.insights'}, {}, ['reserved']),
    ({'metric': 'm', 'value': 1, 'namespace': 'MdmQos'}, {}, ['reserved']),
    ({'metric': 'm', 'value': 1, 'namespace': 'n' * 257}, {}, ['namespace must be at most 256']),
    ({'metric': 'm', 'value': 1, 'dimensions': {'d%d' % i: 'v' for i in range(11)}}, {}, ['at most 10 dimensions (got 11)']),
    ({'metric': 'm', 'value': 1, 'dimensions': {'d': ''}}, {}, ["dimension 'd' value must not be empty", 'empty dimension values']),
    ({'metric': 'm', 'value': 1, 'dimensions': {'d': None}}, {}, ["dimension 'd' value must be a string"]),
    ({'metric': 'm', 'value': 1, 'dimensions': {'d': 'v' * 257}}, {}, ["dimension 'd' value must be at most 256"]),
    ({'metric': 'm', 'value': 1, 'dimensions': {'': 'v'}}, {}, ["dimension name ''", 'must not be empty']),
    ({'metric': 'm', 'value': 1, 'dimensions': {'k' * 257: 'v'}}, {}, ['dimension name', 'at most 256']),
    ({'metric': 'm', 'value': 1, 'dimensions': {'Zone': 'a', 'zone': 'b'}}, {}, ['unique ignoring case']),
    ({'metric': 'm', 'value': 1, 'dimensions': ['a']}, {}, ['dimensions must be a mapping']),
    ({'metric': 'm', 'value': 1, 'dimension': {'a': 'b'}}, {}, ['dimension is not a known field']),
    ({'metric': 'm', 'value': 1, 'dedupe_key': ''}, {}, ['dedupe_key must be a string of 1 to 1024']),
    ({'metric': 'm', 'value': 1, 'dedupe_key': ['x']}, {}, ['dedupe_key']),
])
def test_name_rules(entry, defaults, words):
    msg = problem([entry], **defaults)
    for word in words:
        assert word in msg


@pytest.mark.parametrize('namespace', ['mdmqos', 'MDMQOS', 'WARMPATHQOS', 'warmpathqos', 'genevakustoqos',
                                       'LOGSTOMETRICSQOS', 'recoveryservice/v2', 'RecoveryService/v2', 'monitorsla',
                                       'MICROSOFT.Compute'])
def test_reserved_namespaces_are_refused_in_any_case(namespace):
    msg = problem([{'metric': 'm', 'value': 1, 'namespace': namespace}])
    assert 'metrics[0] (m): namespace' in msg and repr(namespace) in msg and 'reserved' in msg


@pytest.mark.parametrize('namespace', ['MdmQosExtra', 'MyWarmPathQos', 'RecoveryService', 'Microsoft'])
def test_names_that_only_resemble_reserved_namespaces_are_accepted(namespace):
    (p,) = points([{'metric': 'm', 'value': 1, 'namespace': namespace}])
    assert p.namespace == namespace


def test_ten_dimensions_and_256_characters_are_allowed():
    dims = {'d%d' % i: 'v' * 256 for i in range(10)}
    (p,) = points([{'metric': 'm' * 256, 'namespace': 'n' * 256, 'value': 1, 'dimensions': dims}])
    assert len(p.dim_names) == 10


def test_numeric_dimension_values_become_strings():
    (p,) = points([{'metric': 'm', 'value': 1, 'dimensions': {'Port': 443}}])
    assert p.dim_values == ('443',)


def test_task_dimensions_merge_and_entry_wins():
    (p,) = points([{'metric': 'm', 'value': 1, 'dimensions': {'B': 'entry'}}], dimensions={'A': 'task', 'B': 'task'})
    assert (p.dim_names, p.dim_values) == (('A', 'B'), ('task', 'entry'))


def test_every_problem_is_reported_and_nothing_partial():
    msg = problem([{'metric': 'ok', 'value': 1}, {'metric': 'bad1', 'value': 'x'}, {'metric': 'bad2'}])
    assert 'metrics[1] (bad1)' in msg and 'metrics[2] (bad2)' in msg
    assert 'metrics[0]' not in msg


def test_problem_list_is_capped_but_counted():
    with pytest.raises(ValidationError) as exc:
        points([{'metric': 'm%d' % i} for i in range(60)])
    assert 'and 50 more' in exc.value.msg
    assert len(exc.value.details['errors']) == 50


# --- time --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, minute', [
    ('2026-11-22T10:20:59Z', datetime.datetime(2026, 11, 22, 10, 20, tzinfo=UTC)),
    ('2026-11-22T10:20:59', datetime.datetime(2026, 11, 22, 10, 20, tzinfo=UTC)),
    ('2026-11-22T12:20:59+02:00', datetime.datetime(2026, 11, 22, 10, 20, tzinfo=UTC)),
    (NOW.timestamp() - 60, datetime.datetime(2026, 11, 22, 10, 30, tzinfo=UTC)),
    (str(int(NOW.timestamp())), datetime.datetime(2026, 11, 22, 10, 31, tzinfo=UTC)),
])
def test_time_forms_truncate_to_the_minute(value, minute):
    (p,) = points([{'metric': 'm', 'value': 1, 'time': value}])
    assert p.minute == minute


@pytest.mark.parametrize('value, words', [
    ('2026-11-22T10:11:59Z', ['outside the ingestion window']),   # 19 min 18 s ago: its minute is older than allowed
    ('2026-11-22T10:34:30Z', ['outside the ingestion window']),   # more than 3 minutes ahead
    ('yesterday', ['is not a time']),
    ('2026-13-01T00:00:00Z', ['is not a valid date and time']),
])
def test_time_rules(value, words):
    msg = problem([{'metric': 'm', 'value': 1, 'time': value}])
    for word in words:
        assert word in msg


def test_window_edges_are_accepted():
    assert points([{'metric': 'm', 'value': 1, 'time': '2026-11-22T10:12:00Z'}])
    assert points([{'metric': 'm', 'value': 1, 'time': '2026-11-22T10:34:17Z'}])


def test_task_time_is_the_default():
    (p,) = points([{'metric': 'm', 'value': 1}], time='2026-11-22T10:25:00Z')
    assert p.minute.minute == 25


# --- identity ----------------------------------------------------------------------------------------------

def test_series_key_identity():
    base = series_key(RID, 'ns', 'm', ('a',), ('1',), 't:x')
    assert base == series_key(RID.upper(), 'ns', 'm', ('a',), ('1',), 't:x')
    for other in (series_key(RID, 'ns2', 'm', ('a',), ('1',), 't:x'), series_key(RID, 'ns', 'm2', ('a',), ('1',), 't:x'),
                  series_key(RID, 'ns', 'm', ('b',), ('1',), 't:x'), series_key(RID, 'ns', 'm', ('a',), ('2',), 't:x'),
                  series_key(RID, 'ns', 'm', ('a',), ('1',), 't:y')):
        assert other != base


def test_dedupe_key_replaces_the_minute_in_the_identity():
    (a,) = points([{'metric': 'm', 'value': 1, 'dedupe_key': 'src-1', 'time': '2026-11-22T10:20:00Z'}])
    (b,) = points([{'metric': 'm', 'value': 1, 'dedupe_key': 'src-1', 'time': '2026-11-22T10:30:00Z'}])
    (c,) = points([{'metric': 'm', 'value': 1, 'time': '2026-11-22T10:30:00Z'}])
    assert a.key == b.key != c.key


def test_region():
    assert normalize_region('East US') == 'eastus'
    assert normalize_region('westeurope') == 'westeurope'
    for bad in ('', 'east/us', 'eastus?x', None, 'x'):
        with pytest.raises(ValidationError, match='region'):
            normalize_region(bad)


# --- packing -----------------------------------------------------------------------------------------------

def test_pack_builds_the_documented_shape():
    pts = points([
        {'metric': 'QueueDepth', 'namespace': 'QueueProcessing',
         'dimensions': {'QueueName': 'ImagesToProcess', 'MessageType': 'JPEG'},
         'min': 3, 'max': 20, 'sum': 28, 'count': 3, 'time': '2026-11-22T10:31:00Z'}])
    (req,) = pack(pts)
    assert req.content_type == 'application/json'
    assert json.loads(req.body) == {
        'time': '2026-11-22T10:31:00Z',
        'data': {'baseData': {'metric': 'QueueDepth', 'namespace': 'QueueProcessing',
                              'dimNames': ['MessageType', 'QueueName'],
                              'series': [{'dimValues': ['JPEG', 'ImagesToProcess'], 'min': 3, 'max': 20, 'sum': 28,
                                          'count': 3}]}}}


def test_pack_groups_series_and_omits_empty_dimnames():
    pts = points([{'metric': 'm', 'value': 1, 'dimensions': {'d': str(i)}} for i in range(3)]
                 + [{'metric': 'plain', 'value': 2.5}])
    (req,) = pack(pts)
    docs = req.documents()
    assert req.content_type == 'application/x-ndjson'
    assert [len(d['data']['baseData']['series']) for d in docs] == [3, 1]
    assert 'dimNames' not in docs[1]['data']['baseData']
    assert docs[1]['data']['baseData']['series'] == [{'min': 2.5, 'max': 2.5, 'sum': 2.5, 'count': 1}]


def test_pack_merges_the_same_series_minute():
    pts = points([{'metric': 'm', 'values': [1, 9]}, {'metric': 'm', 'value': 5}, {'metric': 'm', 'value': -2}])
    (req,) = pack(pts)
    (series,) = req.documents()[0]['data']['baseData']['series']
    assert series == {'min': -2, 'max': 9, 'sum': 13, 'count': 4}
    assert len(req.points) == 3


def test_pack_splits_at_the_size_limit_and_loses_nothing():
    pts = points([{'metric': 'm', 'value': i, 'dimensions': {'Host': 'host-%05d' % i, 'Zone': 'z' * 40}}
                  for i in range(3000)])
    reqs = pack(pts, max_bytes=20000)
    assert len(reqs) > 5
    for req in reqs:
        assert len(req.body) <= 20000
        assert req.size == len(req.body)
    sent = [tuple(s['dimValues']) for req in reqs for d in req.documents() for s in d['data']['baseData']['series']]
    assert len(sent) == len(set(sent)) == 3000
    assert sum(len(r.points) for r in reqs) == 3000


def test_ten_thousand_series_fit_in_few_requests():
    pts = points([{'metric': 'm', 'value': i, 'dimensions': {'Host': 'h%d' % i}} for i in range(10000)])
    reqs = pack(pts)
    assert len(reqs) == 1 and len(reqs[0].body) <= MAX_REQUEST_BYTES


def test_unicode_is_counted_in_bytes():
    pts = points([{'metric': 'm', 'value': i, 'dimensions': {'Name': 'é' * 200 + str(i)}} for i in range(200)])
    for req in pack(pts, max_bytes=10000):
        assert len(req.body) <= 10000


def _minute(offset):
    return (NOW.replace(second=0) - datetime.timedelta(minutes=offset)).strftime('%Y-%m-%dT%H:%M:%SZ')


def test_pack_sends_the_minutes_of_a_series_that_share_a_dedupe_key_in_one_request():
    # 40 hosts x 6 minutes, one dedupe_key (as the publisher role stamps one batch key): many 4 KiB requests,
    # and every host's six minutes in the same one
    pts = points([{'metric': 'Load', 'value': h, 'time': _minute(m), 'dedupe_key': 'batch-1',
                   'dimensions': {'Host': 'host-%03d' % h}} for h in range(40) for m in range(6)])
    reqs = pack(pts, max_bytes=4096)
    assert len(reqs) > 3
    where = {}
    for number, req in enumerate(reqs):
        assert req.size == len(req.body) <= 4096
        for point in req.points:
            where.setdefault(point.dim_values, set()).add(number)
    assert len(where) == 40
    assert all(len(numbers) == 1 for numbers in where.values())
    sent = sorted((d['time'], s['dimValues'][0]) for req in reqs for d in req.documents()
                  for s in d['data']['baseData']['series'])
    assert sent == sorted((_minute(m), 'host-%03d' % h) for h in range(40) for m in range(6))


def test_pack_keeps_series_without_a_dedupe_key_apart_per_minute():
    pts = points([{'metric': 'Load', 'value': h, 'time': _minute(m), 'dimensions': {'Host': 'host-%03d' % h}}
                  for h in range(40) for m in range(6)])
    reqs = pack(pts, max_bytes=4096)
    # minute by minute, each request filled before the next starts: 240 series of about 60 bytes in 4 requests
    assert [len(r.points) for r in reqs] == [61, 59, 61, 59]


def test_pack_refuses_a_dedupe_key_group_larger_than_a_request():
    wide = {'d%d' % i: ('v%d' % i).ljust(200, 'y') for i in range(10)}
    pts = points([{'metric': 'Load', 'value': 1, 'time': _minute(m), 'dedupe_key': 'k1', 'dimensions': wide}
                  for m in range(3)])
    with pytest.raises(ValidationError) as exc:
        pack(pts, max_bytes=4096)
    msg = exc.value.msg
    for word in ('metrics[0]', 'metrics[2]', "dedupe_key 'k1'", '3 minutes', 'max_request_bytes', '4096'):
        assert word in msg
    assert exc.value.details.get('option') == 'max_request_bytes'


def test_a_task_dedupe_key_is_the_default_of_every_entry():
    pts = points([{'metric': 'a', 'value': 1}, {'metric': 'b', 'value': 2, 'dedupe_key': 'own'}], dedupe_key='batch-9')
    assert [p.dedupe_key for p in pts] == ['batch-9', 'own']
    alone = points([{'metric': 'a', 'value': 1, 'dedupe_key': 'batch-9'}])
    assert pts[0].key == alone[0].key
    assert problem([{'metric': 'a', 'value': 1}], dedupe_key='') == (
        'invalid metrics, nothing was sent: metrics[0] (a): dedupe_key must be a string of 1 to 1024 characters')


# --- repeated values are checked once, and every entry is still checked -----------------------------------
def test_consume_drops_each_entry_once_converted_and_changes_nothing_else():
    given = [{'metric': 'Load', 'value': n, 'time': '2026-11-22T10:30:05Z', 'dimensions': {'Host': 'h%d' % n, 'Role': 'web'}}
             for n in range(3)]
    kept = build_points([dict(e) for e in given], RID, now=NOW, defaults={'namespace': 'NS'})
    entries = [dict(e) for e in given]
    dropped = build_points(entries, RID, now=NOW, defaults={'namespace': 'NS'}, consume=True)
    assert entries == [None, None, None]
    assert [p.key for p in dropped] == [p.key for p in kept]
    assert [p.dim_values for p in dropped] == [('h0', 'web'), ('h1', 'web'), ('h2', 'web')]
    assert dropped[0].dim_names is dropped[2].dim_names       # one tuple shared by the entries with these names
    assert dropped[0].minute is dropped[2].minute             # one time string parsed once


def test_a_bad_value_after_the_same_names_passed_is_still_refused():
    entries = [{'metric': 'Load', 'value': 1, 'dimensions': {'Host': 'a', 'Role': 'web'}},
               {'metric': 'Load', 'value': 1, 'dimensions': {'Host': '', 'Role': 'web'}},
               {'metric': 'Load', 'value': 1, 'time': 'soon', 'dimensions': {'Host': 'b', 'Role': 'web'}},
               {'metric': 'Load', 'value': 1, 'time': 'soon', 'dimensions': {'Host': 'c', 'Role': 'w\x01'}}]
    msg = problem(entries)
    assert "metrics[1] (Load): dimension 'Host' value must not be empty" in msg
    assert "metrics[2] (Load): time 'soon' is not" in msg
    assert "metrics[3] (Load): time 'soon' is not" in msg


def test_a_minute_keyed_point_shows_its_minute_to_the_ledger():
    (p,) = points([{'metric': 'm', 'value': 1, 'time': '2026-11-22T10:30:42Z', 'dimensions': {'h': 'a'}}])
    assert p.key == series_key(RID, 'NS', 'm', ('h',), ('a',), 't:2026-11-22T10:30:00Z') + '@1795343400'
    (k,) = points([{'metric': 'm', 'value': 1, 'time': '2026-11-22T10:30:42Z', 'dedupe_key': 'src-1'}])
    assert k.key == series_key(RID, 'NS', 'm', (), (), 'k:src-1')


def test_an_entry_gives_the_same_point_in_any_form():
    # strings and floats (the form checked in one pass) against numbers and numeric strings (checked field by field)
    usual = points([{'metric': 'm', 'value': 2.0, 'time': '2026-11-22T10:30:00Z', 'dimensions': {'b': 'x', 'port': '80'}},
                    {'metric': 'm', 'value': 3, 'dimensions': {'b': 'y'}}],
                   dimensions={'a': 'z', 'b': 'w'})
    other = points([{'metric': 'm', 'value': '2', 'time': 1795343400, 'dimensions': {'port': 80, 'b': 'x'}},
                    {'metric': 'm', 'values': [3], 'dimensions': {'b': 'y'}}],
                   dimensions={'b': 'w', 'a': 'z'})
    assert [(p.dim_names, p.dim_values, p.minute, p.key, p.min, p.max, p.sum, p.count) for p in usual] == [
        (p.dim_names, p.dim_values, p.minute, p.key, p.min, p.max, p.sum, p.count) for p in other]
    assert [p.dim_values for p in usual] == [('z', 'x', '80'), ('z', 'y')]
    assert usual[0].key == series_key(RID, 'NS', 'm', ('a', 'b', 'port'), ('z', 'x', '80'),
                                      't:2026-11-22T10:30:00Z') + '@1795343400'


def test_equal_numbers_of_other_types_are_not_taken_for_one_another():
    pts = points([{'metric': 'm', 'value': 1, 'dedupe_key': '5'}, {'metric': 'm', 'value': 1, 'dedupe_key': 5},
                  {'metric': 'm', 'value': 1, 'dedupe_key': 5.0}])
    assert pts[0].key == pts[1].key != pts[2].key
    assert [p.dedupe_key for p in pts] == ['5', '5', '5.0']
    msg = problem([{'metric': 'm', 'value': 1, 'time': 1795343400}, {'metric': 'm', 'value': True},
                   {'metric': 'm', 'value': 1, 'time': True}])
    assert 'metrics[0]' not in msg
    assert 'metrics[1] (m): value must be a finite number' in msg
    assert 'metrics[2] (m): time True is not a time' in msg
