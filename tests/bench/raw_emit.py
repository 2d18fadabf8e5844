# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The floor for ``make bench``: the least a correct client does to send a metrics file.

One token (client credentials), the entries grouped into ingestion documents
(one per time, namespace, metric and dimension names), packed as ndjson into
bodies of at most 1 MB, gzipped and POSTed.  No validation, no ledger, no retries:
whatever custom_metric_emit does beyond this is its overhead.

    python raw_emit.py INFO_JSON CLIENT_ID SECRET RESOURCE_ID SERIES_JSON NAMESPACE

Prints the number of requests sent; exits 1 when a request is refused.
"""

from __future__ import annotations

import gzip
import json
import sys

import requests

MAX_BYTES = 1000000


def documents(entries, namespace):
    """ndjson lines, one per document, each split so that no line exceeds MAX_BYTES."""
    docs = {}
    for entry in entries:
        dims = entry.get('dimensions') or {}
        names = tuple(sorted(dims))
        key = (entry['time'], entry['metric'], names)
        value = entry['value']
        docs.setdefault(key, []).append('{"dimValues":%s,"min":%s,"max":%s,"sum":%s,"count":1}' % (
            json.dumps([str(dims[n]) for n in names]), value, value, value))
    for (when, metric, names), series in docs.items():
        head = '{"time":%s,"data":{"baseData":{"metric":%s,"namespace":%s,"dimNames":%s,"series":[' % (
            json.dumps(when), json.dumps(metric), json.dumps(namespace), json.dumps(list(names)))
        part, size = [], len(head) + 4
        for text in series:
            if part and size + len(text) + 1 > MAX_BYTES:
                yield head + ','.join(part) + ']}}}'
                part, size = [], len(head) + 4
            part.append(text)
            size += len(text) + 1
        if part:
            yield head + ','.join(part) + ']}}}'


def main(info_file, client_id, secret, resource_id, series_file, namespace):
    with open(info_file, encoding='utf-8') as handle:
        info = json.load(handle)
    with open(series_file, encoding='utf-8') as handle:
        entries = json.load(handle)
    session = requests.Session()
    session.trust_env = False      # no proxy or CA bundle of the calling shell
    session.verify = info['ca_bundle']
    token = session.post('%s/%s/oauth2/v2.0/token' % (info['login'], info['tenant_id']),
                         data={'grant_type': 'client_credentials', 'client_id': client_id, 'client_secret': secret,
                               'scope': 'https://monitoring.azure.com//.default'}, timeout=60)
    token.raise_for_status()
    headers = {'Authorization': 'Bearer ' + token.json()['access_token'], 'Content-Encoding': 'gzip',
               'Content-Type': 'application/x-ndjson'}
    url = info['ingest'].replace('{region}', 'eastus') + resource_id + '/metrics'
    posts = 0
    body, size = [], 0
    lines = list(documents(entries, namespace))
    lines.append(None)
    for line in lines:
        if body and (line is None or size + len(line) + 1 > MAX_BYTES):
            response = session.post(url, data=gzip.compress('\n'.join(body).encode('utf-8')), headers=headers,
                                    timeout=60)
            posts += 1
            if response.status_code != 200:
                print('request %d: %d %s' % (posts, response.status_code, response.text[:500]), file=sys.stderr)
                return 1
            body, size = [], 0
        if line is not None:
            body.append(line)
            size += len(line) + 1
    print(posts)
    return 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:7]))
