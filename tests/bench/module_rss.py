# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Python interpreter for the bench's modules that records the module process's peak memory.

``make bench`` sets ``ansible_python_interpreter`` to a wrapper that runs this file with the real
interpreter: it runs the module (its arguments and stdin passed through) in a child Python, and
appends that child's peak resident memory in KiB and its CPU seconds to the file named by
``AZMON_BENCH_RSS_FILE``.
"""

from __future__ import annotations

import os
import subprocess
import sys


def main():
    child = subprocess.Popen([sys.executable] + sys.argv[1:])  # pylint: disable=consider-using-with
    _pid, status, usage = os.wait4(child.pid, 0)
    target = os.environ.get('AZMON_BENCH_RSS_FILE')
    if target:
        with open(target, 'a', encoding='utf-8') as out:
            out.write('%d %.3f\n' % (usage.ru_maxrss, usage.ru_utime + usage.ru_stime))
    return os.waitstatus_to_exitcode(status)


if __name__ == '__main__':
    sys.exit(main())
