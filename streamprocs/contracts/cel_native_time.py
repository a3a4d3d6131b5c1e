"""CEL timestamps and durations for natively compiled CEL, exact to the nanosecond.

The Rust CEL keeps nanoseconds (chrono), while Python's datetime keeps only
microseconds, so both types are plain integers here: a timestamp is UTC seconds
since the epoch plus nanoseconds (and the parsed UTC offset, which only
``string()`` shows), a duration is a count of nanoseconds. Parsing and
formatting follow what the binding does, including its quirks (see
docs/cel-native.md). Values it handles in ways not modelled here (leap
seconds, durations past chrono's range) raise ``FallBack``.
"""

from __future__ import annotations

import re
from datetime import datetime

from streamprocs.contracts.cel_native_values import fail, fall_back

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1)
_from_iso = datetime.fromisoformat
_I64_MAX = 2**63 - 1
_I64_MIN = -(2**63)


class Timestamp:
    """An instant: ``sec`` UTC seconds since 1970, ``ns`` in [0, 1e9), ``off`` the UTC offset."""

    __slots__ = ("ns", "off", "sec")

    def __init__(self, sec: int, ns: int, off: int) -> None:
        self.sec = sec
        self.ns = ns
        self.off = off

    def __repr__(self) -> str:
        return f"Timestamp({format_timestamp(self)})"


class Duration:
    """A signed span of ``ns`` nanoseconds."""

    __slots__ = ("ns",)

    def __init__(self, ns: int) -> None:
        self.ns = ns

    def __repr__(self) -> str:
        return f"Duration({self.ns}ns)"


# --------------------------------------------------------------------------- calendar


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def _days_in_month(y: int, m: int) -> int:
    if m == 2:
        return 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    return 30 if m in (4, 6, 9, 11) else 31


# The range CEL allows for the result of timestamp arithmetic (the Rust CEL checks it there,
# not when parsing, so timestamp('0000-12-31T23:59:59Z') parses but + duration('0s') fails).
_MIN_SEC = days_from_civil(1, 1, 1) * 86400
_MAX_SEC = days_from_civil(9999, 12, 31) * 86400 + 86399

# chrono's DateTime::parse_from_rfc3339: 4-digit year, 'T', 't' or ' ' between date and
# time, any number of fraction digits (nanoseconds kept), 'Z', 'z' or +-HH:MM, where the
# minus may also be U+2212. ASCII digits only.
# chrono's DateTime::parse_from_rfc3339: 4-digit year, 'T', 't' or ' ' between date and
# time, any number of fraction digits (nanoseconds kept), 'Z', 'z' or +-HH:MM, where the
# minus may also be U+2212. ASCII digits only (re.ASCII).
_FIELDS = ((0, 4), (5, 2), (8, 2), (11, 2), (14, 2), (17, 2))
_RFC3339 = re.compile(
    r"\d\d\d\d-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.(\d+))?(?:[Zz]|([+\-\u2212]\d\d):(\d\d))",
    re.ASCII,
).fullmatch


# Parsed timestamps by their text. Several rules of a contract often read the same
# timestamp fields (payments: captured_at and authorized_at, in two rules each), so the
# second parse of a string in an event is a lookup. Bounded: cleared when full.
_PARSED: dict[str, Timestamp] = {}
_PARSED_MAX = 1024


def parse_timestamp(text: str) -> Timestamp:
    cached = _PARSED.get(text)
    if cached is not None:
        return cached
    parsed = _parse_timestamp(text)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[text] = parsed
    return parsed


def _parse_timestamp(text: str) -> Timestamp:
    m = _RFC3339(text)
    if m is None:
        fail("not an RFC 3339 timestamp")
    sec = _seconds(text)
    frac, hours, minutes = m.groups()
    ns = int(frac[:9].ljust(9, "0")) if frac else 0  # digits past the 9th are dropped
    if hours is None:
        return Timestamp(sec, ns, 0)
    off = int(hours[1:]) * 3600 + int(minutes) * 60
    if off >= 86400 or int(minutes) > 59:
        fail("offset out of range")
    if hours[0] != "+":
        off = -off
    return Timestamp(sec - off, ns, off)


def _seconds(text: str) -> int:
    """Seconds since 1970 of the local date and time in ``text``, already shaped as
    YYYY-MM-DD?HH:MM:SS by the regex (ASCII digits and separators)."""
    if text[11:13] < "24":  # some Pythons' fromisoformat take 24:00 as the next midnight
        try:
            # datetime's C parser checks the ranges (day of month, ...) far faster than
            # Python code; it refuses year 0000 and second 60, handled below.
            parsed = _from_iso(text[:19] if text[10] == "T" else text[:10] + "T" + text[11:19])
        except ValueError:
            pass
        else:
            delta = parsed - _EPOCH
            return delta.days * 86400 + delta.seconds
    return _seconds_slow(text)


def _seconds_slow(text: str) -> int:
    """What datetime refused: year 0000 (chrono accepts it), a leap second, or an error."""
    y, mo, d, h, mi, s = (int(text[a : a + n]) for a, n in _FIELDS)
    if not (1 <= mo <= 12 and 1 <= d <= _days_in_month(y, mo) and h <= 23 and mi <= 59):
        fail("timestamp field out of range")
    if s == 60:
        fall_back()  # a leap second: chrono keeps it as 59 s + 1e9 ns; not modelled
    if s > 60:
        fail("timestamp field out of range")
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s


