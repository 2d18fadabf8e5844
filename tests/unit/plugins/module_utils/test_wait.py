# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.azmon.metrics.plugins.module_utils._wait import Wait


def attempts(wait, *args, **kwargs):
    return list(wait.tries(*args, **kwargs))


def test_pauses_double_up_to_the_longest_within_the_timeout(fake_clock):
    clock = fake_clock
    wait = Wait(sleep=clock.sleep, clock=clock)
    assert attempts(wait, 100) == [0.0, 2.0, 6.0, 14.0, 30.0, 60.0, 90.0]
    assert clock.slept == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert wait.report() == {'replication_retries': 6, 'replication_wait_seconds': 90.0}


def test_a_round_ends_when_an_attempt_works(fake_clock):
    clock = fake_clock
    wait = Wait(sleep=clock.sleep, clock=clock)
    for waited in wait.tries(60):
        if waited >= 2.0:
            break
    assert clock.slept == [2.0]
    assert (wait.retries, wait.seconds) == (1, 2.0)


def test_no_timeout_means_one_attempt(fake_clock):
    clock = fake_clock
    wait = Wait(sleep=clock.sleep, clock=clock)
    assert attempts(wait, 0) == [0.0]
    assert attempts(wait, None) == [0.0]
    assert attempts(wait, 1.9) == [0.0]
    assert clock.slept == []
    assert wait.report() == {'replication_retries': 0, 'replication_wait_seconds': 0.0}


def test_short_pauses_for_quick_services(fake_clock):
    clock = fake_clock
    wait = Wait(sleep=clock.sleep, clock=clock)
    assert attempts(wait, 5, first=1.0, longest=10.0) == [0.0, 1.0, 3.0]
    assert clock.slept == [1.0, 2.0]


def test_the_clock_ends_a_round_too(fake_clock):
    clock = fake_clock

    def slow_sleep(seconds):
        clock.sleep(seconds)
        clock.now += 15.0  # each pause takes much longer than asked (a loaded machine)

    wait = Wait(sleep=slow_sleep, clock=clock)
    assert attempts(wait, 20) == [0.0, 2.0]
    assert clock.slept == [2.0]


def test_rounds_add_up_and_each_has_its_own_timeout(fake_clock):
    clock = fake_clock
    wait = Wait(sleep=clock.sleep, clock=clock)
    assert attempts(wait, 7) == [0.0, 2.0, 6.0]
    assert attempts(wait, 3) == [0.0, 2.0]
    assert wait.report() == {'replication_retries': 3, 'replication_wait_seconds': 8.0}
