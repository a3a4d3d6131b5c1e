"""The validator over every version of every example contract: never raises, always explains.

Property tests (hypothesis) feed ``CompiledVersion.check`` arbitrary bytes,
arbitrary JSON, events shaped from the contract's own schema (so that rules
run) and events carrying PII markers, and check the verdict's invariants:
bounded reasons and rule labels, JSON-pointer paths, determinism, and no PII
value ever quoted back. Plain unit tests pin the size and depth limits, the
decode path, and when rules are (not) evaluated.
"""

from __future__ import annotations

import json
import random
import re
import string
import time
from datetime import UTC, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamprocs.contracts.compiler import (
    DEFAULT_MAX_DEPTH,
    CompiledVersion,
    Limits,
    compile_version,
    nesting_depth_exceeds,
)
from streamprocs.contracts.loader import ContractSet, load_contract_set
from streamprocs.contracts.model import Severity, VersionFile
from streamprocs.contracts.pii import ANY_ITEM, PiiPath
from streamprocs.contracts.verdict import Verdict, Violation

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
CONTRACT_SET: ContractSet = load_contract_set(CONTRACTS)
VERSIONS: list[tuple[str, int]] = sorted(
    (cid, n) for cid, contract in CONTRACT_SET.contracts.items() for n in contract.compiled
)
VERSION_IDS = [f"{cid}@{n}" for cid, n in VERSIONS]

CHECK_REASONS = frozenset({"schema", "rule", "decode", "too_large", "too_deep"})
# What ``schema.<keyword>`` may name: the JSON Schema keywords and ``false`` (a false subschema).
SCHEMA_KEYWORDS = frozenset(
    {
        "type", "required", "additionalProperties", "unevaluatedProperties", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
        "maxLength", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
        "pattern", "format", "enum", "const", "oneOf", "anyOf", "allOf", "not", "contains",
        "minContains", "maxContains", "propertyNames", "dependentRequired",
        "dependentSchemas", "patternProperties", "if", "then", "else",
        "unevaluatedItems", "false",
    }
)  # fmt: skip
POINTER = re.compile(r"^(/([^~/]|~[01])*)*$")

# Each property test runs once per version (7 today); sized for ~30 s in all on 2 cores.
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def compiled(key: tuple[str, int]) -> CompiledVersion:
    cid, n = key
    return CONTRACT_SET.contracts[cid].compiled[n]


def version_file(key: tuple[str, int]) -> VersionFile:
    cid, n = key
    return CONTRACT_SET.contracts[cid].versions[n]


# --------------------------------------------------------------------------- invariants


def assert_well_formed(verdict: Verdict, version: CompiledVersion) -> None:
    """The invariants every verdict of ``check`` keeps, whatever it was given."""
    assert isinstance(verdict, Verdict)
    rule_severity = {r.id: r.rule.severity for r in version.rules}
    for v in verdict.violations:
        assert isinstance(v, Violation)
        assert v.reason in CHECK_REASONS, v
        assert v.rule, v
        assert v.message, v
        assert v.path == "" or v.path.startswith("/"), v
        assert POINTER.match(v.path), v
        if v.reason == "rule":
            assert v.rule in rule_severity, v
            assert v.severity is rule_severity[v.rule], v
        elif v.reason == "schema":
            assert v.rule.startswith("schema."), v
            # schema.internal means the validator itself raised: a bug, not a verdict.
            assert v.rule.removeprefix("schema.") in SCHEMA_KEYWORDS, v
            assert v.severity is Severity.ERROR, v
        else:
            assert v.rule == v.reason, v
            assert v.path == "", v
            assert v.severity is Severity.ERROR, v
            assert len(verdict.violations) == 1, verdict
    assert verdict.valid == (not verdict.errors)
    if verdict.errors:
        assert verdict.reason == verdict.errors[0].reason
    if any(v.reason == "rule" for v in verdict.violations):
        # Rules only run on schema-valid events.
        assert all(v.reason == "rule" for v in verdict.violations), verdict


