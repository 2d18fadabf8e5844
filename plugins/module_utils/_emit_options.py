# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options every emission module shares: its entries, its delivery ledger, the size of its requests and result.

Their argument spec (documented by the doc fragment ``azmon.metrics.emit``), the checks of their values before
anything is read or sent, and the ledger's life for one task: opened after every local check, pruned after a real
run, closed whatever happened.
"""

from __future__ import annotations

import contextlib

from ansible_collections.azmon.metrics.plugins.module_utils._blob import parse_blob_url
from ansible_collections.azmon.metrics.plugins.module_utils._blob_ledger import open_ledger
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._ledger import DEFAULT_PATH, LedgerError
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import MAX_REQUEST_BYTES

MIN_REQUEST_BYTES = 4096

ENTRY_ARGSPEC = {
    'metric': {'type': 'str'},
    'namespace': {'type': 'str'},
    'dimensions': {'type': 'dict'},
    'value': {'type': 'raw'},
    'values': {'type': 'list', 'elements': 'raw'},
    'min': {'type': 'raw'},
    'max': {'type': 'raw'},
    'sum': {'type': 'raw'},
    'count': {'type': 'raw'},
    'time': {'type': 'raw'},
    'dedupe_key': {'type': 'str', 'no_log': False},
    'metrics': {'type': 'list', 'elements': 'dict'},
    'metrics_file': {'type': 'path'},
    'metrics_src': {'type': 'path'},
}

DELIVERY_ARGSPEC = {
    'dedupe': {'type': 'bool', 'default': True},
    'ledger_path': {'type': 'path', 'default': DEFAULT_PATH},
    'ledger_url': {'type': 'str'},
    'ledger_retention_days': {'type': 'int', 'default': 30},
    'max_request_bytes': {'type': 'int', 'default': MAX_REQUEST_BYTES},
    'detail_limit': {'type': 'int', 'default': 100},
}

MUTUALLY_EXCLUSIVE = [('metric', 'metrics', 'metrics_file', 'metrics_src')]


def emission_argspec(own):
    """The shared entry and delivery options plus the module's ``own``."""
    spec = dict(ENTRY_ARGSPEC)
    spec.update(DELIVERY_ARGSPEC)
    spec.update(own)
    return spec


def entry_defaults(params):
    """The task-level values every entry inherits (``_metrics.build_points`` ``defaults``)."""
    return {name: params[name] for name in ('namespace', 'dimensions', 'time', 'dedupe_key')}


def check_delivery_options(params):
    """Refuse delivery options out of range; returns the ledger's Blob Storage location (or ``None``), itself checked
    here, so that a bad URL is named before any entry is read."""
    if not MIN_REQUEST_BYTES <= params['max_request_bytes'] <= MAX_REQUEST_BYTES:
        raise ValidationError('max_request_bytes must be from %d to %d, got %d'
                              % (MIN_REQUEST_BYTES, MAX_REQUEST_BYTES, params['max_request_bytes']),
                              option='max_request_bytes')
    if params['detail_limit'] < 0:
        raise ValidationError('detail_limit must not be negative', option='detail_limit')
    if params['ledger_retention_days'] < 1:
        raise ValidationError('ledger_retention_days must be at least 1', option='ledger_retention_days')
    return parse_blob_url(params['ledger_url']) if params['ledger_url'] and params['dedupe'] else None


@contextlib.contextmanager
def task_ledger(module, ctx, location):
    """The task's delivery ledger, ``None`` with ``dedupe=false``.  After a real run old rows are pruned (a ledger
    that cannot be pruned now only warns: everything this task sent is recorded by then, and a later run prunes
    it); the ledger is closed whatever happened."""
    params = module.params
    if not params['dedupe']:
        yield None
        return
    retention = params['ledger_retention_days'] * 86400
    ledger = open_ledger(location, params['ledger_path'], not module.check_mode, retention, ctx.http,
                         ctx.token_source('storage_audience'))
    try:
        yield ledger
    finally:
        if not module.check_mode:
            try:
                ledger.prune(retention)
            except LedgerError as exc:
                module.warn('old rows of the delivery ledger were not removed this time: %s' % exc.msg)
        ledger.close()
