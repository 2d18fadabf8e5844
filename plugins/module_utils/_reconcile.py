# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settling ``unknown`` series by reading them back from Azure instead of guessing.

A series-minute is ``unknown`` when its request may or may not have been ingested (a 5xx, a timeout or a reset
after the body was sent, or a sender that died).  Azure adds up every post, so sending it again blindly may count
it twice.  Once the read API can show it (new series take about 3 minutes), its count and sum tell:

- equal to what was sent: it was ingested; record it ``delivered``;
- nothing there: it was not; forget the ``unknown`` so that the emission that follows sends it (once);
- anything else (part of it, or more than was sent): it stays ``unknown``, and both numbers are reported.

Reads are batched: one call per namespace, metric and dimension names, covering the minutes involved with a
dimension filter, never one call per series.  Nothing here knows about Ansible.
"""

from __future__ import annotations

import datetime
import math
import time

from ansible_collections.azmon.metrics.plugins.module_utils._metrics_read import DIMENSION_NAME_RE
from ansible_collections.azmon.metrics.plugins.module_utils._states import DELIVERED, UNKNOWN
from ansible_collections.azmon.metrics.plugins.module_utils._time import TimeFormatError, format_utc, parse_iso

DEFAULT_WAIT = 180           # seconds after a series became unknown before it is read back
MAX_SERIES_PER_READ = 200    # series a dimension filter may match in one read (the API's top)
MAX_FILTER_CHARS = 4000      # keeps the URL well below ARM's limits
READ_WINDOW = 6 * 3600       # one read covers minutes of at most this many seconds (per-minute points add up)

# decisions
SETTLED = 'delivered'        # Azure holds exactly what was sent
ABSENT = 'absent'            # Azure holds nothing of it: send it again
MISMATCH = 'mismatch'        # Azure holds something else: stays unknown
WAITING = 'waiting'          # became unknown too recently to be readable
UNREADABLE = 'unreadable'    # cannot be read back (see reason)


def decide(sent_sum, sent_count, read):
    """The decision for one series-minute: ``read`` is ``None`` (no data) or ``(total, count)`` from Azure."""
    if read is None:
        return ABSENT
    total, count = read
    if not count and not total:
        return ABSENT
    if count == sent_count and total is not None and math.isclose(total, sent_sum, rel_tol=1e-9, abs_tol=1e-9):
        return SETTLED
    return MISMATCH


class RecordingLedger:
    """A ledger that also keeps what was sent (minute, sum, count) for every key it settles as ``unknown``.

    Wraps any ledger with ``record_sent``; everything else passes through.  ``points`` are the emission's points.
    """

    def __init__(self, ledger, points):
        self._ledger = ledger
        self._points = points
        self._by_key = None      # built when the first key ends up unknown: most runs never need it
        self._assumed = {}       # check mode: key -> the state reconcile would have written (None: forgotten)

    def __getattr__(self, name):
        return getattr(self._ledger, name)

    def assume(self, states):
        """Check mode: answer ``lookup`` as if ``states`` (``{key: DELIVERED or None}``) had been written, so that
        the emission predicts what a real run sends after reconciling; the ledger itself is not touched."""
        self._assumed.update(states)

    def lookup(self, keys):
        found = self._ledger.lookup(keys)
        for key, state in self._assumed.items():
            if key not in found:
                continue
            if state is None:
                del found[key]
            else:
                found[key] = (state,) + tuple(found[key][1:])
        return found

    def finish(self, inflight_id, keys, state=None, request_id=None):
        if state == UNKNOWN:
            if self._by_key is None:
                self._by_key = {}
                for point in self._points:
                    self._by_key.setdefault(point.key, []).append(point)
            self._ledger.record_sent([(p.key, p.minute.timestamp(), p.sum, p.count)
                                      for key in keys for p in self._by_key.get(key, ())])
        return self._ledger.finish(inflight_id, keys, state, request_id)


class _Item:
    """One series-minute to check: the point it belongs to and what was sent."""

    __slots__ = ('key', 'point', 'minute', 'sum', 'count', 'read', 'decision')

    def __init__(self, key, point, minute, total, count):
        self.key = key
        self.point = point
        self.minute = minute
        self.sum = total
        self.count = count
        self.read = None
        self.decision = None


def _batches(items):
    """Items grouped for reading: same namespace, metric and dimension names, minutes within one read window,
    small enough for one call."""
    groups = {}
    for item in items:
        p = item.point
        groups.setdefault((p.namespace, p.metric, tuple(p.dim_names), int(item.minute // READ_WINDOW)), []).append(item)
    for (namespace, metric, names, _window), group in sorted(groups.items()):
        group.sort(key=lambda i: (tuple(i.point.dim_values), i.minute))
        pending = [group]
        while pending:
            batch = pending.pop()
            series = {tuple(i.point.dim_values) for i in batch}
            size = 1
            for index in range(len(names)):
                size *= len({values[index] for values in series})
            text = sum(len(v) + len(n) + 10 for values in series for n, v in zip(names, values))
            if len(series) > 1 and (size > MAX_SERIES_PER_READ or text > MAX_FILTER_CHARS):
                values = sorted(series)
                first = set(values[:len(values) // 2])
                pending.append([i for i in batch if tuple(i.point.dim_values) in first])
                pending.append([i for i in batch if tuple(i.point.dim_values) not in first])
                continue
            yield namespace, metric, names, batch, size


def reconcile(points, ledger, reader, resource_id, wait=DEFAULT_WAIT, check_mode=False, now=None, detail_limit=100):
    """Read back the ``unknown`` series among ``points`` and settle what can be settled.

    Marks settled keys ``delivered`` and forgets absent ones (so that the emission that follows sends them),
    except in check mode.  Returns the summary that goes into the module's result.  ``ledger`` is either delivery
    ledger (the SQLite file or the blob ledger shared by several runners): both keep what was sent for unknown keys
    (``record_sent``, ``sent_details``) and can forget them (``forget_unknown``).
    """
    now = time.time() if now is None else now
    by_key = {}
    for point in points:
        by_key.setdefault(point.key, []).append(point)
    known = ledger.lookup(list(by_key)) if ledger.exists else {}
    unknown = {key: row for key, row in known.items() if row[0] == UNKNOWN}
    summary = {'unknown': len(unknown), 'delivered': 0, 'absent': 0, 'mismatched': 0, 'waiting': 0, 'unreadable': 0,
               'reads': 0, 'series': []}
    if not unknown:
        return summary
    recorded = ledger.sent_details(list(unknown))
    outcome, reasons, items = {}, {}, []
    for key, row in sorted(unknown.items()):
        pts = by_key[key]
        if now - row[2] < wait:
            outcome[key], reasons[key] = WAITING, 'recorded unknown %.0f s ago; read back after %d s' % (now - row[2], wait)
            continue
        unfit = [n for n in pts[0].dim_names if not DIMENSION_NAME_RE.match(n)]
        if unfit:
            outcome[key], reasons[key] = UNREADABLE, 'the dimension name %r cannot be used in a read filter' % unfit[0]
            continue
        if key in recorded:
            for minute, total, count in recorded[key]:
                items.append(_Item(key, pts[0], minute, total, count))
        elif all(p.dedupe_key is None for p in pts):
            # recorded unknown by a sender that died: the key holds the minute, and the values are this task's
            for p in pts:
                items.append(_Item(key, p, p.minute.timestamp(), p.sum, p.count))
        else:
            outcome[key], reasons[key] = UNREADABLE, 'the ledger has no record of the minute that was sent'
    for namespace, metric, names, batch, size in _batches(items):
        start = min(i.minute for i in batch)
        end = max(i.minute for i in batch) + 60
        dimensions = {name: sorted({i.point.dim_values[index] for i in batch}) for index, name in enumerate(names)}
        span = '%s/%s' % (format_utc(_utc(start)), format_utc(_utc(end)))
        _doc, rows, _metrics = reader.values(resource_id, namespace, [metric], span=span, interval='PT1M',
                                             aggregations=('Total', 'Count'), dimensions=dimensions or None,
                                             top=size if names else None)
        summary['reads'] += 1
        found = {}
        for row in rows:
            try:
                minute = parse_iso(row.get('time') or '').timestamp()
            except TimeFormatError:
                continue
            values = tuple(str(row['dimensions'].get(name, '')) for name in names)
            found[(values, minute)] = (row.get('total'), row.get('count'))
        for item in batch:
            item.read = found.get((tuple(item.point.dim_values), item.minute))
            item.decision = decide(item.sum, item.count, item.read)
    per_key = {}
    for item in items:
        per_key.setdefault(item.key, []).append(item)
    for key, key_items in per_key.items():
        decisions = {i.decision for i in key_items}
        outcome[key] = decisions.pop() if len(decisions) == 1 else MISMATCH
    settled = [k for k, d in outcome.items() if d == SETTLED]
    absent = [k for k, d in outcome.items() if d == ABSENT]
    if not check_mode:
        if settled:
            ledger.mark(settled, DELIVERED)
        if absent:
            # only rows still as read: another runner may have sent a key since, and it may have ended unknown again
            ledger.forget_unknown(absent, seen={key: unknown[key][2] for key in absent})
    elif isinstance(ledger, RecordingLedger):
        ledger.assume(dict([(key, DELIVERED) for key in settled] + [(key, None) for key in absent]))
    counts = {SETTLED: 'delivered', ABSENT: 'absent', MISMATCH: 'mismatched', WAITING: 'waiting',
              UNREADABLE: 'unreadable'}
    for key, decision in sorted(outcome.items(), key=lambda kv: (kv[1] == SETTLED, kv[0])):
        summary[counts[decision]] += 1
        if len(summary['series']) >= detail_limit:
            continue
        for item in per_key.get(key) or [_Item(key, by_key[key][0], None, None, None)]:
            p = item.point
            entry = {'namespace': p.namespace, 'metric': p.metric, 'dimensions': dict(zip(p.dim_names, p.dim_values)),
                     'time': format_utc(_utc(item.minute)) if item.minute is not None else None,
                     'dedupe_key': p.dedupe_key, 'decision': decision,
                     'sent_sum': item.sum, 'sent_count': item.count}
            if item.minute is not None:
                entry['read_sum'] = item.read[0] if item.read else None
                entry['read_count'] = item.read[1] if item.read else None
            if key in reasons:
                entry['reason'] = reasons[key]
            summary['series'].append(entry)
    return summary


def _utc(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
