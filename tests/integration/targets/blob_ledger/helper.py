# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probes runme.sh needs between playbooks.

    helper.py count-ingest CONFIG PATH_PART          print how many ingestion requests the emulator received
                                                     whose path holds PATH_PART
    helper.py wait-ingest CONFIG PATH_PART N SECONDS wait until there are N of them (the last may still be
                                                     waiting for its answer)
    helper.py faults CONFIG JSON                     replace the emulator's faults with the JSON list
    helper.py settings CONFIG JSON                   change the emulator's settings (e.g. readDelaySeconds)
    helper.py wait-claim CONFIG LEDGER SETTLED SECONDS  wait until the blob ledger LEDGER (a path below the
                                                     Azurite account) holds an open claim and at least SETTLED
                                                     settled keys: a request is about to be sent or in flight
    helper.py kill-tree PID                          kill -9 PID and every process below it (the module too,
                                                     although Ansible's worker runs it in a session of its own)
    helper.py age-shards CONFIG LEDGER               rewrite the shards of LEDGER as an earlier version wrote
                                                     them (settled rows [state, time], no minute), plus a
                                                     series-minute three hours old and a dedupe_key row as old
    helper.py settled CONFIG LEDGER                  print the settled rows of LEDGER (JSON, all shards)
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
import zlib

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


def _shards(config, ledger):
    """``(url, headers, ssl context, {shard: doc})`` of a blob ledger, read straight from Azurite with a token for
    the publisher."""
    with open(config, encoding='utf-8') as handle:
        azurite = yaml.safe_load(handle)['azurite_info']
    token = _admin(config, '/_admin/tokens/access', {'principal': 'publisher', 'audience': 'https://storage.azure.com'})
    token = token.get('token') or token.get('access_token')
    context = ssl.create_default_context(cafile=azurite['ca_bundle'])
    headers = {'Authorization': 'Bearer ' + token, 'x-ms-version': '2025-11-05'}
    base = '%s/%s/azmon-ledger/v1/shard-%%d.json.gz' % (azurite['url'], ledger)
    docs = {}
    for shard in range(4):
        request = urllib.request.Request(base % shard, headers=headers)
        try:
            with urllib.request.urlopen(request, context=context) as resp:
                docs[shard] = json.loads(gzip.decompress(resp.read()))
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
    return base, headers, context, docs


def _ledger_state(config, ledger):
    """(open claims, settled keys) of a blob ledger."""
    docs = _shards(config, ledger)[3]
    return sum(len(doc['claims']) for doc in docs.values()), sum(len(doc['settled']) for doc in docs.values())


def age_shards(config, ledger):
    """Settled rows without their minute, as earlier versions wrote them, plus two rows three hours old: a
    series-minute (key 'e' * 32, its minute three hours ago) and a key that names no minute ('f' * 32)."""
    base, headers, context, docs = _shards(config, ledger)
    old = int(time.time()) - 3 * 3600
    extra = {'e' * 32: ['d', old, old // 60 * 60], 'f' * 32: ['d', old]}
    for key, row in extra.items():
        # the shard a key belongs to: CRC-32 of the key, modulo 4
        docs.setdefault(zlib.crc32(key.encode('utf-8')) % 4, {'format': 1, 'settled': {}, 'claims': {}})
    for shard, doc in docs.items():
        doc['settled'] = {key: row[:2] for key, row in doc['settled'].items()}
        doc['settled'].update({key: row for key, row in extra.items() if zlib.crc32(key.encode('utf-8')) % 4 == shard})
        body = gzip.compress(json.dumps(doc).encode('utf-8'))
        request = urllib.request.Request(base % shard, data=body, method='PUT',
                                         headers=dict(headers, **{'x-ms-blob-type': 'BlockBlob'}))
        with urllib.request.urlopen(request, context=context):
            pass
    return 0


def settled(config, ledger):
    docs = _shards(config, ledger)[3]
    print(json.dumps({key: row for doc in docs.values() for key, row in doc['settled'].items()}, sort_keys=True))
    return 0


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
    if sys.argv[1:2] == ['settings']:
        _admin(sys.argv[2], '/_admin/settings', json.loads(sys.argv[3]))
        sys.exit(0)
    if sys.argv[1:2] == ['age-shards']:
        sys.exit(age_shards(*sys.argv[2:4]))
    if sys.argv[1:2] == ['settled']:
        sys.exit(settled(*sys.argv[2:4]))
    if sys.argv[1:2] == ['kill-tree']:
        sys.exit(kill_tree(sys.argv[2]))
    sys.exit(__doc__)
