# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._time import (
    TimeFormatError,
    format_utc,
    parse_iso,
    parse_time,
    truncate_to_minute,
)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 22, 10, 31, 17, tzinfo=UTC)


@pytest.mark.parametrize('text, expected', [
    ('2013-06-22T07:00:00.0000000Z', datetime.datetime(2013, 6, 22, 7, 0, tzinfo=UTC)),
    ('2013-06-22T07:00:00.1234567Z', datetime.datetime(2013, 6, 22, 7, 0, 0, 123456, tzinfo=UTC)),
    ('2013-06-22T07:00:00.5Z', datetime.datetime(2013, 6, 22, 7, 0, 0, 500000, tzinfo=UTC)),
    ('2013-06-22T07:00:00Z', datetime.datetime(2013, 6, 22, 7, 0, tzinfo=UTC)),
    ('2013-06-22T00:00:00-07:00', datetime.datetime(2013, 6, 22, 7, 0, tzinfo=UTC)),
    ('2013-06-22T09:30:00+0230', datetime.datetime(2013, 6, 22, 7, 0, tzinfo=UTC)),
    ('2013-06-22T09:00:00+02', datetime.datetime(2013, 6, 22, 7, 0, tzinfo=UTC)),
    ('2013-06-22T07:00:00', datetime.datetime(2013, 6, 22, 7, 0, tzinfo=UTC)),
    ('2013-06-22T07:00:00.12', datetime.datetime(2013, 6, 22, 7, 0, 0, 120000, tzinfo=UTC)),
    ('2013-06-22 07:00', datetime.datetime(2013, 6, 22, 7, 0, tzinfo=UTC)),
    ('2013-06-22', datetime.datetime(2013, 6, 22, tzinfo=UTC)),
])
def test_parse_iso_forms(text, expected):
    assert parse_iso(text) == expected


@pytest.mark.parametrize('text', ['2013-13-01T00:00:00Z', '2013-06-22T25:00:00Z', '22/06/2013', 'yesterday', '',
                                  '2013-06-22T07:00:00+25:00', '2013-06-22T07:00:00ZZ'])
def test_parse_iso_rejects(text):
    with pytest.raises(TimeFormatError):
        parse_iso(text)


def test_parse_time_epoch_and_relative():
    assert parse_time(1700000000) == datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert parse_time('1700000000') == parse_time(1700000000)
    assert parse_time('now', now=NOW, allow_relative=True) == NOW
    assert parse_time('-7d', now=NOW, allow_relative=True) == NOW - datetime.timedelta(days=7)
    assert parse_time('-30m', now=NOW, allow_relative=True) == NOW - datetime.timedelta(minutes=30)
    assert parse_time('+2h', now=NOW, allow_relative=True) == NOW + datetime.timedelta(hours=2)


@pytest.mark.parametrize('value', ['-7d', 'now', float('nan'), float('inf'), True, None, [], '1e400'])
def test_parse_time_rejects_without_relative(value):
    with pytest.raises(TimeFormatError):
        parse_time(value)


def test_parse_time_message_lists_forms():
    with pytest.raises(TimeFormatError, match='relative time'):
        parse_time('last tuesday', allow_relative=True)


def test_format_and_truncate():
    when = datetime.datetime(2013, 6, 22, 7, 5, 9, 123456, tzinfo=UTC)
    assert format_utc(when) == '2013-06-22T07:05:09Z'
    assert format_utc(when, 7) == '2013-06-22T07:05:09.1234560Z'
    assert truncate_to_minute(when) == datetime.datetime(2013, 6, 22, 7, 5, tzinfo=UTC)


def test_parse_time_keeps_the_specific_reason():
    with pytest.raises(TimeFormatError, match='not a valid date and time'):
        parse_time('2026-13-01T00:00:00Z')
    with pytest.raises(TimeFormatError, match='not a valid UTC offset'):
        parse_time('2026-01-01T00:00:00+25:00')
