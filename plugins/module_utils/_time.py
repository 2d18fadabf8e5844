# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time parsing shared by the modules: ISO 8601 (every form WAP and users write), epoch seconds, relative times.

Works on Python 3.10, whose ``datetime.fromisoformat`` accepts neither ``Z``
nor seven fraction digits, so the parsing is done here.
"""

from __future__ import annotations

import datetime
import math
import re

UTC = datetime.timezone.utc

_ISO = re.compile(
    r'^(?P<date>\d{4}-\d{2}-\d{2})'
    r'(?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?)?'
    r'\s*(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?$'
)
_RELATIVE = re.compile(r'^(?P<sign>[+-])\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>s|m|h|d|w)$', re.IGNORECASE)
_UNIT_SECONDS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}


class TimeFormatError(ValueError):
    """A value that is no time this module understands; the message says which forms are."""


def parse_iso(value, naive_tz=UTC):
    """An aware ``datetime`` from ISO 8601; a value without a zone is taken in ``naive_tz``.

    Accepts ``T`` or a space, 0 to 9 fraction digits (beyond microseconds they
    are truncated), ``Z``, ``+hh:mm``, ``+hhmm`` and ``+hh``.
    """
    match = _ISO.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise TimeFormatError('%r is not an ISO 8601 date and time (e.g. 2026-11-22T10:31:00Z)' % (value,))
    try:
        year, month, day = (int(x) for x in match.group('date').split('-'))
        frac = (match.group('frac') or '').ljust(6, '0')[:6]
        when = datetime.datetime(year, month, day, int(match.group('h') or 0), int(match.group('m') or 0),
                                 int(match.group('s') or 0), int(frac))
    except ValueError as exc:
        raise TimeFormatError('%r is not a valid date and time: %s' % (value, exc)) from None
    when = when.replace(tzinfo=_zone(match.group('tz')) or naive_tz)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        raise TimeFormatError('%r is outside the range of dates (years 1 to 9999 in UTC)' % (value,)) from None


def _zone(text):
    if not text:
        return None
    if text in ('Z', 'z'):
        return UTC
    sign = -1 if text[0] == '-' else 1
    digits = text[1:].replace(':', '')
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise TimeFormatError('%r is not a valid UTC offset' % text)
    return datetime.timezone(sign * datetime.timedelta(hours=hours, minutes=minutes))


def parse_time(value, now=None, allow_relative=False):
    """An aware UTC ``datetime`` from ISO 8601, epoch seconds (int, float or digits), or, when allowed,
    ``now`` and relative forms such as ``-7d``, ``-30m``, ``+2h`` (units s, m, h, d, w).
    """
    now = now or datetime.datetime.now(UTC)
    if isinstance(value, datetime.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, bool):
        raise TimeFormatError('%r is not a time' % (value,))
    if isinstance(value, (int, float)):
        return _from_epoch(value)
    if not isinstance(value, str):
        raise TimeFormatError('%r is not a time' % (value,))
    text = value.strip()
    if re.match(r'^\d+(\.\d+)?$', text):
        return _from_epoch(float(text))
    if allow_relative:
        if text.lower() == 'now':
            return now
        match = _RELATIVE.match(text)
        if match:
            seconds = float(match.group('num')) * _UNIT_SECONDS[match.group('unit').lower()]
            try:
                return now + datetime.timedelta(seconds=seconds if match.group('sign') == '+' else -seconds)
            except OverflowError:
                raise TimeFormatError('%r is too far from now (the range of dates is years 1 to 9999)'
                                      % (value,)) from None
    try:
        return parse_iso(text)
    except TimeFormatError as exc:
        if 'is not an ISO 8601' not in str(exc):
            raise  # the shape was right; its own reason (month 13, bad offset, out of range) says more
        forms = 'ISO 8601 (2026-11-22T10:31:00Z), epoch seconds'
        if allow_relative:
            forms += ", 'now' or a relative time such as -7d, -30m, +2h"
        raise TimeFormatError('%r is not a time: use %s' % (value, forms)) from None


def _from_epoch(seconds):
    try:
        finite = math.isfinite(seconds)
    except OverflowError:   # an int beyond the range of a double
        raise TimeFormatError('%r epoch seconds is out of range' % (seconds,)) from None
    if not finite:
        raise TimeFormatError('%r is not a time' % (seconds,))
    try:
        return datetime.datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise TimeFormatError('%r epoch seconds is out of range' % (seconds,)) from None


def format_utc(when, fraction_digits=0):
    """``2026-11-22T10:31:00Z``: UTC with ``Z``; ``fraction_digits`` (0 to 7) as .NET round-trip writes them."""
    when = when.astimezone(UTC)
    # not strftime('%Y'): glibc writes years before 1000 without leading zeros, which is no ISO 8601
    text = '%04d-%02d-%02dT%02d:%02d:%02d' % (when.year, when.month, when.day, when.hour, when.minute, when.second)
    if fraction_digits:
        text += '.' + ('%06d' % when.microsecond + '0')[:fraction_digits]
    return text + 'Z'


def truncate_to_minute(when):
    return when.astimezone(UTC).replace(second=0, microsecond=0)
