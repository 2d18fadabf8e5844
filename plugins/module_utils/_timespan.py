# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
""".NET ``TimeSpan`` text -> ticks, seconds and ISO 8601 durations.  Pure functions, no Ansible.

Windows Azure Pack writes a metric's time grain as a .NET ``TimeSpan``.  The
forms understood here:

- constant ("c", what ``TimeSpan.ToString()`` writes): ``[-][d.]hh:mm:ss[.fffffff]``
  such as ``1.00:00:00`` (one day), ``00:05:00``, ``-00:00:30``, ``00:00:00.5``;
- general ("g"): ``[-][d:]h:mm:ss[.fffffff]`` such as ``1:0:00:00``;
- ``[-][d.]hh:mm`` (no seconds), as ``TimeSpan.Parse`` accepts;
- an ISO 8601 duration of days, hours, minutes and seconds such as ``P1D``,
  ``PT5M``, ``-PT30S`` (what WCF's JSON and XML serializers write).

The range is .NET's: -10675199.02:48:05.4775808 to 10675199.02:48:05.4775807
(a signed 64-bit count of 100-nanosecond ticks).
"""

from __future__ import annotations

import re

TICKS_PER_SECOND = 10 ** 7
TICKS_PER_MINUTE = 60 * TICKS_PER_SECOND
TICKS_PER_HOUR = 60 * TICKS_PER_MINUTE
TICKS_PER_DAY = 24 * TICKS_PER_HOUR
MAX_TICKS = 2 ** 63 - 1
MIN_TICKS = -(2 ** 63)

_CLOCK = re.compile(
    r'^(?P<sign>-)?'
    r'(?:(?P<days>\d{1,8})\.(?=\d{1,2}:)|(?P<gdays>\d{1,8}):(?=\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?$))?'
    r'(?P<h>\d{1,2}):(?P<m>\d{1,2})'
    r'(?::(?P<s>\d{1,2})(?:\.(?P<frac>\d{1,7}))?)?$'
)
_ISO = re.compile(
    r'^(?P<sign>-)?P(?!$)'
    r'(?:(?P<days>\d+(?:[.,]\d+)?)D)?'
    r'(?:T(?=\d)(?:(?P<h>\d+(?:[.,]\d+)?)H)?(?:(?P<m>\d+(?:[.,]\d+)?)M)?(?:(?P<s>\d+(?:[.,]\d{1,7})?)S)?)?$',
    re.IGNORECASE,
)

FORMS = "[-][d.]hh:mm:ss[.fffffff] (e.g. 1.00:00:00, 00:05:00, -00:00:30) or an ISO 8601 duration (P1D, PT5M)"


class TimeSpanError(ValueError):
    """Text that is no .NET TimeSpan; the message names the accepted forms."""


def parse_timespan(text):
    """The number of 100-nanosecond ticks (an ``int``) in a TimeSpan text; raises ``TimeSpanError``."""
    if not isinstance(text, str):
        raise TimeSpanError('%r is not a TimeSpan: expected %s' % (text, FORMS))
    value = text.strip()
    match = _CLOCK.match(value)
    if match:
        ticks = _clock_ticks(match, text)
    else:
        match = _ISO.match(value)
        if not match:
            raise TimeSpanError('%r is not a TimeSpan: expected %s' % (text, FORMS))
        try:
            ticks = _iso_ticks(match)
        except ValueError:
            # int() refuses more than 4300 digits (Python 3.11+, 3.10.7+): far beyond any TimeSpan anyway
            raise TimeSpanError('%r is outside the range of a .NET TimeSpan (about 29,227 years)' % (text,)) from None
    if match.group('sign'):
        ticks = -ticks
    if ticks > MAX_TICKS or ticks < MIN_TICKS:
        raise TimeSpanError('%r is outside the range of a .NET TimeSpan (about 29,227 years)' % (text,))
    return ticks


def _clock_ticks(match, text):
    hours, minutes = int(match.group('h')), int(match.group('m'))
    seconds = int(match.group('s') or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise TimeSpanError('%r is not a TimeSpan: hours must be 0-23, minutes and seconds 0-59' % (text,))
    frac = int((match.group('frac') or '').ljust(7, '0'))
    return (int(match.group('days') or match.group('gdays') or 0) * TICKS_PER_DAY + hours * TICKS_PER_HOUR
            + minutes * TICKS_PER_MINUTE + seconds * TICKS_PER_SECOND + frac)


def _iso_ticks(match):
    ticks = 0
    for group, unit in (('days', TICKS_PER_DAY), ('h', TICKS_PER_HOUR), ('m', TICKS_PER_MINUTE),
                        ('s', TICKS_PER_SECOND)):
        part = match.group(group)
        if part:
            whole, _sep, frac = part.replace(',', '.').partition('.')
            ticks += int(whole) * unit
            if frac:
                # exact decimal arithmetic: fraction digits scaled to ticks of this unit, truncated
                ticks += int(frac) * unit // (10 ** len(frac))
    return ticks


def ticks_to_seconds(ticks):
    """Seconds as an ``int`` when whole, else a ``float``."""
    if ticks % TICKS_PER_SECOND == 0:
        return ticks // TICKS_PER_SECOND
    return ticks / TICKS_PER_SECOND


def ticks_to_iso8601(ticks):
    """An ISO 8601 duration: ``P1D``, ``PT5M``, ``-PT30S``, ``PT0.5S``, ``P1DT2H``; zero is ``PT0S``.

    Days are 24 hours, as in .NET and Azure Monitor time grains.
    """
    sign = '-' if ticks < 0 else ''
    rest = abs(ticks)
    days, rest = divmod(rest, TICKS_PER_DAY)
    hours, rest = divmod(rest, TICKS_PER_HOUR)
    minutes, rest = divmod(rest, TICKS_PER_MINUTE)
    seconds, frac = divmod(rest, TICKS_PER_SECOND)
    text = sign + 'P' + ('%dD' % days if days else '')
    clock = ''
    if hours:
        clock += '%dH' % hours
    if minutes:
        clock += '%dM' % minutes
    if seconds or frac:
        clock += '%d' % seconds + (('.%07d' % frac).rstrip('0') if frac else '') + 'S'
    if clock:
        text += 'T' + clock
    elif not days:
        text += 'T0S'
    return text


def describe(text):
    """``(seconds, iso8601)`` for a TimeSpan text; raises ``TimeSpanError``."""
    ticks = parse_timespan(text)
    return ticks_to_seconds(ticks), ticks_to_iso8601(ticks)
