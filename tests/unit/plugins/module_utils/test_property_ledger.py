# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests for the delivery ledger's claims: a series is never sent by two processes.

Several ``Ledger`` objects on one file play processes; each claims the keys of a request, then settles them
(delivered, unknown, or forgotten when nothing was sent).  Whatever the interleaving, no key is ever in flight
for two owners at once, a delivered or unknown key is never claimed again (unless resending unknown ones),
and what ``claim`` says about the keys it did not take matches what the ledger holds.
"""

from __future__ import annotations

import os
import tempfile
import threading

from hypothesis import given, settings, strategies as st

from ansible_collections.azmon.metrics.plugins.module_utils._ledger import DELIVERED, PENDING, UNKNOWN, Ledger

# `make soak` sets AZMON_PROPERTY_SCALE (say 50) to try that many times more examples.
SCALE = int(os.environ.get('AZMON_PROPERTY_SCALE') or 1)
SETTINGS = settings(max_examples=40 * SCALE, deadline=None, database=None)
KEYS = ['k%02d' % i for i in range(12)]
OWNERS = ['host:%d' % pid for pid in (101, 102, 103)]


def never_abandoned(_owner, _started):
    return False


OPERATIONS = st.lists(st.tuples(st.integers(0, len(OWNERS) - 1),
                                st.sampled_from(['claim', 'deliver', 'unknown', 'forget']),
                                st.lists(st.sampled_from(KEYS), min_size=1, max_size=6, unique=True),
                                st.booleans()),
                      min_size=1, max_size=40)


@SETTINGS
@given(OPERATIONS)
def test_claims_never_overlap_and_settled_keys_stay_settled(operations):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'ledger.sqlite3')
        ledgers = [Ledger(path) for _owner in OWNERS]
        holding = {}     # owner index -> (inflight id, keys)
        settled = {}     # key -> state, as the model expects it
        try:
            for who, operation, keys, resend in operations:
                if operation == 'claim':
                    if who in holding:
                        continue   # a process sends one request at a time
                    inflight, others = ledgers[who].claim(keys, OWNERS[who], never_abandoned, resend_unknown=resend)
                    in_flight_elsewhere = {k for other, (_i, held) in holding.items() if other != who for k in held}
                    for key in keys:
                        if key in in_flight_elsewhere:
                            assert others.get(key) == PENDING
                        elif settled.get(key) == DELIVERED or (settled.get(key) == UNKNOWN and not resend):
                            assert others.get(key) == settled[key]
                        else:
                            assert key not in others
                    taken = [k for k in keys if k not in others]
                    assert (inflight is None) == (not taken)
                    if taken:
                        holding[who] = (inflight, taken)
                elif who in holding:
                    inflight, taken = holding.pop(who)
                    state = {'deliver': DELIVERED, 'unknown': UNKNOWN, 'forget': None}[operation]
                    ledgers[who].finish(inflight, taken, state)
                    for key in taken:
                        if state is None:
                            continue
                        settled[key] = state
                # the invariant: no key in flight for two owners, and the file agrees with the model
                held = [k for _i, taken in holding.values() for k in taken]
                assert len(held) == len(set(held))
                found = ledgers[0].lookup(KEYS)
                for key in KEYS:
                    if key in held:
                        assert found[key][0] == PENDING
                    elif key in settled:
                        assert found[key][0] == settled[key]
                    else:
                        assert key not in found
        finally:
            for ledger in ledgers:
                ledger.close()


def test_processes_racing_for_the_same_series_take_each_key_once():
    # twenty "processes" (threads with their own connection) claim the same keys at the same moment
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'ledger.sqlite3')
        Ledger(path).close()
        keys = ['shared-%03d' % i for i in range(200)]
        start = threading.Barrier(20)
        taken = {}
        errors = []

        def process(number):
            ledger = Ledger(path)
            try:
                start.wait()
                for first in range(0, len(keys), 25):
                    chunk = keys[first:first + 25]
                    inflight, others = ledger.claim(chunk, 'host:%d' % (1000 + number), never_abandoned)
                    mine = [k for k in chunk if k not in others]
                    taken[number] = taken.get(number, []) + mine
                    if inflight is not None:
                        ledger.finish(inflight, mine, DELIVERED)
            except Exception as exc:  # pylint: disable=broad-except
                errors.append(exc)
            finally:
                ledger.close()

        threads = [threading.Thread(target=process, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        every = [k for mine in taken.values() for k in mine]
        assert sorted(every) == keys   # each key taken by exactly one process
        ledger = Ledger(path)
        try:
            assert {state for state, _owner, _updated in ledger.lookup(keys).values()} == {DELIVERED}
        finally:
            ledger.close()


def test_a_dead_owners_keys_are_reported_unknown_not_taken():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'ledger.sqlite3')
        dead, alive = Ledger(path), Ledger(path)
        try:
            dead.claim(['a', 'b'], 'host:1', never_abandoned)
            inflight, others = alive.claim(['a', 'b', 'c'], 'host:2', lambda owner, _started: owner == 'host:1')
            assert others == {'a': UNKNOWN, 'b': UNKNOWN}
            assert inflight is not None
        finally:
            dead.close()
            alive.close()
