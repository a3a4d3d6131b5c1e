"""What a replay run was asked to do. Pure: checked before any broker is contacted."""

from __future__ import annotations

from dataclasses import dataclass, field

from streamprocs.dlq.audit import new_replay_id
from streamprocs.dlq.filters import Filters

DEFAULT_BATCH = 500
DEFAULT_MAX_REPLAYS = 3


def default_group(topic: str) -> str:
    """The replay group of a dead-letter topic: its progress, and its transactional.id."""
    return f"dce-replay.{topic}"


@dataclass(frozen=True)
class ReplayOptions:
    topic: str
    filters: Filters = field(default_factory=Filters)
    group: str | None = None
    to: str | None = None
    park: str | None = None
    dry_run: bool = False
    max_records: int | None = None  # selected records (after the filters)
    rate: float | None = None  # records produced per second
    max_replays: int = DEFAULT_MAX_REPLAYS
    from_beginning: bool = False
    batch_size: int = DEFAULT_BATCH
    audit_topic: str | None = None
    replay_id: str = field(default_factory=new_replay_id)

    @property
    def group_id(self) -> str:
        return self.group or default_group(self.topic)

    def problems(self) -> list[str]:
        """Everything that makes these options unusable (empty: usable)."""
        found = []
        for name, value in (("--to", self.to), ("--park", self.park)):
            if value is not None and value == self.topic:
                found.append(f"{name} must differ from the dead-letter topic being replayed")
        if self.to is not None and self.to == self.park:
            found.append("--to and --park must differ")
        if self.max_replays < 1:
            found.append("--max-replays must be 1 or more")
        if self.batch_size < 1:
            found.append("--batch-size must be 1 or more")
        if self.rate is not None and self.rate <= 0:
            found.append("--rate must be above 0")
        if self.max_records is not None and self.max_records < 1:
            found.append("--max must be 1 or more")
        return found
