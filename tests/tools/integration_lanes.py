#!/usr/bin/env python
"""Run the integration targets in lanes side by side: one collection copy, one emulator, one ansible-test each.

The TARGETS (as `ansible-test integration --list-targets` names them) are dealt into as many lanes as
copies are given: slowest first, each onto the lane with the least work so far. The times come from TIMES,
which every run updates from ansible-test's own per-target times, else from DEFAULT_TIMES
(tests/tools/integration-times.json, for a fresh clone); a target without any time counts as DEFAULT_SECONDS.
Each lane runs, in its copy, `results.py run --name integration-N --kind integration ... --`
COMMAND TARGET..., where COMMAND is the Makefile's template with {suffix} replaced by '' for lane 1 and
'-N' for lane N, and {vars} by the lane copy's tests/integration/integration_config.yml, e.g.

    env EMULATOR_DIR=build/emulator{suffix} tests/tools/emulator run --vars-out {vars} --
      ansible-test integration --venv --python 3.11 --continue-on-error

so that each lane has an emulator of its own for all its targets (targets reset it, inject faults and count
its requests: two targets must not share one at the same time) and its own tests/output/ (delegation venv,
results). A lane's output goes to LOGS/integration-N.log; the console gets results.py's line as the lane
starts and as it ends. With one copy, or with EXTRA arguments (`make integration INTEGRATION_ARGS='target
...'`), there is one lane, named `integration`, whose output is streamed as it comes.

usage: integration_lanes.py --results DIR --logs DIR --times FILE [--default-times DEFAULT_TIMES]
                            --targets 'T1 T2 ...' [--extra 'ARGS']
                            --copy COPY [--copy COPY]... -- COMMAND...
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shlex
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SECONDS = 60.0


def load_times(path: str) -> dict[str, float]:
    try:
        with open(path, encoding='utf-8') as handle:
            return {name: float(value) for name, value in json.load(handle).items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def deal(targets: list[str], lanes: int, times: dict[str, float]) -> list[list[str]]:
    """Slowest first, each onto the lane with the least work so far."""
    load = [0.0] * lanes
    dealt: list[list[str]] = [[] for _lane in range(lanes)]
    for target in sorted(targets, key=lambda name: (-times.get(name, DEFAULT_SECONDS), name)):
        lane = load.index(min(load))
        dealt[lane].append(target)
        load[lane] += times.get(target, DEFAULT_SECONDS)
    return [sorted(lane) for lane in dealt]


def target_times(copy: str) -> dict[str, float]:
    """Per-target seconds from ansible-test's newest integration-*.json of this copy."""
    files = sorted(glob.glob(os.path.join(copy, 'tests', 'output', 'data', 'integration-*.json')), key=os.path.getmtime)
    if not files:
        return {}
    with open(files[-1], encoding='utf-8') as handle:
        targets = json.load(handle).get('targets', {})
    return {name: float(info.get('run_time_seconds', 0)) for name, info in targets.items()}


def main() -> int:
    argv = sys.argv[1:]
    if '--' not in argv:
        sys.exit(__doc__)
    split = argv.index('--')
    template = argv[split + 1:]
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--results', required=True)
    parser.add_argument('--logs', required=True)
    parser.add_argument('--times', required=True)
    parser.add_argument('--default-times', help='times to fall back on for targets this build never timed')
    parser.add_argument('--targets', required=True)
    parser.add_argument('--extra', default='')
    parser.add_argument('--copy', action='append', required=True)
    args = parser.parse_args(argv[:split])
    extra = shlex.split(args.extra)
    if not template:
        sys.exit('integration_lanes: no command given after --')

    times = load_times(args.times)
    fallback = load_times(args.default_times) if args.default_times else {}
    times = dict(fallback, **times)
    if extra or len(args.copy) == 1:
        lanes = [('integration', args.copy[0], '', extra or args.targets.split())]
    else:
        dealt = deal(args.targets.split(), len(args.copy), times)
        lanes = [('integration-%d' % (number + 1), copy, '-%d' % (number + 1) if number else '', chosen)
                 for number, (copy, chosen) in enumerate(zip(args.copy, dealt)) if chosen]
        for name, _copy, _suffix, chosen in lanes:
            expected = sum(times.get(target, DEFAULT_SECONDS) for target in chosen)
            untimed = len([target for target in chosen if target not in times])
            print('%s: %s (about %s by the last times%s)' % (
                name, ' '.join(chosen), minutes(expected),
                ', %d never timed counted %ds each' % (untimed, DEFAULT_SECONDS) if untimed else ''), flush=True)
    streamed = len(lanes) == 1
    statuses: dict[str, int] = {}

    def run_lane(name: str, copy: str, suffix: str, chosen: list[str]) -> None:
        vars_file = os.path.join(copy, 'tests', 'integration', 'integration_config.yml')
        command = [sys.executable, os.path.join(HERE, 'results.py'), 'run', '--dir', args.results, '--name', name,
                   '--kind', 'integration', '--data-dir', os.path.join(copy, 'tests', 'output', 'data'),
                   '--log', os.path.join(args.logs, name + '.log'), '--']
        command += [word.replace('{suffix}', suffix).replace('{vars}', vars_file) for word in template] + chosen
        if streamed:
            statuses[name] = subprocess.run(command, cwd=copy, stdin=subprocess.DEVNULL, check=False).returncode
            return
        # side by side: the whole output is in the lane's log; here only results.py's lines as it starts and ends
        # (each lane keeps its own log, also under make test's run_checks.py, whose check log gets only these lines)
        env = {key: value for key, value in os.environ.items() if key != 'AZMON_CHECK_LOG'}
        with subprocess.Popen(command, cwd=copy, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env,
                              stderr=subprocess.STDOUT, text=True, errors='replace') as process:
            for line in process.stdout:
                if line.startswith(('>>> [', '<<< [')):
                    print(line if len(line) < 300 else line[:297] + '...\n', end='', flush=True)
            statuses[name] = process.wait()

    threads = [threading.Thread(target=run_lane, args=lane) for lane in lanes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for _name, copy, _suffix, _chosen in lanes:
        times.update(target_times(copy))
    os.makedirs(os.path.dirname(os.path.abspath(args.times)), exist_ok=True)
    with open(args.times + '.tmp', 'w', encoding='utf-8') as handle:
        json.dump(times, handle, indent=2, sort_keys=True)
    os.replace(args.times + '.tmp', args.times)
    return 1 if any(statuses.get(lane[0], 1) for lane in lanes) else 0


def minutes(seconds: float) -> str:
    """90.4 -> '1m30s'."""
    seconds = int(round(seconds))
    return '%dm%02ds' % (seconds // 60, seconds % 60) if seconds >= 60 else '%ds' % seconds


if __name__ == '__main__':
    sys.exit(main())
