# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ConfigError
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import (
    DELIVERED,
    PENDING,
    UNKNOWN,
    Ledger,
    LedgerError,
    owner_alive,
    owner_id,
)


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
