# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The delivery ledger: which series-minutes were delivered, are being sent, or may have been ingested.

A SQLite file (WAL mode, mode 0600 in a 0700 folder) shared by every process
of the user, so that many forks can write at once.  States (``_states``):

``pending``
    an ``inflight`` row, written (and committed) before a request is sent, with
    the sending process as owner; a crash leaves it behind, and a later run
    turns all its keys into ``unknown`` once the owner is gone.
``delivered``
    the service accepted the request that carried it.
``unknown``
    the request may or may not have been ingested (a 5xx, a timeout or a reset
    after the body was sent); not re-sent unless asked.

Keys are opaque strings (``_metrics.series_key``); nothing secret is stored.  The ledger reads one thing from
them: a key ``<digest>@<epoch seconds>`` names the minute of its series-minute (every point without a
``dedupe_key``); any other key (a ``dedupe_key``'s) names none.

How long a row stays:

- a row whose key names its minute goes ``MINUTE_ROW_SECONDS`` (two hours) after that minute.  Such a
  series-minute can never be sent again once it has left the ingestion window: validation refuses a point older
  than 19 minutes before anything is sent (a rerun with an old time fails, naming the time and the window), the
  sender gives a request up 20 minutes after its oldest minute, and Azure Monitor refuses custom metrics older
  than 30 minutes.
  The 90 minutes beyond Azure's limit are margin for clocks: a pruning host whose clock runs ahead, or a clock
  stepped by NTP.  So the ledger holds about two hours of minute rows, however many runs wrote it.
- any other row (a ``dedupe_key`` may come back at any time) stays for the retention given to ``prune``
  (``ledger_retention_days``).

Storage (schema 2, in ``PRAGMA user_version``): ``series`` has one compact row per settled key: the digest as 16
bytes, the state as a small integer, the minute (NULL for a ``dedupe_key``), the time it settled and the number of
the request that carried it, whose id is stored once in ``requests``.  ``inflight`` has one row per request being
sent; ``sent`` keeps what went out (minute, sum and count) for keys that may have been ingested, so that a later
run can compare it with what Azure holds (``_reconcile``).  A ledger of schema 1 (hex keys, state names and a
request id on every row) is converted in place when it is first opened; its rows keep the retention, since they do
not say which name a minute.  An earlier version of the collection refuses a converted ledger.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time

from ansible_collections.azmon.metrics.plugins.module_utils._errors import AzmonError, ConfigError
from ansible_collections.azmon.metrics.plugins.module_utils._states import DELIVERED, PENDING, UNKNOWN

DEFAULT_PATH = '~/.ansible/azmon_metrics/ledger.sqlite3'
SCHEMA = 2
MINUTE_ROW_SECONDS = 2 * 3600   # how long after its minute a series-minute's row stays (see above)
_CHUNK = 500  # SQLite's default limit on host parameters is 999 on old builds
_SCAN_RATIO = 3  # lookup() reads the whole series table when it holds at most this many rows a key asked
_CODES = {DELIVERED: 1, UNKNOWN: 0}    # states as stored: 0 and 1 take no bytes in a SQLite record
_STATES = {code: state for state, code in _CODES.items()}
_TABLES = (
    'CREATE TABLE IF NOT EXISTS series (k BLOB PRIMARY KEY, state INTEGER NOT NULL, minute INTEGER,'
    ' at INTEGER NOT NULL, request INTEGER) WITHOUT ROWID',
    'CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, at INTEGER NOT NULL)',
    'CREATE TABLE IF NOT EXISTS inflight (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, started REAL NOT NULL,'
    ' keys TEXT NOT NULL)',
    'CREATE TABLE IF NOT EXISTS sent (k BLOB NOT NULL, minute INTEGER NOT NULL, sum REAL NOT NULL,'
    ' count INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (k, minute)) WITHOUT ROWID',
)


def key_head(key):
    """The part of ``key`` that names its series (and, for a ``dedupe_key``, the key): all of it but a trailing
    ``@<epoch>``.  A ledger of an earlier version knew keys by this part only."""
    head, sep, tail = key.partition('@')
    return head if sep and tail.isdigit() else key


def key_minute(key):
    """The minute (epoch seconds) that ``key`` names, or ``None`` for a key that names none."""
    _head, sep, tail = key.partition('@')
    return int(tail) if sep and tail.isdigit() else None


def _stored(key):
    """The key as the ``series`` table stores it: a hex digest as its 16 bytes, anything else as it is."""
    head = key_head(key)
    if len(head) == 32:
        try:
            return bytes.fromhex(head)
        except ValueError:
            pass
    return head


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


def _rows(conn, sql, keys, before=()):
    """The rows of ``sql`` run for ``keys`` at most ``_CHUNK`` at a time: its ``%s`` becomes one ``?`` per key,
    after the parameters ``before``."""
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        yield from conn.execute(sql % ','.join('?' * len(chunk)), before + tuple(chunk))


def _heads(packed):
    """The keys of an in-flight row by their head (rows written by an earlier version hold heads only)."""
    return {key_head(key): key for key in packed.split('\n')}


def _code(state):
    code = _CODES.get(state)
    if code is None:
        raise ValueError('unknown ledger state %r' % (state,))
    return code


def _settle(conn, keys, state, at, request=None):
    """Record ``state`` for ``keys`` (one statement for all of them)."""
    code = _code(state)
    conn.executemany('INSERT OR REPLACE INTO series (k, state, minute, at, request) VALUES (?, ?, ?, ?, ?)',
                     [(_stored(key), code, key_minute(key), at, request) for key in keys])


class Ledger:
    """Read and record series states.  Every write is one short ``BEGIN IMMEDIATE`` transaction.

    Settled states live in ``series``, one row a key.  A request being sent is
    one ``inflight`` row holding all its keys, so that marking ten thousand
    series as pending costs one row.  ``clock`` gives the time (epoch seconds).
    """

    def __init__(self, path=DEFAULT_PATH, create=True, busy_timeout=60.0, clock=time.time):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.clock = clock
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
            version = self._conn.execute('PRAGMA user_version').fetchone()[0]
        except sqlite3.DatabaseError as exc:
            self.close()
            raise ConfigError('ledger_path: cannot use %s as the delivery ledger: %s' % (self.path, exc),
                              option='ledger_path') from None
        finally:
            os.umask(old_umask)
        if version != SCHEMA:
            try:
                if self._transaction(self._upgrade):
                    self._vacuum()
            except AzmonError:
                self.close()
                raise

    def _create_file(self):
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)
        except OSError as exc:
            raise ConfigError('ledger_path: cannot create %s: %s' % (self.path, exc.strerror), option='ledger_path') from None

    def _upgrade(self, conn):
        """Create the tables, or convert a schema 1 ledger; whether there was one to convert."""
        version = conn.execute('PRAGMA user_version').fetchone()[0]
        if version == SCHEMA:
            return False        # another process did it first
        if version > SCHEMA:
            raise ConfigError('ledger_path: %s was written by a later version of this collection (ledger schema %d;'
                              ' this one knows %d)' % (self.path, version, SCHEMA), option='ledger_path')
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        old = 'series' in tables
        if old:
            conn.execute('ALTER TABLE series RENAME TO series_v1')
            if 'sent' in tables:
                conn.execute('ALTER TABLE sent RENAME TO sent_v1')
        for statement in _TABLES:
            conn.execute(statement)
        if old:
            _convert(conn, 'sent' in tables)
        conn.execute('PRAGMA user_version = %d' % SCHEMA)
        return old

    def _vacuum(self):
        """Give the space of a converted ledger back; another process reading it now only postpones that."""
        try:
            self._conn.execute('VACUUM')
        except sqlite3.Error:
            pass

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
        wanted = {_stored(key): key for key in keys}
        try:
            # is there a row beyond _SCAN_RATIO rows a key? (costs at most that many steps, unlike count(*))
            larger = self._conn.execute('SELECT 1 FROM series LIMIT 1 OFFSET ?', (_SCAN_RATIO * len(wanted),))
            if larger.fetchone() is None:
                # most of the table is asked for (a rerun of a large task): one pass over it costs less than a
                # lookup a key
                rows = self._conn.execute('SELECT k, state, at FROM series')
            else:
                rows = _rows(self._conn, 'SELECT k, state, at FROM series WHERE k IN (%s)', list(wanted))
            get = wanted.get
            for stored, code, at in rows:
                key = get(stored)
                if key is not None:
                    found[key] = (_STATES[code], None, at)
            heads = None
            for owner, started, packed in self._conn.execute('SELECT owner, started, keys FROM inflight'):
                if heads is None:
                    heads = {key_head(key): key for key in wanted.values()}
                for head in heads.keys() & _heads(packed).keys():
                    found[heads[head]] = (PENDING, owner, started)
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
        wanted = {_stored(key): key for key in keys}

        def work(conn):
            others = {}
            for stored, code in _rows(conn, 'SELECT k, state FROM series WHERE k IN (%s)', list(wanted)):
                if not (code == _CODES[UNKNOWN] and resend_unknown):
                    others[wanted[stored]] = _STATES[code]
            heads = None
            for row_owner, started, packed in conn.execute('SELECT owner, started, keys FROM inflight'):
                if row_owner == owner:
                    continue
                if heads is None:
                    heads = {key_head(key): key for key in keys}
                for head in heads.keys() & _heads(packed).keys():
                    others[heads[head]] = UNKNOWN if is_abandoned(row_owner, started) else PENDING
            taken = [key for key in keys if key not in others]
            if not taken:
                return None, others
            inflight_id = conn.execute('INSERT INTO inflight (owner, started, keys) VALUES (?, ?, ?)',
                                       (owner, self.clock(), '\n'.join(taken))).lastrowid
            return inflight_id, others
        return self._transaction(work)

    def finish(self, inflight_id, keys, state=None, request_id=None):
        """Settle an in-flight request: its keys become ``state`` (``None``: forgotten, nothing was ingested)."""
        if state is not None:
            _code(state)
        now = int(self.clock())

        def work(conn):
            if inflight_id is not None:
                conn.execute('DELETE FROM inflight WHERE id = ?', (inflight_id,))
            if state is not None:
                request = None
                if request_id:
                    request = conn.execute('INSERT INTO requests (request_id, at) VALUES (?, ?)',
                                           (request_id, now)).lastrowid
                _settle(conn, keys, state, now, request)
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

            def work(conn, row=inflight_id, keys=keys):
                # settled only if the row is still there: another run may have settled it since it was read
                if conn.execute('DELETE FROM inflight WHERE id = ?', (row,)).rowcount == 0:
                    return False
                _settle(conn, keys, UNKNOWN, int(self.clock()))
                return True
            if self._transaction(work):
                count += len(keys)
        return count

    def record_sent(self, rows):
        """Remember what went out for keys that may have been ingested: ``(key, minute_epoch, sum, count)`` rows
        (several minutes of one key when it is a ``dedupe_key``)."""
        now = int(self.clock())
        rows = [(_stored(key), int(minute), float(total), int(count), now) for key, minute, total, count in rows]
        if rows:
            self._transaction(lambda conn: conn.executemany(
                'INSERT OR REPLACE INTO sent (k, minute, sum, count, at) VALUES (?, ?, ?, ?, ?)', rows))

    def sent_details(self, keys):
        """``{key: [(minute_epoch, sum, count), ...]}`` for the keys ``record_sent`` saw."""
        found = {}
        if self._conn is None:
            return found
        wanted = {_stored(key): key for key in keys}
        try:
            for stored, minute, total, count in _rows(self._conn, 'SELECT k, minute, sum, count FROM sent'
                                                      ' WHERE k IN (%s) ORDER BY k, minute', list(wanted)):
                found.setdefault(wanted[stored], []).append((minute, total, count))
        except sqlite3.Error as exc:
            raise LedgerError('cannot read the delivery ledger %s: %s' % (self.path, exc), ledger_path=self.path) from None
        return found

    def forget_unknown(self, keys, seen=None):
        """Drop keys that are still ``unknown`` (Azure holds nothing of them), so that the next claim takes them.
        ``seen`` maps a key to the time ``lookup`` gave it: a key settled again since (another run forgot it, sent
        it, and it ended ``unknown`` once more) is kept."""
        wanted = {_stored(key): key for key in keys}
        seen = seen or {}

        def work(conn):
            gone = [(row[0],) for row in _rows(conn, 'SELECT k, at FROM series WHERE state = ? AND k IN (%s)',
                                               list(wanted), before=(_CODES[UNKNOWN],))
                    if seen.get(wanted[row[0]], row[1]) == row[1]]
            conn.executemany('DELETE FROM series WHERE k = ?', gone)
            conn.executemany('DELETE FROM sent WHERE k = ?', gone)
        if wanted:
            self._transaction(work)

    def prune(self, older_than_seconds):
        """Drop the rows of series-minutes ``MINUTE_ROW_SECONDS`` after their minute, and every row older than the
        retention ``older_than_seconds``."""
        now = self.clock()
        minutes_before, settled_before = int(now - MINUTE_ROW_SECONDS), int(now - older_than_seconds)

        def work(conn):
            gone = conn.execute('DELETE FROM series WHERE minute < ? OR at < ?', (minutes_before, settled_before))
            conn.execute('DELETE FROM sent WHERE at < ? OR (minute < ? AND k NOT IN (SELECT k FROM series))',
                         (settled_before, minutes_before))
            if gone.rowcount:
                conn.execute('DELETE FROM requests WHERE at < ? AND id NOT IN'
                             ' (SELECT request FROM series WHERE request IS NOT NULL)', (minutes_before,))
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


