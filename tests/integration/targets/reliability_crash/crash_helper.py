# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small probes runme.sh needs between playbooks: the pid of the process sending, and whether it lives.

    crash_helper.py sender LEDGER COUNT           wait for COUNT delivered series and a request in flight;
                                                  print the pid of the process sending it
    crash_helper.py alive PID                     print true or false
    crash_helper.py wait-gone PID SECONDS         wait until PID has ended (exit 1 if it has not)
    crash_helper.py session PID                   print the session id of PID
    crash_helper.py left SID...                   print the live processes of these sessions (exit 1 if any)
    crash_helper.py reap SECONDS SID...           kill -9 every live process of these sessions, each by its pid,
                                                  wait until all have ended, then as `left`

A killed ansible-playbook leaves its worker behind: the worker calls setsid(), so killing the playbook (or its
process group) spares it, and once its module has finished it blocks forever writing its large result into the
pipe to its dead parent (it holds the pipe's read end itself, so the write never fails). The test reaps the
session the killed run's module ran in, and checks that nothing of it is left.
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
                done = conn.execute('SELECT COUNT(*) FROM series WHERE state = 1').fetchone()[0]   # 1: delivered
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


def session_of(pid):
    with open('/proc/%d/stat' % pid, encoding='ascii') as handle:
        return int(handle.read().rsplit(')', 1)[1].split()[3])


def members(sessions):
    """``{pid: command line}`` of the live processes whose session is one of ``sessions`` (never this process)."""
    found = {}
    sessions = {sid for sid in sessions if sid > 1}   # never the kernel's or init's
    if not sessions:
        return found
    for name in os.listdir('/proc'):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        pid = int(name)
        try:
            if session_of(pid) not in sessions or not alive(pid):
                continue
            with open('/proc/%d/cmdline' % pid, 'rb') as handle:
                command = handle.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
            if command:
                found[pid] = command
        except (OSError, IndexError, ValueError):
            continue
    return found


def _state(pid):
    """The process state and what it waits in, e.g. ``S pipe_write`` for a worker blocked on a full pipe."""
    try:
        with open('/proc/%d/stat' % pid, encoding='ascii') as handle:
            state = handle.read().rsplit(')', 1)[1].split()[0]
        with open('/proc/%d/wchan' % pid, encoding='ascii') as handle:
            return '%s %s' % (state, handle.read().strip() or '-')
    except OSError:
        return '?'


def left(sessions):
    found = members(sessions)
    for pid, command in sorted(found.items()):
        print('left running: pid %d (session %d): %s' % (pid, session_of(pid), command))
    return 1 if found else 0


def reap(sessions, seconds):
    """Kill every process of ``sessions`` by its pid, wait for them to end; 0 when none is left."""
    deadline = time.time() + seconds
    reported = set()
    while time.time() < deadline:
        found = members(sessions)
        if not found:
            return 0
        for pid in found:
            if pid not in reported:
                reported.add(pid)
                print('reaping pid %d (%s): %s' % (pid, _state(pid), found[pid]))
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    return left(sessions)


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
    if command == 'session':
        print(session_of(int(argv[2])))
        return 0
    if command == 'left':
        return left({int(sid) for sid in argv[2:]})
    if command == 'reap':
        return reap({int(sid) for sid in argv[3:]}, float(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
