"""From a record (topic, headers, value) to a routing decision: which contract, which
version, what verdict, and which topic the record goes to.

Pure: it knows topics by name but never talks to Kafka. Tables are built once
per contract set, so routing one record is a few dictionary lookups, one parse
and one validation; the record is parsed at most once even when a JSON-pointer
discriminator or version source has to look inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from streamprocs.contracts.compiler import CompiledVersion, Limits, decode
from streamprocs.contracts.loader import Contract, ContractSet
from streamprocs.contracts.model import Binding, Enforcement, Status
from streamprocs.contracts.registry import Pointer, compile_pointer, pointer_text, select_version
from streamprocs.contracts.verdict import VALID, Verdict, Violation, single

Headers = list[tuple[str, bytes | None]] | None
# A record's headers by name (the last of a repeated name wins).
HeaderMap = dict[str, bytes | None]
# Distinct version names remembered per contract: the spellings producers use
# ("2", "v2", "2.0") are few, while a hostile producer's are unbounded.
MAX_CACHED_VERSION_NAMES = 64
# Distinct sets of warnings remembered per contract version (bounded by its warn
# rules, unless their messages vary, which the rules' own text does not).
MAX_CACHED_WARNINGS = 64


class Outcome(StrEnum):
    VALID = "valid"
    WARNED = "warned"
    INVALID = "invalid"
    SHADOW_INVALID = "shadow_invalid"


@dataclass(frozen=True, slots=True)
class Target:
    contract: Contract
    binding: Binding
    shadow: bool


# eq=False: a decision is hashed by identity, which is what the enforcer's
# per-batch tallies need (and cheap), and what a shared decision is.
@dataclass(frozen=True, slots=True, eq=False)
class Decision:
    topic: str  # where the record goes
    outcome: Outcome
    verdict: Verdict
    target: Target | None  # None: no contract matched
    version: int | None
    deprecated: bool = False

    @property
    def to_dead_letter(self) -> bool:
        return self.outcome is Outcome.INVALID


@dataclass(frozen=True, slots=True)
class Lane:
    """One version of one bound contract, with the decision every valid event of it shares.

    Most events are valid, so their decision is built once per contract set
    rather than once per event; so are those of events passing with the same
    warnings (a warn rule's violation never depends on the event's values).
    """

    target: Target
    compiled: CompiledVersion
    valid: Decision
    _warned: dict[tuple[Violation, ...], Decision] = field(default_factory=dict)

    def seen(self, verdict: Verdict) -> Decision | None:
        """The shared decision of events with these warnings, if one passed before: the
        cache holds only valid verdicts, so a hit needs no look at the severities."""
        return self._warned.get(verdict.violations)

    def warned(self, verdict: Verdict) -> Decision:
        found = self._warned.get(verdict.violations)
        if found is None:
            valid = self.valid
            found = Decision(
                valid.topic, Outcome.WARNED, verdict, self.target, valid.version, valid.deprecated
            )
            if len(self._warned) < MAX_CACHED_WARNINGS:
                self._warned[verdict.violations] = found
        return found

    @classmethod
    def of(cls, target: Target, compiled: CompiledVersion) -> Lane:
        deprecated = compiled.status is Status.DEPRECATED
        valid = Decision(
            target.binding.output, Outcome.VALID, VALID, target, compiled.version, deprecated
        )
        return cls(target, compiled, valid)


class Versions:
    """Which lane judges the events of one bound contract, by the version they name.

    Resolving a name (parsing ``v2``, checking its status) is cached per
    spelling, bounded by ``MAX_CACHED_VERSION_NAMES``.
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        self.contract = target.contract
        source = self.contract.spec.version_source
        self.header = source.header
        self.pointer = compile_pointer(source.pointer) if source.pointer is not None else None
        self._lanes = {
            number: Lane.of(target, compiled) for number, compiled in self.contract.compiled.items()
        }
        self.default = self._resolve(None)
        self._by_header: dict[bytes, Lane | Verdict] = {}
        self._by_text: dict[str, Lane | Verdict] = {}

    def _resolve(self, named: str | None) -> Lane | Verdict:
        chosen = select_version(self.contract, named)
        return chosen if isinstance(chosen, Verdict) else self._lanes[chosen.version]

    def by_header(self, raw: bytes | None) -> Lane | Verdict:
        if raw is None:
            return self.default
        found = self._by_header.get(raw)
        if found is None:
            found = self._resolve(raw.decode("utf-8", "replace"))
            if len(self._by_header) < MAX_CACHED_VERSION_NAMES:
                self._by_header[raw] = found
        return found

    def by_text(self, text: str | None) -> Lane | Verdict:
        if text is None:
            return self.default
        found = self._by_text.get(text)
        if found is None:
            found = self._resolve(text)
            if len(self._by_text) < MAX_CACHED_VERSION_NAMES:
                self._by_text[text] = found
        return found


@dataclass(slots=True)
class TopicTable:
    """How to tell the contracts of one topic apart."""

    only: Versions | None = None
    # Header name -> the header's raw value -> contract.
    by_header: dict[str, dict[bytes, Versions]] = field(default_factory=dict)
    # (pointer, its parsed form) -> the text found there -> contract.
    by_pointer: dict[tuple[str, Pointer], dict[str, Versions]] = field(default_factory=dict)
    dead_letter: str = ""

    def targets(self) -> list[Target]:
        found = [self.only] if self.only is not None else []
        for by_header in self.by_header.values():
            found.extend(by_header.values())
        for by_text in self.by_pointer.values():
            found.extend(by_text.values())
        return [v.target for v in found]


