# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property test for ``Emission``: two emissions racing through one ledger send every series exactly once.

Two emissions of overlapping series (the same play on two hosts, or two overlapping runs) run in two threads,
each with its own ledger connection and owner, against a fake sender that records every series it is given.
Whatever the overlap and the request size, the union of what they send is every series once, and each
emission accounts for each of its series: sent by it, or left to (or already delivered by) the other.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
import threading

from hypothesis import given, settings, strategies as st

from ansible_collections.azmon.metrics.plugins.module_utils import _emit
from ansible_collections.azmon.metrics.plugins.module_utils._ingest import DELIVERED, Outcome
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import Ledger
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points

# `make soak` sets AZMON_PROPERTY_SCALE (say 50) to try that many times more examples.
SCALE = int(os.environ.get('AZMON_PROPERTY_SCALE') or 1)
SETTINGS = settings(max_examples=25 * SCALE, deadline=None, database=None)
RID = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'


class RecordingSender:
    """Accepts every request and records the series (their Host dimension) it carried."""

    def __init__(self, sent, lock):
        self.sent = sent
        self.lock = lock
        self.posts = 0
        self.retries = 0
        self.in_doubt = False

    def prepare(self):
        pass

    def send(self, url, body, content_type, deadline=None):  # pylint: disable=unused-argument
        self.posts += 1
        hosts = []
        for line in body.decode('utf-8').split('\n'):
            for series in json.loads(line)['data']['baseData']['series']:
                hosts.append(series['dimValues'][0])
        with self.lock:
            self.sent.extend(hosts)
        return Outcome(DELIVERED, 1, request_id='r', status=200)


def _points(hosts, now):
    entries = [{'metric': 'Load', 'namespace': 'NS', 'dimensions': {'Host': 'h%03d' % h}, 'value': h} for h in hosts]
    return build_points(entries, RID, now=now)


@SETTINGS
@given(st.sets(st.integers(0, 120), min_size=1, max_size=80), st.sets(st.integers(0, 120), min_size=1, max_size=80),
       st.sampled_from([300, 700, 4096]))
def test_two_racing_emissions_send_each_series_once(first, second, max_bytes):
    now = datetime.datetime(2026, 11, 22, 10, 31, 17, tzinfo=datetime.timezone.utc)
    sent, lock = [], threading.Lock()
    results, errors = {}, []
    start = threading.Barrier(2)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'ledger.sqlite3')
        Ledger(path).close()

        def emit(name, hosts):
            ledger = Ledger(path)
            try:
                # two threads play two processes: each its own owner, and both alive
                emission = _emit.Emission(_points(sorted(hosts), now), RID, 'https://x', ledger=ledger,
                                          sender=RecordingSender(sent, lock), max_request_bytes=max_bytes,
                                          in_flight_wait=0.0, detail_limit=1000, owner='host:%s' % name,
                                          is_abandoned=lambda owner, started: False)
                start.wait()
                results[name] = emission.run()
            except Exception as exc:  # pylint: disable=broad-except
                errors.append(exc)
            finally:
                ledger.close()

        threads = [threading.Thread(target=emit, args=(name, hosts)) for name, hosts in (('a', first), ('b', second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors
    # every series once, whoever sent it
    assert sorted(sent) == sorted('h%03d' % h for h in first | second)
    for name, hosts in (('a', first), ('b', second)):
        result = results[name]
        statuses = {item['dimensions']['Host']: item['status'] for item in result['series']}
        assert len(statuses) == len(hosts)
        assert set(statuses.values()) <= {'sent', 'skipped', 'in_flight'}
        assert result['series_sent'] + result['series_skipped'] + result['series_in_flight'] == len(hosts)
    # what one left to the other (or found delivered), the other sent
    for name, other in (('a', 'b'), ('b', 'a')):
        for item in results[name]['series']:
            if item['status'] != 'sent':
                assert {'Host': item['dimensions']['Host'], 'status': 'sent'} in [
                    {'Host': o['dimensions']['Host'], 'status': o['status']} for o in results[other]['series']]
