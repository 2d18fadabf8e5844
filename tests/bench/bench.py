# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make bench``: the cost of one custom_metric_emit task for 10 and 10,000 series, and of a uri loop.

Runs each emit playbook ``--repeat`` times (fresh ledger each time; the median
is shown) and the uri loop once against the emulator, measuring wall time, the peak
resident memory of the largest process of the run, and the ingestion requests
the emulator received.  The uri loop is run on a smaller number of items and
its per-item cost extrapolated (one task per item makes 10,000 take minutes).
Prints a table and its targets (10,000 series under 1.5x the 10-series task, and 100x cheaper per series
than a uri loop), each marked met or MISSED, and at the end the missed ones.  A missed target is a finding, not an
error: the exit status is 0 unless a run breaks (a playbook or the raw script fails), so that a slow machine does not
fail ``make bench``.  The 10,000 series also go inline (``metrics:``) and as a file on the controller
(``metrics_src``), each held to at most 1.5x the ``metrics_file`` task.  The same two targets hold for
workspace_metric_emit (rows "workspace"): 10 and 10,000 series to the Azure Monitor workspace, each in one task,
requests counted at the emulator's data collection endpoint.

Run through ``make bench`` (which starts Azurite and sets AZURITE_INFO_FILE), it also measures the 10,000-series
task with the delivery ledger in Blob Storage: the first run against the SQLite-ledger run (target: at most
1.3 times its wall time), and a rerun, which must send no ingestion request and make at most 5 storage calls.

Then the fleet-scale rows (``--fleet``, 100,000 series-minutes by default: half as many series at two minutes,
each entry with its own time string): the task with ``metrics_file`` against ``raw_emit.py`` (the floor: one
token, ndjson packed to 1 MB, gzip, POST; run before and after the task and averaged), the peak memory and CPU of
the module process itself (``module_rss.py`` is its interpreter), ``metrics_src`` and the inline list against
``metrics_file`` (the whole fleet inline only with ``--inline-fleet``: ansible-core templates every entry), the
ledger's size after the task's run and after ``--ledger-runs`` runs an hour apart (``ledger_size.py``: the
ledger driven with its clock moved on, since a run cannot wait hours; it keeps two hours of series-minutes, so the
target is bounded: the last run at most 10% above the fourth), a rerun where everything was delivered, and check
mode.  Each row prints its target and met or MISSED.  On a busy machine the
wall times wander; the module's CPU seconds beside the script's are the steadier comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'emulator'))

from azmon_emulator.testing import start_emulator  # noqa: E402  pylint: disable=wrong-import-position
from ledger_size import ledger_runs  # noqa: E402  pylint: disable=wrong-import-position


def run_playbook(playbook, extra_vars, env, options=()):
    """Wall seconds and peak RSS (MiB) of one ansible-playbook run; raises on failure."""
    started = time.monotonic()
    proc = subprocess.Popen([env['ANSIBLE_PLAYBOOK'], os.path.join(HERE, playbook), '-e', '@' + extra_vars]
                            + list(options), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit('%s failed:\n%s' % (playbook, out.decode(errors='replace')[-3000:]))
    return wall, usage.ru_maxrss / 1024.0


def series(count):
    return [{'metric': 'Load', 'value': i % 97, 'dimensions': {'Host': 'host-%05d' % i, 'Role': 'web'}}
            for i in range(count)]


def fleet_series(count, minutes_ago, now):
    """``count`` series-minutes: ``count // 2`` hosts at two minutes (``minutes_ago`` and one before), each entry
    with its own time string, the way a collector writes them."""
    hosts = max(count // 2, 1)   # host-00000..: the same series as the other rows, within the 50,000 Azure allows
    stamps = [time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now - 60 * (minutes_ago + back))) for back in (0, 1)]
    return [{'metric': 'Load', 'value': i % 97, 'time': stamp, 'dimensions': {'Host': 'host-%05d' % i, 'Role': 'web'}}
            for stamp in stamps for i in range(hosts)]


