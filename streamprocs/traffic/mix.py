"""Generating a deterministic, labelled mix of valid and invalid records."""

from __future__ import annotations

import random
import string
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from streamprocs.contracts.compiler import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
)
from streamprocs.contracts.examples import example_files
from streamprocs.contracts.loader import Contract, ContractSet
from streamprocs.contracts.model import REASONS, Binding, Status
from streamprocs.traffic.oracle import _MemoCheck, judge_record
from streamprocs.traffic.records import (
    BODY_REASONS,
    DEFAULT_VERSION_WEIGHT,
    NO_VERSION_SHARE,
    SEQ_HEADER,
    UNKNOWN_VERSION,
    UNMATCHED_VALUES,
    V_PREFIX_SHARE,
    Outcome,
    SampleRecord,
    topic_bindings,
)

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
