#!/usr/bin/env python
"""Run one test suite, count its results honestly, and print the closing summary of `make test`.

Every check target of the Makefile runs through `results.py run`, which streams the command's
output (also to LOG), counts what the command tested, and writes RESULTS_DIR/NAME.json.
`results.py summary` prints a table of those files, each check's wall time (written by run_checks.py
into RESULTS_DIR/checks/times.json) and the integration targets' times, then the one line CI reads,
`N passed, N failed, N skipped`, and exits non-zero when anything failed. Each result also names
the `make test` check it belongs to (environment AZMON_CHECK, set by run_checks.py).

How results are counted (--kind):
  check        a single check (ansible-lint, changelog lint, build): 1 passed or 1 failed
  pytest       the test cases of the junit XML file given with --junit (written by pytest)
  junit-dir    the test cases of ansible-test's own XML files in --junit-dir (ansible-test-*.xml, python*-units.xml, or
               the --junit-files globs: sanity and units of one copy may run at once and must not take each other's),
               emptied of them before the run: ansible-test sanity --junit writes one per sanity test (and
               Python version), ansible-test units one per Python with the pytest test cases. Other files there
               (ansible-playbook's junit callback writes one per play of an integration target running in
               the same collection copy) are neither counted nor removed
  integration  one per ansible-test integration target: the passed ones from the newest
               integration-*.json in --data-dir, the failed ones from ansible-test's closing error
In every kind, a command that exits non-zero although no failed test was counted (it crashed, or a
venv could not be built) counts as one failure, so a broken suite can never look green.

usage:
  results.py run --dir RESULTS_DIR --name NAME --kind KIND [--junit F] [--junit-dir D] [--data-dir D]
                 [--log LOG] -- COMMAND...
  results.py skip --dir RESULTS_DIR --name NAME --reason TEXT
  results.py fail --dir RESULTS_DIR --name NAME --reason TEXT
  results.py summary --dir RESULTS_DIR
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

KINDS = ('check', 'pytest', 'junit-dir', 'integration')
# The `make test` check this suite belongs to (set by run_checks.py), so that the summary can show each check's time.
CHECK = os.environ.get('AZMON_CHECK', '')
# run_checks.py writes each check's wall time here (a subdirectory: not a suite result).
CHECK_TIMES = os.path.join('checks', 'times.json')
# run_checks.py already keeps the check's whole output in this file; a suite then writes no log of its own.
CHECK_LOG = os.environ.get('AZMON_CHECK_LOG', '')
INTEGRATION_FAILED = re.compile(r'The (\d+) integration test\(s\) listed below \(out of (\d+)\) failed')


def write_result(directory: str, result: dict) -> None:
    """Store one suite's result."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, result['name'] + '.json')
    with open(path + '.tmp', 'w', encoding='utf-8') as handle:
        json.dump(result, handle, indent=2)
    os.replace(path + '.tmp', path)


JUNIT_FILES = ('ansible-test-*.xml', 'python*-units.xml')


def ansible_test_junit_files(junit_dir, patterns=JUNIT_FILES):
    """The XML files ansible-test sanity and units write into ``junit_dir`` (those of ``patterns``), sorted."""
    return sorted(name for pattern in patterns for name in glob.glob(os.path.join(junit_dir, pattern)))


def count_junit_files(paths: list[str]) -> tuple[int, int, int, list[str]]:
    """Count passed, failed and skipped test cases in junit XML files; also return failed case names."""
    passed = failed = skipped = 0
    failed_names = []
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (ET.ParseError, OSError) as ex:
            failed += 1
            failed_names.append(f'unreadable junit file {path}: {ex}')
            continue
        for case in root.iter('testcase'):
            tags = {child.tag for child in case}
            name = case.get('name', '?')
            if case.get('classname') and case.get('classname') not in ('sanity',):
                name = f"{case.get('classname')}::{name}"
            if tags & {'failure', 'error'}:
                failed += 1
                failed_names.append(name)
            elif 'skipped' in tags:
                skipped += 1
            else:
                passed += 1
    return passed, failed, skipped, failed_names


def count_integration(data_dir: str, output: str) -> tuple[int, int, list[str], dict[str, float]]:
    """Count passed and failed ansible-test integration targets; also return the passed ones' seconds."""
    targets = {}
    files = sorted(glob.glob(os.path.join(data_dir, 'integration-*.json')), key=os.path.getmtime)
    if files:
        with open(files[-1], encoding='utf-8') as handle:
            targets = json.load(handle).get('targets', {})
    seconds = {name: float(info.get('run_time_seconds', 0)) for name, info in targets.items()}
    failed_names: list[str] = []
    match = INTEGRATION_FAILED.search(output)
    if match:
        tail = output[match.end():].split(':', 1)[-1].strip().splitlines()
        failed_names = [line.strip() for line in tail[:int(match.group(1))]]
        return len(targets), int(match.group(1)), failed_names, seconds
    return len(targets), 0, failed_names, seconds


