"""(e) the naive enforcer: the ceiling's loop, validating with pure-Python ``jsonschema``.

What a team would write in an afternoon: ``json.loads`` each value, pick the
contract by topic and discriminator and the version the record names (the same
rules as dce, through the same small helpers), then
``Draft202012Validator(schema, format_checker=FORMAT_CHECKER)`` with every
error collected; valid records go to the binding's output, the rest to its
dead-letter topic with one ``dce.error.reason`` header. It does not run the
contracts' CEL rules, nor the size and depth limits: it does less work than dce.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamprocs.benchmarks.loops import consume_produce
from streamprocs.benchmarks.spec import WorkerSpec
from streamprocs.contracts.compiler import CompiledVersion
from streamprocs.contracts.loader import Contract, ContractSet, load_contract_set
from streamprocs.contracts.model import Binding, Enforcement
from streamprocs.contracts.registry import locate, pointer_text, select_version

if TYPE_CHECKING:
    from streamprocs.benchmarks.worker import Protocol

REASON_HEADER = "dce.error.reason"


class NaiveJudge:
    def __init__(self, contract_set: ContractSet) -> None:
        # Imported by name: jsonschema is a dev dependency, needed by this scenario only.
        jsonschema: Any = importlib.import_module("jsonschema")
        draft = jsonschema.Draft202012Validator
        self.validators: dict[tuple[str, int], Any] = {}
        self.slots: dict[str, list[tuple[Contract, Binding]]] = {}
        for contract_id in sorted(contract_set.contracts):
            contract = contract_set.contracts[contract_id]
            for number, compiled in contract.compiled.items():
                self.validators[(contract_id, number)] = draft(
                    compiled.schema, format_checker=draft.FORMAT_CHECKER
                )
            for binding in contract.spec.bindings:
                self.slots.setdefault(binding.topic, []).append((contract, binding))

    @property
    def topics(self) -> list[str]:
        return sorted(self.slots)

    def route(self, topic: str, headers: Any, value: bytes | None) -> tuple[str, Any]:
        slots = self.slots[topic]
        fallback = slots[0][1].dead_letter
        try:
            event = json.loads(value) if value is not None else None
        except ValueError:
            return fallback, _flag(headers, "decode")
        header_map = {k: v for k, v in reversed(headers)} if headers else {}
        for contract, binding in slots:
            disc = binding.discriminator
            if disc is not None:
                if disc.header is not None:
                    raw = header_map.get(disc.header)
                    found = raw.decode("utf-8", "replace") if raw is not None else None
                else:
                    assert disc.pointer is not None
                    found = pointer_text(event, disc.pointer)
                if found != disc.value:
                    continue
            return self._judge(contract, binding, header_map, event, headers)
        return fallback, _flag(headers, "unknown_contract")

    def _judge(
        self,
        contract: Contract,
        binding: Binding,
        header_map: dict[str, bytes | None],
        event: Any,
        headers: Any,
    ) -> tuple[str, Any]:
        chosen = select_version(contract, locate(contract.spec.version_source, header_map, event))
        if not isinstance(chosen, CompiledVersion):
            return binding.dead_letter, _flag(headers, chosen.reason or "unknown_version")
        errors = list(self.validators[(contract.id, chosen.version)].iter_errors(event))
        if not errors or contract.spec.enforcement is Enforcement.SHADOW:
            return binding.output, headers
        return binding.dead_letter, _flag(headers, "schema")


def _flag(headers: Any, reason: str) -> list[tuple[str, bytes | None]]:
    return [*(headers or []), (REASON_HEADER, reason.encode())]


def naive_enforcer(spec: WorkerSpec, protocol: Protocol) -> None:
    assert spec.contracts_dir is not None, "the naive enforcer needs the run's contracts"
    judge = NaiveJudge(load_contract_set(Path(spec.contracts_dir)))
    consume_produce(spec, protocol, judge.topics, judge.route)
