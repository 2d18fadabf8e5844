# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests for ``_metrics``: validation and packing.

- ``build_points`` accepts an entry or refuses it with ``ValidationError``, for any input at all; what it
  accepts obeys every ingestion rule of docs/azure-facts.md (so Azure would not answer 400).
- ``pack`` puts every point in exactly one request, keeps every request within the size limit, writes
  strict JSON, and merging points of one series-minute preserves sum, count, min and max.
"""

from __future__ import annotations

import collections
import datetime
import json
import math
import os

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._metrics import build_points, pack
from ansible_collections.azmon.metrics.plugins.module_utils._time import format_utc

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 22, 10, 31, 17, tzinfo=UTC)
RID = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1'
# `make soak` sets AZMON_PROPERTY_SCALE (say 50) to try that many times more examples.
SCALE = int(os.environ.get('AZMON_PROPERTY_SCALE') or 1)
# Azure's ingestion limits, written out here rather than imported from the code under test.
MAX_NAME_LENGTH = 256
MAX_DIMENSIONS = 10
MAX_COUNT = 2 ** 31 - 1
RESERVED_NAMESPACES = ('GenevaKustoQos', 'LogsToMetricsQos', 'MdmQos', 'RecoveryService/V2', 'MonitorSLA', 'WarmPathQos')
SETTINGS = settings(max_examples=100 * SCALE, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- strategies -------------------------------------------------------------------------------------------

# Names as users write them: letters, digits, punctuation, any script, emoji; no control characters.
NAME_CHARS = st.characters(blacklist_categories=('Cs', 'Cc'))
NAMES = st.text(NAME_CHARS, min_size=1, max_size=24)
SHORT_NAMES = st.sampled_from(['Load', 'QueueDepth', 'Latency ms', 'Größe', '延迟', 'x'])
FINITE = st.one_of(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
                   st.integers(min_value=-10 ** 9, max_value=10 ** 9))
MINUTES = st.integers(min_value=-18, max_value=2).map(lambda m: format_utc(NOW + datetime.timedelta(minutes=m)))


@st.composite
def value_forms(draw):
    form = draw(st.sampled_from(['value', 'values', 'explicit']))
    if form == 'value':
        return {'value': draw(FINITE)}
    if form == 'values':
        return {'values': draw(st.lists(FINITE, min_size=1, max_size=5))}
    low, high = sorted([draw(FINITE), draw(FINITE)])
    return {'min': low, 'max': high, 'sum': draw(FINITE), 'count': draw(st.integers(min_value=1, max_value=1000))}


@st.composite
def good_entries(draw, names=SHORT_NAMES):
    entry = {'metric': draw(names), 'namespace': draw(st.sampled_from(['App', 'Jobs', 'Wärme']))}
    dims = draw(st.dictionaries(st.sampled_from(['Host', 'Queue', 'Zone', 'Büro']),
                                st.sampled_from(['a', 'b', 'host-1', 'ü', '東京']), max_size=3))
    if dims:
        entry['dimensions'] = dims
    if draw(st.booleans()):
        entry['time'] = draw(MINUTES)
    entry.update(draw(value_forms()))
    return entry


JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
                 st.sampled_from([10 ** 400, -10 ** 400, 'NaN', 'inf', '-Infinity', '1e999', '', ' ', '\x00',
                                  'a' * 300, 2 ** 31, 0, -1, 1.5, 1e308, -1e308]))
KEYS = st.sampled_from(['metric', 'namespace', 'dimensions', 'time', 'value', 'values', 'min', 'max', 'sum', 'count',
                        'dedupe_key', 'unknown', 'Metric'])


@st.composite
def any_entries(draw):
    """Anything a playbook, a JSON file or YAML can hand the module as an entry."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JUNK)
    entry = draw(good_entries(names=st.one_of(SHORT_NAMES, NAMES, JUNK)))
    for key in draw(st.lists(KEYS, max_size=3)):
        entry[key] = draw(st.one_of(JUNK, st.lists(JUNK, max_size=4),
                                    st.dictionaries(st.one_of(st.text(max_size=4), st.integers()), JUNK, max_size=12)))
    return entry


# --- the rules an accepted point must satisfy (docs/azure-facts.md, section 1) ------------------------------------

def _check_name(text):
    assert isinstance(text, str)
    assert 1 <= len(text) <= MAX_NAME_LENGTH
    assert not any(ord(c) < 32 or ord(c) == 127 for c in text)


