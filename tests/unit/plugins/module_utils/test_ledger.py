# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
import subprocess
import datetime
import sys
import time

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ConfigError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import (
    DELIVERED,
    PENDING,
    UNKNOWN,
    Ledger,
    LedgerError,
    owner_alive,
    owner_id,
)
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points


def never_abandoned(owner, started):
    return not owner or not started


def test_created_private(tmp_path):
    path = tmp_path / 'sub' / 'ledger.sqlite3'
    ledger = Ledger(str(path))
    ledger.mark(['k'], DELIVERED)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    for extra in ('-wal', '-shm'):
        if os.path.exists(str(path) + extra):
            assert stat.S_IMODE(os.stat(str(path) + extra).st_mode) & 0o077 == 0
    ledger.close()


def test_not_created_when_asked_not_to(tmp_path):
    ledger = Ledger(str(tmp_path / 'none.sqlite3'), create=False)
    assert not ledger.exists
    assert ledger.lookup(['a']) == {}
    assert not (tmp_path / 'none.sqlite3').exists()


def test_states_round_trip(tmp_path):
    ledger = Ledger(str(tmp_path / 'l.sqlite3'))
    first = ledger.claim(['a', 'b'], 'host:1', never_abandoned)[0]
    second = ledger.claim(['x'], 'host:2', never_abandoned)[0]
    ledger.mark(['c'], UNKNOWN)
    found = ledger.lookup(['a', 'b', 'c', 'd', 'x'])
    assert {k: v[0] for k, v in found.items()} == {'a': PENDING, 'b': PENDING, 'c': UNKNOWN, 'x': PENDING}
    assert found['b'][1] == 'host:1'
    ledger.finish(first, ['a', 'b'], DELIVERED, request_id='r1')
    ledger.finish(second, ['x'], None)
    found = ledger.lookup(['a', 'b', 'c', 'x'])
    assert {k: v[0] for k, v in found.items()} == {'a': DELIVERED, 'b': DELIVERED, 'c': UNKNOWN}


def test_abandoned_requests_become_unknown(tmp_path):
    ledger = Ledger(str(tmp_path / 'l.sqlite3'))
    ledger.claim(['a', 'b'], 'dead:1', never_abandoned)
    ledger.claim(['c'], 'live:2', never_abandoned)
    assert ledger.settle_abandoned(lambda owner, started: owner.startswith('dead')) == 2
    found = ledger.lookup(['a', 'b', 'c'])
    assert {k: v[0] for k, v in found.items()} == {'a': UNKNOWN, 'b': UNKNOWN, 'c': PENDING}


def test_lookup_of_many_keys(tmp_path):
    ledger = Ledger(str(tmp_path / 'l.sqlite3'))
    keys = ['key-%d' % i for i in range(10000)]
    ledger.mark(keys[::2], DELIVERED)
    found = ledger.lookup(keys)
    assert len(found) == 5000 and 'key-0' in found and 'key-1' not in found


def test_lookup_reads_a_few_keys_of_a_large_table_and_most_of_a_small_one_alike(tmp_path):
    # 12 rows: asking for 2 keys looks each up, asking for 6 reads the table; both answer the same
    ledger = Ledger(str(tmp_path / 'l.sqlite3'))
    digests = ['%032x' % i for i in range(16)]
    ledger.mark(digests[:8] + [d + '@1795343400' for d in digests[8:12]], DELIVERED)
    ledger.mark(digests[12:13], UNKNOWN)
    few = ledger.lookup([digests[1], digests[9] + '@1795343400', digests[14]])
    assert {key: row[0] for key, row in few.items()} == {digests[1]: DELIVERED, digests[9] + '@1795343400': DELIVERED}
    most = ledger.lookup(digests[:7] + [digests[10] + '@1795343400', digests[12], digests[15]])
    assert {key: row[0] for key, row in most.items()} == dict(
        [(d, DELIVERED) for d in digests[:7]] + [(digests[10] + '@1795343400', DELIVERED), (digests[12], UNKNOWN)])


