"""Topic names, per-run contract copies, and creating/deleting the benchmark's topics.

Every name starts with ``dce-bench.<session>.`` so a session never reads or
writes another's topics (and can delete its own at the end). Each run of each
scenario writes to its own output and dead-letter topics, created with
``message.timestamp.type=LogAppendTime``: the broker stamps every record as it
appends it, which is what the runner reads back to time a run and to measure
latency, whatever timestamp the scenario's producer set.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from streamprocs.contracts.loader import ContractSet

PREFIX = "dce-bench"
# Creating or deleting a topic on a healthy broker takes milliseconds; the bound
# turns a wedged broker into an error instead of a hang.
ADMIN_TIMEOUT_S = 30.0
# Large enough for any record the mix makes (too_large samples are one byte over
# --max-event-bytes); the broker's default is 1 MiB + 12 bytes.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
OUTPUT_CONFIG = {
    "message.timestamp.type": "LogAppendTime",
    "max.message.bytes": str(MAX_MESSAGE_BYTES),
}
INPUT_CONFIG = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}


@dataclass(frozen=True)
class Naming:
    session: str

    @property
    def prefix(self) -> str:
        return f"{PREFIX}.{self.session}"

    def input(self, set_name: str, source: str) -> str:
        """A copy of a source topic; ``set_name``: ``full``, ``sample`` or ``paced-<letter>``."""
        return f"{self.prefix}.{set_name}.{source}"

    def run_tag(self, scenario: str, run: str) -> str:
        """A run's tag: group id, faust app id and the prefix of its output topics."""
        return f"{self.prefix}.{scenario}.{run}"

    def output(self, tag: str, topic: str) -> str:
        return f"{tag}.{topic}"


@dataclass(frozen=True)
class Layout:
    """The contracts' topics: source -> bindings' outputs and dead-letter topics."""

    sources: tuple[str, ...]
    # Source -> (output of its first binding): where a passthrough sends its records.
    first_output: dict[str, str]
    # Every output and dead-letter topic.
    destinations: tuple[str, ...]

    @classmethod
    def of(cls, contract_set: ContractSet) -> Layout:
        first: dict[str, str] = {}
        destinations: set[str] = set()
        for contract_id in sorted(contract_set.contracts):
            for binding in contract_set.contracts[contract_id].spec.bindings:
                first.setdefault(binding.topic, binding.output)
                destinations |= {binding.output, binding.dead_letter}
        return cls(tuple(sorted(first)), first, tuple(sorted(destinations)))


def rewrite_contracts(
    source_dir: Path, target_dir: Path, input_of: dict[str, str], output_prefix: str
) -> None:
    """Copy the contracts, binding them to a run's input topics and prefixed outputs.

    Only the ``bindings`` of each ``contract.yaml`` change; versions, rules and
    examples are copied as they are, so the enforcer judges exactly as in production.
    """
    shutil.copytree(source_dir, target_dir)
    for path in sorted(target_dir.glob("*/*/contract.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for binding in data.get("bindings", []):
            binding["topic"] = input_of[binding["topic"]]
            binding["output"] = f"{output_prefix}.{binding['output']}"
            binding["dead_letter"] = f"{output_prefix}.{binding['dead_letter']}"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


class Topics:
    """Creates topics and remembers them, so that the session can delete what it made."""

    def __init__(self, bootstrap: str) -> None:
        self.admin: Any = AdminClient({"bootstrap.servers": bootstrap})
        self.created: list[str] = []

    def create(self, names: Iterable[str], partitions: int, config: dict[str, str]) -> None:
        wanted = list(dict.fromkeys(names))
        if not wanted:
            return
        futures = self.admin.create_topics(
            [
                NewTopic(n, num_partitions=partitions, replication_factor=1, config=config)
                for n in wanted
            ],
            operation_timeout=ADMIN_TIMEOUT_S,
        )
        problems = []
        for name, future in futures.items():
            try:
                future.result(timeout=ADMIN_TIMEOUT_S)
            except KafkaException as exc:
                problems.append(f"{name}: {exc.args[0]}")
            else:
                self.created.append(name)
        if problems:
            raise RuntimeError("could not create topics: " + "; ".join(problems))

    def delete(self, names: Iterable[str]) -> None:
        """Delete topics, best effort: a leftover topic wastes disk, it breaks nothing."""
        doomed = list(dict.fromkeys(names))
        if not doomed:
            return
        futures = self.admin.delete_topics(doomed, operation_timeout=ADMIN_TIMEOUT_S)
        for name, future in futures.items():
            try:
                future.result(timeout=ADMIN_TIMEOUT_S)
            except KafkaException:
                continue
            if name in self.created:
                self.created.remove(name)

    def close(self) -> None:
        """Let go of the admin client now, before a private broker stops (else it logs
        a disconnection when the broker goes away)."""
        self.admin = None

    def delete_session(self, prefix: str) -> None:
        """Every topic whose name starts with ``prefix`` (faust's internal ones too)."""
        metadata = self.admin.list_topics(timeout=ADMIN_TIMEOUT_S)
        self.delete(sorted(t for t in metadata.topics if t.startswith(prefix)))
