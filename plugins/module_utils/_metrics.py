# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Custom metric series: validation against the ingestion limits, aggregation, identity, packing.

Pure Python, no Ansible and no network.  ``build_points`` turns the module's
entries into validated ``Point`` objects (raising one ``ValidationError`` that
lists every problem); ``pack`` groups them into ingestion documents and splits
those into request bodies of at most ``max_bytes`` uncompressed.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import operator
import re

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._time import (
    TimeFormatError,
    format_utc,
    parse_time,
    truncate_to_minute,
)

MAX_DIMENSIONS = 10
MAX_NAME_LENGTH = 256
MAX_METRIC_NAMES_BYTES = 64 * 1024
MAX_SERIES_PER_TASK = 50000       # active series per subscription and region; more would be throttled or dropped
MAX_REQUEST_BYTES = 1000000       # uncompressed; the true limit is undocumented (docs/azure-facts.md, section 1)
MAX_COUNT = 2 ** 31 - 1           # count is an int32
WINDOW_PAST = datetime.timedelta(minutes=19)    # documented 20 minutes; stay inside it
WINDOW_FUTURE = datetime.timedelta(minutes=3)   # documented 5, the service says 4; stay inside both
RESERVED_NAMESPACES = ('GenevaKustoQos', 'LogsToMetricsQos', 'MdmQos', 'RecoveryService/V2', 'MonitorSLA', 'WarmPathQos')
ENTRY_KEYS = ('metric', 'namespace', 'dimensions', 'time', 'value', 'values', 'min', 'max', 'sum', 'count', 'dedupe_key')
STAT_KEYS = ('min', 'max', 'sum', 'count')
_ENTRY_KEY_SET = frozenset(ENTRY_KEYS)
_RESERVED_LOWER = frozenset(name.lower() for name in RESERVED_NAMESPACES)   # Azure refuses them in any case
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


class Point:
    """One series-minute to send: identity, aggregate and where it came from."""

    __slots__ = ('index', 'namespace', 'metric', 'dim_names', 'dim_values', 'minute', 'dedupe_key',
                 'min', 'max', 'sum', 'count', 'key')

    def __init__(self, index, namespace, metric, dim_names, dim_values, minute, dedupe_key, stats, key):
        self.index = index
        self.namespace = namespace
        self.metric = metric
        self.dim_names = dim_names
        self.dim_values = dim_values
        self.minute = minute
        self.dedupe_key = dedupe_key
        self.min, self.max, self.sum, self.count = stats
        self.key = key          # its ledger key: series_key() of the above, and a suffix (_Seen.key_parts)

    def describe(self):
        dims = ','.join('%s=%s' % pair for pair in zip(self.dim_names, self.dim_values))
        return '%s/%s[%s]@%s' % (self.namespace, self.metric, dims, format_utc(self.minute))

    def summary(self):
        return {'index': self.index, 'namespace': self.namespace, 'metric': self.metric,
                'dimensions': dict(zip(self.dim_names, self.dim_values)), 'time': format_utc(self.minute),
                'dedupe_key': self.dedupe_key, 'count': self.count, 'sum': self.sum}


def series_key(resource_id, namespace, metric, dim_names, dim_values, when):
    """The ledger identity of a series-minute: resource (any case), namespace, metric, dimensions, and the
    minute or the entry's ``dedupe_key`` (``t:`` and the minute's text, or ``k:`` and the key)."""
    return _digest(_series_text(_series_prefix(resource_id, namespace, metric, dim_names), dim_values), when)


def _series_prefix(resource_id, namespace, metric, dim_names):
    """The part of a series' identity that its entries usually share (every name is free of control characters,
    so the separators keep the parts apart)."""
    return '\x1f'.join((resource_id.lower(), namespace, metric, '\x1e'.join(dim_names), ''))


def _series_text(prefix, dim_values):
    """The identity of a series (without the minute): the same text for the same series, another for another."""
    return prefix + '\x1e'.join(dim_values)


def _digest(series_text, when):
    return hashlib.blake2b((series_text + '\x1f' + when).encode('utf-8'), digest_size=16).hexdigest()


def normalize_region(region):
    """``East US`` -> ``eastus``; raises ``ValidationError`` for anything that is not a region code."""
    code = re.sub(r'\s+', '', str(region or '')).lower()
    if not re.match(r'^[a-z][a-z0-9]{1,39}$', code):
        raise ValidationError('region: %r is not an Azure region name or code (e.g. "East US" or eastus)' % (region,),
                              option='region')
    return code


