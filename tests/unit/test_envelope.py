"""The dead-letter envelope: header names, replacement of an earlier set, detail bounds, no PII.

Header names are spelled out literally here (not imported from the module)
because they are the public interface of docs ``interfaces.md``: a rename in
the module must fail these tests.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.pii import ANY_ITEM, PiiPath
from streamprocs.contracts.verdict import Verdict, Violation
from streamprocs.enforcer.envelope import Source, detail_json, envelope, read, strip

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
CONTRACT_SET = load_contract_set(CONTRACTS)

FULL_DCE_SET = [
    "dce.error.reason",
    "dce.error.detail",
    "dce.contract.id",
    "dce.contract.version",
    "dce.contracts.revision",
    "dce.source.topic",
    "dce.source.partition",
    "dce.source.offset",
    "dce.source.timestamp",
    "dce.processor",
]

SOURCE = Source(topic="checkout.events", partition=3, offset=42, timestamp_ms=1718097262000)
SCHEMA_VERDICT = Verdict(
    (
        Violation("schema", "schema.required", "/currency", "required property 'currency'"),
        Violation("rule", "total_adds_up", "", "The total must add up."),
    )
)


def wrap(
    headers: list[tuple[str, bytes | None]] | None,
    verdict: Verdict = SCHEMA_VERDICT,
    source: Source = SOURCE,
    **kwargs: Any,
) -> list[tuple[str, bytes | None]]:
    options: dict[str, Any] = {
        "contract_id": "checkout.order_created",
        "version": 2,
        "revision": "abc123def456",
        "processor": "host-1-77",
    }
    options.update(kwargs)
    return envelope(headers, verdict, source, **options)


def test_original_headers_kept_in_order_then_the_dce_set() -> None:
    """Originals (duplicates and None values included) come first, unchanged and in order,
    followed by the dce headers with exactly the names of interfaces.md."""
    original: list[tuple[str, bytes | None]] = [
        ("traceparent", b"00-abc-def-01"),
        ("dup", b"first"),
        ("event-type", b"order_created"),
        ("dup", b"second"),
        ("no-value", None),
    ]
    out = wrap(list(original))
    assert out[: len(original)] == original
    added = out[len(original) :]
    assert [name for name, _ in added] == FULL_DCE_SET
    values = dict(added)
    assert values["dce.error.reason"] == b"schema"
    assert values["dce.contract.id"] == b"checkout.order_created"
    assert values["dce.contract.version"] == b"2"
    assert values["dce.contracts.revision"] == b"abc123def456"
    assert values["dce.source.topic"] == b"checkout.events"
    assert values["dce.source.partition"] == b"3"
    assert values["dce.source.offset"] == b"42"
    assert values["dce.source.timestamp"] == b"1718097262000"
    assert values["dce.processor"] == b"host-1-77"


def test_input_headers_are_not_mutated() -> None:
    """The caller's header list is left as it was (the record's originals stay exact)."""
    original: list[tuple[str, bytes | None]] = [("a", b"1"), ("dce.error.reason", b"decode")]
    before = list(original)
    wrap(original)
    assert original == before


def test_unknown_contract_and_timestamp_are_left_out() -> None:
    """Without a contract, version or timestamp those headers are absent, not empty."""
    verdict = Verdict((Violation("unknown_contract", "unknown_contract", "", "no contract"),))
    source = Source("identity.users", 0, 7, None)
    out = wrap(None, verdict, source, contract_id=None, version=None)
    names = [name for name, _ in out]
    assert names == [
        n
        for n in FULL_DCE_SET
        if n not in {"dce.contract.id", "dce.contract.version", "dce.source.timestamp"}
    ]
    assert dict(out)["dce.error.reason"] == b"unknown_contract"


def test_previous_dce_set_is_replaced_not_accumulated() -> None:
    """Wrapping an already wrapped record (a replayed record failing again) leaves one dce set,
    the new one, while non-dce headers stay as they were and the replay headers survive."""
    original: list[tuple[str, bytes | None]] = [("traceparent", b"t"), ("event-type", b"x")]
    first = wrap(list(original))
    replayed = [*first, ("dce.replay.count", b"1"), ("dce.replay.id", b"replay-9")]
    second_verdict = Verdict((Violation("decode", "decode", "", "not valid UTF-8 JSON"),))
    second = wrap(
        replayed,
        second_verdict,
        Source("checkout.events", 5, 1000, 1718097999000),
        contract_id="other.contract",
        version=1,
        revision="fedcba987654",
        processor="host-2-88",
    )
    names = [name for name, _ in second]
    for name in FULL_DCE_SET:
        assert names.count(name) == 1, name
    assert names.count("dce.replay.count") == 1
    assert names.count("dce.replay.id") == 1
    values = dict(second)
    assert values["dce.error.reason"] == b"decode"
    assert values["dce.contract.id"] == b"other.contract"
    assert values["dce.contract.version"] == b"1"
    assert values["dce.contracts.revision"] == b"fedcba987654"
    assert values["dce.source.partition"] == b"5"
    assert values["dce.source.offset"] == b"1000"
    assert values["dce.source.timestamp"] == b"1718097999000"
    assert values["dce.processor"] == b"host-2-88"
    assert values["dce.replay.count"] == b"1"
    assert values["dce.replay.id"] == b"replay-9"
    non_dce = [(k, v) for k, v in second if not k.startswith("dce.")]
    assert non_dce == original


def test_stale_fields_of_an_earlier_set_do_not_survive() -> None:
    """An earlier set with a contract and timestamp, rewrapped without them, leaves none."""
    first = wrap([("k", b"v")])
    verdict = Verdict((Violation("unknown_contract", "unknown_contract", "", "no contract"),))
    second = wrap(first, verdict, Source("t", 0, 1, None), contract_id=None, version=None)
    names = {name for name, _ in second}
    assert not names & {"dce.contract.id", "dce.contract.version", "dce.source.timestamp"}


def test_strip_keeps_replay_headers_and_drops_other_dce_headers() -> None:
    """``strip`` removes every ``dce.*`` header except ``dce.replay.count``/``dce.replay.id``."""
    headers: list[tuple[str, bytes | None]] = [
        ("a", b"1"),
        ("dce.error.reason", b"schema"),
        ("dce.replay.count", b"2"),
        ("dce.source.topic", b"t"),
        ("dce.replay.id", b"r"),
        ("b", None),
    ]
    assert strip(headers) == [
        ("a", b"1"),
        ("dce.replay.count", b"2"),
        ("dce.replay.id", b"r"),
        ("b", None),
    ]
    assert strip(None) == []


def test_detail_is_a_list_of_rule_path_message() -> None:
    """The detail header is JSON: a list of objects with exactly ``rule``, ``path``, ``message``
    for each error, in verdict order."""
    detail = orjson.loads(dict(wrap(None))["dce.error.detail"] or b"")
    assert detail == [
        {"rule": "schema.required", "path": "/currency", "message": "required property 'currency'"},
        {"rule": "total_adds_up", "path": "", "message": "The total must add up."},
    ]


@pytest.mark.parametrize("message_len", [10, 300, 3000])
def test_detail_is_bounded_with_500_violations(message_len: int) -> None:
    """500 violations give at most 20 entries and at most 4096 bytes, keeping the first ones."""
    violations = tuple(
        Violation("schema", "schema.pattern", f"/items/{i}/sku", f"{i}:" + "m" * message_len)
        for i in range(500)
    )
    raw = dict(wrap(None, Verdict(violations)))["dce.error.detail"]
    assert raw is not None
    assert len(raw) <= 4096
    detail = orjson.loads(raw)
    assert isinstance(detail, list)
    assert 1 <= len(detail) <= 20
    assert [d["path"] for d in detail] == [f"/items/{i}/sku" for i in range(len(detail))]
    if message_len == 10:
        assert len(detail) == 20  # small entries: the entry cap, not the byte cap, applies


def test_detail_byte_bound_counts_multibyte_characters() -> None:
    """The 4 KiB bound is on encoded bytes: 20 messages of 150 three-byte characters fit in
    characters but not in bytes."""
    violations = tuple(Violation("rule", "r", "", "€" * 150) for _ in range(20))  # 20 * 450 bytes
    raw = detail_json(Verdict(violations))
    assert len(raw) <= 4096
    assert 1 <= len(orjson.loads(raw)) < 20


# --- PII --------------------------------------------------------------------------------

MARKER = "PIIMARKER-7Qx9"


def _set_path(node: Any, path: PiiPath, value: Any) -> bool:
    """Set every value at ``path`` (``*`` = each item); True when something was set."""
    head, rest = path[0], path[1:]
    if head == ANY_ITEM:
        items = list(range(len(node))) if isinstance(node, list) else []
    else:
        items = [head] if isinstance(node, dict) and head in node else []
    done = False
    for key in items:
        if rest:
            done = _set_path(node[key], rest, value) or done
        else:
            node[key] = value
            done = True
    return done


def _first_valid_example(folder: Path, version: int) -> dict[str, Any]:
    line = (folder / "examples" / f"v{version}.valid.jsonl").read_text().splitlines()[0]
    event: dict[str, Any] = orjson.loads(line)
    return event


VERSIONS = sorted((cid, n) for cid, c in CONTRACT_SET.contracts.items() for n in c.compiled)


@pytest.mark.parametrize("marker_value", [MARKER, {"v": MARKER}, [MARKER], f"{MARKER}@"], ids=repr)
@pytest.mark.parametrize(
    ("contract_id", "version"), VERSIONS, ids=[f"{c}@{n}" for c, n in VERSIONS]
)
def test_pii_marker_never_reaches_a_header(
    contract_id: str, version: int, marker_value: Any
) -> None:
    """A real example event with every PII-tagged field set to a marker (as text, inside an
    object or a list) fails the compiled validator, and no dead-letter header carries it."""
    contract = CONTRACT_SET.contracts[contract_id]
    compiled = contract.compiled[version]
    event = _first_valid_example(contract.folder, version)
    assert compiled.check_value(copy.deepcopy(event)).valid  # the marker causes the failure
    touched = [path for path in compiled.pii if _set_path(event, path, marker_value)]
    assert touched, "no PII field of the example was set"
    raw = orjson.dumps(event)
    assert MARKER.encode() in raw
    verdict = compiled.check(raw)
    assert not verdict.valid
    pii_pointers = {"/" + "/".join(p) for p in touched}
    assert any(v.path in pii_pointers for v in verdict.errors), verdict
    headers = wrap(
        [("event-type", b"x")],
        verdict,
        contract_id=contract_id,
        version=version,
    )
    for name, value in headers:
        assert value is None or MARKER.encode() not in value, name
    assert MARKER not in str(read(headers))


# --- read ----------------------------------------------------------------------------------


def test_read_returns_dce_headers_as_text() -> None:
    """``read`` gives every dce header (and only those) as a str, replay headers included."""
    headers = [*wrap([("other", b"x"), ("nil", None)]), ("dce.replay.count", b"3")]
    found = read(headers)
    assert set(found) == {*FULL_DCE_SET, "dce.replay.count"}
    assert all(isinstance(v, str) for v in found.values())
    assert found["dce.error.reason"] == "schema"
    assert found["dce.source.offset"] == "42"
    assert found["dce.replay.count"] == "3"
    assert orjson.loads(found["dce.error.detail"])[0]["rule"] == "schema.required"
    assert read(None) == {}
    assert read([("dce.error.reason", None), ("x", b"y")]) == {}
