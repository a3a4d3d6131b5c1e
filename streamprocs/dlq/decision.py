"""What replay does with one dead-letter record, and the headers it writes. Pure.

A record is re-judged by a ``Router`` built from the current contracts as if
it had just arrived on its ``dce.source.topic`` with its original headers
(every ``dce.*`` header removed). The order of the checks matters:

1. filters: a record the operator did not select is left alone;
2. the loop guard: a record already replayed ``max_replays`` times is skipped
   without being judged, so a contract that keeps rejecting it cannot make it
   circle forever;
3. a record without a source topic cannot be judged as if it arrived there,
   nor one the enforcer sent without its value (``dce.value.omitted``: its
   dead-letter topic could not take it) that replay could not complete from
   its source topic (``originals.py``): skipped;
4. the router's outcome: ``valid``, ``warned`` and ``shadow_invalid`` pass
   (the enforcer would forward them), ``invalid`` still fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from streamprocs.contracts.router import Decision, Outcome, Router
from streamprocs.dlq.filters import Filters
from streamprocs.dlq.record import DeadLetter
from streamprocs.enforcer import envelope as env
from streamprocs.enforcer.envelope import HeaderList


class Action(StrEnum):
    REPLAY = "replayed"
    STILL_INVALID = "still_invalid"
    SKIP = "skipped"
    FILTERED = "filtered"


class SkipReason(StrEnum):
    MAX_REPLAYS = "max_replays"
    NO_SOURCE_TOPIC = "no_source_topic"
    VALUE_OMITTED = "value_omitted"


PASSING = frozenset({Outcome.VALID, Outcome.WARNED, Outcome.SHADOW_INVALID})


@dataclass(frozen=True, slots=True)
class Judgement:
    action: Action
    decision: Decision | None = None  # the router's, when the record was judged
    skip: SkipReason | None = None


def judge(record: DeadLetter, router: Router, filters: Filters, max_replays: int) -> Judgement:
    if not filters.matches(record):
        return Judgement(Action.FILTERED)
    if record.replay_count >= max_replays:
        return Judgement(Action.SKIP, skip=SkipReason.MAX_REPLAYS)
    if record.source_topic is None:
        return Judgement(Action.SKIP, skip=SkipReason.NO_SOURCE_TOPIC)
    if record.value_omitted is not None:
        # Judged, it would read as a tombstone (decode), and parked or sent back as one.
        return Judgement(Action.SKIP, skip=SkipReason.VALUE_OMITTED)
    decision = router.route(record.source_topic, record.original_headers(), record.value)
    action = Action.REPLAY if decision.outcome in PASSING else Action.STILL_INVALID
    return Judgement(action, decision)


def replay_headers(record: DeadLetter, replay_id: str) -> HeaderList:
    """The original headers in their order, then ``dce.replay.count`` (+1) and ``dce.replay.id``."""
    return [
        *record.original_headers(),
        (env.REPLAY_COUNT, str(record.replay_count + 1).encode()),
        (env.REPLAY_ID, replay_id.encode()),
    ]


def park_headers(
    record: DeadLetter, decision: Decision, revision: str, processor: str
) -> HeaderList:
    """A fresh envelope for a record that still fails: today's verdict and revision.

    The source coordinates stay those of the original event, so a parked record
    can itself be replayed to where it first came from. Replay headers from
    earlier trips are kept (``envelope`` keeps them); this pass does not count as
    a replay because nothing was sent back.
    """
    source = env.Source(
        topic=record.source_topic or "",
        partition=record.source_partition if record.source_partition is not None else -1,
        offset=record.source_offset if record.source_offset is not None else -1,
        timestamp_ms=record.event_timestamp_ms,
    )
    target = decision.target
    return env.envelope(
        list(record.headers),
        decision.verdict,
        source,
        contract_id=target.contract.id if target is not None else None,
        version=decision.version,
        revision=revision,
        processor=processor,
    )


def rule_keys(record: DeadLetter) -> list[str]:
    """``reason/rule`` once per rule the dead-letter envelope names (``reason/-`` if none)."""
    reason = record.reason or "unknown"
    rules = record.rules
    return [f"{reason}/{rule}" for rule in rules] if rules else [f"{reason}/-"]


def verdict_keys(decision: Decision) -> list[str]:
    """``reason/rule`` once per rule today's verdict still finds broken."""
    keys = dict.fromkeys(f"{v.reason}/{v.rule}" for v in decision.verdict.errors)
    return list(keys) or ["unknown/-"]


def destination(record: DeadLetter, to: str | None) -> str:
    """Where a passing record goes: ``--to`` or the topic it first arrived on."""
    if to is not None:
        return to
    assert record.source_topic is not None  # judge() skips records without one
    return record.source_topic
