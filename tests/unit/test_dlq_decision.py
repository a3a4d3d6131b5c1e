"""What replay does with one record (filters, loop guard, today's verdict) and the headers
it writes when it sends a record back or parks it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson

from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Outcome, Router
from streamprocs.contracts.verdict import Verdict, Violation
from streamprocs.dlq.decision import (
    Action,
    SkipReason,
    destination,
    judge,
    park_headers,
    replay_headers,
    rule_keys,
    verdict_keys,
)
from streamprocs.dlq.filters import Filters
from streamprocs.dlq.record import DeadLetter
from streamprocs.enforcer import envelope as env

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
ROUTER = Router(load_contract_set(CONTRACTS))
EXAMPLES = CONTRACTS / "checkout/order_created/examples"
VALID = EXAMPLES.joinpath("v2.valid.jsonl").read_bytes().splitlines()
IDENTITY_INVALID = (
    (CONTRACTS / "identity/user_signed_up/examples/v3.invalid.jsonl").read_bytes().splitlines()
)
OLD = Verdict((Violation("schema", "schema.enum", "/currency", "old contract said no"),))


def dead(
    value: bytes,
    headers: Sequence[tuple[str, bytes | None]],
    *,
    source: str | None = "checkout.events",
    replays: int | None = None,
    verdict: Verdict = OLD,
) -> DeadLetter:
    extra: list[tuple[str, bytes | None]] = []
    if replays is not None:
        extra = [(env.REPLAY_COUNT, str(replays).encode()), (env.REPLAY_ID, b"earlier")]
    out = env.envelope(
        [*headers, *extra],
        verdict,
        env.Source(source or "", 1, 10, 1_700_000_000_000),
        contract_id="checkout.order_created",
        version=2,
        revision="old",
        processor="p",
    )
    if source is None:
        out = [(k, v) for k, v in out if k != env.SOURCE_TOPIC]
    return DeadLetter.of("checkout.events.dlq", 0, 5, b"key", value, out, 1_700_000_000_000)


CHECKOUT: list[tuple[str, bytes | None]] = [
    ("event-type", b"order_created"),
    ("contract-version", b"2"),
]


def test_a_record_the_current_contracts_accept_is_replayed() -> None:
    """Valid today (whatever the old revision said): replayed, with the router's verdict."""
    j = judge(dead(VALID[0], CHECKOUT), ROUTER, Filters(), 3)
    assert j.action is Action.REPLAY
    assert j.decision is not None and j.decision.outcome is Outcome.VALID


def test_warned_and_shadow_invalid_records_pass_as_the_enforcer_would_forward_them() -> None:
    """warn rules and shadow contracts do not keep a record out of its source topic."""
    warned = judge(dead(VALID[4], CHECKOUT), ROUTER, Filters(), 3)
    assert warned.action is Action.REPLAY and warned.decision is not None
    assert warned.decision.outcome is Outcome.WARNED
    shadow = judge(
        dead(IDENTITY_INVALID[0], [("contract-version", b"3")], source="identity.users"),
        ROUTER,
        Filters(),
        3,
    )
    assert shadow.action is Action.REPLAY and shadow.decision is not None
    assert shadow.decision.outcome is Outcome.SHADOW_INVALID


def test_a_record_that_still_fails_stays_with_todays_verdict() -> None:
    """Judged as if it arrived on its source topic with its original headers."""
    event = orjson.loads(VALID[0])
    event["total_cents"] += 1
    j = judge(dead(orjson.dumps(event), CHECKOUT), ROUTER, Filters(), 3)
    assert j.action is Action.STILL_INVALID and j.decision is not None
    assert verdict_keys(j.decision) == ["rule/total_matches_components"]


def test_the_envelope_does_not_influence_the_verdict() -> None:
    """dce.* headers are removed before judging: only what the producer sent counts."""
    no_discriminator = judge(dead(VALID[0], CHECKOUT[1:]), ROUTER, Filters(), 3)
    assert no_discriminator.action is Action.STILL_INVALID
    assert no_discriminator.decision is not None
    assert no_discriminator.decision.verdict.reason == "unknown_contract"


