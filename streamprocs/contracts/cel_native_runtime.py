"""Run-time helpers for natively compiled CEL: the Rust CEL's operators, in Python.

Values are the plain JSON-decoded Python values (None, bool, int, float, str,
list, dict) plus ``Timestamp`` and ``Duration`` from ``cel_native_time``. Each
helper mirrors what the ``cel`` binding (Rust ``cel`` crate 0.14) does, found
by querying it directly; ``tests/unit/test_cel_native.py`` checks the two agree.
Errors and fallbacks are described in ``cel_native_values``; functions and
conversions are in ``cel_native_functions``.

Fast paths come first in every helper: ``type(x) is int`` rather than
``isinstance`` because bool is a subclass of int in Python but not in CEL.
"""

from __future__ import annotations

import math
from typing import Any

from streamprocs.contracts.cel_native_time import Duration, Timestamp, add_duration, check_duration
from streamprocs.contracts.cel_native_values import (
    INT_MAX,
    INT_MIN,
    FallBack,
    big,
    fail,
    no_big,
)

# --------------------------------------------------------------------------- logic


def truth(v: Any) -> bool:
    """A condition (``? :``, a macro predicate) must be a bool; anything else is an error."""
    if v is True or v is False:
        return v
    fail("condition is not a bool")


def not_(v: Any) -> bool:
    if v is True:
        return False
    if v is False:
        return True
    fail("! needs a bool")


def neg(v: Any) -> Any:
    t = type(v)
    if t is int:
        if v == INT_MIN:
            return v  # the Rust CEL wraps: -(-2^63) is -2^63, not an overflow error
        if v > INT_MAX or v < INT_MIN:
            raise FallBack
        return -v
    if t is float:
        return -v
    if t is bool:
        return not v  # the Rust CEL negates a bool: -true is false
    fail("- needs a number")


# --------------------------------------------------------------------------- arithmetic


def _int_result(a: int, b: int, r: int) -> int:
    no_big(a, b)
    if INT_MIN <= r <= INT_MAX:
        return r
    fail("int overflow")


def add(a: Any, b: Any) -> Any:
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int:
        r = a + b
        if INT_MIN <= r <= INT_MAX and INT_MIN <= a <= INT_MAX and INT_MIN <= b <= INT_MAX:
            return r
        return _int_result(a, b, r)
    if ta is tb and (ta is float or ta is str or ta is list):
        return a + b
    if ta is list and tb is dict:
        # The Rust CEL appends the map's keys ([1] + {'a': 2} is [1, 'a']), in hash order.
        if len(b) > 1:
            raise FallBack
        return a + list(b)
    no_big(a, b)
    if ta is Timestamp and tb is Duration:
        return add_duration(a, b.ns)
    if ta is Duration and tb is Duration:
        return check_duration(a.ns + b.ns)
    # duration + timestamp is an error in the Rust CEL (only timestamp + duration is defined).
    fail("+ not defined for these types")


def sub(a: Any, b: Any) -> Any:
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int:
        r = a - b
        if INT_MIN <= r <= INT_MAX and INT_MIN <= a <= INT_MAX and INT_MIN <= b <= INT_MAX:
            return r
        return _int_result(a, b, r)
    if ta is float and tb is float:
        return a - b
    no_big(a, b)
    if ta is Timestamp:
        if tb is Timestamp:
            return Duration((a.sec - b.sec) * 1_000_000_000 + (a.ns - b.ns))
        if tb is Duration:
            return add_duration(a, -b.ns)
    if ta is Duration and tb is Duration:
        return check_duration(a.ns - b.ns)
    fail("- not defined for these types")


def mul(a: Any, b: Any) -> Any:
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int:
        r = a * b
        if INT_MIN <= r <= INT_MAX and INT_MIN <= a <= INT_MAX and INT_MIN <= b <= INT_MAX:
            return r
        return _int_result(a, b, r)
    if ta is float and tb is float:
        return a * b
    no_big(a, b)
    fail("* not defined for these types")


def div(a: Any, b: Any) -> Any:
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int:
        no_big(a, b)
        if b == 0:
            fail("division by zero")
        if a == INT_MIN and b == -1:
            fail("int overflow")
        q = abs(a) // abs(b)  # CEL truncates toward zero; Python's // floors
        return q if (a < 0) == (b < 0) else -q
    if ta is float and tb is float:
        if b != 0.0:
            return a / b
        # IEEE 754, as Rust: x/±0 is ±inf, 0/0 and nan/0 are nan (Python raises instead).
        if a != a or a == 0.0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    no_big(a, b)
    fail("/ not defined for these types")


