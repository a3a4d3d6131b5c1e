"""A small reference model of the enforcer's routing: the ground truth of a record's label.

Independent of ``streamprocs.contracts.router`` on purpose: tests compare the
enforcer against it, so it must not share the code it checks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from streamprocs.contracts.compiler import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    CompiledVersion,
    nesting_depth_exceeds,
)
from streamprocs.contracts.loader import ContractSet
from streamprocs.contracts.model import Enforcement
from streamprocs.contracts.registry import locate, parse_version, select_version
from streamprocs.contracts.verdict import Verdict
from streamprocs.traffic.records import Outcome, _Slot, topic_bindings


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
