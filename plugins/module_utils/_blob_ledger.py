# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The delivery ledger on Azure Blob Storage, shared by every runner that can reach the container.

Same interface, states and rules as the SQLite ``Ledger``; correctness comes
from the storage service's conditional writes, not from local locks.

Layout: four *shard* blobs, ``{prefix}/azmon-ledger/v1/shard-{0..3}.json.gz``.
A key belongs to exactly one shard (CRC-32 of the key, modulo 4).  A shard
holds the settled keys (``delivered``/``unknown`` with the time they settled),
the open claims (owner, start, expiry, keys) and, under ``sent``, what went out
for keys that may have been ingested (``[minute, sum, count, time]`` lists, for
``_reconcile`` to compare with what Azure holds).  Every change is
read-modify-write with ``If-Match: <etag>`` (``If-None-Match: *`` for a shard
that does not exist yet); HTTP 409/412 mean another runner changed the shard
first, so it is read again and the change re-decided on what is there now.

Cost: claiming one request's series reads and writes each shard they fall
into (at most 4 + 4 calls), settling it writes them again (at most 4, plus a
read after a lost race); a request that ends ``unknown`` writes its shards once
more before (what was sent); a run that sends nothing reads the 4 shards once.
Reconciling reads the shards that run read anyway, and writes each shard that
holds a settled key once per decision (``delivered``, forgotten).  Where
runners contend, a shard whose cached copy shows another runner's claim on a
key asked for is read again before that claim counts.  Never one call per
series.

Claims expire ``CLAIM_SECONDS`` after they were taken.  A process id cannot
be checked on another host, so a claim whose owner is elsewhere counts as
abandoned (its series become ``unknown``) only after expiry.  The owner
outlives its claim: the emission stops sending a request once its oldest
point would fall out of the ingestion window (20 minutes), well inside the
claim's 30 minutes.

