"""What a contract's JSON Schema guarantees about the values its rules read.

Rules run only on events the schema accepted, so a field the schema types as
``integer`` with ``minimum`` and ``maximum`` holds a number in that range, a
``required`` property is there, an ``array`` is a list. The fused rule function
(``Gen.held_function``) uses these guarantees to emit plain Python operators
instead of the helpers that check types and int64 overflow on every call.

Only guarantees that hold whatever else the schema says are taken: JSON Schema
keywords are conjunctive, so ``type`` at a node constrains every valid value
there, whatever ``allOf``, ``$ref`` or ``anyOf`` sit beside it. A node without a
single ``type`` gives no shape, and the helpers stay. JSON Schema calls ``1.0``
an integer, so an ``integer`` value may be an integral float: its shape is only
used where Python's operators give the same truth as CEL's after integral floats
become ints (see ``rules.check_rules``), which bounded magnitudes ensure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Integral floats are exact up to here, so +, - and * of bounded values whose result
# stays within it give the same number as int arithmetic, with no int64 overflow.
EXACT = 2**53


@dataclass(frozen=True, slots=True)
class Shape:
    kind: str  # "int", "str", "bool", "object", "array", "timestamp" or "duration"
    lo: int = 0  # int: inclusive bounds, within +-EXACT
    hi: int = 0
    properties: tuple[tuple[str, Shape | None], ...] = ()  # object: declared properties
    required: frozenset[str] = frozenset()  # object: properties always present
    items: Shape | None = None  # array: the shape of every item

    def field(self, name: str) -> Shape | None:
        for key, shape in self.properties:
            if key == name:
                return shape
        return None


BOOL = Shape("bool")
STR = Shape("str")
# CEL values of the rules themselves: timestamp(a string), a - b of two timestamps.
TIMESTAMP = Shape("timestamp")
DURATION = Shape("duration")


def int_shape(lo: int, hi: int) -> Shape | None:
    """An int shape, or None when the bounds leave the exactly representable range."""
    if -EXACT <= lo <= hi <= EXACT:
        return Shape("int", lo, hi)
    return None


def shape_of(schema: Any, depth: int = 0) -> Shape | None:
    """The shape every value valid against ``schema`` has, or None when it has none."""
    if not isinstance(schema, dict) or depth > 32:
        return None
    kind = schema.get("type")
    if kind == "string":
        return STR
    if kind == "boolean":
        return BOOL
    if kind == "integer":
        return _integer(schema)
    if kind == "object":
        props = schema.get("properties")
        required = schema.get("required")
        return Shape(
            "object",
            properties=tuple((name, shape_of(sub, depth + 1)) for name, sub in props.items())
            if isinstance(props, dict)
            else (),
            required=frozenset(r for r in required if isinstance(r, str))
            if isinstance(required, list)
            else frozenset(),
        )
    if kind == "array":
        # With prefixItems, `items` covers only the items after them.
        items = schema.get("items")
        shaped = shape_of(items, depth + 1) if "prefixItems" not in schema else None
        return Shape("array", items=shaped)
    return None


def _integer(schema: dict[str, Any]) -> Shape | None:
    lo = _bound(schema, "minimum", "exclusiveMinimum", math.ceil, 1)
    hi = _bound(schema, "maximum", "exclusiveMaximum", math.floor, -1)
    if lo is None or hi is None:
        return None  # unbounded: a value past int64 is the helpers' (and the Rust CEL's) case
    return int_shape(lo, hi)


def _bound(
    schema: dict[str, Any], inclusive: str, exclusive: str, rounding: Any, step: int
) -> int | None:
    """The tightest integer bound the keywords give, or None without one."""
    found: list[int] = []
    for key, shift in ((inclusive, 0), (exclusive, step)):
        value = schema.get(key)
        if (type(value) is int or type(value) is float) and math.isfinite(value):
            edge = rounding(value)
            # An exclusive bound excludes itself only when it is an integer.
            found.append(edge + shift if edge == value else edge)
    if not found:
        return None
    return max(found) if step > 0 else min(found)
