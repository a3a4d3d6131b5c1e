"""Observability and topic planning: the HTTP probes, the public metric names, the log rate
limiter and ``plan_topics``. No broker: the HTTP server binds an ephemeral local port."""

from __future__ import annotations

import dataclasses
import http.client
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

import streamprocs
from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Router
from streamprocs.enforcer.topics import (
    DEAD_LETTER_RETENTION_MS,
    ENVELOPE_ROOM_BYTES,
    TopicPlan,
    plan_topics,
)
from streamprocs.observability import logging as dce_logging
from streamprocs.observability.http import STUCK_AFTER_S, Health, serve
from streamprocs.observability.logging import RateLimiter
from streamprocs.observability.metrics import Metrics

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
CONTRACT_SET = load_contract_set(CONTRACTS)

# interfaces.md: exposed name -> (type, labels).
PUBLIC_METRICS: dict[str, tuple[str, frozenset[str]]] = {
    "dce_events_total": ("counter", frozenset({"topic", "contract", "version", "team", "outcome"})),
    "dce_violations_total": (
        "counter",
        frozenset({"contract", "version", "team", "reason", "rule"}),
    ),
    "dce_dlq_records_total": ("counter", frozenset({"dlq_topic", "reason"})),
    "dce_dlq_errors_total": ("counter", frozenset({"dlq_topic"})),
    "dce_batch_duration_seconds": ("histogram", frozenset()),
    "dce_consumer_lag": ("gauge", frozenset({"topic", "partition"})),
    "dce_last_event_timestamp_seconds": ("gauge", frozenset({"topic", "contract"})),
    "dce_contracts_loaded": ("gauge", frozenset({"contract", "version", "status"})),
    "dce_contracts_reload_total": ("counter", frozenset({"result"})),
    "dce_contracts_revision_info": ("gauge", frozenset({"revision"})),
    "dce_transactions_total": ("counter", frozenset({"result"})),
    "dce_replay_records_total": ("counter", frozenset({"result"})),
    "dce_build_info": ("gauge", frozenset({"version"})),
}


# --- HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def http_server() -> Iterator[tuple[int, Health, Metrics]]:
    """``serve`` on an ephemeral port; shut down and closed after the test."""
    metrics = Metrics()
    health = Health()
    server, thread = serve(metrics.registry, health, "127.0.0.1", 0)
    try:
        yield server.server_port, health, metrics
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive()


def get(port: int, path: str) -> tuple[int, str, str]:
    """Status, Content-Type and body of a GET."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        conn.close()


def test_metrics_endpoint_serves_the_registry(http_server: tuple[int, Health, Metrics]) -> None:
    """``/metrics`` answers 200 in the Prometheus text format with ``dce_build_info`` and
    whatever the enforcer's registry holds."""
    port, _, metrics = http_server
    metrics.dlq_errors.labels("checkout.events.dlq").inc()
    status, content_type, body = get(port, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    assert f'dce_build_info{{version="{streamprocs.__version__}"}} 1.0' in body
    assert 'dce_dlq_errors_total{dlq_topic="checkout.events.dlq"} 1.0' in body


def test_healthz_is_200_while_the_loop_beats_and_503_when_stuck(
    http_server: tuple[int, Health, Metrics],
) -> None:
    """Liveness follows ``health.last_loop``: fresh is live, silent for too long is not, and a
    new beat makes it live again."""
    port, health, _ = http_server
    assert get(port, "/healthz")[0] == 200
    health.last_loop = time.monotonic() - STUCK_AFTER_S - 3600
    status, _, body = get(port, "/healthz")
    assert status == 503
    assert "stuck" in body
    health.beat()
    assert get(port, "/healthz")[0] == 200


def test_readyz_is_503_until_ready(http_server: tuple[int, Health, Metrics]) -> None:
    """Readiness is off at start (saying why), on once ``health.ready`` is set, and off again
    when the loop is stuck."""
    port, health, _ = http_server
    status, _, body = get(port, "/readyz")
    assert status == 503
    assert "starting" in body
    health.ready = True
    assert get(port, "/readyz")[0] == 200
    health.last_loop = time.monotonic() - STUCK_AFTER_S - 3600
    assert get(port, "/readyz")[0] == 503


# --- metric names -------------------------------------------------------------------------


def populate(metrics: Metrics) -> None:
    """One series of every metric, through the same calls the enforcer makes."""
    metrics.add_batch(
        events={("checkout.events", "checkout.order_created", "2", "checkout", "valid"): 3},
        violations={("checkout.order_created", "2", "checkout", "schema", "schema.required"): 1},
        dlq={("checkout.events.dlq", "schema"): 1},
        last_seen={("checkout.events", "checkout.order_created"): 1718097262.0},
    )
    metrics.dlq_errors.labels("checkout.events.dlq").inc()
    metrics.batch_duration.observe(0.02)
    metrics.consumer_lag.labels("checkout.events", "0").set(5)
    metrics.contracts_changed(CONTRACT_SET)
    metrics.replay_records.labels("replayed").inc()


def exposed(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


def test_declared_metric_names_and_types_are_the_public_ones() -> None:
    """The ``# TYPE`` lines of a fresh registry name exactly the metrics of interfaces.md,
    with their types (counters exposed with ``_total``)."""
    text = exposed(Metrics())
    declared = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.MULTILINE))
    assert declared == {name: kind for name, (kind, _) in PUBLIC_METRICS.items()}


