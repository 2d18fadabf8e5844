# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-back checks: series-minutes a play expects Azure to hold, compared with what the metrics API returns.

An expected item names a metric, its dimensions, a minute and the count and sum sent for it; the items of a
custom_metric_emit result's ``series`` list can be given as they are (only those with status ``sent`` are
checked, since only they were sent at that minute by that run). Knows nothing of Ansible.
"""

from __future__ import annotations

import datetime

from ansible_collections.azmon.metrics.plugins.module_utils._errors import AzmonError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._time import TimeFormatError, format_utc, parse_time

CHECKED_STATUSES = ('sent',)
MINUTE = datetime.timedelta(minutes=1)


class ExpectationFailed(AzmonError):
    """Azure holds another count or sum than expected for some series-minutes (or none yet)."""


class Expected:
    """One series-minute to find: identity, and the count and sum it must hold."""

    __slots__ = ('index', 'namespace', 'metric', 'dimensions', 'minute', 'count', 'sum')

    def __init__(self, index, namespace, metric, dimensions, minute, count, total):
        self.index, self.namespace, self.metric = index, namespace, metric
        self.dimensions, self.minute, self.count, self.sum = dimensions, minute, count, total

    def key(self):
        return (self.namespace, self.metric, tuple(sorted(self.dimensions.items())), self.minute)

    def describe(self):
        dims = ','.join('%s=%s' % pair for pair in sorted(self.dimensions.items()))
        return '%s/%s[%s]@%s' % (self.namespace, self.metric, dims, format_utc(self.minute))


def _number(value, where, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError('expect[%d].%s must be a number, got %r' % (where, name, value), option='expect')
    return float(value)


def parse_expected(items, namespace=None):
    """``[Expected]`` from the ``expect`` option; items whose ``status`` is not ``sent`` are left out."""
    if not isinstance(items, list):
        raise ValidationError('expect must be a list of mappings', option='expect')
    expected = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationError('expect[%d] must be a mapping' % index, option='expect')
        if item.get('status') is not None and item['status'] not in CHECKED_STATUSES:
            continue
        metric = item.get('metric')
        if not isinstance(metric, str) or not metric:
            raise ValidationError('expect[%d].metric must be a metric name' % index, option='expect')
        ns = item.get('namespace') or namespace
        if not isinstance(ns, str) or not ns:
            raise ValidationError('expect[%d] needs a namespace (on the item or the task)' % index, option='expect')
        dims = item.get('dimensions') or {}
        if not isinstance(dims, dict) or not all(isinstance(v, str) and v for v in dims.values()):
            raise ValidationError('expect[%d].dimensions must map names to non-empty strings' % index,
                                  option='expect')
        if item.get('time') is None:
            raise ValidationError('expect[%d].time is required (the minute the series was sent for)' % index,
                                  option='expect')
        try:
            when = parse_time(item['time'])
        except TimeFormatError as exc:
            raise ValidationError('expect[%d].time: %s' % (index, exc), option='expect') from None
        minute = when.replace(second=0, microsecond=0)
        count = _number(item.get('count'), index, 'count')
        total = _number(item.get('sum'), index, 'sum')
        expected.append(Expected(index, ns, metric, dict(dims), minute, count, total))
    return expected


def read_groups(expected):
    """The reads that cover ``expected``: ``{(namespace, dimension names): {metric names}}``."""
    groups = {}
    for item in expected:
        groups.setdefault((item.namespace, tuple(sorted(item.dimensions))), set()).add(item.metric)
    return groups


def span_of(expected):
    """``(start, end)``: from the first expected minute to the end of the last one."""
    minutes = [item.minute for item in expected]
    return min(minutes), max(minutes) + MINUTE


def _close(read, want):
    return abs(read - want) <= 1e-9 * max(1.0, abs(want))


def compare(expected, rows):
    """``(checks, mismatches)``: one check per expected item, with what was read (0 when Azure holds nothing)."""
    read = {}
    for row in rows:
        try:
            minute = parse_time(row['time']).replace(second=0, microsecond=0)
        except (TimeFormatError, KeyError, TypeError):
            continue
        dims = tuple(sorted((row.get('dimensions') or {}).items()))
        key = (row.get('namespace'), row.get('metric'), dims, minute)
        got = read.setdefault(key, [0.0, 0.0])
        got[0] += row.get('count') or 0
        got[1] += row.get('total') or 0
    checks, mismatches = [], []
    for item in expected:
        count, total = read.get(item.key(), (0.0, 0.0))
        ok = count == item.count and _close(total, item.sum)
        check = {'namespace': item.namespace, 'metric': item.metric, 'dimensions': item.dimensions,
                 'time': format_utc(item.minute), 'sent_count': item.count, 'sent_sum': item.sum,
                 'read_count': count, 'read_sum': total, 'match': ok}
        checks.append(check)
        if not ok:
            mismatches.append((item, check))
    return checks, mismatches


def failure(checks, mismatches, limit=5):
    """The error for a read-back that differs, naming the first ``limit`` series and both numbers."""
    shown = '; '.join('%s: read count %g sum %g, sent count %g sum %g'
                      % (item.describe(), c['read_count'], c['read_sum'], c['sent_count'], c['sent_sum'])
                      for item, c in mismatches[:limit])
    more = ' (and %d more)' % (len(mismatches) - limit) if len(mismatches) > limit else ''
    return ExpectationFailed('%d of %d expected series differ from what Azure holds: %s%s'
                             % (len(mismatches), len(checks), shown, more),
                             expected=checks, mismatched=len(mismatches))