class _Problems:
    """Collects every validation problem; raises once with all of them."""

    LIMIT = 50

    def __init__(self):
        self.items = []

    def add(self, where, field, rule):
        self.items.append('%s: %s %s' % (where, field, rule))

    def raise_if_any(self):
        if self.items:
            shown = self.items[:10]
            more = len(self.items) - len(shown)
            raise ValidationError('invalid metrics, nothing was sent: ' + '; '.join(shown)
                                  + ('; and %d more' % more if more else ''), errors=self.items[:self.LIMIT])


def _number(value):
    """A finite float from a number or numeric string, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:   # an int beyond the range of a double
            return None
    elif isinstance(value, str):
        if '_' in value:   # float() takes Python's digit grouping ("1_000"); JSON and YAML numbers do not
            return None
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _name_rule(value):
    """Why ``value`` cannot be a metric, namespace or dimension name/value, or ``None``."""
    if not isinstance(value, str):
        return 'must be a string, got %s' % type(value).__name__
    if not value:
        return 'must not be empty'
    if len(value) > MAX_NAME_LENGTH:
        return 'must be at most %d characters (got %d)' % (MAX_NAME_LENGTH, len(value))
    if _CONTROL.search(value):
        return 'must not contain control characters'
    return None


class _Seen:
    """What one ``build_points`` call already worked out, so that a value repeated across thousands of entries (a
    metric or dimension name, a time string, a minute) is checked, parsed and formatted once."""

    __slots__ = ('names', 'times', 'minutes', 'dim_names')

    def __init__(self):
        self.names = set()       # strings that passed _name_rule
        self.times = {}          # time string -> (datetime, minute) or the TimeFormatError
        self.minutes = {}        # minute -> its part of the ledger key (key_parts)
        self.dim_names = {}      # dimension names as given (all valid) -> the sorted tuple every point shares

    def name_rule(self, value):
        if type(value) is str and value in self.names:  # pylint: disable=unidiomatic-typecheck
            return None
        rule = _name_rule(value)
        if rule is None:
            self.names.add(value)
        return rule

    def time(self, value):
        """``(when, minute)`` of a time value; raises ``TimeFormatError``."""
        if type(value) is not str:  # pylint: disable=unidiomatic-typecheck
            when = parse_time(value)
            return when, truncate_to_minute(when)
        found = self.times.get(value)
        if found is None:
            try:
                when = parse_time(value)
                found = (when, truncate_to_minute(when))
            except TimeFormatError as exc:
                found = exc
            self.times[value] = found
        if isinstance(found, TimeFormatError):
            raise found
        return found

    def key_parts(self, minute, dedupe_key):
        """``(when, suffix)`` of a point's ledger key: ``series_key(..., when) + suffix``.

        A point with a ``dedupe_key`` is known by its key alone.  Any other is known by its minute, which the
        suffix (``@`` and the minute's epoch seconds) also shows the ledger, so that the ledger can let the row go
        once that minute can no longer be sent.
        """
        if dedupe_key is not None:
            return 'k:' + dedupe_key, ''
        parts = self.minutes.get(minute)
        if parts is None:
            parts = self.minutes[minute] = ('t:' + format_utc(minute), '@%d' % minute.timestamp())
        return parts


def _stats(entry, where, problems):
    """``(min, max, sum, count)`` from exactly one of ``value``, ``values`` or ``min``/``max``/``sum``/``count``."""
    if (entry.get('value') is not None and entry.get('values') is None and entry.get('min') is None
            and entry.get('max') is None and entry.get('sum') is None and entry.get('count') is None):
        number = _number(entry['value'])      # the usual form, without building the list below
        if number is None:
            problems.add(where, 'value', 'must be a finite number (no NaN or infinity), got %r' % (entry['value'],))
            return None
        return number, number, number, 1
    forms = [name for name, present in (('value', entry.get('value') is not None),
                                        ('values', entry.get('values') is not None),
                                        ('min/max/sum/count', any(entry.get(k) is not None for k in STAT_KEYS)))
             if present]
    if len(forms) != 1:
        problems.add(where, 'value', 'needs exactly one of value, values, or min/max/sum/count (got %s)'
                     % (' and '.join(forms) or 'none'))
        return None
    if forms[0] == 'value':
        number = _number(entry['value'])
        if number is None:
            problems.add(where, 'value', 'must be a finite number (no NaN or infinity), got %r' % (entry['value'],))
            return None
        return number, number, number, 1
    if forms[0] == 'values':
        raw = entry['values']
        if not isinstance(raw, list) or not raw:
            problems.add(where, 'values', 'must be a non-empty list of numbers')
            return None
        numbers = [_number(v) for v in raw]
        bad = [i for i, n in enumerate(numbers) if n is None]
        if bad:
            problems.add(where, 'values[%d]' % bad[0], 'must be a finite number (no NaN or infinity), got %r' % (raw[bad[0]],))
            return None
        if len(numbers) > MAX_COUNT:
            problems.add(where, 'values', 'must hold at most %d numbers' % MAX_COUNT)
            return None
        try:
            total = math.fsum(numbers)
        except OverflowError:
            total = math.inf
        if not math.isfinite(total):
            problems.add(where, 'values', 'must add up to a finite number (the sum is beyond the range of a double)')
            return None
        return min(numbers), max(numbers), total, len(numbers)
    missing = [k for k in STAT_KEYS if entry.get(k) is None]
    if missing:
        problems.add(where, '/'.join(missing), 'must be given with the other explicit aggregates (min, max, sum and count)')
        return None
    low, high, total = (_number(entry[k]) for k in ('min', 'max', 'sum'))
    for name, number in (('min', low), ('max', high), ('sum', total)):
        if number is None:
            problems.add(where, name, 'must be a finite number (no NaN or infinity), got %r' % (entry[name],))
            return None
    count = _number(entry['count'])
    if count is None or count != int(count) or not 1 <= count <= MAX_COUNT:
        problems.add(where, 'count', 'must be a whole number from 1 to %d, got %r' % (MAX_COUNT, entry['count']))
        return None
    if low > high:
        problems.add(where, 'min', 'must not be greater than max (%r > %r)' % (low, high))
        return None
    return low, high, total, int(count)


def _dimensions(dims, where, problems, seen_before=None):
    if dims is None:
        return (), ()
    if not isinstance(dims, dict):
        problems.add(where, 'dimensions', 'must be a mapping of dimension name to value')
        return None
    if len(dims) > MAX_DIMENSIONS:
        problems.add(where, 'dimensions', 'must hold at most %d dimensions (got %d)' % (MAX_DIMENSIONS, len(dims)))
        return None
    name_rule = seen_before.name_rule if seen_before is not None else _name_rule
    given = tuple(dims)
    known = seen_before.dim_names.get(given) if seen_before is not None else None
    if known is not None:
        # these names, in this order, passed every name rule before: only the values are left to check
        values = _dimension_values(dims, known, where, problems, name_rule)
        return None if values is None else (known, values)
    names, seen = [], set()
    for name in sorted(dims, key=str):
        rule = name_rule(name)
        if rule:
            problems.add(where, 'dimension name %r' % (name,), rule)
            return None
        if name.lower() in seen:
            problems.add(where, 'dimension name %r' % name, 'must be unique ignoring case')
            return None
        seen.add(name.lower())
        names.append(name)
    names = tuple(names)
    values = _dimension_values(dims, names, where, problems, name_rule)
    if values is None:
        return None
    if seen_before is not None:
        seen_before.dim_names[given] = names
    return names, values


def _dimension_values(dims, names, where, problems, name_rule):
    """The values of ``dims`` in the order of ``names`` (already checked), or ``None`` after a problem."""
    values = []
    for name in names:
        value = dims[name]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        rule = name_rule(value)
        if rule:
            problems.add(where, 'dimension %r value' % name,
                         rule + (' (empty dimension values are rejected by Azure)' if value == '' else ''))
            return None
        values.append(value)
    return tuple(values)


def build_points(entries, resource_id, now=None, defaults=None, consume=False):
    """Validate ``entries`` (dicts with the module's entry keys) and return one ``Point`` per entry.

    ``defaults`` holds task-level ``namespace``, ``dimensions``, ``time`` and
    ``dedupe_key`` (entries override them; dimensions merge by name).  Every problem is
    collected and raised as one ``ValidationError``.  With ``consume``, each item of the list ``entries`` is
    replaced by ``None`` once converted, so that a large input is not kept alive beside its points.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    defaults = defaults or {}
    problems = _Problems()
    seen = _Seen()
    points = []
    window = (truncate_to_minute(now - WINDOW_PAST), now + WINDOW_FUTURE)
    default_time = None
    if defaults.get('time') is not None:
        try:
            default_time = parse_time(defaults['time'])
        except TimeFormatError as exc:
            problems.add('time', 'time', str(exc))
    usual = _Usual(resource_id, defaults, default_time, now, window, seen)
    for index, entry in enumerate(entries):
        point = usual.point(index, entry) if type(entry) is dict else None  # pylint: disable=unidiomatic-typecheck
        if point is None:
            point = _checked_point(index, entry, defaults, default_time, now, window, resource_id, problems, seen)
            if point is not None:
                usual.series.add(_series_text(_series_prefix(resource_id, point.namespace, point.metric,
                                                             point.dim_names), point.dim_values))
        if consume:
            entries[index] = None
        if point is not None:
            points.append(point)
    _check_totals(points, usual.series, problems)
    problems.raise_if_any()
    return points


_USUAL_KEYS = frozenset(('metric', 'namespace', 'dimensions', 'time', 'value', 'dedupe_key'))
_USUAL_TIMES = (str, int, float, type(None))   # a valid epoch time is never equal to True or False
_USUAL_KEYS_TYPES = (str, type(None))          # not numbers: 5 and 5.0 are equal but give other keys


class _Usual:
    """The usual entry, checked and keyed in one pass: one numeric ``value``, string names and dimension values, a
    string or no time and ``dedupe_key``.

    What its entries share (metric, namespace, time and key; dimension names; the start of the ledger key) is
    checked once, by the same functions as any other entry, and remembered; what is left per entry is its value,
    its dimension values and its key.  ``point`` returns ``None`` for an entry it does not take as it is (another
    form or type, or anything invalid): ``build_points`` then checks it the thorough way, which names every
    problem, and gives the same point for a valid entry.
    """

    def __init__(self, resource_id, defaults, default_time, now, window, seen):
        self.resource_id = resource_id
        self.defaults = defaults
        self.default_namespace = defaults.get('namespace')
        self.default_dims = defaults.get('dimensions') or None
        self.default_time = default_time
        self.now = now
        self.window = window
        self.seen = seen
        # (metric, namespace, time, dedupe_key) -> (minute, dedupe_key, key_parts..., shapes), or False; shapes:
        # dimension names as given -> (sorted names, getter of their values, _series_prefix())
        self.heads = {}
        self.dims = {}       # dimension names as given -> (sorted names, getter of their values)
        self.series = set()  # _series_text() of every point: the distinct series

    def point(self, index, entry):
        if not _USUAL_KEYS.issuperset(entry):
            return None
        get = entry.get
        value = get('value')
        kind = type(value)
        if kind is int:
            try:
                value = float(value)
            except OverflowError:
                return None
        elif kind is not float:
            return None
        if not math.isfinite(value):
            return None
        metric, namespace = get('metric'), get('namespace', self.default_namespace)
        head_key = (metric, namespace, get('time'), get('dedupe_key'))
        try:
            head = self.heads.get(head_key)
        except TypeError:   # a list or mapping where a name belongs
            return None
        if head is None:
            head = self.heads[head_key] = self._head(*head_key)
        if not head:
            return None
        dims = get('dimensions')
        if dims is None:
            dims = {}
        elif type(dims) is not dict:  # pylint: disable=unidiomatic-typecheck
            return None
        if self.default_dims:
            merged = dict(self.default_dims)
            merged.update(dims)
            dims = merged
        minute, dedupe_key, when, suffix, shapes = head
        given = tuple(dims)
        shape = shapes.get(given)
        if shape is None:
            shape = self._shape(metric, namespace, dims, given, shapes)
            if shape is None:
                return None
        names, getter, prefix = shape
        values = getter(dims)
        valid = self.seen.names
        if not valid.issuperset(values):
            for text in values:
                if text not in valid:
                    if type(text) is not str or _name_rule(text) is not None:  # pylint: disable=unidiomatic-typecheck
                        return None     # numbers become strings the thorough way; anything else is a problem
                    valid.add(text)
        series = prefix + '\x1e'.join(values)
        self.series.add(series)
        return Point(index, namespace, metric, names, values, minute, dedupe_key, (value, value, value, 1),
                     _digest(series, when) + suffix)

    def _head(self, metric, namespace, time_value, dedupe_key):
        """``(minute, dedupe_key, when, suffix, {})`` of entries with these fields when they are valid, else
        ``False``."""
        if type(metric) is not str or type(namespace) is not str:  # pylint: disable=unidiomatic-typecheck
            return False
        if not isinstance(time_value, _USUAL_TIMES) or not isinstance(dedupe_key, _USUAL_KEYS_TYPES):
            return False
        scratch = _Problems()
        names_ok = _names_ok(metric, namespace, '', scratch, self.seen)
        try:
            minute = _minute(time_value, self.default_time, self.now, self.window, '', scratch, self.seen)
        except TimeFormatError:
            return False
        dedupe_key = _dedupe_key(dedupe_key, self.defaults, '', scratch)
        if not names_ok or minute is None or dedupe_key is _INVALID:
            return False
        return (minute, dedupe_key) + self.seen.key_parts(minute, dedupe_key) + ({},)

    def _shape(self, metric, namespace, dims, given, shapes):
        """``(sorted names, getter, series prefix)`` for dimension names given in this order, remembered in
        ``shapes`` once the names passed every rule; ``None`` otherwise."""
        pair = self.dims.get(given)
        if pair is None:
            pair = self._dim_names(dims, given)
            if pair is None:
                return None
        names, getter = pair
        shape = shapes[given] = (names, getter, _series_prefix(self.resource_id, namespace, metric, names))
        return shape

    def _dim_names(self, dims, given):
        """``(sorted names, getter)`` for dimension names given in this order, once they passed every rule."""
        scratch = _Problems()
        pair = _dimensions(dims, '', scratch, self.seen)
        if pair is None:
            return None
        names = pair[0]
        if len(names) > 1:
            getter = operator.itemgetter(*names)
        elif names:
            getter = _one_getter(names[0])
        else:
            getter = _no_values
        shape = self.dims[given] = (names, getter)
        return shape


def _one_getter(name):
    return lambda dims: (dims[name],)


def _no_values(_dims):
    return ()


_INVALID = object()


def _checked_point(index, entry, defaults, default_time, now, window, resource_id, problems, seen):
    """The point of any entry, or ``None`` after recording each of its problems."""
    metric_name = entry.get('metric') if isinstance(entry, dict) else None
    where = 'metrics[%d] (%s)' % (index, metric_name if isinstance(metric_name, str) else 'no metric name')
    if not isinstance(entry, dict):
        problems.add(where, 'entry', 'must be a mapping')
        return None
    unknown = sorted(set(entry) - _ENTRY_KEY_SET) if not _ENTRY_KEY_SET.issuperset(entry) else None
    if unknown:
        problems.add(where, ', '.join(unknown), 'is not a known field (known: %s)' % ', '.join(ENTRY_KEYS))
        return None
    metric = entry.get('metric')
    namespace = entry.get('namespace', defaults.get('namespace'))
    ok = _names_ok(metric, namespace, where, problems, seen)
    given, default_dims = entry.get('dimensions'), defaults.get('dimensions')
    if given is not None and not isinstance(given, dict):
        dims = given
    elif not default_dims:
        dims = given or {}          # only read from here on: no copy needed
    else:
        dims = dict(default_dims)
        dims.update(given or {})
    dim_pair = _dimensions(dims, where, problems, seen)
    stats = _stats(entry, where, problems)
    try:
        minute = _minute(entry.get('time'), default_time, now, window, where, problems, seen)
    except TimeFormatError as exc:
        problems.add(where, 'time', str(exc))
        return None
    dedupe_key = _dedupe_key(entry.get('dedupe_key'), defaults, where, problems)
    if not ok or minute is None or dedupe_key is _INVALID or dim_pair is None or stats is None:
        return None
    when, suffix = seen.key_parts(minute, dedupe_key)
    key = series_key(resource_id, namespace, metric, dim_pair[0], dim_pair[1], when) + suffix
    return Point(index, namespace, metric, dim_pair[0], dim_pair[1], minute, dedupe_key, stats, key)


def _names_ok(metric, namespace, where, problems, seen):
    """Whether the metric and namespace names pass their rules (each problem recorded)."""
    ok = True
    rule = seen.name_rule(metric)
    if rule:
        problems.add(where, 'metric', rule)
        ok = False
    rule = seen.name_rule(namespace)
    if rule:
        problems.add(where, 'namespace', rule + (' (set it on the entry or on the task)' if namespace is None else ''))
        ok = False
    elif namespace.lower().startswith('microsoft.') or namespace.lower() in _RESERVED_LOWER:
        problems.add(where, 'namespace', '%r is reserved for Azure (names starting with Microsoft. and %s, in any'
                     ' case)' % (namespace, ', '.join(RESERVED_NAMESPACES)))
        ok = False
    return ok


def _minute(time_value, default_time, now, window, where, problems, seen):
    """The minute of an entry's time (``None``: the task's time, else now), or ``None`` when it lies outside the
    ingestion window (recorded); raises ``TimeFormatError`` for a value that is no time."""
    when = default_time or now
    minute = None
    if time_value is not None:
        when, minute = seen.time(time_value)
    if minute is None:
        minute = truncate_to_minute(when)
    if minute < window[0] or when > window[1]:
        problems.add(where, 'time', '%s is outside the ingestion window (from %s to %s UTC, i.e. at most 19 minutes'
                     ' ago and 3 minutes ahead); Azure refuses older or later points'
                     % (format_utc(when), format_utc(window[0]), format_utc(window[1])))
        return None
    return minute


def _dedupe_key(given, defaults, where, problems):
    """The entry's key (``None``: the task's, if any) as a string, or ``_INVALID`` (recorded)."""
    dedupe_key = given
    if dedupe_key is None:
        dedupe_key = defaults.get('dedupe_key')
    if isinstance(dedupe_key, (int, float)) and not isinstance(dedupe_key, bool):
        dedupe_key = str(dedupe_key)
    if dedupe_key is not None and (not isinstance(dedupe_key, str) or not 1 <= len(dedupe_key) <= 1024):
        problems.add(where, 'dedupe_key', 'must be a string of 1 to 1024 characters')
        return _INVALID
    return dedupe_key


def _check_totals(points, series, problems):
    """The limits of the task as a whole; ``series`` holds the identity of every distinct series."""
    names = {p.metric for p in points}
    size = sum(len(n.encode('utf-8')) for n in names)
    if size > MAX_METRIC_NAMES_BYTES:
        problems.add('metrics', 'metric', 'names of one resource together must stay under %d bytes (got %d)'
                     % (MAX_METRIC_NAMES_BYTES, size))
    if len(series) > MAX_SERIES_PER_TASK:
        problems.add('metrics', 'series', 'must be at most %d distinct time series per task (got %d): Azure throttles'
                     ' and may silently drop series beyond %d active per subscription and region'
                     % (MAX_SERIES_PER_TASK, len(series), MAX_SERIES_PER_TASK))


SINGLE_OPTIONS = ('metric', 'value', 'values', 'min', 'max', 'sum', 'count')


def entries_from_options(params):
    """The entries a task gives: ``metrics``, ``metrics_file`` or ``metrics_src`` (the action plugin's copy of a file
    on the controller), or the single metric of the top-level options."""
    for option in ('metrics', 'metrics_file', 'metrics_src'):
        if params.get(option) is None:
            continue
        given = [name for name in SINGLE_OPTIONS if params[name] is not None]
        if given:
            raise ValidationError('%s cannot be combined with %s: put them in the entries' % (option, ', '.join(given)),
                                  option=option)
        entries = params['metrics'] if option == 'metrics' else load_entries(params[option], option=option)
        if not entries:
            raise ValidationError('%s must hold at least one entry' % option, option=option)
        return entries
    if params['metric'] is None:
        raise ValidationError('give metric (one metric), metrics (a list of entries), metrics_file or metrics_src',
                              option='metric')
    return [{name: params[name] for name in SINGLE_OPTIONS if params[name] is not None}]


def load_entries(path, option='metrics_file'):
    """Entries from a file: JSON (a list, or an object with a ``metrics`` list), ndjson/JSON Lines (``.ndjson``,
    ``.jsonl``: one entry a line) or YAML (``.yml``, ``.yaml``); errors name ``option``."""
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except OSError as exc:
        raise ValidationError('%s: cannot read %s: %s' % (option, path, exc.strerror), option=option) from None
    lowered = path.lower()
    try:
        if lowered.endswith(('.yml', '.yaml')):
            data = _load_yaml(raw)
        else:
            text, raw = raw.decode('utf-8'), None    # the bytes go before parsing: a large file is not held twice
            if lowered.endswith(('.ndjson', '.jsonl')):
                data = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError('%s: %s is not valid %s: %s' % (
            option, path, 'YAML' if lowered.endswith(('.yml', '.yaml')) else 'JSON', exc), option=option) from None
    if isinstance(data, dict) and isinstance(data.get('metrics'), list):
        data = data['metrics']
    if not isinstance(data, list):
        raise ValidationError('%s: %s must hold a list of entries (or a mapping with a metrics list)' % (option, path),
                              option=option)
    return data


def _load_yaml(raw):
    try:
        import yaml  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ValueError('reading YAML needs PyYAML; use a .json file instead') from None
    loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
    try:
        return yaml.load(raw, Loader=loader)  # nosec - a safe loader
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None


class Request:
    """One request body: ndjson documents, the points it carries, its uncompressed size."""

    __slots__ = ('lines', 'points', 'size')

    def __init__(self):
        self.lines = []
        self.points = []
        self.size = 0

    @property
    def body(self):
        return '\n'.join(self.lines).encode('utf-8')

    @property
    def content_type(self):
        return 'application/x-ndjson' if len(self.lines) > 1 else 'application/json'

    def documents(self):
        return [json.loads(line) for line in self.lines]

    def sample(self, limit):
        """``(documents, series)``: the first documents with at most ``limit`` series in all (the last one cut
        short), and how many series they show; only the lines needed are read back."""
        docs, shown = [], 0
        for line in self.lines:
            if shown >= limit:
                break
            doc = json.loads(line)
            series = doc['data']['baseData']['series']
            del series[limit - shown:]
            shown += len(series)
            docs.append(doc)
        return docs, shown


# json.dumps(value, ensure_ascii=False) builds a new encoder on every call; this one is built once
_dumps = json.JSONEncoder(ensure_ascii=False).encode


def _series_json(stats):
    low, high, total, count = stats
    text = _num(low)       # a single value is min, max and sum at once: written once
    high_text = text if high is low else _num(high)
    total_text = text if total is low else _num(total)
    return '"min":%s,"max":%s,"sum":%s,"count":%d' % (text, high_text, total_text, count)


def _num(value):
    return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def pack(points, max_bytes=MAX_REQUEST_BYTES):
    """Group ``points`` into documents (one per namespace, metric, minute and dimension names) with one series
    per distinct dimension values (points of the same series-minute merge, as Azure would add them), and
    split them into requests of at most ``max_bytes`` uncompressed bytes.  Returns a list of ``Request``.

    Points that share a ledger key (the minutes of one series given one ``dedupe_key``) travel in the same
    request, so that what the ledger records for the key is true of every one of them; a group larger than
    ``max_bytes`` raises ``ValidationError``.
    """
    documents = {}
    for point in points:
        doc_key = (point.minute, point.namespace, point.metric, point.dim_names)
        series = documents.setdefault(doc_key, {})
        merged = series.get(point.dim_values)
        if merged is None:
            series[point.dim_values] = point      # the usual series-minute, one point: its own aggregate
        elif type(merged) is Point:  # pylint: disable=unidiomatic-typecheck
            series[point.dim_values] = [min(merged.min, point.min), max(merged.max, point.max), merged.sum + point.sum,
                                        merged.count + point.count, [merged, point]]
        else:
            merged[0] = min(merged[0], point.min)
            merged[1] = max(merged[1], point.max)
            merged[2] += point.sum
            merged[3] += point.count
            merged[4].append(point)
    frames = {}
    items = []         # (doc_key, text, size, members), in document order
    for doc_key, series in documents.items():
        minute, namespace, metric, dim_names = doc_key
        head = '{"time":%s,"data":{"baseData":{"metric":%s,"namespace":%s,%s"series":[' % (
            json.dumps(format_utc(minute)), _dumps(metric),
            _dumps(namespace),
            '"dimNames":%s,' % _dumps(list(dim_names)) if dim_names else '')
        frames[doc_key] = (head, len(head.encode('utf-8')) + len(_TAIL))
        for dim_values, merged in series.items():
            if type(merged) is Point:  # pylint: disable=unidiomatic-typecheck
                low, high, total, count, members = merged.min, merged.max, merged.sum, merged.count, (merged,)
            else:
                low, high, total, count, members = merged
            if count > MAX_COUNT:
                raise ValidationError('metrics: entries %s add up to a count of %d for one series-minute (%s); the most'
                                      ' is %d' % (', '.join(str(m.index) for m in members[:5]), count,
                                                  members[0].describe(), MAX_COUNT))
            if not math.isfinite(total):
                raise ValidationError('metrics: entries %s add up to a sum beyond the range of a double for one'
                                      ' series-minute (%s)' % (', '.join(str(m.index) for m in members[:5]),
                                                               members[0].describe()))
            dims = '"dimValues":%s,' % _dumps(list(dim_values)) if dim_names else ''
            text = '{' + dims + _series_json((low, high, total, count)) + '}'
            items.append((doc_key, text, len(text.encode('utf-8')), members))
    documents.clear()        # items hold all that is needed now; drop the merge tables before the bodies are built
    requests = []
    current = _Filling(frames)
    for unit in _units(items):
        extra = current.cost(unit)
        if extra > max_bytes - current.size:
            if current.docs:
                requests.append(current.request())
                current = _Filling(frames)
                extra = current.cost(unit)
            if extra > max_bytes:
                raise _too_large(unit, extra, max_bytes)
        current.add(unit, extra)
    if current.docs:
        requests.append(current.request())
    return requests


_TAIL = ']}}}'


def _units(items):
    """``items`` joined into the groups that must share a request: series-minutes whose points share a ledger key
    (an iterable of sequences of items).

    Every point of a series-minute has the same series, and so has every point of a key, so a group never
    spans two series; groups come in the order of their first item.
    """
    if all(point.dedupe_key is None for _doc, _text, _size, members in items for point in members):
        # keys name the minute: every point of a key is in one series-minute, i.e. one item
        return ((item,) for item in items)
    parent = list(range(len(items)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with_key = {}
    for number, (_doc, _text, _size, members) in enumerate(items):
        for point in members:
            other = first_with_key.setdefault(point.key, number)
            if other != number:
                parent[root(number)] = root(other)
    groups = {}
    for number, item in enumerate(items):
        groups.setdefault(root(number), []).append(item)
    return list(groups.values())


class _Filling:
    """The request being filled: its documents' series in the order they came, and its exact size."""

    def __init__(self, frames):
        self.frames = frames
        self.docs = {}
        self.size = 0

    def cost(self, unit):
        """The bytes ``unit`` adds to this request."""
        extra, new_docs = 0, set()
        for doc_key, _text, size, _members in unit:
            if doc_key in self.docs or doc_key in new_docs:
                extra += 1 + size                     # a comma and the series
            else:
                extra += (1 if self.docs or new_docs else 0) + self.frames[doc_key][1] + size
                new_docs.add(doc_key)
        return extra

    def add(self, unit, extra):
        self.size += extra
        for doc_key, text, _size, members in unit:
            self.docs.setdefault(doc_key, []).append((text, members))

    def request(self):
        req = Request()
        for doc_key, series in self.docs.items():
            req.lines.append(self.frames[doc_key][0] + ','.join(text for text, _members in series) + _TAIL)
            for _text, members in series:
                req.points.extend(members)
        req.size = self.size
        return req


def _too_large(unit, size, max_bytes):
    points = [p for _doc, _text, _size, members in unit for p in members]
    first = points[0]
    where = ', '.join('metrics[%d]' % p.index for p in points[:5])
    if len(points) > 5:
        where += ' and %d more' % (len(points) - 5)
    if len(unit) == 1:
        return ValidationError('%s: its series (%s) needs %d bytes, more than max_request_bytes (%d)'
                               % (where, first.describe(), size, max_bytes), option='max_request_bytes')
    keys = sorted({p.dedupe_key for p in points if p.dedupe_key is not None})
    return ValidationError('%s: these entries of one series (%s) share dedupe_key %s across %d minutes, so they are'
                           ' sent in one request, which would need %d bytes, more than max_request_bytes (%d);'
                           ' raise max_request_bytes or give the minutes different dedupe keys'
                           % (where, first.describe(), ', '.join(repr(k) for k in keys), len(unit), size, max_bytes),
                           option='max_request_bytes')