def ledger_bytes(path):
    return sum(os.path.getsize(path + tail) for tail in ('', '-wal', '-shm') if os.path.exists(path + tail))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--ansible-playbook', default='ansible-playbook')
    parser.add_argument('--collections-path', required=True)
    parser.add_argument('--large', type=int, default=10000)
    parser.add_argument('--small', type=int, default=10)
    parser.add_argument('--uri-items', type=int, default=30)
    parser.add_argument('--repeat', type=int, default=3, help='runs of each emit playbook; the median is shown')
    parser.add_argument('--fleet', type=int, default=100000,
                        help='series-minutes of the fleet-scale rows (half as many series at two minutes); 0: skip them')
    parser.add_argument('--fleet-runs', type=int, default=3, help='task runs of new minutes into one ledger')
    parser.add_argument('--ledger-runs', type=int, default=10,
                        help='runs an hour apart of the fleet size into one ledger for the ledger size row')
    parser.add_argument('--inline-fleet', action='store_true',
                        help='also run the fleet size given inline (slow, and the controller needs over 1 GB)')
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix='azmon-bench-')
    with start_emulator(tmpdir=os.path.join(work, 'emulator')) as emu:
        seed = json.load(open(emu.info['seed'], encoding='utf-8'))
        publisher = seed['principals']['publisher']
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections_path, ANSIBLE_PLAYBOOK=args.ansible_playbook,
                   ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
        info_file = os.path.join(work, 'info.json')
        with open(info_file, 'w', encoding='utf-8') as out:
            json.dump(emu.info, out)
        resource_id = '/subscriptions/%s/resourceGroups/rg-demo/providers/Microsoft.Compute/virtualMachines/vm1' % (
            emu.info['subscription_id'])
        rows = []
        for name, playbook, count in (('emit, %d series (metrics_file)' % args.small, 'emit.yml', args.small),
                                      ('emit, %d series (metrics_file)' % args.large, 'emit.yml', args.large),
                                      ('emit, %d series (inline list)' % args.large, 'emit_inline.yml', args.large),
                                      ('emit, %d series (metrics_src)' % args.large, 'emit_src.yml', args.large),
                                      ('uri loop, %d items' % args.uri_items, 'uri_loop.yml', args.uri_items),
                                      ('workspace, %d series' % args.small, 'emit_workspace.yml', args.small),
                                      ('workspace, %d series' % args.large, 'emit_workspace.yml', args.large)):
            series_file = os.path.join(work, 'series-%d.json' % count)
            with open(series_file, 'w', encoding='utf-8') as out:
                json.dump(series(count), out)
            extra = os.path.join(work, 'vars-%s-%d.json' % (playbook, count))
            common = {'info_file': info_file, 'series_file': series_file, 'resource_id': resource_id,
                      'client_id': publisher['appId'], 'client_secret': publisher['secrets'][0]['secretText']}
            runs = []
            for attempt in range(1 if playbook == 'uri_loop.yml' else args.repeat):
                ledger = os.path.join(work, 'ledger-%s-%d-%d.sqlite3' % (playbook, count, attempt))
                with open(extra, 'w', encoding='utf-8') as out:
                    json.dump(dict(common, ledger_path=ledger,
                                   emit_time=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())), out)
                service = 'dce' if playbook == 'emit_workspace.yml' else 'ingest'
                before = len(emu.admin('GET', '/_admin/requests?service=' + service)['value'])
                wall, rss = run_playbook(playbook, extra, env)
                posts = len(emu.admin('GET', '/_admin/requests?service=' + service)['value']) - before
                runs.append((wall, rss, posts))
            wall, rss, posts = sorted(runs)[len(runs) // 2]
            rows.append((name, count, wall, rss, posts))
        fleet = None
        if args.fleet:
            fleet = fleet_runs(args, emu, env, work, info_file, common)
        blob = None
        if os.environ.get('AZURITE_INFO_FILE'):
            series_file = os.path.join(work, 'series-%d.json' % args.large)
            blob = blob_runs(args, emu, env, work, info_file, dict(common, series_file=series_file))

    print('%-36s %8s %9s %10s %9s %12s' % ('run', 'series', 'wall s', 'peak MiB', 'requests', 'ms/series'))
    for name, count, wall, rss, posts in rows:
        print('%-36s %8d %9.2f %10.1f %9d %12.3f' % (name, count, wall, rss, posts, wall * 1000.0 / count))
    small, large, inline, src, uri, ws_small, ws_large = rows[:7]
    targets = Targets()
    if blob is not None:
        first, rerun = blob
        for name, (wall, rss, posts, calls) in (('emit, %d series, blob ledger' % args.large, first),
                                                ('  rerun, blob ledger', rerun)):
            print('%-36s %8d %9.2f %10.1f %9d %12.3f   storage calls %d'
                  % (name, args.large, wall, rss, posts, wall * 1000.0 / args.large, calls))
    ratio = large[2] / small[2]
    uri_per_item = uri[2] / uri[1]
    per_series = large[2] / large[1]
    print()
    print('uri loop, %d items extrapolated: %.0f s' % (args.large, uri_per_item * args.large))
    targets.check('%d series cost %.2fx the %d-series task (target < 1.5x)' % (args.large, ratio, args.small),
                  ratio < 1.5)
    targets.check('per series %.1fx cheaper than the uri loop (target >= 100x)' % (uri_per_item / per_series),
                  uri_per_item / per_series >= 100)
    ratio = inline[2] / large[2]
    targets.check('inline metrics at %d series: %.2fx the metrics_file task, playbook peak %.1f MiB (target <= 1.5x);'
                  ' the extra is ansible-core templating every entry' % (args.large, ratio, inline[3]), ratio <= 1.5)
    ratio = src[2] / large[2]
    targets.check('metrics_src (entries in a file on the controller) at %d series: %.2fx the metrics_file task,'
                  ' playbook peak %.1f MiB (target <= 1.5x)' % (args.large, ratio, src[3]), ratio <= 1.5)
    ws_ratio = ws_large[2] / ws_small[2]
    ws_per_item = uri_per_item / (ws_large[2] / ws_large[1])
    targets.check('workspace: %d series (4 Prometheus series each) cost %.2fx the %d-series task (target < 1.5x) and'
                  ' per series %.1fx less than the uri loop (target >= 100x)'
                  % (args.large, ws_ratio, args.small, ws_per_item), ws_ratio < 1.5 and ws_per_item >= 100)
    if blob is None:
        print('blob ledger: not measured (AZURITE_INFO_FILE is not set; make bench starts Azurite)')
    else:
        cost = first[0] / large[2]
        targets.check('the blob ledger first run costs %.2fx the SQLite-ledger run (target <= 1.3x)' % cost,
                      cost <= 1.3)
        targets.check('the blob ledger rerun sent %d ingestion requests and made %d storage calls (target 0 and <= 5)'
                      % (rerun[2], rerun[3]), rerun[2] == 0 and rerun[3] <= 5)
    if fleet is not None:
        report_fleet(args, fleet, small, targets)
    targets.summary()
    return 0      # a missed target is a finding, printed above; only a run that breaks fails make bench


class Targets:
    """Prints each target's row with met or MISSED, and at the end which were missed."""

    def __init__(self):
        self.rows = []

    def check(self, text, ok):
        self.rows.append((text, ok))
        print('%s: %s' % (text, 'met' if ok else 'MISSED'))

    def summary(self):
        missed = [text for text, ok in self.rows if not ok]
        print()
        print('targets: %d of %d met%s' % (len(self.rows) - len(missed), len(self.rows), '; MISSED:' if missed else ''))
        for text in missed:
            print('  - ' + text)


def fleet_runs(args, emu, env, work, info_file, common):
    """The fleet-scale runs, interleaved with the raw script: {name: (wall, controller MiB, module MiB, posts)},
    plus the ledger sizes."""
    rss_file = os.path.join(work, 'module-rss')
    python = os.path.join(work, 'python-rss')
    with open(python, 'w', encoding='utf-8') as out:
        out.write('#!/bin/sh\nexec %s %s "$@"\n' % (sys.executable, os.path.join(HERE, 'module_rss.py')))
    os.chmod(python, 0o755)
    env = dict(env, AZMON_BENCH_RSS_FILE=rss_file)
    runs = {}

    def ingest_count():
        return len(emu.admin('GET', '/_admin/requests?service=ingest')['value'])

    def emit(name, series_file, ledger, playbook='emit.yml', options=()):
        extra = os.path.join(work, 'vars-fleet-%s.json' % name.replace(' ', '-'))
        with open(extra, 'w', encoding='utf-8') as out:
            json.dump(dict(common, series_file=series_file, ledger_path=ledger, ansible_python_interpreter=python,
                           emit_time=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())), out)
        open(rss_file, 'w', encoding='utf-8').close()
        before = ingest_count()
        wall, rss = run_playbook(playbook, extra, env, options)
        with open(rss_file, encoding='utf-8') as handle:
            module = max([line.split() for line in handle if line.strip()] or [['0', '0']], key=lambda f: int(f[0]))
        runs[name] = (wall, rss, int(module[0]) / 1024.0, ingest_count() - before, float(module[1]))

    def raw(name, series_file):
        before = ingest_count()
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, 'raw_emit.py'), info_file, common['client_id'],
                                 common['client_secret'], common['resource_id'], series_file, 'Bench'],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        out = proc.stdout.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit('raw_emit.py failed:\n%s' % out.decode(errors='replace')[-3000:])
        runs[name] = (time.monotonic() - started, usage.ru_maxrss / 1024.0, usage.ru_maxrss / 1024.0,
                      ingest_count() - before, usage.ru_utime + usage.ru_stime)

    files = []
    started = time.time()    # one clock for every file: their minutes never overlap
    for number in range(max(args.fleet_runs, 1) + 1):
        path = os.path.join(work, 'fleet-%d.json' % number)
        with open(path, 'w', encoding='utf-8') as out:
            json.dump(fleet_series(args.fleet, 2 * number, started), out)
        files.append(path)
    ledger = os.path.join(work, 'ledger-fleet.sqlite3')
    # the raw script sends the minutes of the last file, which no other run sends
    raw('raw script', files[-1])
    emit('metrics_file', files[0], ledger)
    emit('metrics_src', files[0], os.path.join(work, 'ledger-fleet-src.sqlite3'), playbook='emit_src.yml')
    raw('raw script again', files[-1])
    sizes = [ledger_bytes(ledger)]
    emit('rerun', files[0], ledger)
    emit('check mode', files[0], os.path.join(work, 'ledger-fleet-check.sqlite3'), options=('--check',))
    for number in range(1, args.fleet_runs):
        emit('run %d' % (number + 1), files[number], ledger)
        sizes.append(ledger_bytes(ledger))
    if args.inline_fleet:
        emit('inline', files[-1], os.path.join(work, 'ledger-fleet-inline.sqlite3'), playbook='emit_inline.yml')
    return runs, sizes, ledger_runs(args.collections_path, args.fleet, args.ledger_runs, 3600)


