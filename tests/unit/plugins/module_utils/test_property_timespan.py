# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests for ``_timespan``: exact round trips through ticks, and only ``TimeSpanError`` for bad text.

WAP sends the time grain; a text this parser chokes on must become a warning (``addon_metrics_info``
catches ``TimeSpanError``), never a traceback.
"""

from __future__ import annotations

import os

from hypothesis import example, given, settings, strategies as st

from ansible_collections.azmon.metrics.plugins.module_utils._timespan import (
    MAX_TICKS,
    MIN_TICKS,
    TICKS_PER_DAY,
    TICKS_PER_HOUR,
    TICKS_PER_MINUTE,
    TICKS_PER_SECOND,
    TimeSpanError,
    describe,
    parse_timespan,
    ticks_to_iso8601,
    ticks_to_seconds,
)

# `make soak` sets AZMON_PROPERTY_SCALE (say 50) to try that many times more examples.
SCALE = int(os.environ.get('AZMON_PROPERTY_SCALE') or 1)
SETTINGS = settings(max_examples=150 * SCALE, deadline=None, database=None)
TICKS = st.one_of(st.integers(min_value=MIN_TICKS, max_value=MAX_TICKS),
                  st.integers(min_value=-10 * TICKS_PER_DAY, max_value=10 * TICKS_PER_DAY),
                  st.sampled_from([0, 1, -1, MAX_TICKS, MIN_TICKS, TICKS_PER_DAY, 5 * TICKS_PER_MINUTE]))


def dotnet_constant(ticks):
    """What .NET's ``TimeSpan.ToString()`` ("c") writes: ``[-][d.]hh:mm:ss[.fffffff]``."""
    sign = '-' if ticks < 0 else ''
    rest = abs(ticks)
    days, rest = divmod(rest, TICKS_PER_DAY)
    hours, rest = divmod(rest, TICKS_PER_HOUR)
    minutes, rest = divmod(rest, TICKS_PER_MINUTE)
    seconds, frac = divmod(rest, TICKS_PER_SECOND)
    text = '%s%s%02d:%02d:%02d' % (sign, '%d.' % days if days else '', hours, minutes, seconds)
    return text + ('.%07d' % frac if frac else '')


@SETTINGS
@given(TICKS)
@example(MIN_TICKS)
@example(MAX_TICKS)
def test_iso_8601_round_trips_exactly(ticks):
    assert parse_timespan(ticks_to_iso8601(ticks)) == ticks


@SETTINGS
@given(TICKS)
@example(MIN_TICKS)
@example(MAX_TICKS)
@example(-1)
def test_dotnet_constant_format_round_trips_exactly(ticks):
    text = dotnet_constant(ticks)
    assert parse_timespan(text) == ticks
    # and the ISO form it is reported as names the same span
    seconds, iso = describe(text)
    assert parse_timespan(iso) == ticks
    assert seconds == ticks_to_seconds(ticks)


@SETTINGS
@given(TICKS)
def test_seconds_are_exact_when_whole_and_close_otherwise(ticks):
    seconds = ticks_to_seconds(ticks)
    if ticks % TICKS_PER_SECOND == 0:
        assert isinstance(seconds, int) and seconds * TICKS_PER_SECOND == ticks
    else:
        assert isinstance(seconds, float)
        assert abs(seconds * TICKS_PER_SECOND - ticks) <= max(1.0, abs(ticks) * 1e-15)


@SETTINGS
@given(st.integers(min_value=0, max_value=10675198), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59),
       st.text(alphabet='0123456789', min_size=0, max_size=7), st.booleans())
def test_general_and_constant_forms_agree(days, hours, minutes, seconds, frac, negative):
    sign = '-' if negative else ''
    fraction = '.' + frac if frac else ''
    constant = '%s%d.%02d:%02d:%02d%s' % (sign, days, hours, minutes, seconds, fraction)
    general = '%s%d:%d:%02d:%02d%s' % (sign, days, hours, minutes, seconds, fraction)
    ticks = parse_timespan(constant)
    assert parse_timespan(general) == ticks
    expected = (days * TICKS_PER_DAY + hours * TICKS_PER_HOUR + minutes * TICKS_PER_MINUTE
                + seconds * TICKS_PER_SECOND + int(frac.ljust(7, '0') or 0))
    assert ticks == (-expected if negative else expected)


# --- never an exception other than TimeSpanError ----------------------------------------------------------

CLOCK_LIKE = st.from_regex(r'\A-?([0-9]{1,9}[.:])?[0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3}(\.[0-9]{1,9})?)?\Z')
ISO_LIKE = st.from_regex(r'\A-?[Pp]([0-9]{1,30}([.,][0-9]{1,12})?[Dd])?([Tt]([0-9]{1,25}([.,][0-9]{1,12})?[HhMmSs]){0,3})?\Z')
ANY_VALUE = st.one_of(st.text(max_size=30), CLOCK_LIKE, ISO_LIKE, st.integers(), st.floats(), st.none(),
                      st.booleans(), st.lists(st.text(max_size=3), max_size=2))


@SETTINGS
@given(ANY_VALUE)
@example('10675199.02:48:05.4775808')           # one tick past the largest TimeSpan
@example('-10675199.02:48:05.4775809')
@example('P' + '9' * 5000 + 'D')                  # more digits than int() converts by default
@example('PT1.' + '9' * 5000 + 'H')
@example('P99999999999999999999999D')
@example('24:00:00')
@example('00:60:00')
@example('1.')
@example('P')
@example('PT')
@example('\u0660\u0660:\u0660\u0665:\u0660\u0660')  # Arabic-Indic digits
@example('00:05:00\n')
def test_parse_timespan_raises_only_timespan_error(value):
    try:
        ticks = parse_timespan(value)
    except TimeSpanError as exc:
        assert 'TimeSpan' in str(exc)
        return
    assert isinstance(ticks, int)
    assert MIN_TICKS <= ticks <= MAX_TICKS
    # whatever was accepted can be reported both ways, and the ISO form reads back the same
    seconds, iso = describe(value)
    assert parse_timespan(iso) == ticks
    assert isinstance(seconds, (int, float))
