# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._ledger import DELIVERED, UNKNOWN, Ledger
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points
from ansible_collections.azmon.metrics.plugins.module_utils._reconcile import (
    ABSENT,
    MISMATCH,
    SETTLED,
    RecordingLedger,
    _batches,
    _Item,
    decide,
)

VM = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'
NOW = datetime.datetime(2026, 11, 22, 10, 31, 20, tzinfo=datetime.timezone.utc)


# ------------------------------------------------------------------------------------------- the decision table
@pytest.mark.parametrize('sent_sum, sent_count, read, expected', [
    (5.0, 2, (5.0, 2), SETTLED),                 # exactly what was sent
    (5.0, 2, (5.000000000001, 2), SETTLED),      # a double's rounding
    (0.0, 1, (0.0, 1), SETTLED),                 # a zero value that was ingested is not absent
    (-3.5, 1, (-3.5, 1), SETTLED),
    (5.0, 2, None, ABSENT),                      # no data point at all
    (5.0, 2, (None, None), ABSENT),              # a bin without aggregates
    (5.0, 2, (0.0, 0), ABSENT),                  # count 0: nothing ingested in that minute
    (5.0, 2, (10.0, 4), MISMATCH),               # ingested twice
    (5.0, 2, (2.0, 1), MISMATCH),                # part of it
    (5.0, 2, (5.0, 3), MISMATCH),                # same sum, another count: someone else sent to it too
    (5.0, 2, (6.0, 2), MISMATCH),
    (5.0, 2, (None, 2), MISMATCH),
])
def test_decision_table(sent_sum, sent_count, read, expected):
    assert decide(sent_sum, sent_count, read) == expected


# ------------------------------------------------------------------------------------------------ batching
def _points(entries):
    return build_points(entries, VM, now=NOW, defaults={'namespace': 'NS', 'time': '2026-11-22T10:30:00Z'})


def _items(points):
    return [_Item(p.key, p, p.minute.timestamp(), p.sum, p.count) for p in points]


def test_one_read_per_metric_and_dimension_names():
    points = _points([{'metric': 'Depth', 'dimensions': {'Queue': 'q%d' % i}, 'value': i} for i in range(30)]
                     + [{'metric': 'Depth', 'dimensions': {'Queue': 'a', 'Kind': 'x'}, 'value': 1},
                        {'metric': 'Errors', 'value': 1}])
    batches = list(_batches(_items(points)))
    assert [(ns, metric, names, len(batch), size) for ns, metric, names, batch, size in batches] == [
        ('NS', 'Depth', ('Kind', 'Queue'), 1, 1),
        ('NS', 'Depth', ('Queue',), 30, 30),
        ('NS', 'Errors', (), 1, 1),
    ]


def test_a_batch_whose_filter_would_match_too_many_series_is_split():
    # 15 x 15 = 225 combinations of two dimensions is more than one read may return: split in two
    points = _points([{'metric': 'Depth', 'dimensions': {'A': 'a%d' % i, 'B': 'b%d' % i}, 'value': 1} for i in range(15)])
    batches = list(_batches(_items(points)))
    assert sorted(len(batch) for _ns, _m, _n, batch, _s in batches) == [7, 8]
    assert all(size <= 200 for _ns, _m, _n, _b, size in batches)
    assert sum(len(batch) for _ns, _m, _n, batch, _s in batches) == 15


# ------------------------------------------------------------------------------------- what the ledger keeps
def test_the_recording_ledger_keeps_what_was_sent_only_for_unknown_keys(tmp_path):
    ledger = Ledger(str(tmp_path / 'ledger.sqlite3'))
    points = _points([{'metric': 'Depth', 'dimensions': {'Queue': 'a'}, 'min': 1, 'max': 4, 'sum': 5, 'count': 2},
                      {'metric': 'Depth', 'dimensions': {'Queue': 'b'}, 'value': 7}])
    recording = RecordingLedger(ledger, points)
    recording.finish(None, [points[0].key], UNKNOWN)
    recording.finish(None, [points[1].key], DELIVERED)
    minute = datetime.datetime(2026, 11, 22, 10, 30, tzinfo=datetime.timezone.utc).timestamp()
    assert ledger.sent_details([points[0].key, points[1].key]) == {points[0].key: [(minute, 5.0, 2)]}
    assert {k: v[0] for k, v in ledger.lookup([p.key for p in points]).items()} == {
        points[0].key: UNKNOWN, points[1].key: DELIVERED}
    assert recording.exists   # everything else passes through


def test_forget_unknown_drops_only_unknown_keys(tmp_path):
    ledger = Ledger(str(tmp_path / 'ledger.sqlite3'))
    ledger.mark(['u'], UNKNOWN)
    ledger.mark(['d'], DELIVERED)
    ledger.record_sent([('u', 60.0, 1.5, 1), ('d', 60.0, 2.0, 1)])
    ledger.forget_unknown(['u', 'd'])
    assert {k: v[0] for k, v in ledger.lookup(['u', 'd']).items()} == {'d': DELIVERED}
    assert ledger.sent_details(['u', 'd']) == {'d': [(60.0, 2.0, 1)]}


def test_forget_unknown_keeps_a_key_settled_again_since_it_was_read(tmp_path):
    clock = [1000.0]
    ledger = Ledger(str(tmp_path / 'ledger.sqlite3'), clock=lambda: clock[0])
    ledger.mark(['again', 'same'], UNKNOWN)
    assert {k: v[2] for k, v in ledger.lookup(['again', 'same']).items()} == {'again': 1000, 'same': 1000}
    # meanwhile another run forgot 'again', sent it, and that request ended unknown too, later
    clock[0] = 1300.0
    ledger.forget_unknown(['again'])
    ledger.mark(['again'], UNKNOWN)
    ledger.forget_unknown(['again', 'same'], seen={'again': 1000, 'same': 1000})
    assert {k: v[:1] + v[2:] for k, v in ledger.lookup(['again', 'same']).items()} == {'again': (UNKNOWN, 1300)}


def test_minutes_far_apart_are_read_in_separate_calls():
    points = _points([{'metric': 'Depth', 'value': 1}])
    day = 86400.0
    items = [_Item('k1', points[0], 1795774200.0, 1.0, 1), _Item('k2', points[0], 1795774200.0 + day, 1.0, 1),
             _Item('k3', points[0], 1795774260.0, 1.0, 1)]
    batches = list(_batches(items))
    assert sorted(sorted(i.key for i in batch) for _ns, _m, _n, batch, _s in batches) == [['k1', 'k3'], ['k2']]
