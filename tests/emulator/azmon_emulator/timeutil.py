"""Time parsing and formatting that works the same on Python 3.10 to 3.13."""

import datetime
import re

UTC = datetime.timezone.utc

_ISO_RE = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$")

_TIMESPAN_RE = re.compile(r"^(?P<neg>-)?(?:(?P<d>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d{1,7}))?$")
_DURATION_RE = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


def utcnow():
    return datetime.datetime.now(UTC)


def parse_iso(text, default_tz=None):
    """Parse an ISO 8601 time (``Z``, offsets, 0 to 9 fraction digits).

    Returns an aware datetime, or a naive one when the text has no zone and ``default_tz`` is None.
    Raises ValueError on anything else.
    """
    if not isinstance(text, str):
        raise ValueError("not a string")
    match = _ISO_RE.match(text.strip())
    if not match:
        raise ValueError("not an ISO 8601 date-time: %r" % text)
    frac = (match.group("f") or "0")[:6].ljust(6, "0")
    value = datetime.datetime(int(match.group("y")), int(match.group("mo")), int(match.group("d")),
                              int(match.group("h")), int(match.group("mi")), int(match.group("s") or 0), int(frac))
    tz = match.group("tz")
    if tz is None:
        return value.replace(tzinfo=default_tz) if default_tz else value
    if tz in ("Z", "z"):
        return value.replace(tzinfo=UTC)
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return value.replace(tzinfo=datetime.timezone(sign * offset))


def iso_z(value, digits=0):
    """Format an aware datetime in UTC with ``Z`` and ``digits`` fraction digits (0, 3, 6 or 7)."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + ("%06d" % value.microsecond + "0")[:digits]
    return text + "Z"


def parse_timespan(text):
    """Parse a .NET TimeSpan ``[-][d.]hh:mm:ss[.fffffff]`` into a timedelta."""
    match = _TIMESPAN_RE.match(text or "")
    if not match:
        raise ValueError("not a .NET TimeSpan: %r" % text)
    delta = datetime.timedelta(days=int(match.group("d") or 0), hours=int(match.group("h")),
                               minutes=int(match.group("m")), seconds=int(match.group("s")),
                               microseconds=int((match.group("f") or "0").ljust(7, "0")) // 10)
    return -delta if match.group("neg") else delta


def parse_duration(text):
    """Parse an ISO 8601 duration of days/hours/minutes/seconds (``PT1M``, ``P1D``)."""
    match = _DURATION_RE.match(text or "")
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError("not an ISO 8601 duration: %r" % text)
    return datetime.timedelta(days=int(match.group("d") or 0), hours=int(match.group("h") or 0),
                              minutes=int(match.group("m") or 0), seconds=float(match.group("s") or 0))


def format_duration(delta):
    seconds = int(delta.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = "P" + ("%dD" % days if days else "")
    if hours or minutes or seconds or not days:
        text += "T" + ("%dH" % hours if hours else "") + ("%dM" % minutes if minutes else "") + \
            ("%dS" % seconds if seconds or not (hours or minutes) else "")
    return text