def format_timestamp(t: Timestamp) -> str:
    """chrono's ``to_rfc3339``: local time at the parsed offset, 0/3/6/9 fraction digits."""
    days, rem = divmod(t.sec + t.off, 86400)
    y, mo, d = civil_from_days(days)
    if not 0 <= y <= 9999:
        fall_back()  # chrono writes such years with a sign; not modelled
    frac = ""
    if t.ns:
        if t.ns % 1_000_000 == 0:
            frac = f".{t.ns // 1_000_000:03d}"
        elif t.ns % 1000 == 0:
            frac = f".{t.ns // 1000:06d}"
        else:
            frac = f".{t.ns:09d}"
    sign = "-" if t.off < 0 else "+"
    oh, om = divmod(abs(t.off) // 60, 60)
    return (
        f"{y:04d}-{mo:02d}-{d:02d}T{rem // 3600:02d}:{rem // 60 % 60:02d}:{rem % 60:02d}"
        f"{frac}{sign}{oh:02d}:{om:02d}"
    )


def add_duration(t: Timestamp, ns: int) -> Timestamp:
    sec, n = divmod(t.sec * _NS + t.ns + ns, _NS)
    if not _MIN_SEC <= sec <= _MAX_SEC:
        fail("timestamp overflow")
    return Timestamp(sec, n, t.off)


# --------------------------------------------------------------------------- durations

# chrono's TimeDelta holds at most i64::MAX milliseconds; past that its arithmetic panics.
_DURATION_LIMIT = _I64_MAX * 1_000_000


def check_duration(ns: int) -> Duration:
    if -_DURATION_LIMIT <= ns <= _DURATION_LIMIT:
        return Duration(ns)
    fall_back()


# nom 7's `double` (recognize_float): sign, digits with an optional fraction, or a fraction.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DIGITS = re.compile(r"[0-9]+")
# Tried in this order, as the Rust parser does: 'ms' before 'm'.
_UNITS = (("ms", 10**6), ("us", 10**3), ("ns", 1), ("h", 3600 * _NS), ("m", 60 * _NS), ("s", _NS))


def _number_end(text: str, i: int) -> int:
    """End of the number at ``i``, or -1 if there is none. An 'e' without digits after it is
    a hard parse failure (nom's ``cut``), even after valid terms: '1h2e' is an error."""
    m = _NUMBER.match(text, i)
    if m is None:
        word = text[i : i + 3]
        if word.isascii() and word.lower() in ("nan", "inf"):  # unsigned only, as nom has them
            return i + 3
        return -1
    j = m.end()
    if j < len(text) and text[j] in "eE":
        k = j + 1
        if k < len(text) and text[k] in "+-":
            k += 1
        digits = _DIGITS.match(text, k)
        if digits is None:
            fail("bad exponent in duration")
        j = digits.end()
    return j


def parse_duration(text: str) -> Duration:
    """The Rust CEL's duration parser (nom): ``-``? then one or more number+unit terms.

    Its quirks, kept: parsing stops at the first term that does not parse and the
    rest is ignored ('1h 30m' is 1h); each term's number may carry its own sign
    and exponent ('1h-30m' is 30m, '1e3s' is 1000s); 'inf' and 'nan' are numbers;
    each term is ``trunc(number * unit_ns)`` saturated to i64 (nan -> 0).
    """
    i = 1 if text.startswith("-") else 0
    if text[i:] == "0":
        return Duration(0)
    total = 0
    terms = 0
    while True:
        j = _number_end(text, i)
        if j < 0:
            break
        unit = next((u for u in _UNITS if text.startswith(u[0], j)), None)
        if unit is None:
            break
        name, scale = unit
        value = float(text[i:j]) * float(scale)
        if value != value:
            ns = 0
        elif value >= 9.223372036854775807e18:
            ns = _I64_MAX
        elif value <= -9.223372036854775808e18:
            ns = _I64_MIN
        else:
            ns = int(value)
        total += ns
        terms += 1
        i = j + len(name)
    if not terms:
        fail("not a duration")
    return check_duration(-total if text.startswith("-") else total)


def format_duration(ns: int) -> str:
    """Go's ``Duration.String`` as the Rust CEL ports it, including its bug: a negative
    duration is printed as ``-`` and the two's-complement u64 (-1.5s prints as
    '-5124095h34m32.209551616s')."""
    if not _I64_MIN <= ns <= _I64_MAX:
        fall_back()  # the port takes another path past i64 nanoseconds; not modelled
    neg = ns < 0
    u = ns % 2**64
    if u == 0:
        return "0s"
    if u < 1000:
        body = f"{u}ns"
    elif u < 1_000_000:
        body = f"{u // 1000}{_fraction(u % 1000, 3)}µs"
    elif u < _NS:
        body = f"{u // 1_000_000}{_fraction(u % 1_000_000, 6)}ms"
    else:
        whole = u // _NS
        body = f"{whole % 60}{_fraction(u % _NS, 9)}s"
        minutes = whole // 60
        if minutes:
            body = f"{minutes % 60}m{body}"
            if minutes // 60:
                body = f"{minutes // 60}h{body}"
    return "-" + body if neg else body


def _fraction(frac: int, prec: int) -> str:
    """``.digits`` of ``frac / 10**prec`` without trailing zeros; empty when zero."""
    digits = f"{frac:0{prec}d}".rstrip("0")
    return "." + digits if digits else ""