def mod(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        no_big(a, b)
        if b == 0:
            fail("modulo by zero")
        if a == INT_MIN and b == -1:
            fail("int overflow")  # Rust's checked_rem: an error, though the result would be 0
        r = abs(a) % abs(b)  # the sign follows the dividend, as in Rust and C
        return -r if a < 0 else r
    no_big(a, b)
    fail("% not defined for these types (not for doubles either)")


# --------------------------------------------------------------------------- comparison


def eq(a: Any, b: Any) -> bool:
    """CEL equality: never an error; int and double compare as ``(double)int == double``."""
    ta = type(a)
    if ta is type(b):
        if ta is int:
            if INT_MIN <= a <= INT_MAX and INT_MIN <= b <= INT_MAX:
                return bool(a == b)
            raise FallBack
        if ta is list:
            return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b, strict=True))
        if ta is dict:
            # Keys are str (JSON) or int (map literals), never bool, so Python's
            # key lookup is exact here.
            if len(a) != len(b):
                return False
            for k, v in a.items():
                if big(k):
                    raise FallBack
                if k not in b or not eq(v, b[k]):
                    return False
            return True
        if ta is Timestamp:
            return bool(a.sec == b.sec and a.ns == b.ns)
        if ta is Duration:
            return bool(a.ns == b.ns)
        return bool(a == b)  # float (nan != nan, as in Rust), str, bool, None
    if ta is int and type(b) is float:
        if big(a):
            raise FallBack
        return bool(float(a) == b)  # lossy on purpose: Rust converts the int with `as f64`
    if ta is float and type(b) is int:
        if big(b):
            raise FallBack
        return bool(a == float(b))
    if big(a) or big(b):
        raise FallBack
    return False


def ne(a: Any, b: Any) -> bool:
    return not eq(a, b)


def cmp(a: Any, b: Any) -> int:
    """-1, 0 or 1; an error for unordered types, for null, lists and maps, and for NaN."""
    ta = type(a)
    tb = type(b)
    if ta is tb:
        if ta is int:
            no_big(a, b)
        elif ta is float:
            if a != a or b != b:
                fail("nan is not ordered")
        elif ta is Timestamp:
            a, b = (a.sec, a.ns), (b.sec, b.ns)
        elif ta is Duration:
            a, b = a.ns, b.ns
        elif ta is not str and ta is not bool:
            fail("values are not ordered")
    elif ta is int and tb is float:
        no_big(a, b)
        a = float(a)  # lossy on purpose, as Rust's `as f64`
        if b != b:
            fail("nan is not ordered")
    elif ta is float and tb is int:
        no_big(a, b)
        b = float(b)
        if a != a:
            fail("nan is not ordered")
    else:
        no_big(a, b)
        fail("values are not ordered")
    return -1 if a < b else (1 if a > b else 0)


def lt(a: Any, b: Any) -> bool:
    ta = type(a)
    if ta is type(b) and (ta is str or (ta is int and INT_MIN <= a <= INT_MAX >= b >= INT_MIN)):
        return bool(a < b)
    return cmp(a, b) < 0


def le(a: Any, b: Any) -> bool:
    ta = type(a)
    if ta is type(b) and (ta is str or (ta is int and INT_MIN <= a <= INT_MAX >= b >= INT_MIN)):
        return bool(a <= b)
    return cmp(a, b) <= 0


def gt(a: Any, b: Any) -> bool:
    ta = type(a)
    if ta is type(b) and (ta is str or (ta is int and INT_MIN <= a <= INT_MAX >= b >= INT_MIN)):
        return bool(a > b)
    return cmp(a, b) > 0


def ge(a: Any, b: Any) -> bool:
    ta = type(a)
    if ta is type(b) and (ta is str or (ta is int and INT_MIN <= a <= INT_MAX >= b >= INT_MIN)):
        return bool(a >= b)
    return cmp(a, b) >= 0


def in_(a: Any, b: Any) -> bool:
    tb = type(b)
    if tb is list:
        return any(eq(a, x) for x in b)
    if tb is dict:
        ta = type(a)
        if ta is str:
            return a in b
        if ta is int:
            if big(a):
                raise FallBack
            return a in b
        if ta is bool:
            return False  # no map here has bool keys, and Python would find True under 1
        fail("invalid map key type")
    no_big(a, b)
    fail("in needs a list or a map")


# --------------------------------------------------------------------------- access


def str_fields(items: list[Any], field: str) -> list[str] | None:
    """``item[field]`` of every item when each is a map holding a string there, else None."""
    out = []
    for item in items:
        if type(item) is not dict:
            return None
        value = item.get(field)
        if type(value) is not str:
            return None
        out.append(value)
    return out


def select(t: Any, field: str) -> Any:
    if type(t) is dict:
        return t[field]  # KeyError: a missing field is an error in CEL
    fail("field selection needs a map")


def has(t: Any, field: str) -> bool:
    if type(t) is dict:
        return field in t
    fail("has() needs a map")


def index(t: Any, i: Any) -> Any:
    tt = type(t)
    ti = type(i)
    if tt is list:
        if ti is int and 0 <= i < len(t):
            return t[i]  # no negative wrap-around, unlike Python
        fail("index out of bounds or not an int")
    if tt is dict:
        if ti is str or ti is int:
            return t[i]  # an int beyond int64 is never a key here: KeyError, as in Rust
        fail("invalid map key type")  # bool keys never exist here; other types are errors
    fail("cannot index this value")


def size(v: Any) -> int:
    t = type(v)
    if t is str:
        # The Rust CEL counts UTF-8 bytes, not code points: size('é') == 2.
        return len(v) if v.isascii() else len(v.encode("utf-8"))
    if t is list or t is dict:
        return len(v)
    fail("size() needs a string, list or map")
