# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one-line ``msg`` of a successful emission: sent, skipped, unknown, requests."""

from __future__ import annotations

import datetime

from ansible_collections.azmon.metrics.tests.unit.fake_sender import FakeSender, emission

RID = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'
NOW = datetime.datetime(2026, 11, 22, 10, 31, 17, tzinfo=datetime.timezone.utc)


def entries(count):
    return [{'metric': 'Load', 'namespace': 'NS', 'dimensions': {'Host': 'h%d' % n}, 'value': n,
             'time': '2026-11-22T10:30:00Z'} for n in range(count)]


def emit(ledger, sender, items, **kwargs):
    return emission(ledger, sender, items, RID, NOW, **kwargs)


def test_a_first_run_says_how_many_series_went_out_in_how_many_requests(ledger):
    result = emit(ledger, FakeSender(), entries(6)).run()
    assert result['msg'] == '6 of 6 series sent in 1 request(s); 0 skipped (delivered before), 0 unknown'


def test_a_rerun_says_everything_was_skipped(ledger):
    emit(ledger, FakeSender(), entries(6)).run()
    result = emit(ledger, FakeSender(), entries(6)).run()
    assert result['msg'] == '0 of 6 series sent in 0 request(s); 6 skipped (delivered before), 0 unknown'
    assert result['changed'] is False


def test_check_mode_says_what_would_be_sent(ledger):
    result = emit(ledger, None, entries(2), check_mode=True).run()
    assert result['msg'] == ('check mode: 2 of 2 series would be sent in 1 request(s); 0 skipped (delivered before),'
                             ' 0 unknown')
    assert 'payloads' in result
