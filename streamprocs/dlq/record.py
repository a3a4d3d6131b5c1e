"""A dead-letter record as read back from Kafka, with its ``dce.*`` envelope parsed once.

Everything here tolerates envelopes that are missing, partial or garbled (a
record written by another tool, or by hand): an unreadable header reads as
absent, never as an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from streamprocs.enforcer import envelope as env
from streamprocs.enforcer.envelope import HeaderList

# What every summary and report says for a value the envelope does not give.
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Detail:
    """One entry of ``dce.error.detail``: which rule failed where (never an event value)."""

    rule: str
    path: str
    message: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    # The record's Kafka timestamp: the enforcer keeps the source event's own timestamp.
    timestamp_ms: int | None
    reason: str | None
    details: tuple[Detail, ...]
    contract_id: str | None
    version: int | None
    revision: str | None
    source_topic: str | None
    source_partition: int | None
    source_offset: int | None
    source_timestamp_ms: int | None
    replay_count: int
    replay_id: str | None
    # The length of the value the enforcer left out (dce.value.omitted): the
    # dead-letter topic could not take it. None when the record has its value.
    value_omitted: int | None = None

    @classmethod
    def of(
        cls,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes | None]] | None,
        timestamp_ms: int | None,
    ) -> DeadLetter:
        found = env.read(headers)
        return cls(
            topic=topic,
            partition=partition,
            offset=offset,
            key=key,
            value=value,
            headers=tuple(headers or ()),
            timestamp_ms=timestamp_ms if timestamp_ms is not None and timestamp_ms >= 0 else None,
            reason=found.get(env.REASON) or None,
            details=parse_details(found.get(env.DETAIL)),
            contract_id=found.get(env.CONTRACT_ID) or None,
            version=_int(found.get(env.CONTRACT_VERSION)),
            revision=found.get(env.REVISION) or None,
            source_topic=found.get(env.SOURCE_TOPIC) or None,
            source_partition=_int(found.get(env.SOURCE_PARTITION)),
            source_offset=_int(found.get(env.SOURCE_OFFSET)),
            source_timestamp_ms=_int(found.get(env.SOURCE_TIMESTAMP)),
            replay_count=replay_count(found.get(env.REPLAY_COUNT)),
            replay_id=found.get(env.REPLAY_ID) or None,
            value_omitted=_int(found.get(env.VALUE_OMITTED)) if value is None else None,
        )

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules the record violated, each once, in the envelope's order."""
        return tuple(dict.fromkeys(d.rule for d in self.details))

    @property
    def event_timestamp_ms(self) -> int | None:
        """When the event was first produced: the envelope's, else the record's own."""
        return (
            self.source_timestamp_ms
            if self.source_timestamp_ms is not None
            else (self.timestamp_ms)
        )

    def original_headers(self) -> HeaderList:
        """The headers the event arrived with: every ``dce.*`` header removed, order kept."""
        return [(k, v) for k, v in self.headers if not k.startswith(env.PREFIX)]


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def replay_count(text: str | None) -> int:
    """``dce.replay.count`` as a number; absent or unreadable is 0.

    Unreadable counts as 0 rather than as "too many": the header is only
    unreadable if something other than dce wrote it, and the replay that follows
    writes a correct count, so the loop guard still stops a record after
    ``--max-replays`` more trips.
    """
    value = _int(text)
    return value if value is not None and value > 0 else 0


def parse_details(text: str | None) -> tuple[Detail, ...]:
    """``dce.error.detail`` (a JSON list of ``{rule, path, message}``); garbage reads as empty."""
    if not text:
        return ()
    try:
        data: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        return ()
    if not isinstance(data, list):
        return ()
    out = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("rule"), str):
            path = item.get("path")
            message = item.get("message")
            out.append(
                Detail(
                    item["rule"],
                    path if isinstance(path, str) else "",
                    message if isinstance(message, str) else "",
                )
            )
    return tuple(out)
