"""Sample traffic for the demo, the tests and the benchmark: labelled Kafka records.

:func:`generate_mix` builds a deterministic mix of records for the topics the
contracts bind: valid events drawn from each contract's
``examples/v<N>.valid.jsonl`` (non-retired versions, with a fresh ``event_id``
and entity id so that records differ) and invalid ones cycling through every
dead-letter reason. Each record carries the ground truth a test can assert on:
which contract and version judge it, whether it is valid, why not, and the
topic the enforcer must route it to. The labels are not guessed from how a
record was built: every record is re-judged by :func:`judge_record`, a small
reference model of the enforcer's routing (topic -> binding by discriminator ->
version -> compiled validator).

:func:`produce` sends records to a broker with ``confluent_kafka`` (imported
only there), and ``python -m streamprocs.traffic`` does both from the command
line and prints what it sent.

Every record has a ``dce-sample-seq`` header (its index in the mix, ASCII
decimal) so that tests can find it again on the output or dead-letter topic.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import string
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from streamprocs.contracts.compiler import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    CompiledVersion,
    nesting_depth_exceeds,
)
from streamprocs.contracts.examples import example_files
from streamprocs.contracts.loader import Contract, ContractSet
from streamprocs.contracts.model import REASONS, Binding, Enforcement, Status
from streamprocs.contracts.registry import locate, parse_version, select_version
from streamprocs.contracts.verdict import Verdict

SEQ_HEADER = "dce-sample-seq"
# The version an unknown_version sample names (a higher one if a contract has a v99).
UNKNOWN_VERSION = 99
# Share of valid events (of a contract whose version source is a header) that name
# no version and so are judged by the contract's default version.
NO_VERSION_SHARE = 0.10
# Share of the other header-versioned valid events that write the version as ``v<N>``.
V_PREFIX_SHARE = 0.05
# Relative weight of the default version among a contract's live versions (others: 1).
DEFAULT_VERSION_WEIGHT = 4
# Discriminator values for unknown_contract samples; any other value gets ``not_`` before it.
UNMATCHED_VALUES: Mapping[str, str] = {
    "order_created": "order_cancelled",
    "user_signed_up": "user_deleted",
}
# Reasons about the record's bytes, found before the event is parsed.
BODY_REASONS = frozenset({"decode", "too_large", "too_deep"})
# The producer's own size cap; the broker's (message.max.bytes, default 1 MiB + 12
# bytes) or the topic's (max.message.bytes) still applies.
PRODUCER_MESSAGE_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class SampleRecord:
    """One record to produce, with the verdict the enforcer must reach on it."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    # None for unknown_contract.
    contract_id: str | None
    # The version that judges the record, or the one it names when that version
    # exists (retired_version); None when no version of the contract applies
    # (unknown_contract, unknown_version, an unreadable body naming its version in
    # the body).
    version: int | None
    # The contract's verdict, "valid" or "invalid", whatever the enforcement mode.
    expected: str
    # None when valid, else one of REASONS.
    expected_reason: str | None
    # Where the enforcer must route it: the binding's output, or its dead-letter topic
    # (shadow contracts: output even when invalid).
    destination: str

    @property
    def seq(self) -> int | None:
        """The ``dce-sample-seq`` header as a number."""
        for name, value in self.headers:
            if name == SEQ_HEADER:
                return int(value)
        return None


