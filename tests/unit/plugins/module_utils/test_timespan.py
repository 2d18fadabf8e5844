# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._timespan import (
    MAX_TICKS,
    MIN_TICKS,
    TimeSpanError,
    describe,
    parse_timespan,
    ticks_to_iso8601,
    ticks_to_seconds,
)

# text, seconds, ISO 8601
GOOD = [
    ('1.00:00:00', 86400, 'P1D'),
    ('00:05:00', 300, 'PT5M'),
    ('-00:00:30', -30, '-PT30S'),
    ('00:00:00.5', 0.5, 'PT0.5S'),
    ('00:00:00', 0, 'PT0S'),
    ('01:00:00', 3600, 'PT1H'),
    ('00:01:00', 60, 'PT1M'),
    ('7.00:00:00', 604800, 'P7D'),
    ('1.02:03:04', 93784, 'P1DT2H3M4S'),
    ('1.02:03:04.1234567', 93784.1234567, 'P1DT2H3M4.1234567S'),
    ('00:00:00.0000001', 1e-7, 'PT0.0000001S'),
    ('00:00:01.1000000', 1.1, 'PT1.1S'),
    ('-1.00:00:00', -86400, '-P1D'),
    ('  00:15:00 ', 900, 'PT15M'),
    # hh:mm, as TimeSpan.Parse accepts
    ('00:05', 300, 'PT5M'),
    ('1.12:00', 129600, 'P1DT12H'),
    # general ("g") forms: single-digit hours, ':' after the days
    ('0:05:00', 300, 'PT5M'),
    ('1:00:00', 3600, 'PT1H'),
    ('1:0:00:00', 86400, 'P1D'),
    # ISO 8601 durations (WCF serializers)
    ('P1D', 86400, 'P1D'),
    ('PT5M', 300, 'PT5M'),
    ('-PT30S', -30, '-PT30S'),
    ('PT0.5S', 0.5, 'PT0.5S'),
    ('pt1h', 3600, 'PT1H'),
    ('P1DT1H', 90000, 'P1DT1H'),
    ('PT36H', 129600, 'P1DT12H'),
    ('PT1.5H', 5400, 'PT1H30M'),
]


@pytest.mark.parametrize('text, seconds, iso', GOOD)
def test_good_forms(text, seconds, iso):
    got_seconds, got_iso = describe(text)
    assert got_seconds == pytest.approx(seconds, abs=1e-9)
    assert type(got_seconds) is type(seconds)  # whole seconds stay int
    assert got_iso == iso


def test_largest_and_smallest_timespan():
    assert parse_timespan('10675199.02:48:05.4775807') == MAX_TICKS
    assert parse_timespan('-10675199.02:48:05.4775808') == MIN_TICKS
    seconds, iso = describe('10675199.02:48:05.4775807')
    assert iso == 'P10675199DT2H48M5.4775807S'
    assert seconds == pytest.approx(922337203685.4775807)


def test_iso_round_trips_through_ticks():
    for text, _seconds, iso in GOOD:
        assert parse_timespan(iso) == parse_timespan(text)


BAD = [
    '', ' ', 'abc', '5', '1.5', '24:00:00', '00:60:00', '00:00:60', '00:00:00.12345678',
    '--00:00:01', '1.2.00:00:00', '00:00:00.', '.00:00:00', '00:00:', ':00:00', '1:00:00:00:00',
    '10675199.02:48:05.4775808', '-10675199.02:48:05.4775809', '123456789.00:00:00',
    'P', 'PT', 'P1DT', 'P1Y', 'P1M', 'PT1.12345678S', 'P-1D', '1 day', '00:05:00Z',
    None, 300, 1.5, ['00:05:00'],
]


@pytest.mark.parametrize('text', BAD)
def test_bad_forms_say_what_is_expected(text):
    with pytest.raises(TimeSpanError) as info:
        parse_timespan(text)
    assert repr(text) in str(info.value)
    assert 'TimeSpan' in str(info.value)


def test_seconds_are_int_when_whole():
    assert ticks_to_seconds(3 * 10 ** 7) == 3
    assert isinstance(ticks_to_seconds(3 * 10 ** 7), int)
    assert ticks_to_seconds(5 * 10 ** 6) == 0.5


def test_zero_and_negative_iso():
    assert ticks_to_iso8601(0) == 'PT0S'
    assert ticks_to_iso8601(-1) == '-PT0.0000001S'