def report_fleet(args, fleet, small, targets):
    """Prints the fleet-scale rows and checks their targets (``small``: the 10-series row, Ansible's fixed cost)."""
    runs, sizes, hourly = fleet
    print()
    print('fleet scale: %d series-minutes (%d series x 2 minutes, one time string per entry)'
          % (args.fleet, args.fleet // 2))
    print('%-36s %9s %14s %12s %12s %9s'
          % ('run', 'wall s', 'playbook MiB', 'module MiB', 'module CPU s', 'requests'))
    for name, (wall, rss, module, posts, cpu) in runs.items():
        print('%-36s %9.2f %14.1f %12.1f %12.2f %9d' % (name, wall, rss, module, cpu, posts))
    first = runs['metrics_file']
    floor = (runs['raw script'][0] + runs['raw script again'][0]) / 2
    row = targets.check
    print()
    ratio = first[0] / floor
    row('metrics_file vs the raw script: %.2f s vs %.2f s = %.2fx; CPU of the module %.2f s vs the script %.2f s'
        ' (target <= 2x)' % (first[0], floor, ratio, first[4], min(runs['raw script'][4], runs['raw script again'][4])),
        ratio <= 2)
    row('peak memory of the module process: %.1f MiB (target < 150 MiB)' % first[2], first[2] < 150)
    src = runs['metrics_src']
    row('metrics_src at %d series-minutes: %.2fx the metrics_file task, playbook peak %.1f MiB (target <= 1.5x and'
        ' < 300 MiB)' % (args.fleet, src[0] / first[0], src[1]), src[0] <= 1.5 * first[0] and src[1] < 300)
    if 'inline' in runs:
        inline = runs['inline']
        row('inline metrics at %d series-minutes: %.2fx the metrics_file task, playbook peak %.1f MiB (target <= 1.5x'
            ' and < 300 MiB)' % (args.fleet, inline[0] / first[0], inline[1]),
            inline[0] <= 1.5 * first[0] and inline[1] < 300)
    else:
        print('inline metrics at %d series-minutes: not run (--inline-fleet)' % args.fleet)
    full = hourly[min(4, len(hourly)) - 1]     # it holds two hours of runs, and has reused its free pages by the 4th
    row('ledger after %d series-minutes: %.1f MB (%.0f bytes each); after %d such runs an hour apart: %.1f MB, after'
        ' the fourth %.1f MB (target: bounded, the last at most 10%% above the fourth)'
        % (args.fleet, sizes[0] / 1e6, float(sizes[0]) / args.fleet, len(hourly), hourly[-1] / 1e6, full / 1e6),
        hourly[-1] <= 1.1 * full)
    rerun = runs['rerun']
    row('rerun with everything delivered: %.2f s = %.2fx the first run, %d requests (target <= 0.2x, none)'
        % (rerun[0], rerun[0] / first[0], rerun[3]), rerun[0] <= 0.2 * first[0] and rerun[3] == 0)
    fixed = small[2]
    print('  (a task of %d series costs %.2f s, the part of any task that does not grow with its size; above it the'
          ' rerun costs %.2f s, %.2fx what the first run costs above it)'
          % (small[1], fixed, rerun[0] - fixed, (rerun[0] - fixed) / max(first[0] - fixed, 0.01)))
    check = runs['check mode']
    row('check mode: %.2f s = %.2fx the real run, %d requests (target <= 1x, none)'
        % (check[0], check[0] / first[0], check[3]), check[0] <= first[0] and check[3] == 0)


def blob_runs(args, emu, env, work, info_file, common):
    """Median first run and worst rerun of the large task with the blob ledger: (wall, rss, posts, storage calls)."""
    with open(os.environ['AZURITE_INFO_FILE'], encoding='utf-8') as handle:
        azurite = json.load(handle)
    bundle = os.path.join(work, 'ca-bundle.pem')
    with open(bundle, 'w', encoding='utf-8') as out:
        for pem in (azurite['ca'], emu.info['ca_bundle']):
            with open(pem, encoding='utf-8') as handle:
                out.write(handle.read() + '\n')
    firsts, reruns = [], []
    for attempt in range(args.repeat):
        extra = os.path.join(work, 'vars-blob-%d.json' % attempt)
        result_file = os.path.join(work, 'result-blob-%d.json' % attempt)
        with open(extra, 'w', encoding='utf-8') as out:
            json.dump(dict(common, ca_bundle=bundle, result_file=result_file,
                           ledger_url='%s/bench/run%d-%d' % (azurite['url'], os.getpid(), attempt),
                           emit_time=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())), out)
        for runs in (firsts, reruns):
            before = len(emu.admin('GET', '/_admin/requests?service=ingest')['value'])
            wall, rss = run_playbook('emit_blob.yml', extra, env)
            posts = len(emu.admin('GET', '/_admin/requests?service=ingest')['value']) - before
            with open(result_file, encoding='utf-8') as handle:
                calls = json.load(handle)['ledger_requests']
            runs.append((wall, rss, posts, calls))
    return sorted(firsts)[len(firsts) // 2], max(reruns, key=lambda run: (run[2], run[3]))


if __name__ == '__main__':
    sys.exit(main())