@dataclass(frozen=True)
class Outcome:
    """What the enforcer decides about one record (see :func:`judge_record`)."""

    contract_id: str | None
    version: int | None
    reason: str | None
    destination: str

    @property
    def valid(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class _Slot:
    """One binding of one contract, in the order the enforcer tries them."""

    contract: Contract
    binding: Binding


def topic_bindings(contract_set: ContractSet) -> dict[str, list[_Slot]]:
    """Source topic -> its bindings, sorted by contract id (then binding order)."""
    out: dict[str, list[_Slot]] = {}
    for contract_id in sorted(contract_set.contracts):
        contract = contract_set.contracts[contract_id]
        for binding in contract.spec.bindings:
            out.setdefault(binding.topic, []).append(_Slot(contract, binding))
    return out


def _read_body(raw: bytes, max_bytes: int, max_depth: int) -> tuple[Any, str | None]:
    """(event, None) or (None, reason) for a value that cannot be read."""
    if len(raw) > max_bytes:
        return None, "too_large"
    if nesting_depth_exceeds(raw, max_depth):
        return None, "too_deep"
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError:
        return None, "decode"


def _header_map(headers: Sequence[tuple[str, bytes]]) -> dict[str, bytes]:
    # The first occurrence of a header wins.
    out: dict[str, bytes] = {}
    for name, value in headers:
        out.setdefault(name, value)
    return out


def judge_record(
    contract_set: ContractSet,
    topic: str,
    headers: Sequence[tuple[str, bytes]],
    value: bytes,
    *,
    max_event_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    bindings: Mapping[str, list[_Slot]] | None = None,
    check: Callable[[CompiledVersion, Any], Verdict] | None = None,
) -> Outcome:
    """The enforcer's decision about one record, computed the plain way.

    Size, depth and JSON are checked first; then the topic's bindings are tried
    in contract-id order (no discriminator, or the discriminator's header or
    JSON pointer equals its value); then the version is read from the
    contract's ``version_source`` (the default version when the record names
    none) and the compiled validator judges the event. A record matching no
    binding is ``unknown_contract`` and goes to the dead-letter topic of the
    topic's first binding. Shadow contracts route everything to the output.

    One case has no single right answer and is never generated: a body that
    cannot be read on a topic whose contracts are told apart by a field of the
    body. It is judged here with the body's reason and no contract.

    ``bindings`` (from :func:`topic_bindings`) saves recomputing them per record;
    ``check`` replaces ``CompiledVersion.check_value`` (the generator memoizes it).
    """
    slots = (bindings if bindings is not None else topic_bindings(contract_set)).get(topic)
    if not slots:
        raise ValueError(f"no contract binds topic {topic!r}")
    header_map = _header_map(headers)
    event, body_reason = _read_body(value, max_event_bytes, max_depth)
    first_dead_letter = slots[0].binding.dead_letter
    chosen: _Slot | None = None
    for slot in slots:
        disc = slot.binding.discriminator
        if disc is None:
            chosen = slot
            break
        if disc.pointer is not None and body_reason is not None:
            # Cannot tell without the body (see the docstring).
            return Outcome(None, None, body_reason, first_dead_letter)
        if locate(disc, header_map, event) == disc.value:
            chosen = slot
            break
    if chosen is None:
        return Outcome(None, None, "unknown_contract", first_dead_letter)
    contract, binding = chosen.contract, chosen.binding
    shadow = contract.spec.enforcement is Enforcement.SHADOW

    def outcome(version: int | None, reason: str | None) -> Outcome:
        to = binding.output if reason is None or shadow else binding.dead_letter
        return Outcome(contract.id, version, reason, to)

    source = contract.spec.version_source
    if body_reason is not None:
        named_version: int | None = None
        if source.header is not None:
            text = locate(source, header_map, None)
            parsed = parse_version(text) if text is not None else None
            named_version = parsed if parsed in contract.compiled else None
        return outcome(named_version, body_reason)
    named = locate(source, header_map, event)
    selected = select_version(contract, named)
    if isinstance(selected, Verdict):
        parsed = parse_version(named) if named is not None else None
        return outcome(parsed if parsed in contract.compiled else None, selected.reason)
    verdict = check(selected, event) if check is not None else selected.check_value(event)
    return outcome(selected.version, verdict.reason)


class _MemoCheck:
    """``CompiledVersion.check_value`` with the rules' verdicts memoized.

    The mix re-judges every record, and thousands of them are one of a few
    examples with fresh ids: the JSON Schema still judges each event, but the
    CEL rules (most of the cost) are pure functions of the top-level fields they
    read, so their verdict is reused when those fields are the same. The result
    is exactly what ``check_value`` returns.
    """

    def __init__(self) -> None:
        self._schema_only: dict[int, CompiledVersion] = {}
        self._fields: dict[int, tuple[str, ...]] = {}
        self._rules: dict[tuple[int, bytes], Verdict] = {}

    def __call__(self, compiled: CompiledVersion, event: Any) -> Verdict:
        if not compiled.rules or not isinstance(event, dict):
            return compiled.check_value(event)
        key = id(compiled)
        schema_only = self._schema_only.get(key)
        if schema_only is None:
            schema_only = self._schema_only[key] = dataclasses.replace(compiled, rules=())
            self._fields[key] = tuple(sorted({f for r in compiled.rules for f in r.fields}))
        verdict = schema_only.check_value(event)
        if not verdict.valid or verdict.violations:
            return compiled.check_value(event)
        try:
            inputs = orjson.dumps(
                [[name in event, event.get(name)] for name in self._fields[key]],
                option=orjson.OPT_SORT_KEYS,
            )
        except TypeError:
            return compiled.check_value(event)
        memo = self._rules.get((key, inputs))
        if memo is None:
            memo = self._rules[(key, inputs)] = compiled.check_value(event)
        return memo


# --- generation --------------------------------------------------------------------------


@dataclass
class _Target:
    """A binding the mix sends events to, with its example events."""

    contract: Contract
    binding: Binding
    # Live (non-retired) version -> its valid example events.
    valid: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # Valid example events of retired versions.
    retired: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # "schema" / "rule" -> (version, example line) failing for that reason.
    invalid: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    key_field: str | None = None

    def live_versions(self) -> list[int]:
        return sorted(self.valid)

    def default_version(self) -> int:
        default = self.contract.default_version()
        if default in self.valid:
            return default
        return max(self.valid)


def _key_field(contract: Contract) -> str | None:
    """``order_created`` -> ``order_id`` when the schema has it: the entity the event is about."""
    entity = contract.spec.event.split("_", 1)[0]
    name = f"{entity}_id"
    for version in contract.versions.values():
        props = version.schema_.get("properties")
        if isinstance(props, dict) and name in props:
            return name
    return None


def _load_examples(contract: Contract) -> tuple[dict[int, list[bytes]], dict[int, list[bytes]]]:
    valid: dict[int, list[bytes]] = {}
    invalid: dict[int, list[bytes]] = {}
    for path, version, expect_valid in example_files(contract):
        if version not in contract.compiled:
            continue
        lines = [line for line in path.read_bytes().splitlines() if line.strip()]
        (valid if expect_valid else invalid).setdefault(version, []).extend(lines)
    return valid, invalid


def _set_pointer(event: Any, pointer: str, value: Any) -> Any:
    """A copy of ``event`` with ``value`` at a JSON pointer (objects only, created as needed)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    root: dict[str, Any] = dict(event) if isinstance(event, dict) else {}
    node = root
    for part in parts[:-1]:
        child = node.get(part)
        node[part] = dict(child) if isinstance(child, dict) else {}
        node = node[part]
    node[parts[-1]] = value
    return root


def _random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _vary_id(value: str, rng: random.Random) -> str:
    """A new id of the same shape: a UUID for a UUID, else same prefix and character classes."""
    try:
        uuid.UUID(value)
    except ValueError:
        pass
    else:
        return _random_uuid(rng)
    cut = max(value.find("-"), value.find("_")) + 1
    out = [value[:cut]]
    for char in value[cut:]:
        if char.isdigit():
            out.append(rng.choice(string.digits))
        elif char.isascii() and char.isupper():
            out.append(rng.choice(string.ascii_uppercase))
        elif char.isascii() and char.islower():
            out.append(rng.choice(string.ascii_lowercase))
        else:
            out.append(char)
    return "".join(out)


def _key_of(event: Any, key_field: str | None) -> bytes | None:
    if key_field is None or not isinstance(event, dict):
        return None
    value = event.get(key_field)
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value).encode()
    return None


@dataclass
class _Draft:
    """A record before its labels: what the generator meant to build."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class _Mixer:
    """Builds records for one :func:`generate_mix` call."""

    def __init__(
        self, contract_set: ContractSet, rng: random.Random, max_bytes: int, max_depth: int
    ) -> None:
        self.contract_set = contract_set
        self.rng = rng
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.bindings = topic_bindings(contract_set)
        self._check = _MemoCheck()
        self.targets = self._targets()
        if not self.targets:
            raise ValueError(
                f"no contract under {contract_set.root} has both a binding and valid "
                "example events (examples/v<N>.valid.jsonl) of a live version"
            )
        self.eligible = {reason: self._eligible(reason) for reason in REASONS}
        self._turn: Counter[str] = Counter()
        self._round: Counter[str] = Counter()
        # reason -> builder(target, vary) of a record invalid for that reason.
        self._builders: dict[str, Callable[[_Target, bool], _Draft]] = {
            "schema": lambda t, vary: self._from_invalid_example(t, "schema", vary),
            "rule": lambda t, vary: self._from_invalid_example(t, "rule", vary),
            "decode": self._invalid_decode,
            "too_large": self._invalid_too_large,
            "too_deep": self._invalid_too_deep,
            "unknown_contract": self._invalid_unknown_contract,
            "unknown_version": self._invalid_unknown_version,
            "retired_version": self._invalid_retired_version,
        }

    # -- set-up ----------------------------------------------------------------------------

    def judge(self, topic: str, headers: Sequence[tuple[str, bytes]], value: bytes) -> Outcome:
        return judge_record(
            self.contract_set,
            topic,
            headers,
            value,
            max_event_bytes=self.max_bytes,
            max_depth=self.max_depth,
            bindings=self.bindings,
            check=self._check,
        )

    def _targets(self) -> list[_Target]:
        targets: list[_Target] = []
        for topic in sorted(self.bindings):
            for slot in self.bindings[topic]:
                target = self._target(slot.contract, slot.binding)
                if target.valid:
                    targets.append(target)
        return targets

    def _target(self, contract: Contract, binding: Binding) -> _Target:
        target = _Target(contract, binding, key_field=_key_field(contract))
        valid_lines, invalid_lines = _load_examples(contract)
        for version, lines in sorted(valid_lines.items()):
            retired = contract.versions[version].status is Status.RETIRED
            for line in lines:
                try:
                    event = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if not isinstance(event, dict):
                    continue
                if retired:
                    target.retired.setdefault(version, []).append(event)
                    continue
                # Keep only what the enforcer would really accept as this version.
                draft = self._valid_draft(target, event, version, named=True, vary=False)
                outcome = self.judge(draft.topic, draft.headers, draft.value)
                if outcome.valid and outcome.contract_id == contract.id:
                    target.valid.setdefault(version, []).append(event)
        for version, lines in sorted(invalid_lines.items()):
            if contract.versions[version].status is Status.RETIRED:
                continue
            for line in lines:
                headers = self._headers(target, version_text=str(version))
                outcome = self.judge(binding.topic, headers, line)
                if outcome.contract_id == contract.id and outcome.reason in ("schema", "rule"):
                    target.invalid.setdefault(outcome.reason, []).append((version, line))
        return target

    def _eligible(self, reason: str) -> list[_Target]:
        """The targets that can carry a record invalid for ``reason``."""
        if reason in ("schema", "rule"):
            return [t for t in self.targets if t.invalid.get(reason)]
        if reason in BODY_REASONS:
            # Only where the contract is known without reading the body.
            return [
                t
                for t in self.targets
                if t.binding.discriminator is None or t.binding.discriminator.header is not None
            ]
        if reason == "unknown_contract":
            # One per topic whose every binding has a discriminator (one without catches all).
            out: list[_Target] = []
            seen: set[str] = set()
            for t in self.targets:
                slots = self.bindings[t.binding.topic]
                if t.binding.topic in seen:
                    continue
                if all(s.binding.discriminator is not None for s in slots):
                    seen.add(t.binding.topic)
                    out.append(t)
            return out
        if reason == "unknown_version":
            return list(self.targets)
        if reason == "retired_version":
            return [
                t
                for t in self.targets
                if any(v.status is Status.RETIRED for v in t.contract.versions.values())
            ]
        raise ValueError(f"unknown reason {reason!r}; use one of {', '.join(REASONS)}")

    # -- building blocks --------------------------------------------------------------------

    def _headers(
        self, target: _Target, *, version_text: str | None, discriminator: bool = True
    ) -> list[tuple[str, bytes]]:
        headers: list[tuple[str, bytes]] = []
        disc = target.binding.discriminator
        if discriminator and disc is not None and disc.header is not None:
            headers.append((disc.header, disc.value.encode()))
        source = target.contract.spec.version_source
        if source.header is not None and version_text is not None:
            headers.append((source.header, version_text.encode()))
        return headers

    def _prepare(
        self, target: _Target, event: dict[str, Any], version: int | None, vary: bool
    ) -> dict[str, Any]:
        """The event with its discriminator field, body version and (if ``vary``) fresh ids."""
        out: dict[str, Any] = dict(event)
        disc = target.binding.discriminator
        if disc is not None and disc.pointer is not None:
            out = _set_pointer(out, disc.pointer, disc.value)
        source = target.contract.spec.version_source
        if source.pointer is not None and version is not None:
            out = _set_pointer(out, source.pointer, version)
        if vary:
            if isinstance(out.get("event_id"), str):
                out["event_id"] = _random_uuid(self.rng)
            key = target.key_field
            if key is not None and isinstance(out.get(key), str):
                out[key] = _vary_id(out[key], self.rng)
        return out

    def _valid_draft(
        self, target: _Target, event: dict[str, Any], version: int, *, named: bool, vary: bool
    ) -> _Draft:
        body = self._prepare(target, event, version, vary)
        text = None
        if named:
            prefix = "v" if vary and self.rng.random() < V_PREFIX_SHARE else ""
            text = f"{prefix}{version}"
        headers = self._headers(target, version_text=text)
        return _Draft(
            target.binding.topic,
            _key_of(body, target.key_field),
            orjson.dumps(body),
            headers,
        )

    def _pick_version(self, target: _Target) -> int:
        versions = target.live_versions()
        default = target.default_version()
        weights = [DEFAULT_VERSION_WEIGHT if v == default else 1 for v in versions]
        return self.rng.choices(versions, weights=weights)[0]

    def _template(self, target: _Target, version: int) -> dict[str, Any]:
        return self.rng.choice(target.valid[version])

    def _next_target(self, reason: str) -> _Target:
        """Round-robin over the targets eligible for ``reason``, so each gets its share."""
        eligible = self.eligible[reason]
        turn = self._turn[reason]
        self._turn[reason] += 1
        # How many times this target had the reason before: variants alternate on it.
        self._round[reason] = turn // len(eligible)
        return eligible[turn % len(eligible)]

    # -- records --------------------------------------------------------------------------

    def valid(self) -> tuple[_Draft, Callable[[], _Draft]]:
        """A valid draft and a fallback without variation, should the variation break it."""
        target = self.rng.choice(self.targets)
        version = self._pick_version(target)
        event = self._template(target, version)
        named = not (
            target.contract.spec.version_source.header is not None
            and version == target.default_version() == target.contract.default_version()
            and self.rng.random() < NO_VERSION_SHARE
        )
        draft = self._valid_draft(target, event, version, named=named, vary=True)
        return draft, lambda: self._valid_draft(target, event, version, named=True, vary=False)

    def invalid(self, reason: str) -> tuple[_Draft, Callable[[], _Draft]]:
        target = self._next_target(reason)
        build = self._builders[reason]
        return build(target, True), lambda: build(target, False)

    def _plain(self, target: _Target, *, vary: bool) -> tuple[dict[str, Any], int]:
        """A valid event of the default version, prepared, and that version."""
        version = target.default_version()
        return self._prepare(target, self._template(target, version), version, vary), version

    def _from_invalid_example(self, target: _Target, reason: str, vary: bool) -> _Draft:
        version, line = self.rng.choice(target.invalid[reason])
        value = line
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            event = None
        if vary and isinstance(event, dict) and isinstance(event.get("event_id"), str):
            event = {**event, "event_id": _random_uuid(self.rng)}
            value = orjson.dumps(event)
        headers = self._headers(target, version_text=str(version))
        return _Draft(target.binding.topic, _key_of(event, target.key_field), value, headers)

    def _body_draft(
        self, target: _Target, vary: bool, make: Callable[[dict[str, Any]], bytes]
    ) -> _Draft:
        body, version = self._plain(target, vary=vary)
        headers = self._headers(target, version_text=str(version))
        return _Draft(target.binding.topic, _key_of(body, target.key_field), make(body), headers)

    def _invalid_decode(self, target: _Target, vary: bool) -> _Draft:
        truncate = self._round["decode"] % 2 == 1

        def make(body: dict[str, Any]) -> bytes:
            raw = orjson.dumps(body)
            if truncate:
                return raw[: len(raw) // 2]
            # Valid JSON syntax, but a string holds bytes that are not UTF-8.
            return raw[:-1] + b',"note":"caf\xe9 \xff"}'

        return self._body_draft(target, vary, make)

    def _invalid_too_large(self, target: _Target, vary: bool) -> _Draft:
        limit = self.max_bytes

        def make(body: dict[str, Any]) -> bytes:
            base = orjson.dumps({**body, "padding": ""})
            # ASCII padding: one character is one byte, so the value ends 1 byte over.
            return orjson.dumps({**body, "padding": "x" * max(0, limit + 1 - len(base))})

        return self._body_draft(target, vary, make)

    def _invalid_too_deep(self, target: _Target, vary: bool) -> _Draft:
        depth = self.max_depth

        def make(body: dict[str, Any]) -> bytes:
            # The event object is level 1, so max_depth arrays inside reach max_depth + 1.
            nested = b"[" * depth + b"]" * depth
            raw = orjson.dumps(body)
            return raw[:-1] + (b"," if len(raw) > 2 else b"") + b'"nested":' + nested + b"}"

        return self._body_draft(target, vary, make)

    def _invalid_unknown_contract(self, target: _Target, vary: bool) -> _Draft:
        topic = target.binding.topic
        disc = target.binding.discriminator
        assert disc is not None  # eligible only when every binding of the topic has one
        taken = {
            s.binding.discriminator.value
            for s in self.bindings[topic]
            if s.binding.discriminator is not None
        }
        other = UNMATCHED_VALUES.get(disc.value, f"not_{disc.value}")
        while other in taken:
            other = f"not_{other}"
        body, version = self._plain(target, vary=vary)
        headers = self._headers(target, version_text=str(version), discriminator=False)
        if disc.header is not None:
            # Every other one has no event-type header at all, the rest an unknown type.
            if self._round["unknown_contract"] % 2 == 0 or not vary:
                headers.insert(0, (disc.header, other.encode()))
        else:
            assert disc.pointer is not None
            body = _set_pointer(body, disc.pointer, other)
        return _Draft(topic, _key_of(body, target.key_field), orjson.dumps(body), headers)

    def _unmatched_version(self, target: _Target) -> int:
        return max(UNKNOWN_VERSION, max(target.contract.versions) + 1)

    def _named_version_draft(
        self, target: _Target, version: int, event: dict[str, Any], vary: bool
    ) -> _Draft:
        body = self._prepare(target, event, version, vary)
        headers = self._headers(target, version_text=str(version))
        return _Draft(
            target.binding.topic,
            _key_of(body, target.key_field),
            orjson.dumps(body),
            headers,
        )

    def _invalid_unknown_version(self, target: _Target, vary: bool) -> _Draft:
        event = self._template(target, target.default_version())
        return self._named_version_draft(target, self._unmatched_version(target), event, vary)

    def _invalid_retired_version(self, target: _Target, vary: bool) -> _Draft:
        retired = sorted(
            n for n, v in target.contract.versions.items() if v.status is Status.RETIRED
        )
        version = retired[self._round["retired_version"] % len(retired)]
        # An old producer still emitting the retired shape, when there are examples of it.
        pool = target.retired.get(version) or target.valid[target.default_version()]
        return self._named_version_draft(target, version, self.rng.choice(pool), vary)


def _label(draft: _Draft, outcome: Outcome, seq: int) -> SampleRecord:
    return SampleRecord(
        topic=draft.topic,
        key=draft.key,
        value=draft.value,
        headers=[*draft.headers, (SEQ_HEADER, str(seq).encode("ascii"))],
        contract_id=outcome.contract_id,
        version=outcome.version,
        expected="valid" if outcome.valid else "invalid",
        expected_reason=outcome.reason,
        destination=outcome.destination,
    )


def available_reasons(
    contract_set: ContractSet,
    max_event_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> list[str]:
    """The reasons :func:`generate_mix` can produce records for with these contracts."""
    mixer = _Mixer(contract_set, random.Random(0), max_event_bytes, max_depth)
    return [r for r in REASONS if mixer.eligible[r]]


def generate_mix(
    contract_set: ContractSet,
    count: int,
    invalid_share: float = 0.03,
    seed: int = 0,
    reasons: Sequence[str] | None = None,
    max_event_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> list[SampleRecord]:
    """``count`` labelled records, the same ones for the same arguments.

    ``round(count * invalid_share)`` of them, at random positions, are invalid,
    cycling through ``reasons`` (default: every reason the contracts allow; naming
    one they do not allow, e.g. ``retired_version`` without a retired version, is
    a ``ValueError``). ``max_event_bytes`` and ``max_depth`` must be the limits the
    enforcer runs with: ``too_large`` records are one byte over the former and
    ``too_deep`` ones nest one level deeper than the latter.
    """
    if count < 0:
        raise ValueError("count must be 0 or more")
    if not 0.0 <= invalid_share <= 1.0:
        raise ValueError("invalid_share must be between 0 and 1")
    rng = random.Random(seed)
    mixer = _Mixer(contract_set, rng, max_event_bytes, max_depth)
    if reasons is None:
        cycle = [r for r in REASONS if mixer.eligible[r]]
    else:
        cycle = list(reasons)
        unknown = [r for r in cycle if r not in REASONS]
        if unknown:
            raise ValueError(f"unknown reason(s) {unknown}; use some of {', '.join(REASONS)}")
        impossible = [r for r in cycle if not mixer.eligible[r]]
        if impossible:
            raise ValueError(
                f"the contracts under {contract_set.root} cannot produce {impossible} "
                "(e.g. retired_version needs a retired version)"
            )
    invalid_count = round(count * invalid_share) if cycle else 0
    invalid_at = set(rng.sample(range(count), invalid_count))
    records: list[SampleRecord] = []
    nth_invalid = 0
    for seq in range(count):
        intended: str | None
        if seq in invalid_at:
            intended = cycle[nth_invalid % len(cycle)]
            nth_invalid += 1
            draft, fallback = mixer.invalid(intended)
        else:
            intended = None
            draft, fallback = mixer.valid()
        outcome = mixer.judge(draft.topic, draft.headers, draft.value)
        if outcome.reason != intended:
            # A varied id broke (or fixed) the event: use the example as it is.
            draft = fallback()
            outcome = mixer.judge(draft.topic, draft.headers, draft.value)
        records.append(_label(draft, outcome, seq))
    return records


# --- producing -----------------------------------------------------------------------------


class ProduceError(RuntimeError):
    """Some records were not delivered."""


def produce(
    records: Iterable[SampleRecord],
    bootstrap: str,
    *,
    extra_config: dict[str, str] | None = None,
    rate: float | None = None,
) -> int:
    """Send ``records`` to the broker at ``bootstrap``; the number delivered.

    Idempotent producer, ``linger.ms`` 5; ``rate`` caps records per second.
    Raises ``ProduceError`` when any record was not delivered (after the others
    were flushed). ``too_large`` samples need a broker (``message.max.bytes``) or
    topic (``max.message.bytes``) limit above the enforcer's size limit.
    """
    from confluent_kafka import KafkaError, KafkaException, Producer

    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "linger.ms": 5,
        "enable.idempotence": True,
        "message.max.bytes": PRODUCER_MESSAGE_MAX_BYTES,
    }
    config.update(extra_config or {})
    producer = Producer(config)
    delivered = 0
    failed = 0
    errors: Counter[str] = Counter()
    too_large = False

    def failure(err: Any) -> None:
        nonlocal failed, too_large
        failed += 1
        errors[err.str()] += 1
        too_large = too_large or err.code() == KafkaError.MSG_SIZE_TOO_LARGE

    # Called from poll() and flush(), on this thread.
    def on_delivery(err: Any, _msg: Any) -> None:
        nonlocal delivered
        if err is None:
            delivered += 1
        else:
            failure(err)

    start = time.monotonic()
    for sent, record in enumerate(records):
        if rate is not None and rate > 0:
            due = start + sent / rate
            while (wait := due - time.monotonic()) > 0:
                producer.poll(min(wait, 0.1))
        headers: list[tuple[str, str | bytes | None]] = list(record.headers)
        while True:
            try:
                producer.produce(
                    record.topic,
                    value=record.value,
                    key=record.key,
                    headers=headers,
                    on_delivery=on_delivery,
                )
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                producer.poll(0.1)
                continue
            except KafkaException as exc:
                # Refused before queueing (e.g. over the producer's message.max.bytes).
                failure(exc.args[0])
            break
        producer.poll(0)
    remaining = producer.flush(60)
    if remaining:
        failed += remaining
        errors[f"{remaining} record(s) still queued after 60 s"] += 1
    if failed:
        detail = "; ".join(f"{message} (x{n})" for message, n in errors.most_common(5))
        hint = (
            " - too_large samples need message.max.bytes on the broker (or max.message.bytes "
            "on the topic) above the enforcer's size limit"
            if too_large
            else ""
        )
        raise ProduceError(
            f"{failed} record(s) not delivered to {bootstrap} ({delivered} delivered): "
            f"{detail}{hint}"
        )
    return delivered


# --- command line ------------------------------------------------------------------------


def summarize(records: Iterable[SampleRecord]) -> dict[str, Counter[str]]:
    """Per source topic: ``count``, ``valid``, ``invalid`` and one count per reason."""
    out: dict[str, Counter[str]] = {}
    for record in records:
        counts = out.setdefault(record.topic, Counter())
        counts["count"] += 1
        counts[record.expected] += 1
        if record.expected_reason is not None:
            counts[record.expected_reason] += 1
    return out


def _destinations(records: Iterable[SampleRecord]) -> Counter[str]:
    return Counter(record.destination for record in records)


# Column headings of the summary, two lines each to keep the table narrow.
_HEADINGS = {
    "count": "records",
    "too_large": "too\nlarge",
    "too_deep": "too\ndeep",
    "unknown_contract": "unknown\ncontract",
    "unknown_version": "unknown\nversion",
    "retired_version": "retired\nversion",
}


def summary_tables(records: Sequence[SampleRecord]) -> list[Any]:
    """Rich tables: per source topic (records, valid, invalid by reason), per destination."""
    from rich.table import Table

    per_topic = summarize(records)
    present = [r for r in REASONS if any(c[r] for c in per_topic.values())]
    columns = ("count", "valid", "invalid", *present)
    table = Table(title=f"Sample traffic: {len(records)} records (expected verdicts)")
    table.add_column("source topic")
    for name in columns:
        table.add_column(_HEADINGS.get(name, name), justify="right")
    total: Counter[str] = Counter()
    for topic in sorted(per_topic):
        counts = per_topic[topic]
        total.update(counts)
        table.add_row(topic, *(str(counts[n]) for n in columns))
    table.add_section()
    table.add_row("total", *(str(total[n]) for n in columns))
    routes = Table(title="Where the enforcer must route them")
    routes.add_column("destination topic")
    routes.add_column("records", justify="right")
    for topic, n in sorted(_destinations(records).items()):
        routes.add_row(topic, str(n))
    return [table, routes]


def _print_summary(records: Sequence[SampleRecord]) -> None:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        # Piped or logged: no terminal width to respect, so do not squeeze the columns.
        console = Console(width=140)
    for table in summary_tables(records):
        console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m streamprocs.traffic``: generate a mix, print it, produce it."""
    parser = argparse.ArgumentParser(
        prog="python -m streamprocs.traffic",
        description="Produce labelled sample events for the contracts' topics.",
    )
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers, e.g. 127.0.0.1:9092")
    parser.add_argument("--count", type=int, default=2000, help="records to produce")
    parser.add_argument(
        "--invalid-share", type=float, default=0.03, help="share of invalid records"
    )
    parser.add_argument("--contracts", type=Path, default=Path("contracts"), help="folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=None, help="records per second")
    parser.add_argument(
        "--reasons", default=None, help=f"comma-separated subset of {','.join(REASONS)}"
    )
    parser.add_argument("--max-event-bytes", type=int, default=DEFAULT_MAX_BYTES)
    parser.add_argument("--max-depth", type=int, default=DEFAULT_MAX_DEPTH)
    parser.add_argument("--dry-run", action="store_true", help="print the summary, produce nothing")
    args = parser.parse_args(argv)
    if args.bootstrap is None and not args.dry_run:
        parser.error("--bootstrap is required (or --dry-run)")

    from streamprocs.contracts.errors import ContractSetError
    from streamprocs.contracts.loader import load_contract_set

    try:
        contract_set = load_contract_set(args.contracts)
        reasons = args.reasons.split(",") if args.reasons else None
        records = generate_mix(
            contract_set,
            args.count,
            invalid_share=args.invalid_share,
            seed=args.seed,
            reasons=reasons,
            max_event_bytes=args.max_event_bytes,
            max_depth=args.max_depth,
        )
    except ContractSetError as exc:
        print(f"error: the contracts do not load:\n{exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_summary(records)
    if args.dry_run:
        return 0
    started = time.monotonic()
    try:
        delivered = produce(records, args.bootstrap, rate=args.rate)
    except ProduceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(f"delivered {delivered} records to {args.bootstrap} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
