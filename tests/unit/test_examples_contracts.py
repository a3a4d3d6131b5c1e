"""The example contracts' own sample events check out, and a wrong sample is reported.

``contracts/<domain>/<event>/examples/v<N>.valid.jsonl`` must all pass version N
and ``v<N>.invalid.jsonl`` must all fail it, as judged by
``streamprocs.contracts.examples.check_examples`` (what ``lint`` runs).
"""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from streamprocs.contracts.errors import ContractError
from streamprocs.contracts.examples import EXAMPLE_FILE, check_examples
from streamprocs.contracts.loader import Contract, ContractSet, load_contract_set

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
DISPLAY_ROOT = CONTRACTS.parent
EXAMPLE_FILES = sorted(p for p in CONTRACTS.glob("*/*/examples/*") if p.is_file())


def _rel(path: Path) -> str:
    return str(path.relative_to(DISPLAY_ROOT))


@cache
def _contract_set() -> ContractSet:
    return load_contract_set(CONTRACTS)


def _contract_of(example: Path) -> Contract:
    folder = example.parent.parent
    contract = _contract_set().get(f"{folder.parent.name}.{folder.name}")
    assert contract is not None, f"{_rel(example)} is not in a loadable contract folder"
    return contract


def _lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def test_example_files_exist_for_every_contract() -> None:
    """The per-file tests below are not vacuous: every example contract ships examples."""
    contracts = _contract_set().contracts
    with_examples = {f"{p.parents[2].name}.{p.parents[1].name}" for p in EXAMPLE_FILES}
    assert set(contracts) <= with_examples
    assert any(".valid." in p.name for p in EXAMPLE_FILES)
    assert any(".invalid." in p.name for p in EXAMPLE_FILES)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=_rel)
def test_example_file_checks_out(path: Path) -> None:
    """Every line of a valid file passes its version, every line of an invalid file fails it."""
    assert EXAMPLE_FILE.match(path.name), f"{_rel(path)}: not named v<N>.(in)valid.jsonl"
    assert _lines(path), f"{_rel(path)} holds no example"
    problems = [p for p in check_examples(_contract_of(path), DISPLAY_ROOT) if p.file == _rel(path)]
    assert problems == [], "\n".join(str(p) for p in problems)


@pytest.mark.parametrize(
    "path", [p for p in EXAMPLE_FILES if p.name.endswith(".invalid.jsonl")], ids=_rel
)
def test_invalid_examples_break_the_contract_not_json(path: Path) -> None:
    """Invalid examples are JSON objects that break the schema or a rule, so they document the
    contract; a line that merely fails to parse would pass ``check_examples`` and teach nothing."""
    match = EXAMPLE_FILE.match(path.name)
    assert match
    version = _contract_of(path).compiled[int(match.group(1))]
    for lineno, line in enumerate(path.read_bytes().splitlines(), start=1):
        if line.strip():
            verdict = version.check(line)
            assert verdict.reason in ("schema", "rule"), f"{_rel(path)} line {lineno}: {verdict}"


# --------------------------------------------------------------------------- planted mistakes


def _write_contract(root: Path) -> Path:
    """``shop/order`` with v1: ``a`` required, ``b`` optional, rule ``b <= a``."""
    folder = root / "shop" / "order"
    folder.mkdir(parents=True)
    spec = {
        "id": "shop.order",
        "owner": {"team": "shop", "contact": "#shop"},
        "description": "An order.",
    }
    version: dict[str, Any] = {
        "version": 1,
        "schema": {
            "type": "object",
            "required": ["a"],
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        },
        "rules": [{"id": "b_not_above_a", "expr": "b <= a", "message": "b must not exceed a."}],
    }
    (folder / "contract.yaml").write_text(yaml.safe_dump(spec))
    (folder / "v1.yaml").write_text(yaml.safe_dump(version))
    (folder / "examples").mkdir()
    return folder / "examples"


def _problems(root: Path) -> list[ContractError]:
    contract = load_contract_set(root).get("shop.order")
    assert contract is not None
    return check_examples(contract, root.parent)


def _jsonl(*events: Any) -> str:
    return "".join("\n" if e is None else json.dumps(e) + "\n" for e in events)


def test_wrong_valid_example_is_reported_with_file_and_line(tmp_path: Path) -> None:
    """A failing line in a valid file is reported by file and ``line N`` (blank lines counted)."""
    examples = _write_contract(tmp_path / "contracts")
    examples.joinpath("v1.valid.jsonl").write_text(
        _jsonl({"a": 2, "b": 1}, None, {"a": 1, "b": 5}, {"a": 3})
    )
    problems = _problems(tmp_path / "contracts")
    assert [(p.file, p.field) for p in problems] == [
        ("contracts/shop/order/examples/v1.valid.jsonl", "line 3")
    ]
    assert "should pass v1 but fails" in problems[0].message
    assert "b must not exceed a." in problems[0].message


def test_wrong_invalid_example_is_reported_with_file_and_line(tmp_path: Path) -> None:
    """A passing line in an invalid file is reported by file and ``line N``."""
    examples = _write_contract(tmp_path / "contracts")
    examples.joinpath("v1.invalid.jsonl").write_text(
        _jsonl({"b": 1}, {"a": "x"}, {"a": 1, "b": 5}, {"a": 4, "b": 4})
    )
    problems = _problems(tmp_path / "contracts")
    assert [(p.file, p.field) for p in problems] == [
        ("contracts/shop/order/examples/v1.invalid.jsonl", "line 4")
    ]
    assert "should fail v1 but passes" in problems[0].message


def test_misnamed_example_file_and_missing_version_are_reported(tmp_path: Path) -> None:
    """Example files must be named v<N>.(in)valid.jsonl and name a version that exists."""
    examples = _write_contract(tmp_path / "contracts")
    examples.joinpath("v1.good.jsonl").write_text(_jsonl({"a": 1}))
    examples.joinpath("v9.valid.jsonl").write_text(_jsonl({"a": 1}))
    problems = {p.file: p.message for p in _problems(tmp_path / "contracts")}
    assert "v<N>.valid.jsonl" in problems["contracts/shop/order/examples/v1.good.jsonl"]
    assert "no v9.yaml" in problems["contracts/shop/order/examples/v9.valid.jsonl"]
    assert len(problems) == 2


def test_wrong_line_planted_in_a_real_example_file_is_reported(tmp_path: Path) -> None:
    """In a copy of the real contracts, one bad line added to a valid file is the only problem."""
    copy = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, copy)
    target = copy / "checkout" / "order_created" / "examples" / "v1.valid.jsonl"
    text = target.read_text()
    lines = text.splitlines()
    event = json.loads(lines[0])
    event["total_cents"] = event["total_cents"] + 1  # breaks total_matches_components
    target.write_text(text.rstrip("\n") + "\n" + json.dumps(event) + "\n")
    planted = len(target.read_text().splitlines())
    contract = load_contract_set(copy).get("checkout.order_created")
    assert contract is not None
    problems = check_examples(contract, tmp_path)
    assert [(p.file, p.field) for p in problems] == [
        ("contracts/checkout/order_created/examples/v1.valid.jsonl", f"line {planted}")
    ]
    assert "should pass v1 but fails" in problems[0].message
