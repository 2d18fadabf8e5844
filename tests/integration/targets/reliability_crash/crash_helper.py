# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small probes runme.sh needs between playbooks: the pid of the process sending, and whether it lives.

    crash_helper.py sender LEDGER COUNT           wait for COUNT delivered series and a request in flight;
                                                  print the pid of the process sending it
    crash_helper.py alive PID                     print true or false
    crash_helper.py wait-gone PID SECONDS         wait until PID has ended (exit 1 if it has not)
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time


def sender(ledger, delivered, timeout=90.0):
    """Wait until ``delivered`` series are delivered and a request is in flight; print the sender's pid."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows, done = [], 0
        try:
            conn = sqlite3.connect('file:%s?mode=ro' % ledger, uri=True, timeout=10)
            try:
                done = conn.execute("SELECT COUNT(*) FROM series WHERE state = 'delivered'").fetchone()[0]
                rows = conn.execute('SELECT owner FROM inflight').fetchall()
            finally:
                conn.close()
        except sqlite3.Error:
            pass
        if rows and done >= delivered:
            print(rows[0][0].rsplit(':', 1)[1])
            return 0
        time.sleep(0.05)
    print('not %d series delivered with a request in flight after %gs' % (delivered, timeout), file=sys.stderr)
    return 1


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie has ended too
    try:
        with open('/proc/%d/stat' % pid, encoding='ascii') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return True


def main(argv):
    command = argv[1]
    if command == 'sender':
        return sender(argv[2], int(argv[3]))
    if command == 'alive':
        print('true' if alive(int(argv[2])) else 'false')
        return 0
    if command == 'wait-gone':
        deadline = time.time() + float(argv[3])
        while alive(int(argv[2])) and time.time() < deadline:
            time.sleep(0.1)
        return 1 if alive(int(argv[2])) else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