def assert_contract(point):
    for text in (point.metric, point.namespace) + point.dim_names + point.dim_values:
        _check_name(text)
    assert not point.namespace.lower().startswith('microsoft.') and point.namespace not in RESERVED_NAMESPACES
    assert len(point.dim_names) == len(point.dim_values) <= MAX_DIMENSIONS
    assert len({n.lower() for n in point.dim_names}) == len(point.dim_names)
    for number in (point.min, point.max, point.sum):
        assert isinstance(number, float) and math.isfinite(number)
    assert isinstance(point.count, int) and 1 <= point.count <= MAX_COUNT
    assert point.min <= point.max
    assert point.minute.second == 0 and point.minute.microsecond == 0
    assert NOW - datetime.timedelta(minutes=20) < point.minute <= NOW + datetime.timedelta(minutes=3)


# --- validation -------------------------------------------------------------------------------------------

@SETTINGS
@given(st.lists(any_entries(), min_size=1, max_size=6), st.one_of(st.none(), JUNK), st.one_of(st.none(), JUNK))
@example([{'metric': 'm', 'value': 10 ** 400}], 'NS', None)                 # an int beyond float range
@example([{'metric': 'm', 'values': [1e308, 1e308]}], 'NS', None)           # a sum beyond float range
@example([{'metric': 'm', 'min': 1, 'max': 2, 'sum': 3, 'count': 10 ** 400}], 'NS', None)
@example([{'metric': 'm', 'value': 1, 'time': '9999-12-31T23:59:59-23:59'}], 'NS', None)
@example([{'metric': 'm', 'value': 1, 'time': 10 ** 400}], 'NS', None)
@example([{'metric': 'm', 'value': 1, 'dimensions': {1: 'a', '1': 'b'}}], 'NS', None)
@example([{'metric': 'm', 'value': 1}], 'NS', '0001-01-01T00:00:00+01:00')
def test_validation_accepts_or_refuses_and_nothing_else(entries, namespace, task_time):
    try:
        points = build_points(entries, RID, now=NOW, defaults={'namespace': namespace, 'time': task_time})
    except ValidationError as exc:
        assert exc.msg.startswith('invalid metrics, nothing was sent: ')
        assert exc.details['errors']
        for problem in exc.details['errors']:
            # "metrics[3] (Load): value must be a finite number ..." names the entry, the field and the rule
            assert problem.startswith(('metrics[', 'metrics:', 'time:')), problem
        return
    assert len(points) == len(entries)
    for point in points:
        assert_contract(point)


@SETTINGS
@given(st.lists(good_entries(), min_size=1, max_size=30))
def test_good_entries_are_accepted_with_their_aggregates(entries):
    points = build_points(entries, RID, now=NOW, defaults={})
    assert [p.index for p in points] == list(range(len(entries)))
    for entry, point in zip(entries, points):
        assert_contract(point)
        if 'value' in entry:
            assert (point.min, point.max, point.sum, point.count) == (entry['value'],) * 3 + (1,)
        elif 'values' in entry:
            assert point.count == len(entry['values'])
            assert point.min == min(entry['values']) and point.max == max(entry['values'])
            assert math.isclose(point.sum, math.fsum(entry['values']), rel_tol=1e-12, abs_tol=1e-6)
        else:
            assert (point.min, point.max, point.sum, point.count) == tuple(entry[k] for k in ('min', 'max', 'sum', 'count'))


@SETTINGS
@given(st.text(max_size=300), st.sampled_from(['metric', 'namespace', 'dimension name', 'dimension value']))
@example('', 'metric')
@example('a' * 257, 'namespace')
@example('tab\there', 'dimension value')
@example('Microsoft.Compute', 'namespace')
def test_every_name_is_checked_against_the_limits(text, where):
    entry = {'metric': 'm', 'namespace': 'NS', 'value': 1}
    if where == 'metric':
        entry['metric'] = text
    elif where == 'namespace':
        entry['namespace'] = text
    elif where == 'dimension name':
        entry['dimensions'] = {text: 'v'}
    else:
        entry['dimensions'] = {'d': text}
    try:
        (point,) = build_points([entry], RID, now=NOW)
    except ValidationError:
        return
    assert_contract(point)


@pytest.mark.parametrize('namespace', RESERVED_NAMESPACES + ('Microsoft.Compute', 'microsoft.insights'))
def test_every_reserved_namespace_is_refused(namespace):
    with pytest.raises(ValidationError) as caught:
        build_points([{'metric': 'm', 'namespace': namespace, 'value': 1}], RID, now=NOW)
    (problem,) = caught.value.details['errors']
    assert 'namespace' in problem and 'reserved' in problem, problem