def run_streaming(command: list[str], log_path: str | None) -> tuple[int, str]:
    """Run COMMAND with no stdin, copy its output to stdout and LOG; return (exit status, output)."""
    log = None
    if log_path:
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
        log = open(log_path, 'wb')  # pylint: disable=consider-using-with
    chunks = []
    try:
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                                       stderr=subprocess.STDOUT)
        except OSError as ex:
            message = f'results.py: cannot run {command[0]}: {ex}\n'.encode()
            sys.stdout.buffer.write(message)
            return 127, message.decode()
        while True:
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            chunks.append(chunk)
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            if log:
                log.write(chunk)
        return process.wait(), b''.join(chunks).decode('utf-8', 'replace')
    finally:
        if log:
            log.close()


def command_run(args: argparse.Namespace) -> int:
    """Run a suite and record its result."""
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not command:
        sys.exit('results.py run: no command given')
    if args.kind == 'junit-dir':
        if not args.junit_dir:
            sys.exit('results.py run: --kind junit-dir needs --junit-dir')
        for old in ansible_test_junit_files(args.junit_dir, args.junit_files or JUNIT_FILES):
            os.unlink(old)
    if args.kind == 'pytest':
        if not args.junit:
            sys.exit('results.py run: --kind pytest needs --junit')
        if os.path.exists(args.junit):
            os.unlink(args.junit)
    if args.kind == 'integration':
        if not args.data_dir:
            sys.exit('results.py run: --kind integration needs --data-dir')
        for old in glob.glob(os.path.join(args.data_dir, 'integration-*.json')):
            os.unlink(old)

    shown = [arg.split(':', 1)[0] + ':...' if arg.startswith('PATH=') and ':' in arg else arg for arg in command]
    print(f'>>> [{args.name}] {" ".join(shown)}', flush=True)
    started = time.time()
    log = None if CHECK_LOG else args.log
    status, output = run_streaming(command, log)
    seconds = time.time() - started

    passed = failed = skipped = 0
    failed_names: list[str] = []
    target_seconds: dict[str, float] = {}
    note = ''
    if args.kind == 'check':
        if status == 0:
            passed = 1
        else:
            failed = 1
    elif args.kind == 'pytest':
        if os.path.exists(args.junit):
            passed, failed, skipped, failed_names = count_junit_files([args.junit])
        if status == 5 and not (passed or failed or skipped):
            status = 0
            note = 'no tests collected'
    elif args.kind == 'junit-dir':
        passed, failed, skipped, failed_names = count_junit_files(ansible_test_junit_files(args.junit_dir, args.junit_files or JUNIT_FILES))
    elif args.kind == 'integration':
        passed, failed, failed_names, target_seconds = count_integration(args.data_dir, output)

    if status != 0 and failed == 0:
        failed = 1
        note = f'exited with status {status} before reporting a failed test'
    elif status == 0 and failed:
        note = f'exit status 0 although {failed} failed'
    if failed_names and not note:
        shown = ', '.join(failed_names[:5]) + (' ...' if len(failed_names) > 5 else '')
        note = f'failed: {shown}'

    result = dict(name=args.name, kind=args.kind, passed=passed, failed=failed, skipped=skipped, status=status,
                  seconds=round(seconds, 1), note=note, log=CHECK_LOG or args.log or '', started=started, check=CHECK)
    if target_seconds:
        result['targets'] = target_seconds
    write_result(args.dir, result)
    state = 'FAILED' if failed else 'ok'
    print(f'<<< [{args.name}] {state}: {passed} ok / {failed} failing / {skipped} skipped in {seconds:.0f}s'
          + (f' ({note})' if note else ''), flush=True)
    return 1 if failed else 0


def command_mark(args: argparse.Namespace, failed: bool) -> int:
    """Record a suite that did not run: skipped, or failed before it could run."""
    result = dict(name=args.name, kind='skip' if not failed else 'fail', passed=0, failed=1 if failed else 0,
                  skipped=0 if failed else 1, status=1 if failed else 0, seconds=0.0, note=args.reason, log='',
                  started=time.time(), check=CHECK)
    write_result(args.dir, result)
    print(f'<<< [{args.name}] {"FAILED" if failed else "skipped"}: {args.reason}', flush=True)
    return 1 if failed else 0


