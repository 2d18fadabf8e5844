# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The delivery ledger: which series-minutes were delivered, are being sent, or may have been ingested.

A SQLite file (WAL mode, mode 0600 in a 0700 folder) shared by every process
of the user, so that many forks can write at once.  States:

``pending``
    an ``inflight`` row, written (and committed) before a request is sent, with
    the sending process as owner; a crash leaves it behind, and a later run
    turns all its keys into ``unknown`` once the owner is gone.
``delivered``
    the service accepted the request that carried it.
``unknown``
    the request may or may not have been ingested (a 5xx, a timeout or a reset
    after the body was sent); not re-sent unless asked.

Keys are opaque strings (``_metrics.series_key``); nothing secret is stored.  For keys that may have been
ingested (``unknown``) the ledger also keeps what was sent (minute, sum and count, in table ``sent``), so
that a later run can compare it with what Azure holds (``_reconcile``).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time

from ansible_collections.azmon.metrics.plugins.module_utils._errors import AzmonError, ConfigError
from ansible_collections.azmon.metrics.plugins.module_utils._states import DELIVERED, PENDING, UNKNOWN

DEFAULT_PATH = '~/.ansible/azmon_metrics/ledger.sqlite3'
_CHUNK = 500  # SQLite's default limit on host parameters is 999 on old builds


def owner_id():
    """``host:pid`` of this process: lets a later run tell a crashed sender from a live one."""
    return '%s:%d' % (socket.gethostname(), os.getpid())