_UNPARSED: Any = object()


class Router:
    def __init__(
        self,
        contract_set: ContractSet,
        limits: Limits | None = None,
        default_dead_letter: str | None = None,
    ) -> None:
        self.contract_set = contract_set
        self.revision = contract_set.revision
        self.limits = limits or Limits()
        self.tables: dict[str, TopicTable] = {}
        dead_letters: set[str] = set()
        for _, contract in sorted(contract_set.contracts.items()):
            shadow = contract.spec.enforcement is Enforcement.SHADOW
            for binding in contract.spec.bindings:
                table = self.tables.setdefault(binding.topic, TopicTable())
                # Records that match no contract of a topic go to a configured
                # default, else to the first binding's dead-letter topic.
                table.dead_letter = table.dead_letter or default_dead_letter or binding.dead_letter
                dead_letters |= {binding.dead_letter, table.dead_letter}
                versions = Versions(Target(contract, binding, shadow))
                disc = binding.discriminator
                if disc is None:
                    table.only = versions
                elif disc.header is not None:
                    # Header values are matched as bytes: a discriminator value is
                    # text, and its UTF-8 bytes are what a producer sends.
                    choices = table.by_header.setdefault(disc.header, {})
                    choices[disc.value.encode()] = versions
                else:
                    assert disc.pointer is not None
                    key = (disc.pointer, compile_pointer(disc.pointer))
                    table.by_pointer.setdefault(key, {})[disc.value] = versions

        self.dead_letters = frozenset(dead_letters)

    @property
    def topics(self) -> list[str]:
        return sorted(self.tables)

    def output_topics(self) -> dict[str, set[str]]:
        """Source topic -> every topic the enforcer may write for it."""
        out: dict[str, set[str]] = {}
        for topic, table in self.tables.items():
            dests = {table.dead_letter}
            for t in table.targets():
                dests |= {t.binding.output, t.binding.dead_letter}
            out[topic] = dests
        return out

    def route(self, topic: str, headers: Headers, value: bytes | None) -> Decision:
        """Decide one record. Never raises for any bytes or headers."""
        table = self.tables.get(topic)
        if table is None:
            verdict = single("unknown_contract", f"no contract binds topic {topic!r}")
            return Decision("", Outcome.INVALID, verdict, None, None)
        header_map: HeaderMap = dict(headers) if headers else {}
        if value is None:
            verdict = single("decode", "record has no value (a tombstone)")
            return _judged(table, None, None, verdict)
        parsed = _UNPARSED
        versions = table.only
        if versions is None:
            for name, choices in table.by_header.items():
                raw = header_map.get(name)
                if raw is not None and (versions := choices.get(raw)) is not None:
                    break
        if versions is None and table.by_pointer:
            parsed = decode(value, self.limits)
            if isinstance(parsed, Verdict):
                return _judged(table, None, None, parsed)
            for (_, pointer), by_text in table.by_pointer.items():
                found = pointer_text(parsed, pointer)
                if found is not None and (versions := by_text.get(found)) is not None:
                    break
        if versions is None:
            verdict = single(
                "unknown_contract", f"no contract on topic {topic!r} matches this record"
            )
            return _judged(table, None, None, verdict)
        if versions.header is not None:
            lane = versions.by_header(header_map.get(versions.header))
        else:
            if parsed is _UNPARSED:
                parsed = decode(value, self.limits)
                if isinstance(parsed, Verdict):
                    return _judged(table, versions.target, None, parsed)
            assert versions.pointer is not None  # a version source is a header or a pointer
            lane = versions.by_text(pointer_text(parsed, versions.pointer))
        if isinstance(lane, Verdict):
            return _judged(table, versions.target, None, lane)
        if parsed is _UNPARSED:
            parsed = decode(value, self.limits)
            if isinstance(parsed, Verdict):
                return _judged(table, versions.target, lane.compiled.version, parsed)
        verdict = lane.compiled.check_value(parsed)
        if verdict is VALID:
            return lane.valid
        seen = lane.seen(verdict)
        if seen is not None:
            return seen
        if verdict.valid:
            return lane.warned(verdict)
        return _judged(table, lane.target, lane.compiled.version, verdict, lane.valid.deprecated)


def _judged(
    table: TopicTable,
    target: Target | None,
    version: int | None,
    verdict: Verdict,
    deprecated: bool = False,
) -> Decision:
    if verdict.valid:
        assert target is not None  # only a contract's verdict can be valid
        outcome = Outcome.WARNED if verdict.violations else Outcome.VALID
        return Decision(target.binding.output, outcome, verdict, target, version, deprecated)
    if target is None:
        return Decision(table.dead_letter, Outcome.INVALID, verdict, None, None)
    if target.shadow:
        return Decision(
            target.binding.output, Outcome.SHADOW_INVALID, verdict, target, version, deprecated
        )
    return Decision(
        target.binding.dead_letter, Outcome.INVALID, verdict, target, version, deprecated
    )
