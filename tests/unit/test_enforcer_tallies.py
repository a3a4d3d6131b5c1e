"""Per-batch tallies (per event only the decision is counted; labels come once per batch),
and the records dropped after a revoke.

No Kafka here: ``_Batch`` is plain data. The enforcer's use of it on a real broker
is covered by tests/integration/test_enforcer.py (metric totals per contract).
"""

from __future__ import annotations

from pathlib import Path

from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Decision, Outcome, Router
from streamprocs.enforcer.config import load_settings
from streamprocs.enforcer.loop import Enforcer, _Batch

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
ROUTER = Router(load_contract_set(CONTRACTS))
PAYMENT = (CONTRACTS / "payments/payment_captured/examples/v2.valid.jsonl").read_bytes()
PAYMENT = PAYMENT.splitlines()[0]


def count(batch: _Batch, topic: str, decision: Decision, n: int, newest_ms: int) -> None:
    batch.decisions[(topic, decision)] = [n, newest_ms]


def test_shared_and_single_decisions_become_labelled_counts() -> None:
    valid = ROUTER.route("payments.captured", None, PAYMENT)
    assert valid.outcome is Outcome.VALID
    invalid = ROUTER.route("payments.captured", None, b'{"schema_version": 2}')
    unknown = ROUTER.route("checkout.events", [("event-type", b"nope")], b"{}")
    batch = _Batch()
    count(batch, "payments.captured", valid, 40, 1_700_000_002_000)
    count(batch, "payments.captured", invalid, 1, 1_700_000_009_000)
    count(batch, "checkout.events", unknown, 2, 0)
    events, violations, last_seen = batch.metric_tallies()
    team = "payments"
    assert events == {
        ("payments.captured", "payments.payment_captured", "2", team, "valid"): 40,
        ("payments.captured", "payments.payment_captured", "2", team, "invalid"): 1,
        ("checkout.events", "unknown", "", "unknown", "invalid"): 2,
    }
    assert sum(violations.values()) == len(invalid.verdict.violations) + 2
    assert all(key[3] == "schema" for key in violations if key[0] == "payments.payment_captured")
    assert violations[("unknown", "", "unknown", "unknown_contract", "unknown_contract")] == 2
    # The newest timestamp of either decision; a batch without timestamps sets nothing.
    assert last_seen == {("payments.captured", "payments.payment_captured"): 1_700_000_009.0}


def test_discarded_batches_count_nothing() -> None:
    batch = _Batch()
    count(batch, "payments.captured", ROUTER.route("payments.captured", None, PAYMENT), 5, 1)
    batch.dlq[("payments.captured.dlq", "schema")] += 1
    batch.discard_tallies()
    assert batch.metric_tallies() == ({}, {}, {})
    assert not batch.dlq


class _Msg:
    def __init__(self, topic: str, partition: int, error: object = None) -> None:
        self._topic, self._partition, self._error = topic, partition, error

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def error(self) -> object:
        return self._error


def test_records_of_partitions_revoked_during_a_consume_call_are_dropped() -> None:
    """A consume() call that ran a revoke callback may return records taken before it;
    they are dropped (read again from the committed offset), the others kept, once."""
    settings = load_settings(
        None,
        kafka={"bootstrap.servers": "127.0.0.1:1"},
        contracts_dir=str(CONTRACTS),
        group_id="g",
        metrics={"enabled": False},
    )
    enforcer = Enforcer(settings)
    enforcer._revoked = {("a", 0), ("b", 1)}
    kept = _Msg("a", 1)
    error = _Msg("a", 0, error="partition EOF")
    messages = [_Msg("a", 0), kept, _Msg("b", 1), error]
    assert enforcer._without_revoked(messages) == [kept, error]
    assert enforcer._revoked == set()
    assert enforcer._without_revoked(messages) == messages
