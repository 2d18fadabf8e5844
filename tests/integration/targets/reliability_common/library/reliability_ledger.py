#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper (not shipped): what a delivery ledger holds, read straight from its SQLite file.

Given series as ``custom_metric_emit`` lists them in its result (namespace, metric, dimensions, time,
dedupe_key), returns the state the ledger records for each, so a test can check that the ledger names
exactly the series the result names.
"""

from __future__ import annotations

DOCUMENTATION = r'''
module: reliability_ledger
short_description: Read a custom_metric_emit delivery ledger (test helper)
description: [Counts of states, in-flight rows, file modes, integrity, schema, and the state of given series.]
options:
  path: {description: [The ledger file.], type: path, required: true}
  resource_id: {description: [Resource the series belong to.], type: str}
  series: {description: [Series as listed in the module's result.], type: list, elements: dict, default: []}
author: [azmon.metrics contributors]
'''

import datetime
import os
import sqlite3
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import series_key


STATES = {1: 'delivered', 0: 'unknown'}     # how the ledger (schema 2) stores its states


def key_of(resource_id, item):
    dims = item.get('dimensions') or {}
    names = tuple(sorted(dims, key=str))
    values = tuple(str(dims[n]) for n in names)
    if item.get('dedupe_key') is not None:
        return series_key(resource_id, item['namespace'], item['metric'], names, values, 'k:' + item['dedupe_key'])
    # a minute-keyed row shows its minute: '@' and the minute's epoch seconds
    minute = datetime.datetime.strptime(item['time'], '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
    return series_key(resource_id, item['namespace'], item['metric'], names, values,
                      't:' + item['time']) + '@%d' % minute.timestamp()


def main():
    module = AnsibleModule(argument_spec={
        'path': {'type': 'path', 'required': True},
        'resource_id': {'type': 'str'},
        'series': {'type': 'list', 'elements': 'dict', 'default': []},
    }, supports_check_mode=True)
    path = module.params['path']
    result = {'changed': False, 'exists': os.path.exists(path)}
    if not result['exists']:
        module.exit_json(**result)
    result['mode'] = '%04o' % stat.S_IMODE(os.stat(path).st_mode)
    result['dir_mode'] = '%04o' % stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)
    conn = sqlite3.connect('file:%s?mode=ro' % path, uri=True, timeout=60)
    try:
        result['integrity'] = conn.execute('PRAGMA integrity_check').fetchone()[0]
        result['schema'] = conn.execute('PRAGMA user_version').fetchone()[0]
        result['counts'] = {STATES[code]: count
                            for code, count in conn.execute('SELECT state, COUNT(*) FROM series GROUP BY state')}
        result['rows'] = sum(result['counts'].values())
        inflight = conn.execute('SELECT owner, keys FROM inflight').fetchall()
        result['inflight'] = [{'owner': owner, 'keys': len(keys.split('\n'))} for owner, keys in inflight]
        states = []
        for item in module.params['series']:
            key = key_of(module.params['resource_id'], item)
            # the series table knows a key by the 16 bytes of its digest
            row = conn.execute('SELECT state FROM series WHERE k = ?', (bytes.fromhex(key.split('@')[0]),)).fetchone()
            state = STATES[row[0]] if row else None
            if any(key in keys.split('\n') for _owner, keys in inflight):
                state = 'pending'
            states.append(state)
        result['states'] = states
    finally:
        conn.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