def owner_alive(owner, host=None):
    """Whether ``owner`` (``host:pid``) is a process that still runs on this host; ``None`` if on another host."""
    try:
        owner_host, pid = owner.rsplit(':', 1)
        pid = int(pid)
    except (AttributeError, ValueError):
        return False
    if owner_host != (host or socket.gethostname()):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid):
    """A process that ended but was not reaped yet still answers ``kill(pid, 0)``; Linux shows it as state Z."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as handle:
            return handle.read().rsplit(b')', 1)[1].split()[0] == b'Z'
    except (OSError, IndexError):
        return False


class LedgerError(AzmonError):
    """The ledger could not be read or written (disk full, locked for longer than the busy timeout)."""


def _settle_row(conn, inflight_id, keys):
    """Turn the keys of in-flight row ``inflight_id`` into ``unknown``; ``False`` when the row is gone."""
    if conn.execute('DELETE FROM inflight WHERE id = ?', (inflight_id,)).rowcount == 0:
        return False
    now = time.time()
    conn.executemany('INSERT OR REPLACE INTO series (key, state, updated, request_id) VALUES (?, ?, ?, NULL)',
                     [(key, UNKNOWN, now) for key in keys])
    return True


class Ledger:
    """Read and record series states.  Every write is one short ``BEGIN IMMEDIATE`` transaction.

    Settled states live in ``series``, one row a key.  A request being sent is
    one ``inflight`` row holding all its keys, so that marking ten thousand
    series as pending costs one row.
    """

    def __init__(self, path=DEFAULT_PATH, create=True, busy_timeout=60.0):
        self.path = os.path.abspath(os.path.expanduser(path))
        self._conn = None
        if not os.path.exists(self.path):
            if not create:
                return
            self._create_file()
        old_umask = os.umask(0o077)
        try:
            self._conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None)
            self._conn.execute('PRAGMA journal_mode=WAL')
            self._conn.execute('PRAGMA synchronous=NORMAL')
            self._conn.execute('CREATE TABLE IF NOT EXISTS series (key TEXT PRIMARY KEY, state TEXT NOT NULL,'
                               ' updated REAL NOT NULL, request_id TEXT) WITHOUT ROWID')
            self._conn.execute('CREATE INDEX IF NOT EXISTS series_updated ON series (updated)')
            self._conn.execute('CREATE TABLE IF NOT EXISTS inflight (id INTEGER PRIMARY KEY, owner TEXT NOT NULL,'
                               ' started REAL NOT NULL, keys TEXT NOT NULL)')
            self._conn.execute('CREATE TABLE IF NOT EXISTS sent (key TEXT NOT NULL, minute REAL NOT NULL,'
                               ' sum REAL NOT NULL, count INTEGER NOT NULL, updated REAL NOT NULL,'
                               ' PRIMARY KEY (key, minute)) WITHOUT ROWID')
        except sqlite3.DatabaseError as exc:
            raise ConfigError('ledger_path: cannot use %s as the delivery ledger: %s' % (self.path, exc),
                              option='ledger_path') from None
        finally:
            os.umask(old_umask)

    def _create_file(self):
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)
        except OSError as exc:
            raise ConfigError('ledger_path: cannot create %s: %s' % (self.path, exc.strerror), option='ledger_path') from None

    @property
    def exists(self):
        return self._conn is not None

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def lookup(self, keys):
        """``{key: (state, owner, updated)}`` for the keys the ledger knows; in-flight keys come back ``pending``."""
        found = {}
        if self._conn is None:
            return found
        keys = list(keys)
        try:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                rows = self._conn.execute('SELECT key, state, updated FROM series WHERE key IN (%s)'
                                          % ','.join('?' * len(chunk)), chunk)
                for key, state, updated in rows:
                    found[key] = (state, None, updated)
            wanted = set(keys)
            for owner, started, packed in self._conn.execute('SELECT owner, started, keys FROM inflight'):
                for key in wanted.intersection(packed.split('\n')):
                    found[key] = (PENDING, owner, started)
        except sqlite3.Error as exc:
            raise LedgerError('cannot read the delivery ledger %s: %s' % (self.path, exc), ledger_path=self.path) from None
        return found

    def claim(self, keys, owner, is_abandoned, resend_unknown=False):
        """Take, in one transaction, the keys no one else holds, and record them in flight for ``owner``.

        Returns ``(inflight_id, others)``: ``others`` maps every key not taken to why (``delivered``,
        ``unknown``, or ``pending`` while another live process sends it); ``inflight_id`` is ``None`` when
        nothing was taken.  Checking and recording at once is what keeps two processes that emit the same
        series at the same time from both sending it.
        """
        keys = list(keys)

        def work(conn):
            others = {}
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                for key, state in conn.execute('SELECT key, state FROM series WHERE key IN (%s)'
                                               % ','.join('?' * len(chunk)), chunk):
                    if not (state == UNKNOWN and resend_unknown):
                        others[key] = state
            wanted = set(keys)
            for row_owner, started, packed in conn.execute('SELECT owner, started, keys FROM inflight'):
                if row_owner == owner:
                    continue
                for key in wanted.intersection(packed.split('\n')):
                    others[key] = UNKNOWN if is_abandoned(row_owner, started) else PENDING
            taken = [key for key in keys if key not in others]
            if not taken:
                return None, others
            inflight_id = conn.execute('INSERT INTO inflight (owner, started, keys) VALUES (?, ?, ?)',
                                       (owner, time.time(), '\n'.join(taken))).lastrowid
            return inflight_id, others
        return self._transaction(work)

    def finish(self, inflight_id, keys, state=None, request_id=None):
        """Settle an in-flight request: its keys become ``state`` (``None``: forgotten, nothing was ingested)."""
        now = time.time()

        def work(conn):
            if inflight_id is not None:
                conn.execute('DELETE FROM inflight WHERE id = ?', (inflight_id,))
            if state is not None:
                conn.executemany('INSERT OR REPLACE INTO series (key, state, updated, request_id) VALUES (?, ?, ?, ?)',
                                 [(key, state, now, request_id) for key in keys])
        self._transaction(work)

    def mark(self, keys, state, request_id=None):
        """Record ``state`` for every key, in one transaction."""
        self.finish(None, keys, state, request_id)

    def settle_abandoned(self, is_abandoned):
        """Turn every in-flight request whose sender is gone (``is_abandoned(owner, started)``) into ``unknown``
        keys; returns how many keys that concerned."""
        if self._conn is None:
            return 0
        try:
            rows = [row for row in self._conn.execute('SELECT id, owner, started, keys FROM inflight')
                    if is_abandoned(row[1], row[2])]
        except sqlite3.Error as exc:
            raise LedgerError('cannot read the delivery ledger %s: %s' % (self.path, exc), ledger_path=self.path) from None
        count = 0
        for inflight_id, _owner, _started, packed in rows:
            keys = packed.split('\n')
            # settled only if the row is still there: another run may have settled it since it was read
            if self._transaction(lambda conn, row=inflight_id, keys=keys: _settle_row(conn, row, keys)):
                count += len(keys)
        return count

    def record_sent(self, rows):
        """Remember what went out for keys that may have been ingested: ``(key, minute_epoch, sum, count)`` rows
        (several minutes of one key when it is a ``dedupe_key``)."""
        now = time.time()
        rows = [(key, float(minute), float(total), int(count), now) for key, minute, total, count in rows]
        if rows:
            self._transaction(lambda conn: conn.executemany(
                'INSERT OR REPLACE INTO sent (key, minute, sum, count, updated) VALUES (?, ?, ?, ?, ?)', rows))

    def sent_details(self, keys):
        """``{key: [(minute_epoch, sum, count), ...]}`` for the keys ``record_sent`` saw."""
        found = {}
        if self._conn is None:
            return found
        keys = list(keys)
        try:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                for key, minute, total, count in self._conn.execute(
                        'SELECT key, minute, sum, count FROM sent WHERE key IN (%s)' % ','.join('?' * len(chunk)), chunk):
                    found.setdefault(key, []).append((minute, total, count))
        except sqlite3.Error as exc:
            raise LedgerError('cannot read the delivery ledger %s: %s' % (self.path, exc), ledger_path=self.path) from None
        return found

    def forget_unknown(self, keys):
        """Drop keys that are still ``unknown`` (Azure holds nothing of them), so that the next claim takes them."""
        keys = list(keys)

        def work(conn):
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                marks = ','.join('?' * len(chunk))
                gone = [row[0] for row in conn.execute('SELECT key FROM series WHERE state = ? AND key IN (%s)' % marks,
                                                       [UNKNOWN] + chunk)]
                if gone:
                    marks = ','.join('?' * len(gone))
                    conn.execute('DELETE FROM series WHERE key IN (%s)' % marks, gone)
                    conn.execute('DELETE FROM sent WHERE key IN (%s)' % marks, gone)
        if keys:
            self._transaction(work)

    def prune(self, older_than_seconds):
        """Drop settled rows older than the retention."""
        cutoff = time.time() - older_than_seconds

        def work(conn):
            conn.execute('DELETE FROM series WHERE updated < ?', (cutoff,))
            conn.execute('DELETE FROM sent WHERE updated < ?', (cutoff,))
        self._transaction(work)

    def _transaction(self, work):
        conn = self._conn
        try:
            conn.execute('BEGIN IMMEDIATE')
            try:
                result = work(conn)
            except BaseException:
                conn.execute('ROLLBACK')
                raise
            conn.execute('COMMIT')
        except sqlite3.Error as exc:
            raise LedgerError('cannot write the delivery ledger %s: %s' % (self.path, exc), ledger_path=self.path) from None
        return result