def minutes(seconds: float) -> str:
    """90.4 -> '1m30s'."""
    seconds = int(round(seconds))
    return '%dm%02ds' % (seconds // 60, seconds % 60) if seconds >= 60 else '%ds' % seconds


def print_times(results: list[dict], directory: str) -> None:
    """Each check's wall time (from run_checks.py) and the integration targets' times, slowest first."""
    try:
        with open(os.path.join(directory, CHECK_TIMES), encoding='utf-8') as handle:
            times = json.load(handle)
    except (OSError, ValueError):
        times = {}
    checks = times.get('checks', {})
    if checks:
        width = max(len('check'), *(len(name) for name in checks))
        print()
        print(f"{'check':<{width}}  {'wall':>6}  {'ok':>5}  {'fail':>5}  {'skip':>5}")
        print(f"{'-' * width}  {'-' * 6}  {'-' * 5}  {'-' * 5}  {'-' * 5}")
        for name, wall in sorted(checks.items(), key=lambda item: -item[1]):
            mine = [item for item in results if item.get('check') == name]
            print(f"{name:<{width}}  {minutes(wall):>6}  {sum(i['passed'] for i in mine):>5}  "
                  f"{sum(i['failed'] for i in mine):>5}  {sum(i['skipped'] for i in mine):>5}")
        print(f"all checks: {minutes(times.get('wall', 0))} wall time, {times.get('jobs', '?')} at a time")
    targets = {name: seconds for item in results for name, seconds in item.get('targets', {}).items()}
    if targets:
        shown = ', '.join(f'{name} {minutes(seconds)}' for name, seconds in sorted(targets.items(), key=lambda t: -t[1]))
        print()
        print(f'integration targets, slowest first: {shown}')


def command_summary(args: argparse.Namespace) -> int:
    """Print the per-suite table, the times, and the closing line; exit 1 if anything failed or nothing ran."""
    results = []
    for path in glob.glob(os.path.join(args.dir, '*.json')):
        with open(path, encoding='utf-8') as handle:
            results.append(json.load(handle))
    results.sort(key=lambda item: item.get('started', 0))
    if not results:
        results.append(dict(name='(nothing)', passed=0, failed=1, skipped=0, seconds=0.0,
                            note=f'no suite recorded a result in {args.dir}'))

    width = max(len('suite'), *(len(item['name']) for item in results))
    print()
    print(f"{'suite':<{width}}  {'ok':>5}  {'fail':>5}  {'skip':>5}  {'time':>6}  note")
    print(f"{'-' * width}  {'-' * 5}  {'-' * 5}  {'-' * 5}  {'-' * 6}  ----")
    for item in results:
        note = item.get('note', '')
        if len(note) > 100:
            note = note[:97] + '...'
        print(f"{item['name']:<{width}}  {item['passed']:>5}  {item['failed']:>5}  {item['skipped']:>5}  "
              f"{minutes(item.get('seconds', 0)):>6}  {note}")
    print_times(results, args.dir)
    passed = sum(item['passed'] for item in results)
    failed = sum(item['failed'] for item in results)
    skipped = sum(item['skipped'] for item in results)
    print()
    print(f'{passed} passed, {failed} failed, {skipped} skipped', flush=True)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    sub = parser.add_subparsers(dest='action', required=True)
    run = sub.add_parser('run')
    run.add_argument('--dir', required=True)
    run.add_argument('--name', required=True)
    run.add_argument('--kind', required=True, choices=KINDS)
    run.add_argument('--junit')
    run.add_argument('--junit-dir')
    run.add_argument('--junit-files', action='append',
                     help='with --junit-dir: a glob of the files this suite writes there (repeatable; default: both kinds)')
    run.add_argument('--data-dir')
    run.add_argument('--log')
    run.add_argument('command', nargs=argparse.REMAINDER)
    for action in ('skip', 'fail'):
        mark = sub.add_parser(action)
        mark.add_argument('--dir', required=True)
        mark.add_argument('--name', required=True)
        mark.add_argument('--reason', required=True)
    summary = sub.add_parser('summary')
    summary.add_argument('--dir', required=True)
    args = parser.parse_args()
    if args.action == 'run':
        return command_run(args)
    if args.action in ('skip', 'fail'):
        return command_mark(args, failed=args.action == 'fail')
    return command_summary(args)


if __name__ == '__main__':
    sys.exit(main())