def _convert(conn, with_sent):
    """Copy the rows of a schema 1 ledger (tables ``series_v1``, ``sent_v1``) into schema 2, then drop them.  Its
    keys name no minute, so its rows keep the retention."""
    conn.create_function('azmon_stored', 1, _stored, deterministic=True)
    conn.execute('INSERT INTO requests (request_id, at) SELECT request_id, CAST(MAX(updated) AS INTEGER)'
                 ' FROM series_v1 WHERE request_id IS NOT NULL GROUP BY request_id')
    conn.execute('CREATE INDEX requests_v1 ON requests (request_id)')
    # schema 1 held only 'delivered' and 'unknown'; anything else is taken for unknown, which is never re-sent
    conn.execute('INSERT OR REPLACE INTO series (k, state, minute, at, request)'
                 ' SELECT azmon_stored(s.key), CASE s.state WHEN ? THEN ? ELSE ? END, NULL, CAST(s.updated AS INTEGER),'
                 ' r.id FROM series_v1 s LEFT JOIN requests r ON r.request_id = s.request_id',
                 (DELIVERED, _CODES[DELIVERED], _CODES[UNKNOWN]))
    conn.execute('DROP INDEX requests_v1')
    conn.execute('DROP TABLE series_v1')
    if with_sent:
        conn.execute('INSERT OR REPLACE INTO sent (k, minute, sum, count, at) SELECT azmon_stored(key),'
                     ' CAST(minute AS INTEGER), sum, count, CAST(updated AS INTEGER) FROM sent_v1')
        conn.execute('DROP TABLE sent_v1')
