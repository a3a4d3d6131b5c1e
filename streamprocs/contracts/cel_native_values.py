"""The value model shared by the natively compiled CEL helpers: errors and fallbacks.

Two ways out of a helper:

* ``CelError`` (or any other ``Exception``, such as ``KeyError`` for a missing
  map key): the expression has no value, as the Rust CEL would raise.
* ``FallBack`` (a ``BaseException``, so the error absorption of ``&&``/``||``
  never swallows it): a value was met that the helpers do not model exactly,
  such as an int beyond int64 (the binding turns those into uint or double)
  or a leap second. The compiled function then evaluates the whole expression
  with the Rust CEL, so rare inputs stay exact without modelling every corner.
"""

from __future__ import annotations

from typing import Any, NoReturn

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1


class CelError(Exception):
    """The expression has no value: the Rust CEL raises here too."""


class FallBack(BaseException):
    """Evaluate this expression with the Rust CEL instead; see the module docstring."""


def fail(what: str = "no such overload") -> NoReturn:
    raise CelError(what)


def fall_back() -> NoReturn:
    raise FallBack


def big(v: Any) -> bool:
    """An int outside int64: the binding makes it a uint or a double, which is not modelled."""
    return type(v) is int and not INT_MIN <= v <= INT_MAX


def no_big(a: Any, b: Any) -> None:
    if big(a) or big(b):
        raise FallBack
