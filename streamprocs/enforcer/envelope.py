"""The dead-letter envelope: ``dce.*`` headers added to a record, read back, stripped.

Key, value bytes, timestamp and the original headers are kept exactly; the
``dce.*`` set of an earlier pass is replaced, never accumulated, except the
replay headers, which must survive a trip back through the enforcer so that
replay's loop guard can count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from streamprocs.contracts.verdict import Verdict

PREFIX = "dce."
REASON = "dce.error.reason"
DETAIL = "dce.error.detail"
CONTRACT_ID = "dce.contract.id"
CONTRACT_VERSION = "dce.contract.version"
REVISION = "dce.contracts.revision"
SOURCE_TOPIC = "dce.source.topic"
SOURCE_PARTITION = "dce.source.partition"
SOURCE_OFFSET = "dce.source.offset"
SOURCE_TIMESTAMP = "dce.source.timestamp"
PROCESSOR = "dce.processor"
REPLAY_COUNT = "dce.replay.count"
REPLAY_ID = "dce.replay.id"
# Set when the dead-letter topic could not take the record's value: its length in
# bytes. The value is left out; the record itself stays at its source coordinates.
VALUE_OMITTED = "dce.value.omitted"

_KEPT_ON_REWRITE = frozenset({REPLAY_COUNT, REPLAY_ID})

MAX_DETAIL_ENTRIES = 20
MAX_DETAIL_BYTES = 4096
MAX_FIELD_CHARS = 500

HeaderList = list[tuple[str, bytes | None]]


@dataclass(frozen=True, slots=True)
class Source:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None


def detail_json(verdict: Verdict) -> bytes:
    """``[{rule, path, message}]`` of the errors, at most 20 entries and 4 KiB.

    Messages never quote event values (see ``schema_errors``), so PII-tagged
    values cannot reach this header.
    """
    # Each message is cut short so that one long message cannot crowd out the rest.
    entries = [
        {"rule": v.rule, "path": v.path[:MAX_FIELD_CHARS], "message": v.message[:MAX_FIELD_CHARS]}
        for v in verdict.errors
    ]
    entries = entries[:MAX_DETAIL_ENTRIES]
    encoded = orjson.dumps(entries)
    while len(encoded) > MAX_DETAIL_BYTES and entries:
        entries = entries[:-1]
        encoded = orjson.dumps(entries)
    return encoded


def strip(headers: Sequence[tuple[str, bytes | None]] | None) -> HeaderList:
    """The original headers without an earlier dce envelope (replay headers stay)."""
    if not headers:
        return []
    return [(k, v) for k, v in headers if not k.startswith(PREFIX) or k in _KEPT_ON_REWRITE]


def envelope(
    headers: Sequence[tuple[str, bytes | None]] | None,
    verdict: Verdict,
    source: Source,
    *,
    contract_id: str | None,
    version: int | None,
    revision: str,
    processor: str,
) -> HeaderList:
    """The headers of a dead-letter record: the original ones plus the dce set."""
    out = strip(headers)
    out.append((REASON, (verdict.reason or "schema").encode()))
    out.append((DETAIL, detail_json(verdict)))
    if contract_id is not None:
        out.append((CONTRACT_ID, contract_id.encode()))
    if version is not None:
        out.append((CONTRACT_VERSION, str(version).encode()))
    out.append((REVISION, revision.encode()))
    out.append((SOURCE_TOPIC, source.topic.encode()))
    out.append((SOURCE_PARTITION, str(source.partition).encode()))
    out.append((SOURCE_OFFSET, str(source.offset).encode()))
    if source.timestamp_ms is not None:
        out.append((SOURCE_TIMESTAMP, str(source.timestamp_ms).encode()))
    out.append((PROCESSOR, processor.encode()))
    return out


def read(headers: Sequence[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """The dce headers of a record as text (last one wins)."""
    found: dict[str, str] = {}
    for key, value in headers or []:
        if key.startswith(PREFIX) and value is not None:
            found[key] = value.decode("utf-8", "replace")
    return found