# --- packing ----------------------------------------------------------------------------------------------

def _parse_strict(line):
    def refuse(name):
        raise AssertionError('%s is not JSON' % name)
    return json.loads(line, parse_constant=refuse)


def _series_identity(doc, series):
    base = doc['data']['baseData']
    names = tuple(base.get('dimNames') or ())
    values = tuple(series.get('dimValues') or ())
    return (doc['time'], base['namespace'], base['metric'], names, values)


@SETTINGS
@given(st.lists(good_entries(), min_size=1, max_size=120), st.integers(min_value=700, max_value=6000),
       st.integers(min_value=0, max_value=3))
def test_pack_places_every_point_once_within_the_limit_and_merges_exactly(entries, max_bytes, repeat):
    # repeat some entries so that points of one series-minute have to merge
    entries = entries + entries[:repeat * 7]
    points = build_points(entries, RID, now=NOW, defaults={})
    requests = pack(points, max_bytes)

    # every point lands in exactly one request
    placed = collections.Counter(p.index for req in requests for p in req.points)
    assert placed == collections.Counter(range(len(points)))

    expected = collections.defaultdict(lambda: [math.inf, -math.inf, [], 0])
    for point in points:
        agg = expected[(format_utc(point.minute), point.namespace, point.metric, point.dim_names, point.dim_values)]
        agg[0] = min(agg[0], point.min)
        agg[1] = max(agg[1], point.max)
        agg[2].append(point.sum)
        agg[3] += point.count

    seen = {}
    for req in requests:
        body = req.body
        # no request over the limit, and the size it reports is the size it sends
        assert req.size == len(body) <= max_bytes
        lines = body.decode('utf-8').split('\n')
        assert req.content_type == ('application/x-ndjson' if len(lines) > 1 else 'application/json')
        carried = set()
        for line in lines:
            doc = _parse_strict(line)
            base = doc['data']['baseData']
            assert set(base) <= {'metric', 'namespace', 'dimNames', 'series'}
            assert base['series'], 'a document without series'
            for series in base['series']:
                identity = _series_identity(doc, series)
                assert identity not in seen, 'a series-minute is sent twice'
                seen[identity] = series
                carried.add(identity)
                assert len(series.get('dimValues') or ()) == len(base.get('dimNames') or ())
                assert isinstance(series['count'], int)
        # the points a request carries are exactly the series it sends
        assert carried == {(format_utc(p.minute), p.namespace, p.metric, p.dim_names, p.dim_values)
                           for p in req.points}

    # merging preserves count exactly, min and max exactly, and the sum
    assert set(seen) == set(expected)
    for identity, (low, high, sums, count) in expected.items():
        series = seen[identity]
        assert series['count'] == count
        assert series['min'] == low and series['max'] == high
        assert math.isclose(series['sum'], math.fsum(sums), rel_tol=1e-9, abs_tol=1e-6)


@SETTINGS
@given(st.lists(st.builds(lambda i, v: {'metric': 'm', 'namespace': 'NS', 'dimensions': {'Host': 'h%05d' % i},
                                        'min': v, 'max': v, 'sum': v, 'count': 1},
                          st.integers(0, 3), st.just(1e308)),
                min_size=2, max_size=4))
def test_merged_sums_that_leave_float_range_are_refused_not_sent_as_inf(entries):
    points = build_points(entries, RID, now=NOW, defaults={})
    try:
        requests = pack(points, 10000)
    except ValidationError as exc:
        assert 'sum' in exc.msg
        return
    for req in requests:
        for line in req.body.decode('utf-8').split('\n'):
            _parse_strict(line)   # 'inf' would not be JSON


@SETTINGS
@given(st.integers(min_value=1, max_value=MAX_DIMENSIONS), st.integers(min_value=1, max_value=256),
       st.integers(min_value=4096, max_value=8192))
def test_a_series_too_wide_for_the_limit_is_refused_clearly(dims, width, max_bytes):
    # up to ten dimensions of 256 characters: the widest series the rules allow, at the module's smallest limits
    entry = {'metric': 'm' * width, 'namespace': 'n' * width, 'value': -1.2345678901234567e-300,
             'dimensions': {('d%d' % i).ljust(width, 'x'): ('v%d' % i).ljust(width, 'y') for i in range(dims)}}
    points = build_points([entry], RID, now=NOW)
    try:
        (req,) = pack(points, max_bytes)
    except ValidationError as exc:
        assert str(max_bytes) in exc.msg
        return
    assert req.size == len(req.body) <= max_bytes
