"""Typed rule code (``cel_native_shapes``) agrees with ``check_rules`` on schema-valid events.

``CompiledVersion.check_value`` runs the fused rules only after the schema
accepted the event, so the fused function may trust the schema's types: it
emits ``a + b`` where the schema bounds both, ``x['f']`` where it says object.
These tests hold that code to the checked path on events the schema accepts,
integral floats (``1.0``, an integer to JSON Schema) and absent optional fields
included, and check that the typed code is really what runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamprocs.contracts.cel_native import generate_held_source
from streamprocs.contracts.cel_native_shapes import EXACT, Shape, shape_of
from streamprocs.contracts.compiler import compile_schema, top_level_properties
from streamprocs.contracts.model import Rule
from streamprocs.contracts.rules import CompiledRule, check_rules, compile_rule, held_prefix
from tests.unit.test_validator_properties import from_schema

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["a", "b", "s", "flag", "items", "obj", "at"],
    "properties": {
        "a": {"type": "integer", "minimum": -5, "maximum": 5},
        "b": {"type": "integer", "minimum": 0, "maximum": 3},
        "big": {"type": "integer", "minimum": 0},  # unbounded above: the helpers stay
        "s": {"type": "string", "maxLength": 3},
        "t": {"type": "string", "maxLength": 3},
        "flag": {"type": "boolean"},
        "at": {"type": "string", "format": "date-time"},
        "at2": {"type": "string", "format": "date-time"},
        "items": {
            "type": "array",
            "maxItems": 4,
            "items": {
                "type": "object",
                "required": ["k", "n"],
                "properties": {
                    "k": {"type": "string", "maxLength": 2},
                    "n": {"type": "integer", "minimum": -3, "maximum": 3},
                    "opt": {"type": "boolean"},
                },
            },
        },
        "obj": {
            "type": "object",
            "required": ["x"],
            "properties": {
                "x": {"type": "integer", "minimum": 0, "maximum": 9},
                "y": {"type": "string", "maxLength": 2},
            },
        },
    },
}

EXPRS = [
    "a + b * 2 - 1 > 0",
    "a - b != 0 && s < 'm' || flag",
    "!flag || has(obj.y)",
    "obj.y == 'ab'",  # obj.y is optional: absent, the select fails
    "items.all(i, i.n * a <= 10)",
    "items.exists(i, i.k == s && i.n >= 0)",
    "items.exists_one(i, i.opt)",  # opt is optional inside items
    "items.all(i, items.exists_one(j, j.k == i.k))",
    "-a < b",
    "t > s",  # t is an optional top-level field: absent, the rule does not apply
    "big > 10",
    "obj.x == a",
    "size(items) <= b + 1",
    "timestamp(at) <= timestamp(at2)",
    "timestamp(at2) - timestamp(at) < duration('8760h')",
    "timestamp(at) == timestamp(at2) || timestamp(at) != timestamp('2001-02-03T04:05:06Z')",
    "items.all(i, timestamp(at) - timestamp(at2) >= duration('-87600h'))",
]

VALIDATOR = compile_schema(SCHEMA)
RULES = tuple(
    compile_rule(
        Rule.model_validate({"id": f"r{i}", "expr": expr, "message": "m"}),
        top_level_properties(SCHEMA),
    )
    for i, expr in enumerate(EXPRS)
)


def as_floats(value: Any, draw: st.DrawFn) -> Any:
    """Some ints as integral floats, which JSON Schema still calls integers."""
    if type(value) is int and draw(st.booleans()):
        return float(value)
    if isinstance(value, dict):
        return {k: as_floats(v, draw) for k, v in value.items()}
    if isinstance(value, list):
        return [as_floats(v, draw) for v in value]
    return value


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = draw(from_schema(SCHEMA))
    if draw(st.booleans()):
        event["big"] = draw(st.sampled_from([0, 11, 2**63 - 1, 2**63, 2**64 - 1]))
    if draw(st.booleans()):
        # An instant near `at`: the same second with another fraction, or the same
        # instant at another offset, where comparing seconds alone would go wrong.
        at = datetime.fromisoformat(event["at"])
        step = draw(st.sampled_from([0, 1, -1, 1_000_000, -1_000_000, 3_600_000_000]))
        zone = draw(st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]))
        event["at2"] = (at + timedelta(microseconds=step)).astimezone(zone).isoformat()
    return as_floats(event, draw) if draw(st.booleans()) else event


def index(n: int) -> int:
    """The rule a shortcut stopped at (``-1 - i`` says rule i was plainly false)."""
    return -1 - n if n < 0 else n


def first_violation(rules: tuple[CompiledRule, ...], event: dict[str, Any]) -> int:
    slow = check_rules(rules, event)
    return next((i for i, v in enumerate(slow) if v is not None), len(slow))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events())
def test_typed_rules_agree_with_check_rules_on_valid_events(event: dict[str, Any]) -> None:
    assert VALIDATOR.is_valid(event), event
    # Past int64 the native code stops and check_rules asks the Rust CEL: a shorter
    # count is then right (the rules before it held), a longer one never is.
    exact = event.get("big", 0) < 2**63
    for rule in RULES:  # each alone, so that every rule is reached
        held = held_prefix((rule,), SCHEMA)
        assert held is not None
        n, expected = index(held(event, 0)), first_violation((rule,), event)
        assert n == expected if exact else n <= expected, (rule.rule.expr, event)
    fused = held_prefix(RULES, SCHEMA)
    assert fused is not None
    slow = check_rules(RULES, event)
    for start in range(len(RULES) + 1):  # resumed after a rule, as check_value does
        raw = fused(event, start)
        n = index(raw)
        if raw < 0:  # plainly false: the rule's plain violation, on the checked path too
            assert slow[n] is RULES[n].failed, (start, event)
        expected = next((i for i in range(start, len(RULES)) if slow[i] is not None), len(RULES))
        assert n == expected if exact else start <= n <= expected, (start, event)


def test_each_outcome_occurs() -> None:
    """Not vacuous: on hand-picked events each rule both holds and does not."""
    base: dict[str, Any] = {
        "a": 2, "b": 1, "s": "a", "t": "b", "flag": True, "big": 11,
        "at": "2026-11-22T07:00:00Z", "at2": "2026-11-22T08:00:00.5+01:00",
        "items": [{"k": "a", "n": 1, "opt": True}], "obj": {"x": 2, "y": "ab"},
    }  # fmt: skip
    held = held_prefix(RULES, SCHEMA)
    assert held is not None
    assert held(base, 0) == len(RULES)
    assert held({**base, "a": 2.0, "obj": {"x": 2.0, "y": "ab"}}, 0) == len(RULES)
    assert held({**base, "a": -5}, 0) == -1  # plainly false at 0
    assert held({**base, "obj": {"x": 2}}, 0) == -3  # has(obj.y) is false, flag is true
    absent_t = {k: v for k, v in base.items() if k != "t"}
    assert held(absent_t, 0) == len(RULES)  # t > s does not apply
    assert held({**base, "big": 2**64 - 1}, 0) == EXPRS.index("big > 10")  # the Rust CEL judges
    assert held({**base, "items": [{"k": "a", "n": 1}]}, 0) == 6  # opt absent: an error
    later_in_the_second = {**base, "at": "2026-11-22T07:00:00.6Z"}  # at2 is 07:00:00.5Z
    assert held(later_in_the_second, 0) == -1 - EXPRS.index("timestamp(at) <= timestamp(at2)")


def test_typed_code_is_what_runs() -> None:
    """Bounded ints become operators, objects plain lookups; unbounded ints keep helpers."""
    fields = [rule.fields for rule in RULES]
    typed = generate_held_source(EXPRS, fields, SCHEMA)
    untyped = generate_held_source(EXPRS, fields)
    assert typed is not None and untyped is not None
    assert "((V['a'] + (V['b'] * 2)) - 1) > 0" in typed
    assert "_add(" in untyped and "_add(" not in typed
    assert "_gt(V['big'], 10)" in typed  # unbounded: a value past int64 is possible
    assert "('y' in V['obj'])" in typed
    assert "if _s <= 9 and 't' in V:" in typed and "if _s <= 10 and 'big' in V:" in typed
    assert "if _s <= 0:" in typed  # a and b are required: the schema guarantees them
    assert "if _s <= 0 and 'a' in V and 'b' in V:" in untyped
    assert "_le(_timestamp(" in untyped and "_le(" not in typed
    assert "(len(V['items']) <= (V['b'] + 1))" in typed
    assert ".sec) * 1000000000 + (" in typed  # a duration compared by its nanoseconds


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "integer", "minimum": 0, "maximum": 10}, Shape("int", 0, 10)),
        ({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10}, Shape("int", 1, 9)),
        ({"type": "integer", "minimum": 0.5, "maximum": 9.5}, Shape("int", 1, 9)),
        ({"type": "integer", "minimum": 0}, None),  # unbounded above
        ({"type": "integer", "minimum": 0, "maximum": EXACT + 1}, None),
        ({"type": "number", "minimum": 0, "maximum": 1}, None),
        ({"type": ["integer", "null"], "minimum": 0, "maximum": 1}, None),
        ({"minimum": 0, "maximum": 1}, None),
        ({"type": "string"}, Shape("str")),
        (
            {"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "string"}},
            Shape("array"),  # items after prefixItems only: no item shape
        ),
        (True, None),
    ],
)
def test_shape_of(schema: Any, expected: Shape | None) -> None:
    assert shape_of(schema) == expected
