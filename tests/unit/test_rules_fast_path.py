"""The hot path's shortcut for rules (``rules.all_hold``) agrees with ``check_rules``.

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

from streamprocs.contracts.model import Rule
from streamprocs.contracts.rules import all_hold, check_rules, compile_rule
from tests.unit.test_cel_native import perturbed
from tests.unit.test_validator_properties import (
    CONTRACTS,
    VERSION_IDS,
    VERSIONS,
    compiled,
    keyed,
    schema_values,
    shaped,
)


def agree(key: tuple[str, int], event: dict[str, Any]) -> bool:
    """Assert the shortcut agrees with check_rules on ``event``; return its answer."""
    version = compiled(key)
    hold = all_hold(version.rules)
    assert hold is not None, f"{key}: every example rule compiles natively"
    fast = hold(event, version.rule_fields <= event.keys())
    slow = check_rules(version.rules, event, version.rule_fields)
    assert fast == all(v is None for v in slow), (key, event, slow)
    return fast


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
    hold = all_hold(warn)
    assert hold is not None
    assert hold({"n": 0}, True) is False
    assert hold({"n": 2}, True) is True


def test_a_rule_whose_fields_are_absent_does_not_apply() -> None:
    rules = (rule("n > 1"), rule("m > 1"))
    hold = all_hold(rules)
    assert hold is not None
    assert hold({"n": 2}, False) is True
    assert hold({"n": 0}, False) is False
    assert hold({"n": 2, "m": "x"}, True) is False  # an error is not a hold


def test_no_shortcut_unless_every_rule_is_native() -> None:
    """A rule left to the Rust CEL (``uint`` is outside the native subset) turns it off."""
    assert all_hold(()) is None
    rust_only = rule("uint(n) > 1u")
    assert rust_only.native is None
    assert all_hold((rule("n > 1"), rust_only)) is None
