#!/usr/bin/env python
"""Run the checks of `make test` side by side, each into its own log, one line per check as it ends.

Each CHECK is a Makefile target (`make CHECK`); up to JOBS of them run at once, longest first: by the wall
times of the previous run in this build directory (TIMES file), else in the order given (the Makefile's CHECKS
lists the long ones first). A check's whole output goes to LOGS/CHECK.log; when it ends, one line says how it
went (its wall time and the passed/failed/skipped counts of the suites it recorded in RESULTS); a failed
check's log tail follows. A check that fails before it recorded a result is recorded as one failure, so the
closing line can never hide a broken suite.

The children get AZMON_CHECK=CHECK (results.py stores it with each suite, so the summary can group suites by
check), AZMON_CHECK_LOG=LOGS/CHECK.log (results.py then writes no second copy of the output) and
AZMON_SETUP_DONE=1 (the Makefile then skips each check's set-up prerequisites, which `make test` ran once
before: two checks must not re-sync the collection copies under each other's feet).

usage: run_checks.py --jobs N --results DIR --logs DIR [--times FILE] [--make MAKE] CHECK...
Exit status: 0 when every check exited 0, else 1.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time

TAIL_LINES = 40


def load_times(path: str | None) -> dict[str, float]:
    """Wall times of the previous run, by check."""
    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path, encoding='utf-8') as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return {name: float(seconds) for name, seconds in data.items() if isinstance(seconds, (int, float))}


def save_times(path: str | None, times: dict[str, float]) -> None:
    """Remember this run's wall times for the next run's order."""
    if not path:
        return
    old = load_times(path)
    old.update(times)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + '.tmp', 'w', encoding='utf-8') as handle:
        json.dump(old, handle, indent=2, sort_keys=True)
    os.replace(path + '.tmp', path)


def suites_of(results_dir: str, check: str) -> list[dict]:
    """The suite results a check recorded."""
    found = []
    for path in glob.glob(os.path.join(results_dir, '*.json')):
        try:
            with open(path, encoding='utf-8') as handle:
                item = json.load(handle)
        except (OSError, ValueError):
            continue
        if item.get('check') == check:
            found.append(item)
    return found


def minutes(seconds: float) -> str:
    """90.4 -> '1m30s'."""
    seconds = int(round(seconds))
    return '%dm%02ds' % (seconds // 60, seconds % 60) if seconds >= 60 else '%ds' % seconds


def tail(path: str, lines: int) -> str:
    """The last lines of a log."""
    try:
        with open(path, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 200 * lines))
            text = handle.read().decode('utf-8', 'replace')
    except OSError:
        return ''
    return '\n'.join(text.splitlines()[-lines:])


def record_failure(results_dir: str, check: str, reason: str) -> None:
    """Record a check that failed before it recorded anything (results.py fail)."""
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(here, 'results.py'), 'fail', '--dir', results_dir, '--name', check,
                    '--reason', reason], env=dict(os.environ, AZMON_CHECK=check), stdout=subprocess.DEVNULL,
                   check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--results', required=True)
    parser.add_argument('--logs', required=True)
    parser.add_argument('--times')
    parser.add_argument('--make', default=os.environ.get('MAKE', 'make'))
    parser.add_argument('checks', nargs='+')
    args = parser.parse_args()

    os.makedirs(args.logs, exist_ok=True)
    previous = load_times(args.times)
    checks = list(dict.fromkeys(args.checks))
    # longest first (by the previous run); checks without a time keep their order, before the known short ones
    known = [seconds for name, seconds in previous.items() if name in checks]
    if known:
        checks.sort(key=lambda name: -previous.get(name, max(known)))
    jobs = max(1, args.jobs)
    print('make test: %d checks, %d at a time: %s' % (len(checks), jobs, ' '.join(checks)), flush=True)

    started_all = time.time()
    waiting = list(checks)
    running: dict[str, tuple[subprocess.Popen, float, object]] = {}
    walls: dict[str, float] = {}
    failed_any = False
    while waiting or running:
        while waiting and len(running) < jobs:
            check = waiting.pop(0)
            log_path = os.path.join(args.logs, check + '.log')
            log = open(log_path, 'wb')  # pylint: disable=consider-using-with
            env = dict(os.environ, AZMON_CHECK=check, AZMON_CHECK_LOG=log_path, AZMON_SETUP_DONE='1')
            process = subprocess.Popen([args.make, check], stdin=subprocess.DEVNULL, stdout=log,  # pylint: disable=consider-using-with
                                       stderr=subprocess.STDOUT, env=env)
            running[check] = (process, time.time(), log)
        time.sleep(0.5)
        for check, (process, started, log) in list(running.items()):
            status = process.poll()
            if status is None:
                continue
            del running[check]
            log.close()
            wall = time.time() - started
            walls[check] = wall
            suites = suites_of(args.results, check)
            if status != 0 and not suites:
                record_failure(args.results, check, 'make %s failed before running its tests (see its log)' % check)
                suites = suites_of(args.results, check)
            passed = sum(item.get('passed', 0) for item in suites)
            failed = sum(item.get('failed', 0) for item in suites)
            skipped = sum(item.get('skipped', 0) for item in suites)
            bad = status != 0 or failed > 0
            failed_any = failed_any or bad
            print('[%6s] %-6s %-22s %5s  %d passed, %d failed, %d skipped   log: %s' % (
                minutes(time.time() - started_all), 'FAILED' if bad else 'ok', check, minutes(wall), passed, failed,
                skipped, os.path.join(args.logs, check + '.log')), flush=True)
            if bad:
                for item in suites:
                    if item.get('failed'):
                        print('         %s: %s (log: %s)' % (item['name'], item.get('note', '')[:300], item.get('log') or '-'),
                              flush=True)
                print('--- last %d lines of %s.log ---\n%s\n---' % (TAIL_LINES, check, tail(os.path.join(args.logs, check + '.log'), TAIL_LINES)),
                      flush=True)
    total = time.time() - started_all
    save_times(args.times, walls)
    os.makedirs(os.path.join(args.results, 'checks'), exist_ok=True)
    with open(os.path.join(args.results, 'checks', 'times.json'), 'w', encoding='utf-8') as handle:
        json.dump({'checks': walls, 'wall': total, 'jobs': jobs}, handle, indent=2)
    print('make test: the checks took %s wall time, %d at a time' % (minutes(total), jobs), flush=True)
    return 1 if failed_any else 0


if __name__ == '__main__':
    sys.exit(main())
