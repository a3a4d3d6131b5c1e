"""The replay report and audit record: counts only committed batches, one JSON line."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Router
from streamprocs.contracts.verdict import Verdict, Violation
from streamprocs.dlq.audit import (
    AUDIT_EVENT,
    ReplayReport,
    Tally,
    audit_record,
    emit,
    new_replay_id,
)
from streamprocs.dlq.decision import judge
from streamprocs.dlq.filters import Filters
from streamprocs.dlq.record import DeadLetter
from streamprocs.enforcer import envelope as env

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
ROUTER = Router(load_contract_set(CONTRACTS))
ORDER = (CONTRACTS / "checkout/order_created/examples/v2.valid.jsonl").read_bytes().splitlines()[0]


def dead(value: bytes, replays: int = 0) -> DeadLetter:
    headers = env.envelope(
        [("event-type", b"order_created"), (env.REPLAY_COUNT, str(replays).encode())],
        Verdict((Violation("schema", "schema.enum", "/currency", "m"),)),
        env.Source("checkout.events", 0, 1, 5),
        contract_id="checkout.order_created",
        version=2,
        revision="r",
        processor="p",
    )
    return DeadLetter.of("d", 0, 0, None, value, headers, 5)


def tally_of(*records: DeadLetter, park: str | None = None) -> Tally:
    t = Tally()
    for r in records:
        j = judge(r, ROUTER, Filters(), 3)
        target = "checkout.events" if j.action.value == "replayed" else park
        if j.action.value == "skipped":
            target = None
        t.add(r, j, target, parked=target is not None and target == park)
    return t


def test_report_counts_per_outcome_rule_and_destination() -> None:
    """Sent back records are counted by what they had been rejected for; records that
    still fail by what today's contracts find."""
    report = ReplayReport("id", "d", "g", Filters(), False, "rev", park="parked")
    report.totals.merge(tally_of(dead(ORDER), dead(b"{", replays=1), dead(ORDER, 3), park="parked"))
    d = report.as_dict()
    assert d["counts"] == {
        "read": 3,
        "filtered": 0,
        "replayed": 1,
        "still_invalid": 1,
        "parked": 1,
        "skipped": 1,
    }
    assert d["by_outcome"] == {"valid": 1, "invalid": 1}
    assert d["replayed_by_rule"] == {"schema/schema.enum": 1}
    assert d["still_invalid_by_rule"] == {"decode/decode": 1}
    assert d["skipped_by"] == {"max_replays": 1}
    assert d["destinations"] == {"checkout.events": 1, "parked": 1}


def test_tallies_merge_additively() -> None:
    a, b = tally_of(dead(ORDER)), tally_of(dead(ORDER), dead(b"x"))
    a.merge(b)
    assert (a.read, a.actions["replayed"], a.actions["still_invalid"]) == (3, 2, 1)


def test_audit_record_says_who_when_and_what_as_one_json_line() -> None:
    """One line, parseable as it is, with user, host, filters, counts and revision."""
    report = ReplayReport(
        "20240702T101112Z-00000000", "d", "g", Filters.build(reasons=["rule"]), True, "rev"
    )
    stream = io.StringIO()
    emit(audit_record(report), stream)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["event"] == AUDIT_EVENT
    assert {"user", "host", "timestamp", "counts", "filters", "contracts_revision"} <= set(data)
    assert data["dry_run"] is True and data["filters"]["reason"] == ["rule"]
    assert data["contracts_revision"] == "rev"


def test_replay_ids_sort_by_time_and_differ() -> None:
    first, second = new_replay_id(), new_replay_id()
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", first)
    assert first != second