Retention, as in the SQLite ledger: a key that names its minute (``<digest>@<epoch>``) is settled
under its digest with that minute, ``[state, time, minute]``, and every write drops it
``MINUTE_ROW_SECONDS`` (two hours) after the minute, when it can no longer be sent; any other key
(``[state, time]``) is dropped once older than the retention.  So a shard holds about two hours of
series-minutes however many runs wrote it.  What was sent for a key goes with the same rules as in the SQLite
ledger (older than the retention, or its minute two hours gone and the key no longer settled), and as soon as the
key is settled ``delivered`` (only ``unknown`` keys are ever compared).  Runners of an earlier version keep
``sent`` as it is when they write a shard (they rewrite the whole document), so the format stays 1.  Keys are settled and sharded by their digest, the form
earlier versions wrote, so shards written before stay valid.  The shards themselves stay (four small
blobs).  Keys are opaque hashes; no metric value, name or secret is stored.
"""

from __future__ import annotations

import gzip
import json
import random
import time
import uuid
import zlib

from ansible_collections.azmon.metrics.plugins.module_utils._blob import BlobClient
from ansible_collections.azmon.metrics.plugins.module_utils._errors import AzmonError, MissingLibraryError, ServiceError
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import (
    MINUTE_ROW_SECONDS,
    Ledger,
    LedgerError,
    key_head,
    key_minute,
)
from ansible_collections.azmon.metrics.plugins.module_utils._states import DELIVERED, PENDING, UNKNOWN

SHARDS = 4
CLAIM_SECONDS = 1800
FORMAT = 1
_CODES = {DELIVERED: 'd', UNKNOWN: 'u'}
_STATES = {'d': DELIVERED, 'u': UNKNOWN}
ROLE_HINT = ('the signed-in principal needs the Storage Blob Data Contributor role on the container or its storage'
             ' account (a new role assignment can take up to 10 minutes to take effect)')
TOKEN_HINT = ('Blob Storage refused the token itself: it needs a token for https://storage.azure.com (an access_token'
              ' obtained for another service cannot be used for the ledger)')


def shard_of(key):
    return zlib.crc32(key_head(key).encode('utf-8')) % SHARDS


def open_ledger(location, ledger_path, create, retention_seconds, http=None, token=None):
    """The ledger backend: the blob ledger at ``location`` (a ``_blob.BlobLocation``) when one is given, reached
    through ``http`` with ``token`` (a token source for Blob Storage), else the SQLite file at ``ledger_path``."""
    if location is None:
        return Ledger(ledger_path, create=create)
    return BlobLedger(BlobClient(http, token, location), retention_seconds=retention_seconds)


class BlobLedger:
    """The ledger in four blobs of one container; see the module docstring for the layout and the rules."""

    def __init__(self, client, retention_seconds=30 * 86400, claim_seconds=CLAIM_SECONDS, max_wait=120.0,
                 clock=time.time, sleep=time.sleep, rng=None):
        if not isinstance(client, BlobClient):
            raise TypeError('client must be a BlobClient')
        self.client = client
        self.retention_seconds = retention_seconds
        self.claim_seconds = claim_seconds
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.path = client.location.url
        self._cache = {}     # shard -> (etag, doc, read at)
        self._claims = {}    # claim id -> {shard: [keys]}

    exists = True

    @property
    def calls(self):
        """Storage calls made so far (every try counts)."""
        return self.client.calls

    def close(self):
        self._cache.clear()

    # -- storage ---------------------------------------------------------------------------------------------
    def _name(self, shard):
        return 'azmon-ledger/v%d/shard-%d.json.gz' % (FORMAT, shard)

    def _read(self, shard):
        try:
            etag, body = self.client.get(self._name(shard))
        except AzmonError as exc:
            raise self._error('read', exc) from None
        doc = _decode(body, self.path) if body is not None else _empty()
        self._cache[shard] = (etag or '*', doc, self.clock())
        return self._cache[shard]

    def _cached(self, shard, fresh_seconds=None):
        hit = self._cache.get(shard)
        if hit is None or (fresh_seconds is not None and self.clock() - hit[2] > fresh_seconds):
            return self._read(shard)
        return hit

    def _update(self, shard, change, verify=False):
        """Apply ``change(doc, now)`` (which edits ``doc`` and returns what the caller wants, or raises
        ``_NoChange(value)``) until a conditional write of the result succeeds.  With ``verify``, a ``_NoChange``
        decided on this run's cached copy of the shard is decided again on a fresh read: what other runners hold
        may have changed since (a claim finished, its owner gone)."""
        waited, attempt = 0.0, 0
        etag, doc, _read_at = self._cached(shard)
        fresh = False
        while True:
            attempt += 1
            now = self.clock()
            work = json.loads(json.dumps(doc))
            try:
                value = change(work, now)
            except _NoChange as nothing:
                if verify and not fresh:
                    etag, doc, _read_at = self._read(shard)
                    fresh = True
                    continue
                return nothing.value
            _drop_old(work, now - self.retention_seconds, now - MINUTE_ROW_SECONDS)
            try:
                new_etag = self.client.put(self._name(shard), _encode(work), etag)
            except AzmonError as exc:
                self._cache.pop(shard, None)
                raise self._error('write', exc) from None
            if new_etag:
                self._cache[shard] = (new_etag, work, now)
                return value
            wait = min(2.0, 0.05 * (2 ** min(attempt, 6))) * self.rng.uniform(0.5, 1.0)
            if waited + wait > self.max_wait:
                raise LedgerError('the blob ledger %s: gave up after %d writes to shard %d that other runners kept'
                                  ' changing first (%.0f s)' % (self.path, attempt, shard, waited), ledger_url=self.path)
            self.sleep(wait)
            waited += wait
            etag, doc, _read_at = self._read(shard)
            fresh = True

    def _error(self, verb, exc):
        if isinstance(exc, MissingLibraryError):
            return exc      # the module turns it into missing_required_lib
        text = exc.msg
        if isinstance(exc, ServiceError) and exc.status == 403 and exc.code == 'AuthenticationFailed':
            text = '%s; %s' % (text, TOKEN_HINT)
        elif isinstance(exc, ServiceError) and exc.status == 403:
            text = '%s; %s' % (text, ROLE_HINT)
        details = {k: v for k, v in exc.details.items() if k in ('status', 'error_code', 'request_id')}
        return LedgerError('cannot %s the blob ledger %s: %s' % (verb, self.path, text), ledger_url=self.path, **details)

    # -- the ledger interface ----------------------------------------------------------------------------------
    def lookup(self, keys):
        """``{key: (state, owner, updated)}``; in-flight keys come back ``pending``, expired claims ``unknown``.

        Advisory, like the SQLite ledger's: ``claim`` decides again.  Shards read less than two seconds ago (by
        ``settle_abandoned`` at the start of a run) are not read again, unless another runner's claim in that copy
        holds a key asked for: it may have finished since, and its owner ended, which the caller would take for a
        sender that died.
        """
        by_shard = _group(keys)
        found = {}
        for shard, wanted in sorted(by_shard.items()):
            cached = self._cache.get(shard)
            entry = self._cached(shard, fresh_seconds=2.0)
            heads = {key_head(key): key for key in wanted}
            if entry is cached and any(_held(claim, heads) for claim in entry[1]['claims'].values()):
                entry = self._read(shard)
            doc = entry[1]
            wanted = set(wanted)
            now = self.clock()
            for key in wanted:
                row = doc['settled'].get(key_head(key))
                if row:
                    found[key] = (_STATES[row[0]], None, row[1])
            for claim in doc['claims'].values():
                state = UNKNOWN if claim['expires'] < now else PENDING
                for head in _held(claim, heads):
                    found[heads[head]] = (state, claim['owner'], claim['started'])
        return found

    def claim(self, keys, owner, is_abandoned, resend_unknown=False):
        """Take the keys no one else holds, shard by shard; ``(claim_id, others)`` as the SQLite ledger returns."""
        claim_id = uuid.uuid4().hex
        others = {}
        held = {}
        try:
            for shard, wanted in sorted(_group(keys).items()):
                def change(doc, now, wanted=wanted):
                    theirs = {}
                    # a claim whose owner is gone becomes unknown here, and is written so: the conditional write
                    # then proves it was still there (not finished meanwhile), or the shard is read and decided again
                    abandoned = _settle(doc, now, is_abandoned)
                    heads = {key_head(key): key for key in wanted}
                    for head, key in heads.items():
                        row = doc['settled'].get(head)
                        if row and not (row[0] == 'u' and resend_unknown):
                            theirs[key] = _STATES[row[0]]
                    for other_id, claim in doc['claims'].items():
                        if other_id == claim_id:
                            continue
                        for head in _held(claim, heads):
                            theirs[heads[head]] = PENDING
                    taken = [key for key in wanted if key not in theirs]
                    if taken:
                        doc['claims'][claim_id] = {'owner': owner, 'started': now,
                                                   'expires': now + self.claim_seconds, 'keys': taken}
                    elif not abandoned:
                        raise _NoChange((theirs, taken))
                    return theirs, taken
                theirs, taken = self._update(shard, change, verify=True)
                others.update(theirs)
                if taken:
                    held[shard] = taken
        except BaseException:
            if held:
                self._claims[claim_id] = held
                try:
                    self.finish(claim_id, [], None)
                except AzmonError:
                    pass    # the claim expires; its series then count as unknown, as after a crash
            raise
        if not held:
            return None, others
        self._claims[claim_id] = held
        return claim_id, others

    def finish(self, inflight_id, keys, state=None, request_id=None):
        """Settle a claim: its keys become ``state`` (``None``: released, nothing was ingested)."""
        code = _CODES.get(state) if state is not None else None
        if state is not None and code is None:
            raise ValueError('unknown ledger state %r' % state)
        shards = {}
        for shard, wanted in _group(keys).items():
            shards.setdefault(shard, set()).update(wanted)
        for shard, held in self._claims.pop(inflight_id, {}).items():
            shards.setdefault(shard, set())
        for shard, wanted in sorted(shards.items()):
            def change(doc, now, wanted=wanted):
                removed = doc['claims'].pop(inflight_id, None) if inflight_id is not None else None
                if code is None:
                    if removed is None:
                        raise _NoChange(None)
                    return None
                _record(doc, wanted, code, int(now))
                return None
            self._update(shard, change)

    def mark(self, keys, state, request_id=None):
        self.finish(None, keys, state, request_id)

    def settle_abandoned(self, is_abandoned):
        """Turn every claim whose owner is gone or whose time ran out into ``unknown`` keys; returns how many."""
        count = 0
        for shard in range(SHARDS):
            _etag, doc, _at = self._read(shard)
            now = self.clock()
            if not any(_abandoned(c, now, is_abandoned) for c in doc['claims'].values()):
                continue

            def change(doc, now):
                settled = _settle(doc, now, is_abandoned)
                if not settled:
                    raise _NoChange(0)
                return settled
            count += self._update(shard, change)
        return count

    def record_sent(self, rows):
        """Remember what went out for keys that may have been ingested: ``(key, minute_epoch, sum, count)`` rows
        (several minutes of one key when it is a ``dedupe_key``); one conditional write per shard they fall into,
        merged into what is there now, so that what other runners recorded meanwhile stays."""
        by_shard = {}
        for key, minute, total, count in rows:
            by_shard.setdefault(shard_of(key), []).append((key_head(key), int(minute), float(total), int(count)))
        for shard, shard_rows in sorted(by_shard.items()):
            def change(doc, now, shard_rows=shard_rows):
                _add_sent(doc, shard_rows, int(now))
            self._update(shard, change)

    def sent_details(self, keys):
        """``{key: [(minute_epoch, sum, count), ...]}`` for the keys ``record_sent`` saw.  Shards read less than two
        seconds ago (by ``lookup``, just before) are not read again."""
        found = {}
        for shard, wanted in sorted(_group(keys).items()):
            _etag, doc, _at = self._cached(shard, fresh_seconds=2.0)
            sent = doc['sent']
            for key in wanted:
                entries = sent.get(key_head(key))
                if entries:
                    found[key] = [(minute, total, count) for minute, total, count, _stamp in sorted(entries)]
        return found

    def forget_unknown(self, keys, seen=None):
        """Drop keys that are still ``unknown`` (Azure holds nothing of them), and what was sent for them, so that
        the next claim takes them.  ``seen`` maps a key to the time ``lookup`` gave it: a key settled again since
        (another runner forgot it, sent it, and it ended ``unknown`` once more) is kept.  Decided again on every
        read of a shard that another runner changed first."""
        seen = seen or {}
        for shard, wanted in sorted(_group(keys).items()):
            def change(doc, now, wanted=wanted):
                if not _forget(doc, wanted, seen):
                    raise _NoChange(None)
            self._update(shard, change)

    def prune(self, older_than_seconds):
        """Drop settled keys older than the retention, and series-minutes two hours after their minute, from the shards
        this run read (every write does it too)."""
        for shard in sorted(self._cache):
            _etag, doc, _at = self._cache[shard]
            now = self.clock()
            if not _has_old(doc, now - older_than_seconds, now - MINUTE_ROW_SECONDS):
                continue

            def change(doc, now):
                if not _drop_old(doc, now - older_than_seconds, now - MINUTE_ROW_SECONDS):
                    raise _NoChange(None)
            saved, self.retention_seconds = self.retention_seconds, older_than_seconds
            try:
                self._update(shard, change)
            except LedgerError:
                return      # the next write prunes too; a failing prune must not hide what this run did
            finally:
                self.retention_seconds = saved


class _NoChange(Exception):
    def __init__(self, value):
        super().__init__()
        self.value = value


def _empty():
    return {'format': FORMAT, 'settled': {}, 'claims': {}, 'sent': {}}


def _encode(doc):
    return gzip.compress(json.dumps(doc, separators=(',', ':'), sort_keys=True).encode('utf-8'), mtime=0)


def _decode(body, where):
    try:
        doc = json.loads(gzip.decompress(body).decode('utf-8'))
    except (OSError, EOFError, ValueError) as exc:
        raise LedgerError('the blob ledger %s holds a shard that is not a ledger shard (%s); point ledger_url at a'
                          ' container or prefix of its own' % (where, exc), ledger_url=where) from None
    if not isinstance(doc, dict) or doc.get('format') != FORMAT:
        raise LedgerError('the blob ledger %s was written in another format (%r); this collection reads format %d'
                          % (where, doc.get('format') if isinstance(doc, dict) else None, FORMAT), ledger_url=where)
    doc.setdefault('settled', {})
    doc.setdefault('claims', {})
    doc.setdefault('sent', {})
    return doc


def _group(keys):
    shards = {}
    for key in keys:
        shards.setdefault(shard_of(key), []).append(key)
    return shards


def _abandoned(claim, now, is_abandoned):
    return claim['expires'] < now or is_abandoned(claim['owner'], claim['started'])


def _settle(doc, now, is_abandoned):
    """Move the keys of abandoned claims to ``unknown``; returns how many keys that concerned."""
    count = 0
    for claim_id in [c for c, claim in doc['claims'].items() if _abandoned(claim, now, is_abandoned)]:
        claim = doc['claims'].pop(claim_id)
        _record(doc, claim['keys'], 'u', int(now))
        count += len(claim['keys'])
    return count


def _record(doc, keys, code, stamp):
    """Settle ``keys`` as ``code``: under their digest, with the minute for a key that names one.  A key settled
    ``delivered`` needs no record of what was sent any more."""
    settled = doc['settled']
    sent = doc.get('sent') if code == _CODES[DELIVERED] else None
    for key in keys:
        head, minute = key_head(key), key_minute(key)
        settled[head] = [code, stamp] if minute is None else [code, stamp, minute]
        if sent:
            sent.pop(head, None)


def _add_sent(doc, rows, stamp):
    """Record ``(digest, minute, sum, count)`` rows as sent at ``stamp``: one list a digest, one entry a minute (a
    minute sent again replaces its entry)."""
    sent = doc.setdefault('sent', {})
    for head, minute, total, count in rows:
        entries = [entry for entry in sent.get(head, ()) if entry[0] != minute]
        entries.append([minute, total, count, stamp])
        sent[head] = sorted(entries)


def _forget(doc, keys, seen):
    """Drop the settled rows of ``keys`` still ``unknown`` (and at the time ``seen`` gives, if it gives one), with
    what was sent for them; how many."""
    settled, sent = doc['settled'], doc.setdefault('sent', {})
    count = 0
    for key in keys:
        head = key_head(key)
        row = settled.get(head)
        if not row or row[0] != _CODES[UNKNOWN] or (key in seen and seen[key] != row[1]):
            continue
        del settled[head]
        sent.pop(head, None)
        count += 1
    return count


def _held(claim, heads):
    """The digests of ``heads`` (``{digest: key}``) that ``claim`` holds (claims of earlier versions list digests)."""
    return heads.keys() & {key_head(key) for key in claim['keys']}


def _old(row, cutoff, minutes_before):
    """Whether a settled row may go: older than the retention, or a series-minute that can no longer be sent."""
    return row[1] < cutoff or (len(row) > 2 and row[2] < minutes_before)


def _old_sent(entry, settled, cutoff, minutes_before):
    """Whether a sent entry ``[minute, sum, count, time]`` may go: older than the retention, or its minute can no
    longer be sent and its key is no longer settled (the SQLite ledger's rule)."""
    return entry[3] < cutoff or (entry[0] < minutes_before and not settled)


def _has_old(doc, cutoff, minutes_before):
    settled = doc['settled']
    return (any(_old(row, cutoff, minutes_before) for row in settled.values())
            or any(_old_sent(entry, head in settled, cutoff, minutes_before)
                   for head, entries in doc.get('sent', {}).items() for entry in entries))


def _drop_old(doc, cutoff, minutes_before):
    """Drop what may go (settled rows first, then sent entries); how many rows and entries that was."""
    settled = doc['settled']
    old = [key for key, row in settled.items() if _old(row, cutoff, minutes_before)]
    for key in old:
        del settled[key]
    dropped = len(old)
    sent = doc.get('sent') or {}
    for head in list(sent):
        kept = [entry for entry in sent[head] if not _old_sent(entry, head in settled, cutoff, minutes_before)]
        dropped += len(sent[head]) - len(kept)
        if kept:
            sent[head] = kept
        else:
            del sent[head]
    return dropped
