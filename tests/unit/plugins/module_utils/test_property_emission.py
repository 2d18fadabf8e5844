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

import collections
import datetime
import os
import tempfile
import threading

from hypothesis import given, settings, strategies as st

from ansible_collections.azmon.metrics.plugins.module_utils import _emit
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import Ledger
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points
from ansible_collections.azmon.metrics.tests.unit.fake_sender import FakeSender

# `make soak` sets AZMON_PROPERTY_SCALE (say 50) to try that many times more examples.
SCALE = int(os.environ.get('AZMON_PROPERTY_SCALE') or 1)
SETTINGS = settings(max_examples=25 * SCALE, deadline=None, database=None)
RID = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'


def host(metric, dim_values, time):  # pylint: disable=unused-argument
    """What the senders count by here: the series' Host."""
    return dim_values[0]


def host_minute(metric, dim_values, time):  # pylint: disable=unused-argument
    return dim_values[0], time


def _points(hosts, now):
    entries = [{'metric': 'Load', 'namespace': 'NS', 'dimensions': {'Host': 'h%03d' % h}, 'value': h} for h in hosts]
    return build_points(entries, RID, now=now)


@SETTINGS
@given(st.sets(st.integers(0, 120), min_size=1, max_size=80), st.sets(st.integers(0, 120), min_size=1, max_size=80),
       st.sampled_from([300, 700, 4096]))
def test_two_racing_emissions_send_each_series_once(first, second, max_bytes):
    now = datetime.datetime(2026, 11, 22, 10, 31, 17, tzinfo=datetime.timezone.utc)
    sent = collections.Counter()       # Host -> values delivered, by both senders
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
                                          sender=FakeSender(ingested=sent, key=host), max_request_bytes=max_bytes,
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
    assert sorted(sent.elements()) == sorted('h%03d' % h for h in first | second)
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


# -- a run and its reruns, with failures between and inside requests --------------------------------------------------
# What each send does: deliver; refuse (nothing ingested); an error before the body is written (a local failure);
# an answer that never came although the body was ingested, or although it was not (the outcome is unknown).
STEPS = ('ok', 'refused', 'error-before-body', 'unknown-ingested', 'unknown-lost')


def script(steps):
    """Those steps in the words of the tests' stand-in sender (tests/unit/fake_sender.py)."""
    return [OSError('a local failure before the body was written') if step == 'error-before-body'
            else {'refused': 'failed', 'unknown-lost': 'unknown'}.get(step, step) for step in steps]


@st.composite
def batches(draw):
    """Entries of several series, each at one or more of the last minutes, some with a dedupe_key, some merging."""
    entries = []
    for host in range(draw(st.integers(1, 25))):
        keyed = draw(st.sampled_from([None, 'batch', 'own-%d' % host]))
        for offset in sorted(draw(st.sets(st.integers(0, 12), min_size=1, max_size=4))):
            for _copy in range(draw(st.integers(1, 2))):       # two entries of one series-minute add up
                entry = {'metric': 'Load', 'namespace': 'NS', 'dimensions': {'Host': 'h%03d' % host}, 'value': 1,
                         'time': '2026-11-22T10:%02d:00Z' % (30 - offset)}
                if keyed is not None:
                    entry['dedupe_key'] = keyed
                entries.append(entry)
    return entries


COUNTS = ('series_sent', 'series_would_send', 'series_skipped', 'series_unknown', 'series_unknown_skipped',
          'series_failed', 'series_not_sent', 'series_in_flight', 'series_not_recorded')


@SETTINGS
@given(batches(), st.sampled_from([800, 1500, 4096, 1000000]),
       st.lists(st.lists(st.sampled_from(STEPS), max_size=6), min_size=1, max_size=3))
def test_every_series_minute_is_delivered_exactly_once_across_a_run_and_its_reruns(entries, max_bytes, runs):
    now = datetime.datetime(2026, 11, 22, 10, 31, 17, tzinfo=datetime.timezone.utc)
    points = build_points(entries, RID, now=now)
    given_minutes = collections.Counter()
    for entry in entries:
        given_minutes[(entry['dimensions']['Host'], entry['time'])] += 1
    ingested = collections.Counter()
    unknown = set()         # series-minutes some run reported unknown
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'ledger.sqlite3')
        # the failing runs, then a clean one; each a new process, the earlier ones ended
        for number, steps in enumerate(runs + [[]]):
            ledger = Ledger(path)
            owner = 'host:%d' % number
            sender = FakeSender(script(steps), ingested=ingested, key=host_minute)
            emission = _emit.Emission(points, RID, 'https://x', ledger=ledger, sender=sender,
                                      max_request_bytes=max_bytes, in_flight_wait=0.0, detail_limit=100000,
                                      owner=owner, is_abandoned=lambda who, started, me=owner: who != me)
            try:
                result = emission.run()
            except _emit.EmissionFailed as exc:
                result = exc.details
            except OSError:
                result = None
            finally:
                ledger.close()
            if result is None:
                continue
            # the counts add up to the entries given, and each entry is listed with its status
            assert sum(result.get(name, 0) for name in COUNTS) == result['series_total'] == len(entries)
            assert sorted(item['index'] for item in result['series']) == list(range(len(entries)))
            for item in result['series']:
                if item['status'] == 'unknown':
                    unknown.add((item['dimensions']['Host'], item['time']))
        final = result
    # nothing ever arrives twice, and only what was given, with every entry of a series-minute in one post
    for minute_key, count in ingested.items():
        assert count == given_minutes[minute_key], minute_key
    # what never arrived, the clean rerun reports as unknown (an earlier run could not tell): not re-sent blindly,
    # not lost silently; and it reports nothing unknown that no run left unknown or in doubt
    missing = set(given_minutes) - set(ingested)
    assert final['series_failed'] == final['series_not_sent'] == final['series_unknown'] == 0
    reported = {(item['dimensions']['Host'], item['time']) for item in final['series']
                if item['status'] == 'unknown_skipped'}
    assert missing <= reported
    if not any('error-before-body' in steps for steps in runs):
        assert reported <= unknown
