#!/usr/bin/env python
"""The demo behind `make demo`: the whole job against the local emulator, and what Azure Monitor then holds.

Runs with an emulator already started by tests/tools/emulator (which sets EMULATOR_INFO_FILE, EMULATOR_SEED_FILE and
EMULATOR_VARS_FILE):

  1. runs `ansible-playbook azmon.metrics.site` with tests/demo/inventory.yml: registers a publisher, grants it
     Monitoring Metrics Publisher, emits metrics for two resources and forwards two WAP add-ons;
  2. reads the metrics back with azmon.metrics.custom_metric_info (the metrics read API,
     GET {arm}{resourceId}/providers/Microsoft.Insights/metrics), signed in as the emulator's reader principal;
  3. runs the playbook again, which must report changed=0;
  4. prints a summary, and exits non-zero if anything above did not hold.

Standard library only. The full Ansible output of each run is in the work directory (--workdir, default build/demo);
DEMO_VERBOSE=1 prints it as it runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INVENTORY = os.path.join(ROOT, 'tests', 'demo', 'inventory.yml')
RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)')


class DemoError(Exception):
    """Something the demo promised did not happen."""


# -- talking to the emulator ---------------------------------------------------------------------------------------
class Emulator:
    """The running emulator: its info file, its seed, HTTPS with its CA."""

    def __init__(self, info_file, seed_file):
        with open(info_file, encoding='utf-8') as handle:
            self.info = json.load(handle)
        with open(seed_file, encoding='utf-8') as handle:
            self.seed = json.load(handle)
        self.tls = ssl.create_default_context(cafile=self.info['ca_bundle'])

    def call(self, method, url, body=None, form=None, token=None):
        headers = {'Accept': 'application/json'}
        data = None
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        elif form is not None:
            data = urllib.parse.urlencode(form).encode('ascii')
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        if token:
            headers['Authorization'] = 'Bearer ' + token
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=30) as response:
                return json.loads(response.read().decode('utf-8') or 'null')
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode('utf-8', 'replace')[:300]
            raise DemoError('%s %s answered %s: %s' % (method, url.split('?')[0], exc.code, detail)) from None

    def wap_token(self):
        return self.call('POST', self.info['admin'] + '/_admin/tokens/wap',
                         body={'upn': 'CONTOSO\\wapadmin', 'lifetime': 3600})['token']


# -- running the playbook ------------------------------------------------------------------------------------------
def run_site(args, run, extra_vars, log_path):
    command = [os.path.join(args.ansible_bin, 'ansible-playbook'), 'azmon.metrics.site', '-i', INVENTORY,
               '-e', '@' + os.environ['EMULATOR_VARS_FILE'], '-e', '@' + extra_vars, '-e', 'demo_run=%d' % run]
    env = dict(os.environ, ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0',
               ANSIBLE_DEPRECATION_WARNINGS='0', ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    started = time.monotonic()
    verbose = os.environ.get('DEMO_VERBOSE') == '1'
    with open(log_path, 'w', encoding='utf-8') as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
        output = []
        for line in process.stdout:
            log.write(line)
            output.append(line)
            if verbose:
                sys.stdout.write(line)
        status = process.wait()
    elapsed = time.monotonic() - started
    recap = [m.groups() for m in (RECAP.match(line) for line in output) if m]
    if status != 0 or not recap:
        sys.stdout.write(''.join(output[-40:]))
        raise DemoError('ansible-playbook azmon.metrics.site (run %d) failed with status %d; full output in %s'
                        % (run, status, log_path))
    host, ok, changed, _unreachable, failed, skipped = recap[-1]
    changed_tasks = [line.strip() for line in output if line.startswith('changed:')]
    return {'elapsed': elapsed, 'ok': int(ok), 'changed': int(changed), 'failed': int(failed),
            'skipped': int(skipped), 'host': host, 'changed_lines': changed_tasks, 'command': command}


def read_back(args, emulator, queries, start, end, log_path):
    """Runs azmon.metrics.custom_metric_info once per query as the reader principal.

    ``queries`` are ``(resource_id, namespace, metric, dimension names)``; returns, per query, a mapping of the
    sorted dimension items to ``(total, count, minimum, maximum)`` added up over the time range.
    """
    reader = emulator.seed['principals']['reader']
    info = emulator.info
    out_file = os.path.join(args.workdir, 'read-back.json')
    play = [{
        'name': 'Read the metrics back as the reader principal', 'hosts': 'localhost', 'gather_facts': False,
        'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'},
        'module_defaults': {'group/azmon.metrics.azure': {
            'tenant': info['tenant_id'], 'client_id': reader['appId'], 'secret': reader['secrets'][0]['secretText'],
            'authority_host': info['login'], 'arm_endpoint': info['arm'], 'ca_path': info['ca_bundle'],
            'disable_instance_discovery': True}},
        'tasks': [
            {'name': 'Read one metric, split by its dimensions', 'azmon.metrics.custom_metric_info': {
                'resource_id': '{{ item.resource_id }}', 'namespace': '{{ item.namespace }}',
                'metrics': ['{{ item.metric }}'], 'start_time': start, 'end_time': end,
                'aggregations': ['Total', 'Count', 'Minimum', 'Maximum'],
                'dimensions': '{{ item.dimensions | default(omit, true) }}'},
             'loop': [{'resource_id': q[0], 'namespace': q[1], 'metric': q[2], 'dimensions': {d: '*' for d in q[3]}}
                      for q in queries],
             'register': 'read', 'no_log': False},
            {'name': 'Keep the rows', 'ansible.builtin.copy': {
                'content': "{{ read.results | map(attribute='rows') | list | to_json }}", 'dest': out_file,
                'mode': '0600'}},
        ],
    }]
    play_file = os.path.join(args.workdir, 'read-back.yml')
    fd = os.open(play_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        json.dump(play, handle, indent=1)   # JSON is YAML
    command = [os.path.join(args.ansible_bin, 'ansible-playbook'), play_file, '-i', 'localhost,', '-c', 'local']
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    with open(log_path, 'w', encoding='utf-8') as log:
        status = subprocess.call(command, cwd=args.workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    if status != 0:
        raise DemoError('reading back with azmon.metrics.custom_metric_info failed with status %d; output in %s'
                        % (status, log_path))
    with open(out_file, encoding='utf-8') as handle:
        answers = json.load(handle)
    found = []
    for rows in answers:
        totals = {}
        for row in rows:
            key = tuple(sorted(row['dimensions'].items()))
            acc = totals.get(key)
            point = (row.get('total', 0.0), row.get('count', 0), row.get('minimum'), row.get('maximum'))
            totals[key] = point if acc is None else (acc[0] + point[0], acc[1] + point[1], min(acc[2], point[2]),
                                                     max(acc[3], point[3]))
        found.append(totals)
    return found


# -- the summary ---------------------------------------------------------------------------------------------------
def table(headers, rows):
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]
    line = '  '.join('%-*s' % (w, h) for w, h in zip(widths, headers))
    out = ['  ' + line.rstrip(), '  ' + '  '.join('-' * w for w in widths)]
    out += ['  ' + '  '.join('%-*s' % (w, c) for w, c in zip(widths, row)).rstrip() for row in rows]
    return '\n'.join(out)


def shown_path(path):
    """A path relative to the repository when it is inside it."""
    relative = os.path.relpath(path, ROOT)
    return path if relative.startswith('..') else relative


def short_resource(resource_id):
    return resource_id.rstrip('/').split('/')[-1]


def dims_text(dims):
    return ','.join('%s=%s' % (k, v) for k, v in sorted(dims.items())) or '-'


def number(value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, float):
        return '%.6g' % value
    if isinstance(value, int) and abs(value) >= 10 ** 6:
        return '{:,}'.format(value).replace(',', '_')
    return str(value)


def entry_aggregate(entry):
    """(sum, count) of a custom_metric_emit entry, as the module computes it."""
    if entry.get('value') is not None:
        return float(entry['value']), 1
    if entry.get('values') is not None:
        return float(sum(entry['values'])), len(entry['values'])
    return float(entry['sum']), int(entry['count'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--ansible-bin', default=os.path.dirname(shutil.which('ansible-playbook') or '/usr/bin/x'),
                        help='directory holding ansible-playbook')
    parser.add_argument('--workdir', default=os.path.join(ROOT, 'build', 'demo'))
    args = parser.parse_args()
    for name in ('EMULATOR_INFO_FILE', 'EMULATOR_SEED_FILE', 'EMULATOR_VARS_FILE'):
        if not os.environ.get(name):
            sys.exit('demo.py: %s is not set; run it through `make demo` (tests/tools/emulator run -- ...)' % name)
    started = time.monotonic()
    emulator = Emulator(os.environ['EMULATOR_INFO_FILE'], os.environ['EMULATOR_SEED_FILE'])

    # A fresh emulator knows nothing of earlier demos: start from an empty ledger and no secret file.
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir, mode=0o700)
    now = datetime.datetime.now(datetime.timezone.utc)
    window_start = (now - datetime.timedelta(minutes=5)).replace(second=0, microsecond=0)
    # The emulator renders its WAP sample values relative to the time of each request, so a value newer than the
    # first run would appear later. The window ends before the current 5-minute grain, so both runs read the same
    # WAP values, as they would from a real WAP between two of its samples.
    wap_end = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0) - datetime.timedelta(seconds=1)
    run_vars = os.path.join(args.workdir, 'run.yml')
    fd = os.open(run_vars, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        json.dump({'demo_dir': args.workdir, 'demo_wap_token': emulator.wap_token(),
                   'demo_wap_end_time': wap_end.strftime('%Y-%m-%dT%H:%M:%SZ')}, handle)

    print('azmon.metrics demo: playbooks/site.yml against the local emulator (%s)' % emulator.info['arm'])
    first = run_site(args, 1, run_vars, os.path.join(args.workdir, 'site-run1.log'))
    print('  run 1: ansible-playbook azmon.metrics.site  %.1f s  ok=%d changed=%d failed=%d'
          % (first['elapsed'], first['ok'], first['changed'], first['failed']))
    with open(os.path.join(args.workdir, 'report-1.json'), encoding='utf-8') as handle:
        report = json.load(handle)

    # Read everything back with custom_metric_info, as the reader principal (Monitoring Reader).
    span_end = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=2)).replace(microsecond=0)
    start_text, end_text = window_start.strftime('%Y-%m-%dT%H:%M:%SZ'), span_end.strftime('%Y-%m-%dT%H:%M:%SZ')
    wanted = []   # (what to read, what was sent, how to print it)
    for block in report['emitted']:
        for series in block['series']:
            metric, dims = series['metric'], series['dimensions']
            total, count = entry_aggregate(block['entries'][series['index']])
            wanted.append(((block['resource_id'], series['namespace'], metric, sorted(dims)), dims, total, count,
                           ('emitted', block, series)))
    for block in report['forwarded']:
        for entry in block['entries']:
            wanted.append(((block['resource_id'], entry['namespace'], entry['metric'], sorted(entry['dimensions'])),
                           entry['dimensions'], entry['sum'], entry['count'], ('forwarded', block, entry)))
    queries = sorted({(q[0], q[1], q[2], tuple(q[3])) for q, _d, _t, _c, _w in wanted})
    answers = dict(zip(queries, read_back(args, emulator, queries, start_text, end_text,
                                          os.path.join(args.workdir, 'read-back.log'))))
    problems = []
    emitted_rows, forwarded_rows = [], []
    for query, dims, total, count, (kind, block, item) in wanted:
        got = answers[(query[0], query[1], query[2], tuple(query[3]))].get(tuple(sorted(dims.items())))
        shown = '%s / %d' % (number(got[0]), got[1]) if got else 'nothing'
        if kind == 'emitted':
            emitted_rows.append([short_resource(block['resource_id']), '%s/%s' % (item['namespace'], item['metric']),
                                 dims_text(dims), '%s / %d' % (number(total), count), shown])
        else:
            forwarded_rows.append(['%s/%s' % (block['addon_id'], item['metric']), item['dedupe_key'].rsplit('/', 1)[-1],
                                   short_resource(block['resource_id']), '%s / %d' % (number(total), count), shown])
        if not got or abs(got[0] - total) > 1e-9 or got[1] != count:
            problems.append('custom_metric_info for %s %s/%s: expected sum %s count %d, got %s'
                            % (short_resource(block['resource_id']), query[1], query[2], total, count, got))

    second = run_site(args, 2, run_vars, os.path.join(args.workdir, 'site-run2.log'))
    print('  run 2: ansible-playbook azmon.metrics.site  %.1f s  ok=%d changed=%d failed=%d'
          % (second['elapsed'], second['ok'], second['changed'], second['failed']))
    with open(os.path.join(args.workdir, 'report-2.json'), encoding='utf-8') as handle:
        rerun = json.load(handle)
    if second['changed'] != 0:
        problems.append('the second run reported changed=%d (expected 0): %s'
                        % (second['changed'], '; '.join(second['changed_lines'])))
    resent = sum(b['sent'] for b in rerun['emitted'] + rerun['forwarded'])
    if resent:
        problems.append('the second run sent %d series again' % resent)

    # -- print ---------------------------------------------------------------------------------------------------
    publisher = report['publisher']
    secret_file = os.path.join(args.workdir, 'publisher.secret')
    mode = '%04o' % (os.stat(secret_file).st_mode & 0o777) if os.path.exists(secret_file) else 'missing'
    print()
    print('Created in Microsoft Entra ID (Graph) and Azure (ARM)')
    print(table(['what', 'value'], [
        ['application', '%s  appId %s' % (publisher['display_name'], publisher['app_id'])],
        ['service principal', publisher['principal_id']],
        ['federated credential', ', '.join(publisher['federated_credentials']) or '-'],
        ['client secret', '%s, text only in %s (mode %s), never printed'
         % ((publisher['client_secret'] or {}).get('display_name', '-'), shown_path(secret_file), mode)],
    ] + [['Monitoring Metrics Publisher', '%s  (%s)' % (a['scope'].split('/resourceGroups/')[-1] if '/resourceGroups/'
                                                        in a['scope'] else a['scope'],
                                                        'created' if a['changed'] else 'already there')]
         for a in report['assignments']]))
    print()
    print('Emitted, and what custom_metric_info reads back (sum / count in the last minutes, as the reader principal)')
    print(table(['resource', 'namespace/metric', 'dimensions', 'sent', 'read back'], emitted_rows))
    print()
    print('Forwarded from Windows Azure Pack (newest value of each metric, re-stamped to now, once)')
    print(table(['add-on/metric', 'WAP time', 'to', 'sent', 'read back'], forwarded_rows))
    if report['not_forwarded']:
        print()
        print('Not forwarded (reported, not dropped)')
        print(table(['add-on/metric', 'WAP time', 'reason'],
                    [['%s/%s' % (s['addon_id'], s['metric']), s['time'] or '-', s['reason']]
                     for s in report['not_forwarded']]))
    print()
    skipped = sum(b['skipped'] for b in rerun['emitted'] + rerun['forwarded'])
    print('Second run: changed=%d, %d series sent again, %d recognised as already delivered'
          % (second['changed'], resent, skipped))
    print('Total %.1f s (first run %.1f s, second %.1f s). Logs and reports: %s'
          % (time.monotonic() - started, first['elapsed'], second['elapsed'], shown_path(args.workdir)))
    if problems:
        print()
        for problem in problems:
            print('PROBLEM: ' + problem)
        return 1
    print('OK')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except DemoError as exc:
        sys.exit('demo: %s' % exc)
