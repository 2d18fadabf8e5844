# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One stand-in for ``_ingest.Sender`` in the tests of the emission's bookkeeping (``Emission``, its ledger, its
counts), where what matters is when a send fails: before its body is written, after, or with no answer.

No server can raise an exception in the client between two lines of the sender, so these tests do not use the
emulator; the Sender's HTTP side is tested against the emulator and the scripted servers (test_ingest.py).
"""

from __future__ import annotations

import collections
import json
import threading

from ansible_collections.azmon.metrics.plugins.module_utils._emit import Emission
from ansible_collections.azmon.metrics.plugins.module_utils._ingest import DELIVERED, FAILED, UNKNOWN, Outcome
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points


_LOCK = threading.Lock()     # senders may share one Counter across threads


def series_minute(metric, dim_values, time):
    """The default key of ``FakeSender.ingested``."""
    return metric, tuple(dim_values), time


class FakeSender:
    """Ingests every JSON body it takes as Azure aggregates it: ``ingested`` counts each series-minute's values.

    ``script`` says what each send does, in order, then ``'ok'``: ``'ok'``; ``'failed'`` (refused, nothing
    ingested); ``'unknown'`` (no answer, nothing ingested) or ``'unknown-ingested'`` (no answer, but ingested); an
    exception instance, raised before the body is written; ``('after', exception)``: raised after the body was
    written and ingested.  ``local`` is an exception that every local step (signing in, reading files) raises.
    ``ingested`` may be a Counter shared between senders (several runs, or threads), ``key(metric, dim_values,
    time)`` what it counts by.
    """

    def __init__(self, script=(), local=None, ingested=None, key=series_minute):
        self.script = list(script)
        self.local = local
        self.ingested = collections.Counter() if ingested is None else ingested
        self.key = key
        self.posts = 0
        self.retries = 0
        self.prepared = 0
        self.in_doubt = False

    def prepare(self):
        self.prepared += 1
        if self.local is not None:
            raise self.local

    def send(self, url, body, content_type, deadline=None):  # pylint: disable=unused-argument
        self.in_doubt = False
        if self.local is not None:
            raise self.local
        step = self.script.pop(0) if self.script else 'ok'
        if isinstance(step, BaseException):
            raise step  # pylint: disable=raising-bad-type
        self.posts += 1
        self.in_doubt = True
        if step in ('ok', 'unknown-ingested') or isinstance(step, tuple):
            self._ingest(body)
        if isinstance(step, tuple):
            raise step[1]  # pylint: disable=raising-bad-type
        self.in_doubt = False
        state = {'ok': DELIVERED, 'failed': FAILED, 'unknown': UNKNOWN, 'unknown-ingested': UNKNOWN}[step]
        return Outcome(state, 1, request_id='req-%d' % self.posts, status={'ok': 200, 'failed': 400}.get(step))

    def _ingest(self, body):
        for line in body.decode('utf-8').split('\n'):
            doc = json.loads(line)
            base = doc['data']['baseData']
            with _LOCK:
                for series in base['series']:
                    self.ingested[self.key(base['metric'], series.get('dimValues', ()), doc['time'])] += series['count']


def emission(ledger, sender, items, resource_id, now, owner='host:1', dead=(), **kwargs):
    """An ``Emission`` of ``items`` to ``resource_id`` (points built at ``now``) by ``owner``, for which the
    processes ``dead`` have ended; it does not wait for series in flight."""
    return Emission(build_points(items, resource_id, now=now), resource_id, 'https://ingest/metrics', ledger=ledger,
                    sender=sender, owner=owner, is_abandoned=lambda who, started: who in dead, in_flight_wait=0.0,
                    **kwargs)
