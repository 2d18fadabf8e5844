# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``Emission`` through a real ledger file and the tests' stand-in sender (tests/unit/fake_sender.py), which
ingests what it is given as Azure would, so a test can tell what Azure would hold after a run and its reruns."""

from __future__ import annotations

import collections
import datetime

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._emit import EmissionFailed
from ansible_collections.azmon.metrics.plugins.module_utils._errors import AuthError, ConfigError
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import Ledger, LedgerError
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points
from ansible_collections.azmon.metrics.tests.unit.fake_sender import FakeSender, emission

RID = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'
NOW = datetime.datetime(2026, 11, 22, 10, 31, 17, tzinfo=datetime.timezone.utc)
COUNTS = ('series_sent', 'series_would_send', 'series_skipped', 'series_unknown', 'series_unknown_skipped',
          'series_failed', 'series_not_sent', 'series_in_flight', 'series_not_recorded')


def minute(offset):
    return (NOW.replace(second=0) - datetime.timedelta(minutes=offset)).strftime('%Y-%m-%dT%H:%M:%SZ')


def entries(hosts, minutes, dedupe_key=None):
    """One entry per host and minute (minutes ago), each with count 1."""
    result = []
    for host in range(hosts):
        for offset in range(minutes):
            entry = {'metric': 'Load', 'namespace': 'NS', 'dimensions': {'Host': 'host-%03d' % host},
                     'value': host, 'time': minute(offset)}
            if dedupe_key is not None:
                entry['dedupe_key'] = dedupe_key
            result.append(entry)
    return result


def expected(hosts, minutes):
    return collections.Counter({('Load', ('host-%03d' % host,), minute(offset)): 1
                                for host in range(hosts) for offset in range(minutes)})


def emit(ledger, sender, items, **kwargs):
    """An emission by host:1 (unless ``owner``) in 4 KiB requests; ``dead`` the processes that have ended."""
    kwargs.setdefault('max_request_bytes', 4096)
    return emission(ledger, sender, items, RID, NOW, detail_limit=10000, **kwargs)


def run(emission):
    """The result, whether the run failed or not."""
    try:
        return emission.run()
    except EmissionFailed as exc:
        return dict(exc.details, failed=True, msg=exc.msg)


def assert_counts_add_up(result):
    assert sum(result[name] for name in COUNTS) == result['series_total']
    assert len([s for s in result['series'] if s['status'] is not None]) == result['series_total']


# -- one dedupe_key, several minutes of a series, several requests -------------------------------------------------
def test_minutes_sharing_a_dedupe_key_are_all_delivered_whatever_the_packing(ledger):
    items = entries(hosts=30, minutes=5, dedupe_key='batch-7')
    sender = FakeSender()
    result = emit(ledger, sender, items).run()
    assert sender.posts > 1                       # the 150 series-minutes need several 4 KiB requests
    assert sender.ingested == expected(30, 5)
    assert result['series_sent'] == 150 and result['series_skipped'] == 0 and result['changed'] is True
    assert_counts_add_up(result)
    again = FakeSender()
    rerun = emit(ledger, again, items, owner='host:2').run()
    assert again.posts == 0 and rerun['series_skipped'] == 150 and rerun['changed'] is False


def test_a_dedupe_key_still_skips_a_value_restamped_to_another_minute(ledger):
    first = FakeSender()
    emit(ledger, first, [{'metric': 'Load', 'namespace': 'NS', 'value': 1, 'dedupe_key': 'src-1',
                          'time': minute(3)}]).run()
    again = FakeSender()
    rerun = emit(ledger, again, [{'metric': 'Load', 'namespace': 'NS', 'value': 1, 'dedupe_key': 'src-1',
                                  'time': minute(0)}], owner='host:2').run()
    assert again.posts == 0 and rerun['series_skipped'] == 1


# -- nothing claimed before the local checks; every failure before the body releases its claim ----------------------
@pytest.mark.parametrize('error', [FileNotFoundError(2, 'No such file or directory'),
                                   ConfigError('federated_token_file: no such file', option='federated_token_file'),
                                   AuthError('sign-in failed')])
def test_a_local_failure_claims_nothing_and_the_corrected_run_delivers_everything(ledger, error):
    items = entries(hosts=20, minutes=3)
    broken = FakeSender(local=error)
    with pytest.raises(type(error)):
        emit(ledger, broken, items).run()
    assert broken.prepared == 1 and broken.posts == 0
    points = build_points(items, RID, now=NOW)
    assert ledger.lookup([p.key for p in points]) == {}
    fixed = FakeSender()
    result = emit(ledger, fixed, items, owner='host:2', dead=('host:1',)).run()  # the first process is gone
    assert fixed.ingested == expected(20, 3) and result['series_sent'] == 60


def test_an_error_before_a_later_body_is_written_releases_only_that_request(ledger):
    items = entries(hosts=40, minutes=2)
    sender = FakeSender(script=['ok', UnicodeEncodeError('ascii', 'é', 0, 1, 'ordinal not in range(128)')])
    with pytest.raises(UnicodeEncodeError):
        emit(ledger, sender, items).run()
    delivered_first = sum(sender.ingested.values())
    assert 0 < delivered_first < 80
    fixed = FakeSender()
    result = emit(ledger, fixed, items, owner='host:2', dead=('host:1',)).run()
    assert sender.ingested + fixed.ingested == expected(40, 2)
    assert result['series_sent'] == 80 - delivered_first and result['series_skipped'] == delivered_first
    assert result['series_unknown_skipped'] == 0


def test_an_error_after_the_body_was_written_leaves_those_series_unknown(ledger):
    items = entries(hosts=5, minutes=1)
    sender = FakeSender(script=[('after', KeyboardInterrupt())])
    with pytest.raises(KeyboardInterrupt):
        emit(ledger, sender, items).run()
    again = FakeSender()
    result = emit(ledger, again, items, owner='host:2').run()   # the first process may still live: no matter
    assert again.posts == 0 and result['series_unknown_skipped'] == 5 and result['series_in_flight'] == 0


# -- a ledger failure mid-run reports what was delivered ---------------------------------------------------------------
class FailingLedger(Ledger):
    """A ledger whose ``finish`` fails from its ``fail_at``-th call on (the disk filled up)."""

    fail_at = 2

    def finish(self, inflight_id, keys, state=None, request_id=None):
        self.fail_at -= 1
        if self.fail_at <= 0:
            raise LedgerError('cannot write the delivery ledger %s: database or disk is full' % self.path,
                              ledger_path=self.path)
        return super().finish(inflight_id, keys, state, request_id)


def test_a_ledger_failure_mid_run_reports_the_counts_and_series(tmp_path):
    book = FailingLedger(str(tmp_path / 'ledger.sqlite3'))
    items = entries(hosts=200, minutes=1)
    sender = FakeSender()
    with pytest.raises(EmissionFailed) as caught:
        emit(book, sender, items).run()
    result = caught.value.details
    delivered = sum(sender.ingested.values())
    recorded = result['requests'][0]['series']
    assert sender.posts == 2 and recorded < delivered < 200
    assert 'disk is full' in caught.value.msg and '%d of 200 series delivered' % recorded in caught.value.msg
    assert result['series_total'] == 200
    assert result['series_sent'] == recorded
    assert result['series_not_recorded'] == delivered - recorded   # delivered, but the ledger could not say so
    assert result['series_not_sent'] == 200 - delivered
    assert_counts_add_up(result)
    statuses = collections.Counter(s['status'] for s in result['series'])
    assert statuses == {'sent': recorded, 'not_recorded': delivered - recorded, 'not_sent': 200 - delivered}
    book.close()
    # once the first process has ended, a rerun does not send the delivered but unrecorded series again: they are
    # unknown now, and the rerun sends only what was not sent
    later = Ledger(str(tmp_path / 'ledger.sqlite3'))
    again = FakeSender()
    rerun = run(emit(later, again, items, owner='host:2', dead=('host:1',)))
    later.close()
    assert sender.ingested + again.ingested == expected(200, 1)
    assert rerun['series_skipped'] == recorded
    assert rerun['series_unknown_skipped'] == delivered - recorded
    assert rerun['series_sent'] == 200 - delivered


# -- unknown series skipped by a rerun are named in a warning every time -----------------------------------------------
def test_a_rerun_that_skips_unknown_series_warns_every_time(ledger):
    items = entries(hosts=3, minutes=1)
    first = run(emit(ledger, FakeSender(script=['unknown']), items))
    assert first['failed'] is True and first['series_unknown'] == 3
    for attempt in range(2):
        warnings = []
        again = FakeSender()
        result = emit(ledger, again, items, owner='host:%d' % (attempt + 2), warn=warnings.append).run()
        assert again.posts == 0 and result['series_unknown_skipped'] == 3 and result['changed'] is False
        assert len(warnings) == 1
        assert '3 series' in warnings[0] and 'unknown=reconcile' in warnings[0] and 'resend_unknown' in warnings[0]
