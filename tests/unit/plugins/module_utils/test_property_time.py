# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests for ``_time``: round trips, and no exception other than ``TimeFormatError`` for any input.

Every option that takes a time (``custom_metric_emit`` ``time``, ``addon_metrics_info`` ``start_time`` and
``end_time``) goes through ``parse_time``; an exception of another type would reach the user as a traceback.
"""

from __future__ import annotations

import datetime
import os

from hypothesis import example, given, settings, strategies as st

from ansible_collections.azmon.metrics.plugins.module_utils._time import (
    TimeFormatError,
    format_utc,
    parse_iso,
    parse_time,
    truncate_to_minute,
)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 22, 10, 31, 17, 123456, tzinfo=UTC)
# `make soak` sets AZMON_PROPERTY_SCALE (say 50) to try that many times more examples.
SCALE = int(os.environ.get('AZMON_PROPERTY_SCALE') or 1)
SETTINGS = settings(max_examples=150 * SCALE, deadline=None, database=None)

# Instants whose UTC form and every offset form stay inside years 1..9999.
INSTANTS = st.datetimes(min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30),
                        timezones=st.just(UTC))
OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59)


def _offset_text(minutes, style):
    sign = '-' if minutes < 0 else '+'
    hours, mins = divmod(abs(minutes), 60)
    if style == 'colon':
        return '%s%02d:%02d' % (sign, hours, mins)
    if style == 'compact':
        return '%s%02d%02d' % (sign, hours, mins)
    return '%s%02d' % (sign, hours)  # hours only: only for whole hours


def _date(when):
    # strftime('%Y') writes years before 1000 without leading zeros on glibc
    return '%04d-%02d-%02d' % (when.year, when.month, when.day)


def _parses_or_refuses(value, **kwargs):
    """``parse_time`` returns an aware UTC datetime or raises ``TimeFormatError``; nothing else."""
    try:
        when = parse_time(value, now=NOW, **kwargs)
    except TimeFormatError as exc:
        assert str(exc)  # a message for the user
        return None
    assert isinstance(when, datetime.datetime)
    assert when.utcoffset() == datetime.timedelta(0)
    return when


# --- round trips ------------------------------------------------------------------------------------------

@SETTINGS
@given(INSTANTS)
def test_format_utc_round_trips_to_the_second(when):
    text = format_utc(when)
    assert text.endswith('Z')
    assert parse_iso(text) == when.replace(microsecond=0)
    assert parse_time(text) == when.replace(microsecond=0)


@SETTINGS
@given(INSTANTS, st.integers(min_value=1, max_value=7))
def test_dotnet_round_trip_times_keep_their_fraction(when, digits):
    # WAP writes 7 fraction digits (2013-06-22T07:00:00.0000000Z); Python keeps microseconds (6).
    text = format_utc(when, fraction_digits=digits)
    kept = min(digits, 6)
    expected = when.replace(microsecond=when.microsecond // 10 ** (6 - kept) * 10 ** (6 - kept))
    assert parse_iso(text) == expected


@SETTINGS
@given(INSTANTS, OFFSETS, st.sampled_from(['colon', 'compact', 'hours']), st.sampled_from(['T', ' ']))
def test_every_offset_form_names_the_same_instant(when, offset, style, separator):
    if style == 'hours':
        offset -= offset % 60 if offset >= 0 else -((-offset) % 60)
    local = when.astimezone(datetime.timezone(datetime.timedelta(minutes=offset)))
    text = _date(local) + separator + local.strftime('%H:%M:%S') + _offset_text(offset, style)
    assert parse_iso(text) == when.replace(microsecond=0)


@SETTINGS
@given(INSTANTS)
def test_a_time_without_a_zone_is_utc(when):
    text = _date(when) + 'T' + when.strftime('%H:%M:%S')
    assert parse_time(text) == when.replace(microsecond=0)


@SETTINGS
@given(st.floats(min_value=0, max_value=253402300799, allow_nan=False))
def test_epoch_seconds_as_number_and_as_text(seconds):
    expected = datetime.datetime.fromtimestamp(seconds, UTC)
    assert parse_time(seconds) == expected
    assert parse_time(int(seconds)) == datetime.datetime.fromtimestamp(int(seconds), UTC)
    assert parse_time('%d' % int(seconds)) == datetime.datetime.fromtimestamp(int(seconds), UTC)


@SETTINGS
@given(st.integers(min_value=0, max_value=10 ** 6), st.sampled_from('smhdw'), st.sampled_from('+-'))
def test_relative_times_move_from_now(number, unit, sign):
    seconds = number * {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}[unit]
    text = '%s%d%s' % (sign, number, unit)
    try:
        delta = datetime.timedelta(seconds=seconds)
        expected = NOW + delta if sign == '+' else NOW - delta
    except OverflowError:
        # beyond year 1 or 9999: refused with the documented error, not an OverflowError
        try:
            parse_time(text, now=NOW, allow_relative=True)
        except TimeFormatError:
            return
        raise AssertionError('%s is out of range but was accepted' % text)
    assert parse_time(text, now=NOW, allow_relative=True) == expected


@SETTINGS
@given(INSTANTS)
def test_truncate_to_minute_is_idempotent_and_not_later(when):
    minute = truncate_to_minute(when)
    assert minute <= when < minute + datetime.timedelta(minutes=1)
    assert truncate_to_minute(minute) == minute
    assert minute.second == 0 and minute.microsecond == 0


# --- never an exception other than TimeFormatError ---------------------------------------------------------

ISO_LIKE = st.from_regex(
    r'\A[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,9})?)?)?'
    r'(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?\Z')
RELATIVE_LIKE = st.from_regex(r'\A[+-] ?[0-9]{1,25}(\.[0-9]{1,5})?[smhdwSMHDW]\Z')
ANY_VALUE = st.one_of(
    st.text(max_size=40), ISO_LIKE, RELATIVE_LIKE, st.integers(), st.floats(), st.booleans(), st.none(),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.from_regex(r'\A[0-9]{1,400}(\.[0-9]{1,20})?\Z'),
)


@SETTINGS
@given(ANY_VALUE, st.booleans())
@example('9999-12-31T23:59:59-23:59', False)   # later than year 9999 in UTC
@example('0001-01-01T00:00:00+23:59', False)   # earlier than year 1 in UTC
@example('-99999999999w', True)                # further back than a datetime reaches
@example('+9999999999999999999999d', True)
@example('1' * 400, False)                      # epoch seconds far beyond float range
@example(10 ** 400, False)
@example(-10 ** 30, False)
@example(float('nan'), False)
@example(float('-inf'), True)
@example('2026-02-30T00:00:00Z', False)
@example('2026-11-22T24:00:00Z', False)
@example('2026-11-22T10:31:00+24:00', False)
@example('\u0662\u0660\u0662\u0666-11-22T10:31:00Z', False)   # Arabic-Indic digits
def test_parse_time_raises_only_time_format_error(value, allow_relative):
    _parses_or_refuses(value, allow_relative=allow_relative)


@SETTINGS
@given(st.one_of(st.text(max_size=40), ISO_LIKE))
@example('9999-12-31T23:59:59-01:00')
@example('0001-01-01T00:00:00+01:00')
def test_parse_iso_raises_only_time_format_error(text):
    try:
        when = parse_iso(text)
    except TimeFormatError:
        return
    assert when.utcoffset() == datetime.timedelta(0)
