# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probes runme.sh needs between playbooks.

    helper.py count-ingest CONFIG PATH_PART          print how many ingestion requests the emulator received
                                                     whose path holds PATH_PART
    helper.py wait-ingest CONFIG PATH_PART N SECONDS wait until there are N of them (the last may still be
                                                     waiting for its answer)
    helper.py faults CONFIG JSON                     replace the emulator's faults with the JSON list
    helper.py wait-claim CONFIG LEDGER SETTLED SECONDS  wait until the blob ledger LEDGER (a path below the
                                                     Azurite account) holds an open claim and at least SETTLED
                                                     settled keys: a request is about to be sent or in flight
    helper.py kill-tree PID                          kill -9 PID and every process below it (the module too,
                                                     although Ansible's worker runs it in a session of its own)
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import ssl
import sys
import time
import urllib.error
import urllib.request

import yaml


def _admin(config, path, body=None):
    with open(config, encoding='utf-8') as handle:
        info = yaml.safe_load(handle)['emulator_info']
    context = ssl.create_default_context(cafile=info['ca_bundle'])
    data = json.dumps(body).encode('utf-8') if body is not None else None
    request = urllib.request.Request(info['admin'] + path, data=data, headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, context=context) as resp:
        return json.load(resp)


def count_ingest(config, part):
    return sum(1 for r in _admin(config, '/_admin/requests?service=ingest')['value'] if part in r['path'])


def wait_ingest(config, part, count, seconds):
    deadline = time.time() + float(seconds)
    while time.time() < deadline:
        if count_ingest(config, part) >= int(count):
            return 0
        time.sleep(0.1)
    print('not %s ingestion requests for %s after %ss' % (count, part, seconds), file=sys.stderr)
    return 1


def _ledger_state(config, ledger):
    """(open claims, settled keys) of a blob ledger, read straight from Azurite with a token for the publisher."""
    with open(config, encoding='utf-8') as handle:
        azurite = yaml.safe_load(handle)['azurite_info']
    token = _admin(config, '/_admin/tokens/access', {'principal': 'publisher', 'audience': 'https://storage.azure.com'})
    token = token.get('token') or token.get('access_token')
    context = ssl.create_default_context(cafile=azurite['ca_bundle'])
    claims = settled = 0
    for shard in range(4):
        url = '%s/%s/azmon-ledger/v1/shard-%d.json.gz' % (azurite['url'], ledger, shard)
        request = urllib.request.Request(url, headers={'Authorization': 'Bearer ' + token, 'x-ms-version': '2025-11-05'})
        try:
            with urllib.request.urlopen(request, context=context) as resp:
                doc = json.loads(gzip.decompress(resp.read()))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                continue
            raise
        claims += len(doc['claims'])
        settled += len(doc['settled'])
    return claims, settled


def wait_claim(config, ledger, settled, seconds):
    deadline = time.time() + float(seconds)
    while time.time() < deadline:
        claims, done = _ledger_state(config, ledger)
        if claims and done >= int(settled):
            return 0
        time.sleep(0.1)
    print('no open claim in %s after %ss' % (ledger, seconds), file=sys.stderr)
    return 1


def descendants(pid):
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry, 'rb') as handle:
                ppid = int(handle.read().rsplit(b')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def kill_tree(pid):
    for member in descendants(int(pid)):
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return 0


if __name__ == '__main__':
    if sys.argv[1:2] == ['count-ingest']:
        print(count_ingest(*sys.argv[2:4]))
        sys.exit(0)
    if sys.argv[1:2] == ['wait-ingest']:
        sys.exit(wait_ingest(*sys.argv[2:6]))
    if sys.argv[1:2] == ['wait-claim']:
        sys.exit(wait_claim(*sys.argv[2:6]))
    if sys.argv[1:2] == ['faults']:
        _admin(sys.argv[2], '/_admin/faults', {'clear': True, 'faults': json.loads(sys.argv[3])})
        sys.exit(0)
    if sys.argv[1:2] == ['kill-tree']:
        sys.exit(kill_tree(sys.argv[2]))
    sys.exit(__doc__)