def test_prune(tmp_path):
    ledger = Ledger(str(tmp_path / 'l.sqlite3'))
    ledger.mark(['old'], DELIVERED)
    ledger.prune(-1)  # everything is older than "now + 1 s"
    assert ledger.lookup(['old']) == {}


def test_not_a_database(tmp_path):
    path = tmp_path / 'junk'
    path.write_bytes(b'not sqlite at all' * 100)
    with pytest.raises(ConfigError, match='ledger_path'):
        Ledger(str(path))


def test_owner_alive():
    assert owner_alive(owner_id()) is True
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    assert owner_alive('%s:%d' % (owner_id().rsplit(':', 1)[0], proc.pid)) is False
    assert owner_alive('elsewhere:1') is None
    assert owner_alive('garbage') is False


def _writer(path, worker, count):
    ledger = Ledger(path)
    for batch in range(count):
        keys = ['w%d-b%d-%d' % (worker, batch, i) for i in range(50)]
        ledger.finish(ledger.claim(keys, 'x:%d' % worker, never_abandoned)[0], keys, DELIVERED)
    ledger.close()


def test_concurrent_writers(tmp_path):
    path = str(tmp_path / 'shared.sqlite3')
    Ledger(path).close()
    ctx = multiprocessing.get_context('fork')
    procs = [ctx.Process(target=_writer, args=(path, w, 20)) for w in range(8)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    keys = ['w%d-b%d-%d' % (w, b, i) for w in range(8) for b in range(20) for i in range(50)]
    found = Ledger(path).lookup(keys)
    assert len(found) == 8000 and {v[0] for v in found.values()} == {DELIVERED}


def test_an_unreaped_process_is_not_alive():
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    for attempt in range(100):
        if owner_alive('%s:%d' % (owner_id().rsplit(':', 1)[0], proc.pid)) is False:
            break
        time.sleep(0.05)
    assert owner_alive('%s:%d' % (owner_id().rsplit(':', 1)[0], proc.pid)) is False, attempt
    proc.wait()


def test_an_unreadable_ledger_is_a_ledger_error_when_settling(tmp_path):
    path = str(tmp_path / 'ledger.sqlite3')
    ledger = Ledger(path)
    other = sqlite3.connect(path)
    other.execute('DROP TABLE inflight')     # another program broke the file under this run
    other.close()
    with pytest.raises(LedgerError) as caught:
        ledger.settle_abandoned(lambda owner, started: True)
    assert 'cannot read the delivery ledger %s' % path in caught.value.msg and 'inflight' in caught.value.msg
    ledger.close()


# -- bounded rows, compact storage, and ledgers of the earlier schema -------------------------------------------
DIGEST_A = '0123456789abcdef0123456789abcdef'
DIGEST_B = 'fedcba9876543210fedcba9876543210'
MINUTE = 1764795600          # 2025-12-03T21:00:00Z


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def test_a_minute_row_goes_two_hours_after_its_minute_a_dedupe_row_stays_for_the_retention(tmp_path):
    clock = Clock(MINUTE + 30)
    ledger = Ledger(str(tmp_path / 'l.sqlite3'), clock=clock)
    minute_key, dedupe_key = '%s@%d' % (DIGEST_A, MINUTE), DIGEST_B
    ledger.mark([minute_key, dedupe_key], 'delivered', request_id='r1')
    clock.now = MINUTE + 7199
    ledger.prune(30 * 86400)
    assert set(ledger.lookup([minute_key, dedupe_key])) == {minute_key, dedupe_key}
    clock.now = MINUTE + 7201
    ledger.prune(30 * 86400)
    assert set(ledger.lookup([minute_key, dedupe_key])) == {dedupe_key}
    clock.now = MINUTE + 30 + 30 * 86400 + 1
    ledger.prune(30 * 86400)
    assert ledger.lookup([dedupe_key]) == {}
    conn = sqlite3.connect(ledger.path)
    assert conn.execute('SELECT COUNT(*) FROM requests').fetchone()[0] == 0    # nothing refers to r1 any more
    conn.close()
    ledger.close()


def test_unknown_minute_rows_and_what_was_sent_for_them_go_too(tmp_path):
    clock = Clock(MINUTE + 30)
    ledger = Ledger(str(tmp_path / 'l.sqlite3'), clock=clock)
    minute_key = '%s@%d' % (DIGEST_A, MINUTE)
    ledger.record_sent([(minute_key, MINUTE, 4.5, 3), (DIGEST_B, MINUTE, 1.0, 1)])
    ledger.mark([minute_key, DIGEST_B], 'unknown')
    assert ledger.sent_details([minute_key, DIGEST_B]) == {minute_key: [(MINUTE, 4.5, 3)], DIGEST_B: [(MINUTE, 1.0, 1)]}
    clock.now = MINUTE + 3 * 3600
    ledger.prune(86400)
    assert ledger.lookup([minute_key, DIGEST_B]) == {DIGEST_B: ('unknown', None, MINUTE + 30)}
    assert ledger.sent_details([minute_key, DIGEST_B]) == {DIGEST_B: [(MINUTE, 1.0, 1)]}
    ledger.close()


def test_rows_are_compact(tmp_path):
    path = str(tmp_path / 'l.sqlite3')
    ledger = Ledger(path, clock=Clock(MINUTE + 30))
    keys = ['%032x@%d' % (i * 7919, MINUTE - 60 * (i % 2)) for i in range(20000)]
    for start in range(0, len(keys), 2000):
        chunk = keys[start:start + 2000]
        ledger.finish(ledger.claim(chunk, 'h:1', never_abandoned)[0], chunk, 'delivered',
                      request_id='0f8fad5b-d9cb-469f-a165-70867728950e')
    ledger._conn.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    size = sum(os.path.getsize(path + tail) for tail in ('', '-wal') if os.path.exists(path + tail))
    assert size / 20000 < 50, size       # 159 bytes a row before: hex text keys, state names, a request id each
    assert len(ledger.lookup(keys)) == 20000
    ledger.close()


def test_the_ledger_stays_the_same_size_however_many_runs_write_it(tmp_path):
    path = str(tmp_path / 'l.sqlite3')
    clock = Clock(MINUTE)
    ledger = Ledger(path, clock=clock)
    sizes = []
    for run in range(8):
        minute = MINUTE + run * 3600
        clock.now = minute + 20
        keys = ['%032x@%d' % (run * 100000 + i, minute) for i in range(5000)]
        ledger.finish(ledger.claim(keys, 'h:1', never_abandoned)[0], keys, 'delivered', request_id='r%d' % run)
        ledger.prune(30 * 86400)
        ledger._conn.execute('PRAGMA wal_checkpoint(TRUNCATE)')
        sizes.append(os.path.getsize(path))
    rows = sqlite3.connect(path).execute('SELECT COUNT(*) FROM series').fetchone()[0]
    assert rows == 10000          # the last two runs: an hour apart, each run's minute stays two hours
    assert max(sizes[3:]) <= 1.1 * sizes[2], sizes     # full after the third run (pages are reused)
    ledger.close()


def _schema_1(path, now):
    """A ledger as the collection wrote it before rows were bounded (schema 1), with an in-flight request."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute('PRAGMA journal_mode=WAL')
    conn.execute('CREATE TABLE series (key TEXT PRIMARY KEY, state TEXT NOT NULL, updated REAL NOT NULL,'
                 ' request_id TEXT) WITHOUT ROWID')
    conn.execute('CREATE INDEX series_updated ON series (updated)')
    conn.execute('CREATE TABLE inflight (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, started REAL NOT NULL,'
                 ' keys TEXT NOT NULL)')
    conn.execute('CREATE TABLE sent (key TEXT NOT NULL, minute REAL NOT NULL, sum REAL NOT NULL,'
                 ' count INTEGER NOT NULL, updated REAL NOT NULL, PRIMARY KEY (key, minute)) WITHOUT ROWID')
    conn.executemany('INSERT INTO series VALUES (?, ?, ?, ?)', [
        (DIGEST_A, 'delivered', now - 60.5, 'req-1'),
        (DIGEST_B, 'unknown', now - 30.25, None),
        ('opaque-key', 'delivered', now - 10.0, 'req-1'),
    ])
    conn.execute('INSERT INTO sent VALUES (?, ?, ?, ?, ?)', (DIGEST_B, float(MINUTE), 2.5, 2, now - 30.25))
    conn.execute('INSERT INTO inflight (owner, started, keys) VALUES (?, ?, ?)',
                 ('gone:1', now - 5.0, '99999999999999999999999999999999\n88888888888888888888888888888888'))
    conn.close()


def test_a_ledger_of_the_earlier_schema_opens_and_keeps_every_state(tmp_path):
    path = str(tmp_path / 'old.sqlite3')
    now = MINUTE + 120
    _schema_1(path, now)
    clock = Clock(now)
    ledger = Ledger(path, clock=clock)
    key_a, key_b = '%s@%d' % (DIGEST_A, MINUTE), '%s@%d' % (DIGEST_B, MINUTE)
    found = ledger.lookup([key_a, key_b, 'opaque-key', 'other'])
    assert found == {key_a: ('delivered', None, MINUTE + 59), key_b: ('unknown', None, MINUTE + 89),
                     'opaque-key': ('delivered', None, MINUTE + 110)}
    assert ledger.lookup([DIGEST_A]) == {DIGEST_A: ('delivered', None, MINUTE + 59)}
    assert ledger.sent_details([key_b]) == {key_b: [(MINUTE, 2.5, 2)]}
    # the earlier version's in-flight request is still seen, by the keys' digests
    in_flight = '99999999999999999999999999999999@%d' % MINUTE
    assert ledger.lookup([in_flight])[in_flight][:2] == ('pending', 'gone:1')
    taken, others = ledger.claim([in_flight, key_a, '77777777777777777777777777777777@%d' % MINUTE], 'h:2',
                                 lambda owner, started: False)
    assert others == {in_flight: 'pending', key_a: 'delivered'} and taken is not None
    assert ledger.settle_abandoned(lambda owner, started: owner == 'gone:1') == 2
    assert ledger.lookup([in_flight])[in_flight][0] == 'unknown'
    # converted rows name no minute, so they stay for the retention, not two hours
    clock.now = now + 86400
    ledger.prune(2 * 86400)
    assert set(ledger.lookup([key_a, key_b, 'opaque-key'])) == {key_a, key_b, 'opaque-key'}
    ledger.close()
    conn = sqlite3.connect(path)
    assert conn.execute('PRAGMA user_version').fetchone()[0] == 2
    assert conn.execute('PRAGMA integrity_check').fetchone()[0] == 'ok'
    assert sorted(row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")) == [
        'inflight', 'requests', 'sent', 'series']
    assert conn.execute('SELECT request_id FROM requests').fetchall() == [('req-1',)]
    conn.close()
    # opening it again converts nothing twice
    assert len(Ledger(path).lookup([key_a, key_b, 'opaque-key'])) == 3


def test_the_earlier_version_cannot_use_a_converted_ledger(tmp_path):
    path = str(tmp_path / 'l.sqlite3')
    Ledger(path).close()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.OperationalError, match='updated'):
        # the first statement the earlier version ran on every open after creating its tables
        conn.execute('CREATE INDEX IF NOT EXISTS series_updated ON series (updated)')
    conn.close()


def test_a_ledger_of_a_later_schema_is_refused_naming_the_option(tmp_path):
    path = str(tmp_path / 'l.sqlite3')
    conn = sqlite3.connect(path)
    conn.execute('PRAGMA user_version = 9')
    conn.close()
    with pytest.raises(ConfigError, match='ledger_path: .* later version .*schema 9'):
        Ledger(path)


def test_an_unknown_state_is_refused_before_anything_is_written(tmp_path):
    ledger = Ledger(str(tmp_path / 'l.sqlite3'))
    with pytest.raises(ValueError, match='sent'):
        ledger.mark(['a'], 'sent')
    assert ledger.lookup(['a']) == {}
    ledger.close()


def test_a_series_minute_whose_row_is_gone_can_never_be_sent_again(tmp_path):
    """Why a minute row may go two hours after its minute: long before that, the same point is refused before
    anything is sent or looked up, with an error naming the time and the window."""
    now = datetime.datetime(2025, 12, 3, 21, 0, 30, tzinfo=datetime.timezone.utc)
    entry = {'metric': 'Load', 'value': 1, 'namespace': 'App', 'time': '2025-12-03T20:40:00Z'}
    clock = Clock(now.timestamp())
    ledger = Ledger(str(tmp_path / 'l.sqlite3'), clock=clock)
    (point,) = build_points([dict(entry, time='2025-12-03T20:42:00Z')], '/subscriptions/s/r', now=now)
    assert point.key.endswith('@1764794520')                     # 20:42:00Z, the minute the ledger reads
    ledger.mark([point.key], 'delivered')
    clock.now = now.timestamp() + 7200 - 18 * 60 + 1               # two hours after 20:42
    ledger.prune(30 * 86400)
    assert ledger.lookup([point.key]) == {}
    with pytest.raises(ValidationError) as caught:
        build_points([dict(entry, time='2025-12-03T20:42:00Z')], '/subscriptions/s/r',
                     now=datetime.datetime.fromtimestamp(clock.now, datetime.timezone.utc))
    assert 'time 2025-12-03T20:42:00Z is outside the ingestion window' in caught.value.msg
    # already 20 minutes after its minute, that time was refused
    with pytest.raises(ValidationError, match='outside the ingestion window'):
        build_points([entry], '/subscriptions/s/r', now=now + datetime.timedelta(minutes=1))
    ledger.close()


def _open_and_mark(path, worker):
    ledger = Ledger(path)
    key = '%032x@%d' % (worker + 1, MINUTE)
    ledger.mark([key], 'delivered')
    assert len(ledger.lookup(['%s@%d' % (DIGEST_A, MINUTE), key])) == 2
    ledger.close()


def test_runs_that_open_an_earlier_ledger_at_once_convert_it_once(tmp_path):
    path = str(tmp_path / 'old.sqlite3')
    _schema_1(path, MINUTE + 120)
    ctx = multiprocessing.get_context('fork')
    procs = [ctx.Process(target=_open_and_mark, args=(path, worker)) for worker in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    ledger = Ledger(path)
    keys = ['%s@%d' % (DIGEST_A, MINUTE), '%s@%d' % (DIGEST_B, MINUTE), 'opaque-key']
    keys += ['%032x@%d' % (worker + 1, MINUTE) for worker in range(4)]
    assert {key: row[0] for key, row in ledger.lookup(keys).items()} == {
        keys[0]: 'delivered', keys[1]: 'unknown', 'opaque-key': 'delivered', keys[3]: 'delivered',
        keys[4]: 'delivered', keys[5]: 'delivered', keys[6]: 'delivered'}
    ledger.close()
    conn = sqlite3.connect(path)
    assert conn.execute('SELECT COUNT(*) FROM series').fetchone()[0] == 7
    assert conn.execute('SELECT COUNT(*) FROM requests').fetchone()[0] == 1
    conn.close()
