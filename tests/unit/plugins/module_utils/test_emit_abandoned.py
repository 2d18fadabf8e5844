# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``_emit.abandoned``: when an in-flight request's sender counts as gone, so that its series become unknown."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils import _emit
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import Ledger

HOST = socket.gethostname()
HOUR = 3600


def dead_pid():
    """The pid of a process that has ended and was reaped."""
    process = subprocess.Popen([sys.executable, '-c', ''])  # pylint: disable=consider-using-with
    process.wait()
    return process.pid


def test_a_live_sender_that_started_just_now_is_not_abandoned():
    assert _emit.abandoned('%s:%d' % (HOST, os.getpid()), time.time()) is False


def test_a_sender_whose_process_ended_is_abandoned():
    assert _emit.abandoned('%s:%d' % (HOST, dead_pid()), time.time()) is True


@pytest.mark.parametrize('age, expected', [(60, False), (HOUR - 60, False), (HOUR + 60, True), (24 * HOUR, True)])
def test_a_live_sender_is_abandoned_only_after_an_hour(age, expected):
    assert _emit.abandoned('%s:%d' % (HOST, os.getpid()), time.time() - age) is expected


@pytest.mark.parametrize('age, expected', [(60, False), (HOUR + 60, True)])
def test_a_sender_on_another_host_is_judged_by_age_alone(age, expected):
    assert _emit.abandoned('elsewhere.example:1', time.time() - age) is expected


def test_the_ledger_settles_only_the_dead_senders_rows(tmp_path):
    ledger = Ledger(str(tmp_path / 'ledger.sqlite3'))
    ledger.claim(['a', 'b'], '%s:%d' % (HOST, dead_pid()), lambda owner, started: False)
    ledger.claim(['c'], '%s:%d' % (HOST, os.getpid()), lambda owner, started: False)
    assert ledger.settle_abandoned(_emit.abandoned) == 2
    ledger.close()
