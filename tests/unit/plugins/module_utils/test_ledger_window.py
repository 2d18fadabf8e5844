# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exactly-once at the edges of the ingestion window: the row of a series-minute outlives every moment at which
validation would still let the same entry be sent again (the oldest and the latest time it accepts, a time given
with a UTC offset), and a dedupe_key's row ignores the minute rule."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import DELIVERED, Ledger
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points

RID = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm'
UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 22, 10, 30, 20, tzinfo=UTC)       # 1795343420
RETENTION = 30 * 86400

ENTRIES = [
    {'metric': 'm', 'namespace': 'NS', 'value': 1, 'time': '2026-11-22T10:11:00Z'},       # the oldest accepted
    {'metric': 'm', 'namespace': 'NS', 'value': 2, 'time': '2026-11-22T10:33:20Z'},       # the latest accepted
    {'metric': 'm', 'namespace': 'NS', 'value': 3, 'time': '2026-11-22T16:15:40+05:45'},  # 10:30:40 UTC
    {'metric': 'm', 'namespace': 'NS', 'value': 4, 'time': '2026-11-22T10:30:05Z', 'dedupe_key': 'batch-1'},
]


def _at(epoch):
    return datetime.datetime.fromtimestamp(epoch, UTC)


def test_every_key_names_the_utc_minute_and_a_dedupe_key_names_none():
    points = build_points([dict(e) for e in ENTRIES], RID, now=NOW)
    assert [p.key[32:] for p in points] == ['@1795342260', '@1795343580', '@1795343400', '']


@pytest.mark.parametrize('index, last_accepted', [
    (0, 1795343459),    # 10:30:59: at 10:31:00 the window starts at 10:12
    (1, 1795344779),    # 10:52:59: at 10:53:00 the window starts at 10:34
    (2, 1795344599),    # 10:49:59: at 10:50:00 the window starts at 10:31
])
def test_a_series_minute_is_held_as_long_as_its_entry_could_be_sent_again(tmp_path, fake_clock, index, last_accepted):
    clock = fake_clock
    clock.now = 1795343420
    ledger = Ledger(str(tmp_path / 'ledger.sqlite3'), clock=clock)
    try:
        entry = ENTRIES[index]
        key = build_points([dict(entry)], RID, now=NOW)[0].key
        ledger.mark([key], DELIVERED)
        # the last moment the same entry still passes validation: the ledger pruned then still knows it
        again = build_points([dict(entry)], RID, now=_at(last_accepted))[0].key
        assert again == key
        clock.now = last_accepted
        ledger.prune(RETENTION)
        assert ledger.lookup([again])[again][0] == DELIVERED
        # one second later validation refuses it, naming the time, before any ledger is read
        with pytest.raises(ValidationError, match='outside the ingestion window'):
            build_points([dict(entry)], RID, now=_at(last_accepted + 1))
        # and the row goes only two hours after its minute
        minute = int(key.rsplit('@', 1)[1])
        clock.now = minute + 7200
        ledger.prune(RETENTION)
        assert ledger.lookup([key]) != {}
        clock.now = minute + 7201
        ledger.prune(RETENTION)
        assert ledger.lookup([key]) == {}
    finally:
        ledger.close()


def test_a_dedupe_key_row_keeps_the_retention_whatever_its_entries_time(tmp_path, fake_clock):
    clock = fake_clock
    clock.now = 1795343420
    ledger = Ledger(str(tmp_path / 'ledger.sqlite3'), clock=clock)
    try:
        key = build_points([dict(ENTRIES[3])], RID, now=NOW)[0].key
        ledger.mark([key], DELIVERED)
        clock.now = 1795343420 + 29 * 86400
        ledger.prune(RETENTION)
        assert ledger.lookup([key])[key][0] == DELIVERED
        clock.now = 1795343420 + 30 * 86400 + 1
        ledger.prune(RETENTION)
        assert ledger.lookup([key]) == {}
    finally:
        ledger.close()
