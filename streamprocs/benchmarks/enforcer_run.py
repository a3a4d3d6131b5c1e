"""(b) and (c): the real :class:`Enforcer`, stopped once it has moved the run's input.

The enforcer is the product's class, configured as ``dce run`` would be (metrics
HTTP server off, so no port is needed). Two observation points are added from
outside, without touching its loop: its consumer is wrapped to note when the
first batch arrives and to call :meth:`Enforcer.stop` once the last input record
has been consumed (the loop then finishes, produces and commits that batch and
returns), and its partition-assignment callback also tells the runner it is ready.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamprocs.benchmarks.spec import WorkerSpec
from streamprocs.enforcer.config import Settings, load_settings
from streamprocs.enforcer.loop import Enforcer
from streamprocs.observability.logging import configure

if TYPE_CHECKING:
    from streamprocs.benchmarks.worker import Protocol


class CountingConsumer:
    """Forwards everything to the real consumer; counts what ``consume()`` returns."""

    def __init__(self, inner: Any, enforcer: BenchEnforcer) -> None:
        self._inner = inner
        self._enforcer = enforcer

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Any:
        messages = self._inner.consume(num_messages=num_messages, timeout=timeout)
        if messages:
            self._enforcer.counted(messages)
        return messages

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class BenchEnforcer(Enforcer):
    def __init__(self, settings: Settings, spec: WorkerSpec, protocol: Protocol) -> None:
        super().__init__(settings)
        self._expected = spec.expected
        self._protocol = protocol
        self.consumed = 0

    def _clients(self) -> tuple[Any, Any]:
        consumer, producer = super()._clients()
        return CountingConsumer(consumer, self), producer

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        super()._on_assign(consumer, partitions)
        self._protocol.ready()

    def counted(self, messages: list[Any]) -> None:
        self._protocol.consumed_first()
        self.consumed += sum(1 for m in messages if m.error() is None)
        self._protocol.consumed_so_far(self.consumed)
        if self.consumed >= self._expected:
            self.stop()


def settings_for(spec: WorkerSpec) -> Settings:
    assert spec.contracts_dir is not None, "the enforcer needs the run's contracts"
    assert spec.guarantee is not None
    return load_settings(
        None,
        kafka={"bootstrap.servers": spec.bootstrap},
        contracts_dir=str(Path(spec.contracts_dir)),
        group_id=spec.group_id,
        transactional_id=spec.transactional_id,
        processing_guarantee=spec.guarantee,
        batch_size=spec.batch_size,
        batch_timeout_s=spec.batch_timeout_s,
        max_event_bytes=spec.max_event_bytes,
        metrics={"enabled": False},
    )


def run_enforcer(spec: WorkerSpec, protocol: Protocol) -> None:
    # Warnings only: one "event rejected" line per contract and rule is enough on stderr.
    configure("warning", "json")
    enforcer = BenchEnforcer(settings_for(spec), spec, protocol)
    enforcer.run()
    protocol.done(enforcer.consumed)