# --------------------------------------------------------------------------- strategies

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def dumps(value: Any) -> bytes:
    """JSON bytes; the stdlib encoder, because orjson refuses ints beyond 64 bits."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _string_for(node: dict[str, Any]) -> st.SearchStrategy[str]:
    min_len, max_len = node.get("minLength", 0), node.get("maxLength", 40)
    fmt = node.get("format")
    if fmt is None and "anyOf" in node:
        return st.one_of([_string_for({**node, **alt, "anyOf": None}) for alt in node["anyOf"]])
    if "pattern" in node:
        base = st.from_regex(node["pattern"], fullmatch=True)
    elif fmt == "uuid":
        base = st.uuids().map(str)
    elif fmt == "date-time":
        offsets = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                   timezone(timedelta(hours=-8))])  # fmt: skip
        base = st.datetimes(timezones=offsets).map(lambda d: d.isoformat())
    elif fmt == "date":
        base = st.dates().map(lambda d: d.isoformat())
    elif fmt == "email":
        base = st.from_regex(
            r"[a-z0-9]{1,10}(\.[a-z0-9]{1,5})?@[a-z]{1,10}\.(com|org|de)", fullmatch=True
        )
    elif fmt == "ipv4":
        base = st.ip_addresses(v=4).map(str)
    elif fmt == "ipv6":
        base = st.ip_addresses(v=6).map(str)
    else:
        return st.text(min_size=min_len, max_size=max_len)
    return base.filter(lambda s: min_len <= len(s) <= max_len)


# The keywords ``from_schema`` understands; annotations are ignored.
_GENERATED = frozenset(
    {"type", "properties", "required", "items", "minItems", "maxItems", "minimum", "maximum",
     "minLength", "maxLength", "pattern", "format", "enum", "const", "anyOf"}
)  # fmt: skip
_ANNOTATIONS = frozenset(
    {"$schema", "$comment", "title", "description", "examples", "default", "deprecated", "x-pii"}
)
_FORMATS = frozenset({"uuid", "date-time", "date", "email", "ipv4", "ipv6"})


def from_schema(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the contract schemas accept (the subset of keywords they use), to reach the rules.

    A keyword or format outside that subset fails loudly, so that a new
    contract feature extends this generator instead of silently weakening it.
    """
    unknown = set(node) - _GENERATED - _ANNOTATIONS
    if unknown or node.get("format", "uuid") not in _FORMATS:
        raise NotImplementedError(f"from_schema: extend it for {sorted(unknown)} in {node}")
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "object":
        props = node.get("properties", {})
        required = set(node.get("required", []))
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in props.items() if k in required},
            optional={k: from_schema(v) for k, v in props.items() if k not in required},
        )
    if kind == "array":
        return st.lists(
            from_schema(node.get("items", {})),
            min_size=node.get("minItems", 0),
            max_size=min(node.get("maxItems", 4), 4),
        )
    if kind == "integer":
        return st.integers(node.get("minimum"), node.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        return _string_for(node)
    if kind is None and set(node) <= _ANNOTATIONS:
        return json_values
    raise NotImplementedError(f"from_schema: extend it for type {kind!r} in {node}")


@st.composite
def shaped_events(draw: st.DrawFn, key: tuple[str, int]) -> dict[str, Any]:
    """An event of the contract's own shape: mostly schema values, some fields arbitrary."""
    event: dict[str, Any] = draw(schema_values(key))
    props = sorted(compiled(key).schema.get("properties", {}))
    for name in draw(st.lists(st.sampled_from(props), max_size=3, unique=True)):
        if draw(st.booleans()):
            event[name] = draw(json_values)
        else:
            event.pop(name, None)
    return event


@st.composite
def property_dicts(draw: st.DrawFn, key: tuple[str, int]) -> dict[str, Any]:
    """A dict keyed by the contract's top-level property names with arbitrary values."""
    props = sorted(compiled(key).schema.get("properties", {}))
    return draw(st.dictionaries(st.sampled_from(props), json_values, max_size=len(props)))


def _set_path(node: Any, path: PiiPath, value: Any) -> None:
    """Put ``value`` at every place ``path`` reaches in ``node`` (``*`` is every array item)."""
    if not path:
        return
    head, rest = path[0], path[1:]
    if head == ANY_ITEM:
        if isinstance(node, list):
            for i, item in enumerate(node):
                if rest:
                    _set_path(item, rest, value)
                else:
                    node[i] = value
        return
    if not isinstance(node, dict):
        return
    if rest:
        _set_path(node.get(head), rest, value)
    else:
        node[head] = value


@cache
def schema_values(key: tuple[str, int]) -> st.SearchStrategy[Any]:
    """``from_schema`` of a version, built once: building strategies is the slow part."""
    return from_schema(compiled(key).schema)


@cache
def shaped(key: tuple[str, int]) -> st.SearchStrategy[dict[str, Any]]:
    return shaped_events(key)


@cache
def keyed(key: tuple[str, int]) -> st.SearchStrategy[dict[str, Any]]:
    return property_dicts(key)


# --------------------------------------------------------------------------- properties

by_version = pytest.mark.parametrize("key", VERSIONS, ids=VERSION_IDS)


def test_every_example_contract_version_is_covered() -> None:
    """The properties below are not vacuous: they run over every version found on disk."""
    assert len(VERSIONS) >= 3
    assert {cid for cid, _ in VERSIONS} == set(CONTRACT_SET.contracts)


@by_version
@PROPERTY
@given(raw=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(key: tuple[str, int], raw: bytes) -> None:
    """(a) Any bytes at all give a well-formed verdict, never an exception."""
    version = compiled(key)
    verdict = version.check(raw)
    assert_well_formed(verdict, version)


@by_version
@PROPERTY
@given(value=json_values)
def test_arbitrary_json_gives_well_formed_verdicts(key: tuple[str, int], value: Any) -> None:
    """(b) Any JSON value: reasons from the allowed set, bounded rule labels, pointer paths."""
    version = compiled(key)
    raw = dumps(value)
    assert_well_formed(version.check(raw), version)


@by_version
@PROPERTY
@given(data=st.data())
def test_property_dicts_give_well_formed_verdicts(
    key: tuple[str, int], data: st.DataObject
) -> None:
    """(b) Dicts of the contract's own field names with arbitrary values."""
    version = compiled(key)
    event = data.draw(keyed(key))
    assert_well_formed(version.check(dumps(event)), version)


@by_version
@PROPERTY
@given(data=st.data())
def test_schema_shaped_events_give_well_formed_verdicts(
    key: tuple[str, int], data: st.DataObject
) -> None:
    """(b) Schema-built events (rules run on them) keep every invariant, also via orjson."""
    version = compiled(key)
    event = data.draw(shaped(key))
    verdict = version.check(dumps(event))
    assert_well_formed(verdict, version)
    try:
        compact = orjson.dumps(event)
    except orjson.JSONEncodeError:  # an int beyond 64 bits
        return
    assert version.check(compact) == verdict


@by_version
@PROPERTY
@given(data=st.data())
def test_schema_shaped_events_reach_the_rules(key: tuple[str, int], data: st.DataObject) -> None:
    """The schema-shaped strategy makes events the schema accepts, so rules are exercised."""
    version = compiled(key)
    event = data.draw(schema_values(key))
    verdict = version.check(dumps(event))
    assert_well_formed(verdict, version)
    assert not [v for v in verdict.violations if v.reason != "rule"], (event, verdict)


@by_version
@PROPERTY
@given(data=st.data())
def test_check_is_deterministic(key: tuple[str, int], data: st.DataObject) -> None:
    """(c) The same bytes twice give equal verdicts."""
    version = compiled(key)
    raw = data.draw(
        st.one_of(
            st.binary(max_size=200),
            json_values.map(dumps),
            keyed(key).map(dumps),
            shaped(key).map(dumps),
        )
    )
    assert version.check(raw) == version.check(raw)


def _marker(seed: int) -> str:
    letters = random.Random(seed).choices(string.ascii_letters, k=12)
    return "PII-" + "".join(letters)


@by_version
@PROPERTY
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_pii_values_never_appear_in_violations(
    key: tuple[str, int], data: st.DataObject, seed: int
) -> None:
    """(d) A marker in every PII-tagged field never shows in a violation's message, path or rule.

    The marker also goes in as the wrong type (inside a list or object) and in
    truncated JSON, so schema, rule and decode messages are all covered.
    """
    version = compiled(key)
    assert version.pii, "every example contract tags some PII"
    marker = _marker(seed)
    event = data.draw(schema_values(key))
    wrap = data.draw(st.sampled_from(["plain", "list", "object", "padded"]))
    value: Any = {
        "plain": marker,
        "list": [marker],
        "object": {"v": marker},
        "padded": f"{marker} {marker}@example.com",
    }[wrap]
    for path in version.pii:
        _set_path(event, path, value)
    raw = dumps(event)
    assert marker.encode() in raw
    cut = data.draw(st.integers(0, len(raw)))
    for candidate in (raw, raw[:cut], raw.replace(b"}", b"]", 1)):
        verdict = version.check(candidate)
        assert_well_formed(verdict, version)
        for v in verdict.violations:
            for text in (v.message, v.path, v.rule):
                assert marker not in text, (v, candidate)


# --------------------------------------------------------------------------- unit tests

ORDER = ("checkout.order_created", 1)


def small_version(rules: list[dict[str, Any]]) -> CompiledVersion:
    """A tiny version: ``a`` required, ``b`` optional, both non-negative integers."""
    doc = VersionFile.model_validate(
        {
            "version": 1,
            "schema": {
                "type": "object",
                "required": ["a"],
                "properties": {
                    "a": {"type": "integer", "minimum": 0},
                    "b": {"type": "integer", "minimum": 0},
                    "s": {"type": "string"},
                },
            },
            "rules": rules,
        }
    )
    return compile_version("test.small", doc)


B_ABOVE_A = {"id": "b_above_a", "expr": "b > a", "message": "b must exceed a."}


def test_too_large_with_a_small_limit() -> None:
    """Over ``max_bytes`` is ``too_large`` before any parsing; exactly at the limit is parsed."""
    version = compile_version(ORDER[0], version_file(ORDER), Limits(max_bytes=100))
    over = b"{" + b" " * 99 + b"}"  # 101 bytes
    verdict = version.check(over)
    assert [(v.reason, v.rule, v.path) for v in verdict.violations] == [
        ("too_large", "too_large", "")
    ]
    assert "101 bytes" in verdict.violations[0].message
    assert "100" in verdict.violations[0].message
    at_limit = b"{" + b" " * 98 + b"}"  # 100 bytes: parsed, then judged by the schema
    assert {v.reason for v in version.check(at_limit).violations} == {"schema"}


def _nested(depth: int) -> bytes:
    """``depth`` nested objects, plus sibling arrays so the bracket count alone cannot decide."""
    return b'{"pad": [[], [], []], "x":' + b'{"x":' * (depth - 1) + b"1" + b"}" * depth


def test_nesting_65_is_too_deep_and_64_is_not() -> None:
    """The default depth limit is 64: 64 nested objects are parsed, 65 are refused unparsed."""
    assert DEFAULT_MAX_DEPTH == 64
    assert _nested(64).count(b"{") + _nested(64).count(b"[") > 64
    assert not nesting_depth_exceeds(_nested(64), 64)
    assert nesting_depth_exceeds(_nested(65), 64)
    version = compiled(ORDER)
    deep = version.check(_nested(65))
    assert [(v.reason, v.rule) for v in deep.violations] == [("too_deep", "too_deep")]
    at_limit = version.check(_nested(64))
    assert at_limit.violations, "a 64-deep object still fails the order schema"
    assert {v.reason for v in at_limit.violations} == {"schema"}
    arrays = version.check(b"[" * 65 + b"]" * 65)
    assert [v.reason for v in arrays.violations] == ["too_deep"]


def test_brackets_inside_strings_do_not_count_toward_depth() -> None:
    """``[`` and ``{`` inside strings, escaped quotes included, are not nesting."""
    version = compiled(ORDER)
    noisy = json.dumps({"note": "[{" * 200, "q": '\\"[[[' * 50, "k[{": 1}).encode()
    assert not nesting_depth_exceeds(noisy, 64)
    verdict = version.check(noisy)
    assert {v.reason for v in verdict.violations} == {"schema"}
    assert not nesting_depth_exceeds(b'["' + b"[" * 100 + b'"]', 1)
    assert nesting_depth_exceeds(b"[[" + b'"x"' + b"]]", 1)


@pytest.mark.parametrize(
    "raw",
    [b'{"order_id": "\xff\xfe"}', b"\xc3\x28", b'"\xed\xa0\x80"', b"\x80{}"],
    ids=["in-string", "bad-continuation", "surrogate", "leading"],
)
def test_invalid_utf8_is_decode(raw: bytes) -> None:
    """Bytes that are not UTF-8 are a ``decode`` verdict."""
    verdict = compiled(ORDER).check(raw)
    assert [(v.reason, v.rule, v.path) for v in verdict.violations] == [("decode", "decode", "")]
    assert not verdict.valid


@pytest.mark.parametrize("raw", [b"", b"{", b'{"a": 1} x', b"NaN", b"1e400"])
def test_not_json_is_decode(raw: bytes) -> None:
    """Empty, truncated, trailing garbage, NaN and overflowing numbers are ``decode``."""
    assert [v.reason for v in compiled(ORDER).check(raw).violations] == ["decode"]


@pytest.mark.parametrize("raw", [b"[]", b"[1, 2]", b"null", b'"text"', b"42"])
def test_top_level_non_object_is_a_schema_violation(raw: bytes) -> None:
    """A JSON array (or any non-object) at the top is a ``schema.type`` violation, not a crash."""
    verdict = compiled(ORDER).check(raw)
    assert not verdict.valid
    assert [(v.reason, v.rule, v.path) for v in verdict.violations] == [
        ("schema", "schema.type", "")
    ]


def test_warn_rule_leaves_the_event_valid_with_a_warning() -> None:
    """A failing ``warn`` rule is reported as a warning; the verdict stays valid."""
    version = small_version([{**B_ABOVE_A, "severity": "warn"}])
    verdict = version.check(b'{"a": 5, "b": 1}')
    assert verdict.valid
    assert verdict.errors == ()
    assert [(v.reason, v.rule, v.severity) for v in verdict.warnings] == [
        ("rule", "b_above_a", Severity.WARN)
    ]
    assert verdict.warnings[0].message == "b must exceed a."
    assert verdict.reason is None


def test_error_rule_makes_the_event_invalid() -> None:
    """The same rule at ``error`` severity fails the event (the contrast for the warn test)."""
    verdict = small_version([B_ABOVE_A]).check(b'{"a": 5, "b": 1}')
    assert not verdict.valid
    assert verdict.reason == "rule"
    assert [v.rule for v in verdict.errors] == ["b_above_a"]


def test_rule_whose_field_is_absent_is_skipped() -> None:
    """A rule reading an absent (optional) field does not apply; with the field it does."""
    version = small_version([B_ABOVE_A])
    assert version.check(b'{"a": 5}').violations == ()
    assert [v.rule for v in version.check(b'{"a": 5, "b": 1}').violations] == ["b_above_a"]
    assert version.check(b'{"a": 5, "b": 6}').violations == ()


def test_rule_on_a_schema_invalid_event_is_not_evaluated() -> None:
    """An event failing the schema gets only schema violations, even if a rule would fail too."""
    version = small_version([B_ABOVE_A])
    verdict = version.check(b'{"a": 5, "b": 1, "s": 7}')  # s must be a string; b > a is false
    assert [(v.reason, v.rule, v.path) for v in verdict.violations] == [
        ("schema", "schema.type", "/s")
    ]


def test_rule_evaluation_error_is_a_violation_not_a_crash() -> None:
    """A rule that cannot evaluate (division by zero) is a violation naming the error type."""
    version = small_version([{**B_ABOVE_A, "expr": "a / (b - b) > 0"}])
    verdict = version.check(b'{"a": 5, "b": 1}')
    assert [(v.reason, v.rule) for v in verdict.violations] == [("rule", "b_above_a")]
    assert "could not evaluate" in verdict.violations[0].message


def test_integral_float_is_an_int_to_rules() -> None:
    """1.0 is an integer to JSON Schema, so CEL's int arithmetic must accept it too."""
    version = small_version([{**B_ABOVE_A, "expr": "b + a > 0"}])
    assert version.check(b'{"a": 5, "b": 1.0}').violations == ()


def test_false_subschema_is_labelled_schema_false() -> None:
    """A property forbidden with ``false`` is a ``schema.false`` violation at its path."""
    doc = VersionFile.model_validate(
        {"version": 1, "schema": {"type": "object", "properties": {"legacy": False}}}
    )
    verdict = compile_version("test.small", doc).check(b'{"legacy": 1}')
    assert [(v.reason, v.rule, v.path) for v in verdict.violations] == [
        ("schema", "schema.false", "/legacy")
    ]
    assert "no value is allowed" in verdict.violations[0].message


tricky_text = st.text(alphabet='"\\[]{}/ua\u00e9', max_size=12)
tricky_json = st.recursive(
    st.none() | st.integers() | tricky_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(tricky_text, children, max_size=3)
    ),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(value=tricky_json, ascii_only=st.booleans())
def test_depth_precheck_agrees_with_the_real_depth(value: Any, ascii_only: bool) -> None:
    """The byte-level depth scan matches the parsed depth, whatever quotes, backslashes and
    brackets the strings hold, at every limit around the true depth."""
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    depth = _depth(value)
    for limit in range(max(depth - 2, 0), depth + 2):
        assert nesting_depth_exceeds(raw, limit) == (depth > limit), (raw, limit)


def test_hostile_depth_precheck_is_linear() -> None:
    """65 brackets then an unterminated string of escaped quotes is judged in well under 0.5 s.

    A regex over whole strings backtracks from every quote here (quadratic:
    ~2 s for these 24 KiB, hours for a 1 MiB record); one pass takes microseconds.
    """
    raw = b"[" * 65 + b'"' + b'\\"' * 12_000  # 24 KiB
    version = compiled(ORDER)
    start = time.perf_counter()
    verdict = version.check(raw)
    elapsed = time.perf_counter() - start
    assert verdict.reason in ("too_deep", "decode")
    assert elapsed < 0.5, f"{len(raw)} bytes took {elapsed:.2f} s"
