"""The hot path's shortcut for rules (``rules.held_prefix``) agrees with ``check_rules``.

``CompiledVersion.check_value`` returns VALID as soon as the shortcut says every
applicable rule holds, and only otherwise asks ``check_rules`` for the
violations. So the shortcut must never say True where ``check_rules`` finds a
violation (of any severity), and should say True wherever it finds none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamprocs.contracts import compiler
from streamprocs.contracts.cel_native import compile_held
from streamprocs.contracts.model import Rule
from streamprocs.contracts.rules import check_rules, compile_rule, held_prefix
from tests.unit.test_cel_native import perturbed
from tests.unit.test_validator_properties import (
    CONTRACTS,
    VERSION_IDS,
    VERSIONS,
    compiled,
    keyed,
    schema_values,
    shaped,
    small_version,
)


def agree(key: tuple[str, int], event: dict[str, Any]) -> bool:
    """Assert the shortcut agrees with check_rules on ``event``; True if all rules held.

    The untyped shortcut must agree on any event; the typed one (the version's, which
    relies on its schema) on every event the schema accepts.
    """
    version = compiled(key)
    held = held_prefix(version.rules)
    assert held is not None, f"{key}: every example rule compiles natively"
    slow = check_rules(version.rules, event, version.rule_fields)
    first_violation = next((i for i, v in enumerate(slow) if v is not None), len(slow))
    # Past int64 the shortcut stops where the Rust CEL must judge: a shorter count is
    # then right (the rules before it held), a longer one never is.
    exact = not has_big_int(event)
    shortcuts = [held]
    if version._validator.is_valid(event):
        assert version._held is not None
        shortcuts.append(version._held)  # typed: only for events the schema accepts
    for shortcut in shortcuts:
        n = shortcut(event, 0)
        i = -1 - n if n < 0 else n
        assert i == first_violation if exact else i <= first_violation, (key, event, slow)
        if n < 0:  # plainly false: check_rules finds the rule's plain violation
            assert slow[i] is version.rules[i].failed, (key, event, slow)
    # And the verdict check_value builds from rules[n:] is the full one.
    assert version.check_value(event).violations == tuple(v for v in slow if v is not None) or (
        not version._validator.is_valid(event)
    )
    return n == len(slow)


def has_big_int(value: Any) -> bool:
    if type(value) is int:
        return not -(2**63) <= value < 2**63
    if isinstance(value, dict):
        return any(has_big_int(v) for v in value.values())
    if isinstance(value, list):
        return any(has_big_int(v) for v in value)
    return False


@pytest.mark.parametrize("key", VERSIONS, ids=VERSION_IDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_shortcut_agrees_on_shaped_events(key: tuple[str, int], data: st.DataObject) -> None:
    event = data.draw(st.one_of(schema_values(key), shaped(key), perturbed(key), keyed(key)))
    if isinstance(event, dict):
        agree(key, event)


@pytest.mark.parametrize("key", VERSIONS, ids=VERSION_IDS)
def test_shortcut_agrees_on_the_examples(key: tuple[str, int]) -> None:
    """Both answers occur: valid examples hold, and some invalid ones break a rule."""
    contract_id, number = key
    folder = Path(CONTRACTS).joinpath(*contract_id.split("."), "examples")
    answers = []
    for kind in ("valid", "invalid"):
        path = folder / f"v{number}.{kind}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            event = orjson.loads(line) if line.strip() else None
            if isinstance(event, dict):
                answers.append(agree(key, event))
    assert True in answers and False in answers


def rule(expr: str, severity: str = "error") -> Any:
    spec = Rule.model_validate({"id": "r", "expr": expr, "message": "m", "severity": severity})
    return compile_rule(spec, None)


def test_a_failed_warning_is_not_a_hold() -> None:
    """Warnings pass the event, but must still be reported: the slow path names them."""
    warn = (rule("n > 1", "warn"),)
    held = held_prefix(warn)
    assert held is not None
    assert held({"n": 0}, 0) == -1  # plainly false: -1 - index
    assert held({"n": 2}, 0) == 1


def test_a_rule_whose_fields_are_absent_does_not_apply() -> None:
    rules = (rule("n > 1"), rule("m > 1"))
    held = held_prefix(rules)
    assert held is not None
    assert held({"n": 2}, 0) == 2
    assert held({"m": 2}, 0) == 2
    assert held({"n": 0}, 0) == -1
    assert held({"n": 2, "m": "x"}, 0) == 1  # an error is not a hold


def test_no_shortcut_unless_every_rule_is_native() -> None:
    """A rule left to the Rust CEL (``uint`` is outside the native subset) turns it off."""
    assert held_prefix(()) is None
    rust_only = rule("uint(n) > 1u")
    assert rust_only.native is None
    assert held_prefix((rule("n > 1"), rust_only)) is None


def test_fused_rules_count_until_the_first_that_is_not_exactly_true() -> None:
    held = compile_held(["n > 1", "s == 'a'", "l.all(i, i > 0)"])
    assert held is not None
    assert held({"n": 2, "s": "a", "l": [1, 2]}, 0) == 3
    assert held({"n": 0, "s": "a", "l": [1, 2]}, 0) == -1  # false at 0: -1 - 0
    assert held({"n": 2, "s": "b", "l": [1, 2]}, 0) == -2
    assert held({"n": 2, "s": "a", "l": [1, -2]}, 0) == -3
    assert held({"n": "x", "s": "a", "l": []}, 0) == 0  # an error
    assert held({"n": 2, "s": "a", "l": "x"}, 0) == 2  # an error inside a macro
    assert held({"n": 2**64, "s": "a", "l": []}, 0) == 0  # the Rust CEL's to judge
    assert held({"n": 2, "s": "a", "l": {"a": 1, "b": "x"}}, 0) == 2  # hash-order dependent
    assert compile_held(["n > 1", "uint(n) > 1u"]) is None


def test_the_count_resumes_after_a_rule_the_caller_explained() -> None:
    """check_value explains the rule the count stopped at, then resumes after it."""
    event = {"n": 0, "s": "b", "l": [1, -2]}
    for held in (
        compile_held(["n > 1", "s == 'a'", "l.all(i, i > 0)", "n < 1"]),
        held_prefix((rule("n > 1"), rule("s == 'a'"), rule("l.all(i, i > 0)"), rule("n < 1"))),
    ):
        assert held is not None
        assert [held(event, start) for start in range(5)] == [-1, -2, -3, 4, 4]


def test_events_failing_the_same_rules_share_one_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Warnings are common: events plainly failing the same rules get one Verdict object
    (so the router's cached decision), with the rules' plain violations; the cache is
    bounded, and past the bound verdicts are built per event, the same in value."""
    version = small_version(
        [
            {"id": "a_big", "expr": "a > 1", "message": "m", "severity": "warn"},
            {"id": "b_big", "expr": "b > 1", "message": "m", "severity": "warn"},
            {"id": "a_small", "expr": "a < 100", "message": "m"},
        ]
    )
    both = version.check_value({"a": 0, "b": 0})
    assert both.valid
    assert [v.rule for v in both.violations] == ["a_big", "b_big"]
    assert both.violations == (version.rules[0].failed, version.rules[1].failed)
    assert version.check_value({"a": 1, "b": 1}) is both
    only_a = version.check_value({"a": 0})  # b absent: its rule does not apply
    assert [v.rule for v in only_a.violations] == ["a_big"]
    assert only_a is not both and version.check_value({"a": 1, "b": 7}) is only_a
    error = version.check_value({"a": 500, "b": 0})
    assert not error.valid and [v.rule for v in error.violations] == ["b_big", "a_small"]

    monkeypatch.setattr(compiler, "MAX_CACHED_VERDICTS", len(version._verdicts))
    fresh = version.check_value({"a": 2, "b": 0})  # a set not seen before, cache full
    assert fresh == version.check_value({"a": 3, "b": 1})
    assert fresh is not version.check_value({"a": 3, "b": 1})
    assert version.check_value({"a": 0, "b": 0}) is both  # cached ones still shared
