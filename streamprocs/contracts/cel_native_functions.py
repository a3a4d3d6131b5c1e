"""Functions and conversions for natively compiled CEL, as the Rust CEL defines them.

``size``, ``startsWith``/``endsWith``/``contains``, ``int``/``double``/
``string``/``timestamp``/``duration``, and the conversion of a result on its
way out. See ``cel_native_runtime`` for the conventions.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

from streamprocs.contracts.cel_native_time import (
    Duration,
    Timestamp,
    format_duration,
    format_timestamp,
    parse_duration,
    parse_timestamp,
)
from streamprocs.contracts.cel_native_values import INT_MAX, INT_MIN, FallBack, big, fail, no_big

# --------------------------------------------------------------------------- strings


def starts_with(s: Any, p: Any) -> bool:
    if type(s) is str and type(p) is str:
        return s.startswith(p)
    fail("startsWith needs strings")


def ends_with(s: Any, p: Any) -> bool:
    if type(s) is str and type(p) is str:
        return s.endswith(p)
    fail("endsWith needs strings")


def contains(s: Any, p: Any) -> bool:
    if type(s) is str and type(p) is str:
        return p in s
    fail("contains needs strings")


# --------------------------------------------------------------------------- conversions

# Rust's `str::parse::<i64>` and `str::parse::<f64>` grammars; Python's int() and
# float() also take spaces, underscores and non-ASCII digits, which Rust refuses.
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_DOUBLE_TEXT = re.compile(
    r"[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)",
    re.IGNORECASE | re.ASCII,
)


def to_int(v: Any) -> int:
    t = type(v)
    if t is int:
        no_big(v, 0)
        return int(v)
    if t is float:
        # Rust accepts only -2^63 < v < 2^63 (strict at both ends), and not nan.
        if -9.223372036854775808e18 < v < 9.223372036854775808e18:
            return int(v)
        fail("int overflow")
    if t is str:
        if _INT_TEXT.fullmatch(v):
            r = int(v)
            if INT_MIN <= r <= INT_MAX:
                return r
        fail("not an int")
    # int(bool), int(null), int(timestamp), int(duration) are errors in the Rust CEL.
    fail("int() of this type")


def to_double(v: Any) -> float:
    t = type(v)
    if t is int:
        no_big(v, 0)
        return float(v)
    if t is float:
        return float(v)
    if t is str:
        if _DOUBLE_TEXT.fullmatch(v):
            return float(v)
        fail("not a double")
    fail("double() of this type")


def format_double(v: float) -> str:
    """Rust's ``Display`` for f64: the shortest round-trip digits, never an exponent."""
    if v != v:
        return "NaN"
    if v in (math.inf, -math.inf):
        return "inf" if v > 0 else "-inf"
    magnitude = abs(v)
    # repr() gives the shortest round-trip digits, as Rust does. When two shortest
    # candidates are equally close to the exact binary value, Python takes the even one
    # and Rust the upper one (70368744177664.125 prints as ...64.12 and ...64.13).
    digits = Decimal(repr(magnitude))
    exponent = digits.as_tuple().exponent
    assert isinstance(exponent, int)  # not 'n' or 'F': v is finite
    unit = Fraction(10) ** exponent
    if Fraction(magnitude) - Fraction(digits) == unit / 2:
        upper = Fraction(digits) + unit
        if float(upper) == magnitude:
            digits = Decimal(upper.numerator) / Decimal(upper.denominator)
    text = format(digits, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "-" + text if math.copysign(1.0, v) < 0 else text


def to_string(v: Any) -> str:
    t = type(v)
    if t is str:
        return str(v)
    if t is int:
        no_big(v, 0)
        return str(v)
    if t is float:
        return format_double(v)
    if t is Timestamp:
        return format_timestamp(v)
    if t is Duration:
        return format_duration(v.ns)
    # string(bool) and string(null) are errors in the Rust CEL.
    fail("string() of this type")


def to_timestamp(v: Any) -> Timestamp:
    if type(v) is str:
        return parse_timestamp(v)
    if type(v) is Timestamp:
        return v
    fail("timestamp() needs a string")


def to_duration(v: Any) -> Duration:
    if type(v) is str:
        return parse_duration(v)
    if type(v) is Duration:
        return v
    fail("duration() needs a string")


# --------------------------------------------------------------------------- results


def export(v: Any) -> Any:
    """A result as the binding would hand it back: values it converts differently
    (timestamps, durations, ints beyond int64) make the Rust CEL produce it instead."""
    t = type(v)
    if t is list:
        for x in v:
            export(x)
    elif t is dict:
        for k, x in v.items():
            export(k)
            export(x)
    elif t is Timestamp or t is Duration or big(v):
        raise FallBack
    return v
