# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting until Azure catches up with a change made moments ago.

A new application or service principal is not visible everywhere at once:
Microsoft Graph may answer 404 for a few seconds, and ARM refuses a role
assignment for a principal it does not know yet (``PrincipalNotFound``) for
up to minutes.  Each such call is repeated with growing pauses until it works
or a time limit is reached; this is the one place that decides the pauses and
counts them, so that every module reports the wait the same way.

Nothing here knows about Ansible or HTTP.
"""

from __future__ import annotations

import time

# The first pause, and the longest one: pauses double from FIRST up to LONGEST.
FIRST = 2.0
LONGEST = 30.0


class Wait:
    """Repeats of calls that wait for replication, counted for one module run.

    One ``Wait`` is shared by every client of a run; each call that waits
    runs one round of ``tries()``, with its own time limit.  ``retries`` and
    ``seconds`` add up all rounds.  ``sleep`` and ``clock`` can be replaced
    in tests (they are looked up when the ``Wait`` is made).
    """

    def __init__(self, sleep=None, clock=None):
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        self.retries = 0
        self.seconds = 0.0

    def tries(self, timeout, first=FIRST, longest=LONGEST):
        """Yield once for each attempt; the caller leaves the loop when an attempt worked.

        The first attempt comes at once; each later one after a pause of
        ``first`` seconds, doubled each time up to ``longest``, as long as the
        pauses of this round stay within ``timeout`` seconds (by the pauses
        themselves and by the clock).  Each yield gives the seconds this round
        has waited so far, for messages.  When the loop ends without a
        ``break``, the time is up.
        """
        timeout = max(0.0, float(timeout or 0))
        deadline = self.clock() + timeout
        waited = 0.0
        pause = first
        yield waited
        while waited + pause <= timeout and self.clock() + pause <= deadline:
            self.sleep(pause)
            self.retries += 1
            self.seconds += pause
            waited += pause
            yield waited
            pause = min(pause * 2, longest)

    def report(self):
        """The counts for a module result: ``replication_retries`` and ``replication_wait_seconds``."""
        return {'replication_retries': self.retries, 'replication_wait_seconds': round(self.seconds, 1)}
