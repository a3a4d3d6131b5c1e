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

from streamprocs.contracts.compiler import Limits, decode
from streamprocs.contracts.loader import Contract, ContractSet
from streamprocs.contracts.model import Binding, Enforcement, Status
from streamprocs.contracts.registry import locate, pointer_text, select_version
from streamprocs.contracts.verdict import Verdict, single

Headers = list[tuple[str, bytes | None]] | None


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


@dataclass(slots=True)
class TopicTable:
    """How to tell the contracts of one topic apart."""

    only: Target | None = None
    by_header: dict[str, dict[str, Target]] = field(default_factory=dict)
    by_pointer: dict[str, dict[str, Target]] = field(default_factory=dict)
    dead_letter: str = ""


@dataclass(frozen=True, slots=True)
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
                target = Target(contract, binding, shadow)
                disc = binding.discriminator
                if disc is None:
                    table.only = target
                elif disc.header is not None:
                    table.by_header.setdefault(disc.header, {})[disc.value] = target
                else:
                    assert disc.pointer is not None
                    table.by_pointer.setdefault(disc.pointer, {})[disc.value] = target

        self.dead_letters = frozenset(dead_letters)

    @property
    def topics(self) -> list[str]:
        return sorted(self.tables)

    def output_topics(self) -> dict[str, set[str]]:
        """Source topic -> every topic the enforcer may write for it."""
        out: dict[str, set[str]] = {}
        for topic, table in self.tables.items():
            targets = [table.only] if table.only else []
            for group in (*table.by_header.values(), *table.by_pointer.values()):
                targets.extend(group.values())
            dests = {table.dead_letter}
            for t in targets:
                if t is not None:
                    dests |= {t.binding.output, t.binding.dead_letter}
            out[topic] = dests
        return out

    def route(self, topic: str, headers: Headers, value: bytes | None) -> Decision:
        """Decide one record. Never raises for any bytes or headers."""
        table = self.tables.get(topic)
        if table is None:
            verdict = single("unknown_contract", f"no contract binds topic {topic!r}")
            return Decision("", Outcome.INVALID, verdict, None, None)
        header_map: dict[str, bytes | None] = dict(headers) if headers else {}
        if value is None:
            verdict = single("decode", "record has no value (a tombstone)")
            return self._judged(table, None, None, verdict, False)
        parsed = _UNPARSED
        target = table.only
        if target is None:
            for name, choices in table.by_header.items():
                raw = header_map.get(name)
                if raw is not None:
                    target = choices.get(raw.decode("utf-8", "replace"))
                    if target is not None:
                        break
        if target is None and table.by_pointer:
            parsed = decode(value, self.limits)
            if isinstance(parsed, Verdict):
                return self._judged(table, None, None, parsed, False)
            for pointer, choices in table.by_pointer.items():
                found = pointer_text(parsed, pointer)
                if found is not None and (target := choices.get(found)) is not None:
                    break
        if target is None:
            verdict = single(
                "unknown_contract", f"no contract on topic {topic!r} matches this record"
            )
            return self._judged(table, None, None, verdict, False)
        contract = target.contract
        source = contract.spec.version_source
        if source.pointer is not None and parsed is _UNPARSED:
            parsed = decode(value, self.limits)
            if isinstance(parsed, Verdict):
                return self._judged(table, target, None, parsed, False)
        named = locate(source, header_map, parsed)
        chosen = select_version(contract, named)
        if isinstance(chosen, Verdict):
            return self._judged(table, target, None, chosen, False)
        if parsed is _UNPARSED:
            parsed = decode(value, self.limits)
            if isinstance(parsed, Verdict):
                return self._judged(table, target, chosen.version, parsed, False)
        verdict = chosen.check_value(parsed)
        deprecated = chosen.status is Status.DEPRECATED
        return self._judged(table, target, chosen.version, verdict, deprecated)

    @staticmethod
    def _judged(
        table: TopicTable,
        target: Target | None,
        version: int | None,
        verdict: Verdict,
        deprecated: bool,
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
