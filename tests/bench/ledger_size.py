# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SQLite delivery ledger's size over many runs, hours apart, for the ``make bench`` ledger row.

A real run cannot wait hours, so this drives the collection's ``Ledger`` itself with a clock moved on between
runs, the way an emission writes it: per request one claim and one settle of its series-minutes (2,000 a
request, what a 1 MB request holds), then the prune a task does at its end, then close.  Each run writes the
same series at new minutes (half of them one minute earlier, like the fleet rows).  Returns the file's size
after each run.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
import uuid


def _size(path):
    return sum(os.path.getsize(path + tail) for tail in ('', '-wal', '-shm') if os.path.exists(path + tail))


def ledger_runs(collections_path, series_minutes, runs, gap_seconds, per_request=2000, retention_days=30):
    """Sizes in bytes of one ledger after each of ``runs`` runs of ``series_minutes`` each, ``gap_seconds`` apart."""
    sys.path.insert(0, collections_path)
    from ansible_collections.azmon.metrics.plugins.module_utils._ledger import Ledger  # pylint: disable=import-outside-toplevel

    path = os.path.join(tempfile.mkdtemp(prefix='azmon-bench-ledger-'), 'ledger.sqlite3')
    now = [float(time.time())]
    hosts = max(series_minutes // 2, 1)
    sizes = []
    for _run in range(runs):
        ledger = Ledger(path, clock=lambda: now[0])
        minute = int(now[0]) // 60 * 60
        keys = []
        for back in (0, 60):
            for host in range(hosts):
                digest = hashlib.blake2b(b'host-%05d\x1f%d' % (host, minute - back), digest_size=16).hexdigest()
                keys.append('%s@%d' % (digest, minute - back))
        keys = keys[:series_minutes]
        for start in range(0, len(keys), per_request):
            chunk = keys[start:start + per_request]
            inflight, _others = ledger.claim(chunk, 'bench:1', lambda owner, started: False)
            ledger.finish(inflight, chunk, 'delivered', request_id=str(uuid.uuid4()))
        ledger.prune(retention_days * 86400)
        ledger.close()
        sizes.append(_size(path))
        now[0] += gap_seconds
    return sizes


if __name__ == '__main__':
    print(ledger_runs(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
