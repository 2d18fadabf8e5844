# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``wap_to_metrics``: addon_metrics_info output -> custom_metric_emit ``metrics`` entries.

Documentation: ``wap_to_metrics.yml`` next to this file.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from ansible.errors import AnsibleFilterError

from ansible_collections.azmon.metrics.plugins.module_utils._time import UTC, TimeFormatError, parse_iso, parse_time
from ansible_collections.azmon.metrics.plugins.module_utils._timespan import TimeSpanError, parse_timespan
from ansible_collections.azmon.metrics.plugins.module_utils._wap import format_time

DEFAULT_NAMESPACE = 'WAP/Addons'
DEFAULT_MAX_AGE = '2d'
ADDON_DIMENSION = 'AddonId'
UNIT_DIMENSION = 'Unit'
UNKNOWN_UNIT = 'Unspecified'
INT32_MAX = 2 ** 31 - 1
_AGE = re.compile(r'^\d+(?:\.\d+)?\s*[smhdw]$', re.IGNORECASE)


def parse_max_age(value):
    """Seconds (a float) from ``2d``, ``36h``, ``90m``, ``45s``, ``1w``, seconds, an ISO 8601 duration or a
    TimeSpan; ``None`` for no limit (``None``, ``''``, ``0``)."""
    if value is None or value == '' or value == 0:
        return None
    if isinstance(value, bool):
        raise AnsibleFilterError('wap_to_metrics: max_age must be a duration such as 2d, 36h or 90m, got %r' % value)
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        epoch = datetime.datetime(2000, 1, 1, tzinfo=UTC)
        if re.match(r'^\d+(?:\.\d+)?$', text):
            seconds = float(text)
        elif _AGE.match(text):
            seconds = (epoch - parse_time('-' + text, now=epoch, allow_relative=True)).total_seconds()
        else:
            try:
                seconds = parse_timespan(text) / 10 ** 7
            except TimeSpanError:
                raise AnsibleFilterError('wap_to_metrics: max_age %r is not a duration: use 2d, 36h, 90m, 45s, 1w,'
                                         ' seconds, P2D or 2.00:00:00' % value) from None
    else:
        raise AnsibleFilterError('wap_to_metrics: max_age must be a duration such as 2d, got %r' % (value,))
    if not math.isfinite(seconds) or seconds < 0:
        raise AnsibleFilterError('wap_to_metrics: max_age must not be negative, got %r' % (value,))
    return seconds or None


MAX_NAME_LENGTH = 256   # Azure Monitor's limit on a metric name


def _now(value):
    if value is None:
        return datetime.datetime.now(UTC)
    try:
        return parse_time(value)
    except TimeFormatError as exc:
        raise AnsibleFilterError('wap_to_metrics: now: %s' % exc) from None


def dedupe_key(addon_id, metric, time):
    """``wap/<addon>/<metric>/<time>``, each part percent-encoded so that different inputs never share a key."""
    return '/'.join(quote(str(part), safe=':@') for part in ('wap', addon_id, metric, time))


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def _source_time(value):
    """The value's time as an aware datetime, from ``time`` (normalised) or ``time_raw``/``TimeCreated``."""
    for key in ('time', 'time_raw', 'TimeCreated'):
        text = value.get(key)
        if isinstance(text, str) and text:
            try:
                return parse_iso(text)
            except TimeFormatError:
                continue
    return None


def _aggregate(value):
    """``(entry fields, None)`` with min/max/sum/count from a WAP value, or ``(None, reason)``."""
    total = _number(value.get('total'))
    if total is None:
        return None, 'the value has no Total (%r)' % (value.get('total'),)
    raw_count = value.get('count')
    count = _number(raw_count)
    if raw_count is not None and count is None:
        return None, 'Count %r is not a number' % (raw_count,)
    if count is None or count == 0:
        count = 1  # no observation count: the value stands for one observation (sum = Total)
    if count < 0 or count != int(count):
        return None, 'Count %r is not a whole number >= 1' % (raw_count,)
    count = int(count)
    if count > INT32_MAX:
        return None, 'Count %r is larger than Azure Monitor accepts (2147483647)' % (raw_count,)
    mean = total / count
    minimum, maximum = _number(value.get('minimum')), _number(value.get('maximum'))
    if minimum is not None and maximum is not None and minimum > maximum:
        return None, 'Minimum %r is greater than Maximum %r' % (minimum, maximum)
    if minimum is None:
        minimum = mean if maximum is None else min(mean, maximum)
    if maximum is None:
        maximum = max(mean, minimum)
    return {'min': minimum, 'max': maximum, 'sum': total, 'count': count}, None