def test_exposed_samples_and_labels_are_the_public_ones() -> None:
    """With every metric populated, the exposed sample names are exactly the public names
    (plus a histogram's ``_bucket``/``_count``/``_sum``), each with exactly its public labels,
    and there is no ``_created`` series."""
    metrics = Metrics()
    populate(metrics)
    text = exposed(metrics)
    assert not re.search(r"^[a-z_]+_created[{ ]", text, flags=re.MULTILINE)
    expected_samples: set[str] = set()
    for name, (kind, _) in PUBLIC_METRICS.items():
        if kind == "histogram":
            expected_samples |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
        else:
            expected_samples.add(name)
    labels_by_sample: dict[str, set[frozenset[str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            keys = frozenset(sample.labels) - {"le"}
            labels_by_sample.setdefault(sample.name, set()).add(keys)
    assert set(labels_by_sample) == expected_samples
    for sample_name, label_sets in labels_by_sample.items():
        base = re.sub(r"_(bucket|count|sum)$", "", sample_name)
        base = base if base in PUBLIC_METRICS else sample_name
        assert label_sets == {PUBLIC_METRICS[base][1]}, sample_name


def test_metrics_collect_has_no_created_series() -> None:
    """``_created`` series are disabled in the collected registry too, not only in the text."""
    metrics = Metrics()
    populate(metrics)
    names = {s.name for family in metrics.registry.collect() for s in family.samples}
    assert not {n for n in names if n.endswith("_created")}


def test_contracts_changed_replaces_loaded_and_revision_series() -> None:
    """Loaded versions carry their status; a new contract set replaces the revision series
    rather than adding one."""
    metrics = Metrics()
    metrics.contracts_changed(CONTRACT_SET)
    registry = metrics.registry
    assert (
        registry.get_sample_value(
            "dce_contracts_loaded",
            {"contract": "identity.user_signed_up", "version": "1", "status": "retired"},
        )
        == 1
    )
    loaded = {
        (s.labels["contract"], s.labels["version"])
        for family in registry.collect()
        for s in family.samples
        if s.name == "dce_contracts_loaded"
    }
    assert loaded == {
        (cid, str(n)) for cid, c in CONTRACT_SET.contracts.items() for n in c.versions
    }
    metrics.contracts_changed(dataclasses.replace(CONTRACT_SET, revision="feedface0000"))
    revisions = {
        s.labels["revision"]
        for family in registry.collect()
        for s in family.samples
        if s.name == "dce_contracts_revision_info"
    }
    assert revisions == {"feedface0000"}


def test_registries_are_independent() -> None:
    """Two Metrics in one process do not share series (each enforcer owns its registry)."""
    first, second = Metrics(), Metrics()
    first.dlq_errors.labels("a.dlq").inc()
    assert second.registry.get_sample_value("dce_dlq_errors_total", {"dlq_topic": "a.dlq"}) is None


# --- rate limiter -------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A clock only the logging module sees: no sleeping, no effect on anything else."""
    fake = FakeClock(1000.0)
    monkeypatch.setattr(dce_logging, "time", SimpleNamespace(monotonic=fake.monotonic))
    return fake


def test_rate_limiter_allows_then_suppresses_then_reports(clock: FakeClock) -> None:
    """First call passes reporting 0; calls within the interval are held back; the first call
    after the interval passes and reports how many were held back, then the count restarts."""
    limiter = RateLimiter(10.0)
    assert limiter.allow("k") == 0
    for offset in (0.0, 1.0, 5.0, 9.9):
        clock.now = 1000.0 + offset
        assert limiter.allow("k") is None
    clock.now = 1010.5
    assert limiter.allow("k") == 4
    clock.now = 1011.0
    assert limiter.allow("k") is None
    clock.now = 1021.0
    assert limiter.allow("k") == 1
    clock.now = 1040.0
    assert limiter.allow("k") == 0


def test_rate_limiter_counts_a_batch_of_occurrences(clock: FakeClock) -> None:
    """``allow(key, n)``: one line for n occurrences; the other n-1 are reported as
    suppressed by the next line, together with those held back meanwhile."""
    limiter = RateLimiter(10.0)
    assert limiter.allow("k", 500) == 0
    clock.now += 1
    assert limiter.allow("k", 300) is None
    clock.now += 10
    assert limiter.allow("k", 1) == 499 + 300
    clock.now += 11
    assert limiter.allow("k") == 0


def test_rate_limiter_keys_are_independent(clock: FakeClock) -> None:
    """Holding back one contract's rule does not hold back another's."""
    limiter = RateLimiter(10.0)
    assert limiter.allow(("checkout", "r1")) == 0
    assert limiter.allow(("checkout", "r1")) is None
    assert limiter.allow(("checkout", "r2")) == 0
    clock.now += 11
    assert limiter.allow(("checkout", "r1")) == 1
    assert limiter.allow(("checkout", "r2")) == 0


def test_rate_limiter_with_zero_interval_allows_everything(clock: FakeClock) -> None:
    """``violation_log_interval_s: 0`` turns limiting off."""
    limiter = RateLimiter(0.0)
    assert [limiter.allow("k") for _ in range(3)] == [0, 0, 0]


# --- plan_topics ----------------------------------------------------------------------------

ROUTER = Router(CONTRACT_SET)


def by_name(plans: list[TopicPlan]) -> dict[str, TopicPlan]:
    names = [p.name for p in plans]
    assert len(names) == len(set(names)), "a topic is planned twice"
    return {p.name: p for p in plans}


def test_plan_gives_outputs_and_dead_letters_the_source_partitions() -> None:
    """Outputs and dead letters get their source's partition count; dead letters get a
    retention; outputs get no config; existing sources are not planned."""
    existing = {"checkout.events": 6, "identity.users": 3, "payments.captured": 12}
    plans, missing = plan_topics(ROUTER, existing, create_sources=False, source_partitions=1)
    assert missing == []
    planned = by_name(plans)
    assert planned == {
        "checkout.events.valid": TopicPlan("checkout.events.valid", 6, {}, "output"),
        "checkout.events.dlq": TopicPlan(
            "checkout.events.dlq", 6, {"retention.ms": str(DEAD_LETTER_RETENTION_MS)}, "dead_letter"
        ),
        "identity.users.valid": TopicPlan("identity.users.valid", 3, {}, "output"),
        "identity.users.dlq": TopicPlan(
            "identity.users.dlq", 3, {"retention.ms": str(DEAD_LETTER_RETENTION_MS)}, "dead_letter"
        ),
        "payments.captured.valid": TopicPlan("payments.captured.valid", 12, {}, "output"),
        "payments.captured.dlq": TopicPlan(
            "payments.captured.dlq",
            12,
            {"retention.ms": str(DEAD_LETTER_RETENTION_MS)},
            "dead_letter",
        ),
    }
    assert DEAD_LETTER_RETENTION_MS == 30 * 24 * 3600 * 1000


def test_plan_skips_existing_topics_and_uses_the_given_retention() -> None:
    """Topics that exist are left alone; ``dead_letter_retention_ms`` sets the DLQ retention."""
    existing = {
        "checkout.events": 6,
        "identity.users": 3,
        "payments.captured": 12,
        "checkout.events.valid": 6,
        "identity.users.dlq": 3,
    }
    plans, _ = plan_topics(
        ROUTER, existing, create_sources=False, source_partitions=1, dead_letter_retention_ms=1234
    )
    planned = by_name(plans)
    assert "checkout.events.valid" not in planned
    assert "identity.users.dlq" not in planned
    assert planned["checkout.events.dlq"].config == {"retention.ms": "1234"}
    assert planned["payments.captured.dlq"].config == {"retention.ms": "1234"}


def test_plan_sizes_outputs_like_their_sources_and_dead_letters_with_envelope_room() -> None:
    """With the sources' max.message.bytes known, an output takes what its source takes and
    a dead-letter topic that plus room for the envelope; sources without a known limit
    leave their destinations on the broker's default."""
    existing = {"checkout.events": 6, "identity.users": 3, "payments.captured": 12}
    limits = {"checkout.events": 5_000_000, "identity.users": 1_048_588}
    plans, _ = plan_topics(
        ROUTER, existing, create_sources=False, source_partitions=1, source_limits=limits
    )
    planned = by_name(plans)
    assert planned["checkout.events.valid"].config == {"max.message.bytes": "5000000"}
    assert planned["checkout.events.dlq"].config == {
        "retention.ms": str(DEAD_LETTER_RETENTION_MS),
        "max.message.bytes": str(5_000_000 + ENVELOPE_ROOM_BYTES),
    }
    assert planned["identity.users.dlq"].config["max.message.bytes"] == str(
        1_048_588 + ENVELOPE_ROOM_BYTES
    )
    assert "max.message.bytes" not in planned["payments.captured.valid"].config
    assert "max.message.bytes" not in planned["payments.captured.dlq"].config


def test_plan_reports_missing_sources_without_planning_for_them() -> None:
    """Without ``create_sources`` a missing source is reported and nothing of it is planned."""
    existing = {"checkout.events": 6}
    plans, missing = plan_topics(ROUTER, existing, create_sources=False, source_partitions=4)
    assert sorted(missing) == ["identity.users", "payments.captured"]
    assert set(by_name(plans)) == {"checkout.events.valid", "checkout.events.dlq"}


def test_plan_creates_missing_sources_when_asked() -> None:
    """With ``create_sources`` a missing source is planned with ``source_partitions`` and its
    outputs and dead letter get the same count."""
    existing = {"checkout.events": 6, "identity.users": 3}
    plans, missing = plan_topics(ROUTER, existing, create_sources=True, source_partitions=4)
    assert missing == []
    planned = by_name(plans)
    assert planned["payments.captured"] == TopicPlan("payments.captured", 4, {}, "source")
    assert planned["payments.captured.valid"].partitions == 4
    assert planned["payments.captured.dlq"].partitions == 4
    assert planned["payments.captured.dlq"].role == "dead_letter"
    assert planned["checkout.events.dlq"].partitions == 6
    assert "checkout.events" not in planned


def test_plan_marks_the_default_dead_letter_as_a_dead_letter() -> None:
    """A ``default_dead_letter`` topic is planned with the dead-letter retention."""
    router = Router(CONTRACT_SET, default_dead_letter="all.dlq")
    existing = {"checkout.events": 6, "identity.users": 6, "payments.captured": 6}
    plans, _ = plan_topics(router, existing, create_sources=False, source_partitions=1)
    planned = by_name(plans)
    assert planned["all.dlq"].role == "dead_letter"
    assert planned["all.dlq"].config == {"retention.ms": str(DEAD_LETTER_RETENTION_MS)}
    assert planned["all.dlq"].partitions == 6