def test_loop_guard_skips_at_max_replays_before_judging() -> None:
    """At the limit a record is skipped even if it passes; below it, it is judged."""
    at_limit = judge(dead(VALID[0], CHECKOUT, replays=3), ROUTER, Filters(), 3)
    assert (at_limit.action, at_limit.skip, at_limit.decision) == (
        Action.SKIP,
        SkipReason.MAX_REPLAYS,
        None,
    )
    assert judge(dead(VALID[0], CHECKOUT, replays=2), ROUTER, Filters(), 3).action is Action.REPLAY
    assert judge(dead(VALID[0], CHECKOUT, replays=3), ROUTER, Filters(), 4).action is Action.REPLAY


def test_filtered_records_and_records_without_a_source_are_not_judged() -> None:
    """Filters come first; a record with no dce.source.topic cannot be judged 'as if'."""
    f = Filters.build(reasons=["rule"])
    assert judge(dead(VALID[0], CHECKOUT), ROUTER, f, 3).action is Action.FILTERED
    nowhere = judge(dead(VALID[0], CHECKOUT, source=None), ROUTER, Filters(), 3)
    assert (nowhere.action, nowhere.skip) == (Action.SKIP, SkipReason.NO_SOURCE_TOPIC)


def test_a_record_sent_without_its_value_is_skipped_not_judged_a_tombstone() -> None:
    """dce.value.omitted: the value was too large for the dead-letter topic. Judged, the
    record would be a tombstone (decode), and parking or replaying it would send one."""
    record = dead(VALID[0], CHECKOUT)
    headers = [*record.headers, (env.VALUE_OMITTED, b"20001")]
    omitted = DeadLetter.of("d", 0, 0, None, None, headers, 5)
    judged = judge(omitted, ROUTER, Filters(), 3)
    assert (judged.action, judged.skip, judged.decision) == (
        Action.SKIP,
        SkipReason.VALUE_OMITTED,
        None,
    )
    tombstone = DeadLetter.of("d", 0, 0, None, None, record.headers, 5)
    assert judge(tombstone, ROUTER, Filters(), 3).action is Action.STILL_INVALID


def test_replay_headers_restore_the_original_ones_and_count_the_trip() -> None:
    """Original headers in order, every dce.error/contract/source header gone, count + 1."""
    headers: list[tuple[str, bytes | None]] = [*CHECKOUT, ("trace", None), ("trace", b"2")]
    first = replay_headers(dead(VALID[0], headers), "run-1")
    assert first == [*headers, (env.REPLAY_COUNT, b"1"), (env.REPLAY_ID, b"run-1")]
    again = replay_headers(dead(VALID[0], headers, replays=2), "run-2")
    assert again[-2:] == [(env.REPLAY_COUNT, b"3"), (env.REPLAY_ID, b"run-2")]
    assert [k for k, _ in again].count(env.REPLAY_ID) == 1, "replaced, never accumulated"


def test_park_headers_are_a_fresh_envelope_with_the_original_source() -> None:
    """Today's reason, detail and revision; the first source's coordinates; replay count kept."""
    event = orjson.loads(VALID[0])
    event["total_cents"] += 1
    record = dead(orjson.dumps(event), [*CHECKOUT, ("trace", b"t")], replays=1)
    j = judge(record, ROUTER, Filters(), 3)
    assert j.decision is not None
    headers = park_headers(record, j.decision, "new-rev", "dce-replay:run")
    found = env.read(headers)
    assert found[env.REASON] == "rule"
    assert orjson.loads(found[env.DETAIL])[0]["rule"] == "total_matches_components"
    assert found[env.REVISION] == "new-rev"
    assert found[env.PROCESSOR] == "dce-replay:run"
    assert (found[env.SOURCE_TOPIC], found[env.SOURCE_PARTITION], found[env.SOURCE_OFFSET]) == (
        "checkout.events",
        "1",
        "10",
    )
    assert found[env.SOURCE_TIMESTAMP] == "1700000000000"
    assert found[env.REPLAY_COUNT] == "1", "parking is not a replay"
    names = [k for k, _ in headers]
    assert names.count(env.REASON) == 1 and names.count(env.REVISION) == 1
    assert [h for h in headers if not h[0].startswith("dce.")] == [*CHECKOUT, ("trace", b"t")]


def test_rule_keys_and_destination() -> None:
    """Counts are keyed reason/rule; passing records go to --to or back to their source."""
    record = dead(VALID[0], CHECKOUT)
    assert rule_keys(record) == ["schema/schema.enum"]
    bare = DeadLetter.of("d", 0, 0, None, b"", [(env.REASON, b"decode")], None)
    assert rule_keys(bare) == ["decode/-"]
    assert destination(record, None) == "checkout.events"
    assert destination(record, "staging") == "staging"
