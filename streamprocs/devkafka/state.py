"""The record of a started broker (pid, ports), kept in its home so later runs can find it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from streamprocs.devkafka.config import Layout


@dataclass(frozen=True)
class BrokerState:
    pid: int
    port: int
    controller_port: int
    bootstrap: str
    cluster_id: str
    kafka_version: str
    started_at: str  # ISO 8601, UTC


def write_state(layout: Layout, state: BrokerState) -> None:
    """Write state.json and the plain pid file (for `kill $(cat broker.pid)` and friends)."""
    # Write-then-rename, so a reader never sees half a file.
    tmp = layout.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, layout.state_file)
    layout.pid_file.write_text(f"{state.pid}\n", encoding="ascii")


def read_state(layout: Layout) -> BrokerState | None:
    """The recorded state, or None if there is none or it is unreadable."""
    try:
        raw = json.loads(layout.state_file.read_text(encoding="utf-8"))
        return BrokerState(
            pid=int(raw["pid"]),
            port=int(raw["port"]),
            controller_port=int(raw["controller_port"]),
            bootstrap=str(raw["bootstrap"]),
            cluster_id=str(raw["cluster_id"]),
            kafka_version=str(raw["kafka_version"]),
            started_at=str(raw["started_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear_state(layout: Layout) -> None:
    for path in (layout.state_file, layout.pid_file):
        path.unlink(missing_ok=True)
