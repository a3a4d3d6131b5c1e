"""What the runner tells a worker process, and what the worker answers. JSON both ways.

The worker writes one JSON object per line on its protocol stream (its original
stdout; everything else it or a library prints goes to stderr):

- ``{"event": "ready"}`` once its consumer has been assigned the input partitions;
- ``{"event": "done", "consumed": N, "first_consumed_at": T}`` after the last
  record was written and acknowledged (``T``: wall-clock seconds, ``time.time()``,
  when the first non-empty batch arrived);
- ``{"event": "error", "message": "..."}`` before exiting non-zero.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

READY = "ready"
DONE = "done"
ERROR = "error"


@dataclass(frozen=True)
class WorkerSpec:
    kind: str  # a scenarios.Kind value
    bootstrap: str
    group_id: str
    # Records to consume before stopping: the whole input of this run.
    expected: int
    # Input topic -> output topic, for the loops that do not judge (ceiling, faust).
    routes: dict[str, str] = field(default_factory=dict)
    # A copy of the contracts bound to this run's topics (enforcer, naive).
    contracts_dir: str | None = None
    guarantee: str | None = None
    transactional_id: str | None = None
    # The enforcer's defaults, used by every confluent-kafka loop ("same batching").
    batch_size: int = 5000
    batch_timeout_s: float = 0.2
    max_event_bytes: int = 1024 * 1024
    # Scratch space (faust's data dir).
    work_dir: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a worker spec is a JSON object")
        return cls(**data)


def message(event: str, **fields: Any) -> str:
    """One protocol line (without the newline)."""
    return json.dumps({"event": event, **fields})


def parse_message(line: str) -> dict[str, Any] | None:
    """A protocol line as a dict, or ``None`` for anything else (stray output)."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("event"), str):
        return data
    return None