def wap_to_metrics(data, addon_id=None, namespace=DEFAULT_NAMESPACE, max_age=DEFAULT_MAX_AGE, dimensions=None,
                   addon_dimension=ADDON_DIMENSION, unit_dimension=UNIT_DIMENSION, now=None):
    """See wap_to_metrics.yml."""
    if isinstance(data, Mapping):
        if data.get('failed'):
            raise AnsibleFilterError('wap_to_metrics: the addon_metrics_info result it was given failed: %s'
                                     % data.get('msg', ''))
        if 'metrics' not in data:
            raise AnsibleFilterError('wap_to_metrics: expected the result of addon_metrics_info (with metrics) or'
                                     ' its metrics list; the mapping given has no metrics key')
        addon_id = addon_id or data.get('addon_id')
        data = data['metrics']
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence):
        raise AnsibleFilterError('wap_to_metrics: expected the result of addon_metrics_info or its metrics list,'
                                 ' got %s' % type(data).__name__)
    if not isinstance(addon_id, str) or not addon_id:
        raise AnsibleFilterError('wap_to_metrics: addon_id is required when the input is a metrics list'
                                 ' (pass addon_id=...)')
    if not isinstance(namespace, str) or not namespace:
        raise AnsibleFilterError('wap_to_metrics: namespace must be a non-empty string')
    for name, label in ((addon_dimension, 'addon_dimension'), (unit_dimension, 'unit_dimension')):
        if name is not None and (not isinstance(name, str) or not name):
            raise AnsibleFilterError('wap_to_metrics: %s must be a non-empty string or null' % label)
    if not isinstance(dimensions or {}, Mapping):
        raise AnsibleFilterError('wap_to_metrics: dimensions must be a mapping of dimension name to value')
    extra = dict(dimensions or {})
    clash = [name for name in (addon_dimension, unit_dimension) if name and name in extra]
    if clash:
        raise AnsibleFilterError('wap_to_metrics: dimensions must not set %s: the filter sets it (rename it with'
                                 ' addon_dimension/unit_dimension)' % ', '.join(clash))
    limit = parse_max_age(max_age)
    now = _now(now)

    metrics, skipped = [], []
    for metric in data:
        if not isinstance(metric, Mapping):
            raise AnsibleFilterError('wap_to_metrics: every metric must be a mapping, got %s' % type(metric).__name__)
        name = metric.get('name')

        def skip(reason, when=None, value=None, _name=name):
            skipped.append({
                'addon_id': addon_id, 'metric': _name, 'reason': reason,
                'time': format_time(when) if when else None,
                'age_seconds': round((now - when).total_seconds(), 3) if when else None,
                'total': value.get('total') if value else None,
                'dedupe_key': dedupe_key(addon_id, _name, format_time(when)) if when and _name else None,
            })

        if not isinstance(name, str) or not name:
            skip('the metric has no name')
            continue
        if len(name) > MAX_NAME_LENGTH:
            # emission would refuse it, and with it the whole batch of the add-on, on every run
            skip('the metric name has %d characters; Azure Monitor accepts at most %d' % (len(name), MAX_NAME_LENGTH))
            continue
        points = metric.get('data_points')
        if points is None:
            points = metric.get('values')  # WAP's own name, from a hand-built list
        timed = []
        for value in points or []:
            if isinstance(value, Mapping):
                when = _source_time(value)
                if when is not None:
                    timed.append((when, value))
        if not timed:
            skip('no value with a time in the window read' if not points else 'no value has a time')
            continue
        when, value = max(timed, key=lambda item: item[0])
        if limit is not None and (now - when).total_seconds() > limit:
            skip('the newest value is older than max_age (%s)' % (max_age,), when, value)
            continue
        fields, reason = _aggregate(value)
        if reason:
            skip(reason, when, value)
            continue
        dims = {}
        if addon_dimension:
            dims[addon_dimension] = addon_id
        if unit_dimension:
            dims[unit_dimension] = metric.get('unit') or UNKNOWN_UNIT
        dims.update(extra)
        entry = {'metric': name, 'namespace': namespace, 'dimensions': dims,
                 'dedupe_key': dedupe_key(addon_id, name, format_time(when))}
        entry.update(fields)
        metrics.append(entry)
    return {'metrics': metrics, 'skipped': skipped}


class FilterModule:
    """azmon.metrics filters."""

    def filters(self):
        return {'wap_to_metrics': wap_to_metrics}
