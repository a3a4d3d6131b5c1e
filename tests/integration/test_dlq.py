"""``dce dlq inspect`` and ``dce dlq replay`` on the real broker.

A module-wide stream goes through the enforcer once: sample traffic with
invalid events of several reasons, plus checkout orders in JPY, a currency v2
does not accept and that name no version (so the newest version judges them).
The replay tests then add a v3 that accepts JPY, in their own copy of the
contracts, and check that exactly those orders go back. Every CLI run is a
separate ``dce dlq`` process, as an operator would run it; everything is read
back under ``read_committed``.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka.admin import AdminClient

from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Router
from streamprocs.dlq.options import ReplayOptions
from streamprocs.dlq.replay import Replayer
from streamprocs.enforcer import envelope as env
from streamprocs.enforcer.config import load_settings
from streamprocs.enforcer.loop import Enforcer
from streamprocs.observability.metrics import Metrics
from streamprocs.traffic import SampleRecord, generate_mix, produce
from tests.integration.dlq_support import (
    LOOKUP_TIMEOUT_S,
    Raw,
    checkout_order,
    committed_offsets,
    dead_letter,
    dlq,
    dlq_argv,
    end_offsets,
    produce_raw,
    with_version,
    write_config,
)
from tests.integration.support import (
    REPO,
    Record,
    create_topics,
    isolated_contracts,
    read_topics,
    running,
    seq,
    settings_for,
    without_dce,
)

REASONS = ["schema", "rule", "decode", "unknown_version", "unknown_contract"]
JPY_COUNT = 12
JPY_SEQ = 1000  # first dce-sample-seq of the JPY orders, above the mix's
# PII values shorter than this may occur by chance in ids or offsets; longer ones cannot.
PII_MIN_CHARS = 8
PII_KEYS = frozenset(
    {
        "email",
        "full_name",
        "phone",
        "recipient_name",
        "line1",
        "line2",
        "postal_code",
        "client_ip",
        "name",
        "cardholder_name",
        "payer_email",
        "payer_ip",
        "display_name",
        "ip_address",
        "user_agent",
        "given_name",
        "family_name",
        "birth_date",
    }
)


@dataclass(frozen=True)
class Stream:
    contracts: Path
    prefix: str
    router: Router
    samples: list[SampleRecord]
    jpy: list[SampleRecord]
    config: Path
    enforcer_group: str

    def topic(self, name: str) -> str:
        return self.prefix + name

    def dead(self, dead_letter_topic: str) -> list[SampleRecord]:
        return [s for s in self.samples if s.destination == dead_letter_topic]

    def downstream(self) -> list[str]:
        out: set[str] = set()
        for dests in self.router.output_topics().values():
            out |= dests
        return sorted(out)


def _jpy_orders(prefix: str) -> list[SampleRecord]:
    """Checkout orders whose only fault under v2 is the currency; no version header."""
    out = []
    for i in range(JPY_COUNT):
        n = JPY_SEQ + i
        out.append(
            SampleRecord(
                topic=f"{prefix}checkout.events",
                key=f"ORD-{n:010d}".encode(),
                value=checkout_order(n, currency="JPY"),
                headers=[
                    ("event-type", b"order_created"),
                    ("trace-id", f"trace-{n}".encode()),
                    ("dce-sample-seq", str(n).encode()),
                ],
                contract_id="checkout.order_created",
                version=2,
                expected="invalid",
                expected_reason="schema",
                destination=f"{prefix}checkout.events.dlq",
            )
        )
    return out


@pytest.fixture(scope="module")
def stream(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Stream:
    tmp = tmp_path_factory.mktemp("dlq-stream")
    contracts, prefix = isolated_contracts(tmp)
    router = create_topics(kafka_bootstrap, contracts)
    mix = generate_mix(
        load_contract_set(contracts), 240, invalid_share=0.4, seed=17, reasons=REASONS
    )
    jpy = _jpy_orders(prefix)
    samples = [*mix, *jpy]
    assert produce(samples, kafka_bootstrap) == len(samples)
    settings = settings_for(kafka_bootstrap, contracts, batch_size=100)
    stream = Stream(
        contracts,
        prefix,
        router,
        samples,
        jpy,
        write_config(tmp / "dce.yaml", kafka_bootstrap, contracts),
        settings.group_id,
    )
    with running(Enforcer(settings)):
        landed = read_topics(
            kafka_bootstrap, stream.downstream(), until=lambda r: len(r) >= len(samples)
        )
    by_seq = {sample_seq(s): s for s in samples}
    assert sorted(seq(r) for r in landed) == sorted(by_seq)
    # The labels the tests count on are where the enforcer really put each record.
    assert all(r.topic == by_seq[seq(r)].destination for r in landed)
    return stream


def sample_seq(sample: SampleRecord) -> int:
    found = sample.seq
    assert found is not None, "every sample carries dce-sample-seq"
    return found


def _read_dead_letters(bootstrap: str, topic: str, count: int) -> dict[int, Record]:
    records = read_topics(bootstrap, [topic], until=lambda r: len(r) >= count)
    assert len(records) == count
    return {seq(r): r for r in records}


def _with_id(replay_id: str) -> Callable[[Record], bool]:
    return lambda r: r.header("dce.replay.id") == replay_id


def _count(records: list[Record], predicate: Callable[[Record], bool]) -> int:
    return sum(1 for r in records if predicate(r))


# --- replay ----------------------------------------------------------------------------------


def test_replay_sends_back_exactly_what_the_new_version_accepts(
    stream: Stream, kafka_bootstrap: str, tmp_path: Path, create_topic: Callable[..., str]
) -> None:
    """With a v3 accepting JPY, replay sends back the JPY orders and only them, byte for
    byte, to their source topic and partition; the rest are parked with a fresh envelope;
    a second run sends nothing; a DLQ whose records all still fail sends nothing; and the
    enforcer, judging with v3, forwards the replayed orders."""
    contracts = with_version(stream.contracts, tmp_path, "JPY")
    config = write_config(tmp_path / "dce.yaml", kafka_bootstrap, contracts)
    dlq_topic, source = stream.topic("checkout.events.dlq"), stream.topic("checkout.events")
    dead = stream.dead(dlq_topic)
    original = _read_dead_letters(kafka_bootstrap, dlq_topic, len(dead))
    jpy = {sample_seq(s): s for s in stream.jpy}
    park = create_topic("park")
    group = f"replay-{uuid.uuid4().hex[:8]}"

    run = dlq("replay", dlq_topic, "-c", str(config), "--group", group, "--park", park, "--json")
    assert run.code == 0, run.stderr
    report = run.json()
    stays = len(dead) - len(jpy)
    assert report["counts"] == {
        "read": len(dead),
        "filtered": 0,
        "replayed": len(jpy),
        "still_invalid": stays,
        "parked": stays,
        "skipped": 0,
    }
    assert report["replayed_by_rule"] == {"schema/schema.enum": len(jpy)}
    assert run.audit()["replay_id"] == report["replay_id"]

    replayed = _with_id(report["replay_id"])
    back = [
        r
        for r in read_topics(
            kafka_bootstrap,
            [source],
            until=lambda rs: _count(rs, replayed) >= len(jpy),
            settle_s=1.0,
        )
        if replayed(r)
    ]
    assert sorted(seq(r) for r in back) == sorted(jpy), "not exactly the JPY orders, once each"
    for r in back:
        sample, before = jpy[seq(r)], original[seq(r)]
        assert (r.key, r.value) == (sample.key, sample.value)
        assert without_dce(r.headers) == sample.headers
        assert [k for k, _ in r.headers if k.startswith("dce.")] == [
            "dce.replay.count",
            "dce.replay.id",
        ]
        assert r.header("dce.replay.count") == "1"
        assert r.timestamp == before.timestamp == int(before.header("dce.source.timestamp") or 0)
        assert str(r.partition) == before.header("dce.source.partition")

    revision = load_contract_set(contracts).revision
    parked = read_topics(kafka_bootstrap, [park], until=lambda rs: len(rs) >= stays, settle_s=0.5)
    assert sorted(seq(r) for r in parked) == sorted(set(original) - set(jpy))
    for r in parked:
        before = original[seq(r)]
        assert (r.key, r.value, r.timestamp) == (before.key, before.value, before.timestamp)
        assert without_dce(r.headers) == without_dce(before.headers)
        assert (
            r.header("dce.contracts.revision")
            == revision
            != before.header("dce.contracts.revision")
        )
        for name in ("dce.error.reason", "dce.source.topic", "dce.source.partition"):
            assert r.header(name) == before.header(name), name
        assert r.header("dce.source.offset") == before.header("dce.source.offset")
        assert r.header("dce.replay.count") is None

    # A second run of the same group finds nothing left and changes nothing.
    ends = end_offsets(kafka_bootstrap, [source, park, dlq_topic])
    again = dlq("replay", dlq_topic, "-c", str(config), "--group", group, "--park", park, "--json")
    assert again.code == 0, again.stderr
    assert again.json()["counts"]["read"] == 0
    assert end_offsets(kafka_bootstrap, [source, park, dlq_topic]) == ends

    # Records that still fail stay where they are when there is no --park.
    pay_dlq, pay_source = stream.topic("payments.captured.dlq"), stream.topic("payments.captured")
    ends = end_offsets(kafka_bootstrap, [pay_source, pay_dlq])
    stay = dlq("replay", pay_dlq, "-c", str(config), "--group", f"{group}-pay", "--json")
    assert stay.code == 0, stay.stderr
    counts = stay.json()["counts"]
    assert (counts["replayed"], counts["still_invalid"]) == (0, len(stream.dead(pay_dlq)))
    assert end_offsets(kafka_bootstrap, [pay_source, pay_dlq]) == ends

    # The enforcer, now judging with v3, forwards the replayed orders downstream.
    settings = settings_for(kafka_bootstrap, contracts).model_copy(
        update={"group_id": stream.enforcer_group}
    )
    with running(Enforcer(settings)):
        valid = read_topics(
            kafka_bootstrap,
            [stream.topic("checkout.events.valid")],
            until=lambda rs: _count(rs, replayed) >= len(jpy),
        )
    assert sorted(seq(r) for r in valid if replayed(r)) == sorted(jpy)


def test_replay_reads_a_value_left_out_back_from_its_source_topic(
    stream: Stream, kafka_bootstrap: str, create_topic: Callable[..., str]
) -> None:
    """A dead letter sent without its value (dce.value.omitted: too large for its topic)
    is judged and replayed as the event its source topic still holds, key, value and
    headers as they were there; one whose source offset holds no such event (another
    length, or past the end) is skipped as value_omitted, never sent as a tombstone."""
    source = stream.topic("checkout.events")
    dlq_topic, scratch = create_topic("dlq"), create_topic("to")
    now = int(time.time() * 1000)
    headers = [("event-type", b"order_created"), ("dce-sample-seq", b"8001")]
    original = checkout_order(8001)
    offset = end_offsets(kafka_bootstrap, [source])[(source, 0)]
    produce_raw(
        kafka_bootstrap,
        [Raw(source, original, headers, key=b"ORD-8001", partition=0, timestamp=now)],
    )
    omitted = [(env.VALUE_OMITTED, str(len(original)).encode())]
    wrong_length = [(env.VALUE_OMITTED, str(len(original) + 1).encode())]
    crafted = [
        (offset, omitted, 8001),
        (offset, wrong_length, 8002),
        (offset + 1_000, omitted, 8003),  # past the end of the partition
    ]
    records = []
    for at, extra, n in crafted:
        raw = dead_letter(
            dlq_topic,
            source,
            b"",
            [("dce-sample-seq", str(n).encode())] if n != 8001 else [],
            partition=0,
            offset=at,
            timestamp=now,
        )
        # After the envelope, as the enforcer adds it (envelope() drops dce.* it is given).
        records.append(
            dataclasses.replace(raw, value=None, key=None, headers=[*raw.headers, *extra])
        )
    produce_raw(kafka_bootstrap, records)

    options = ReplayOptions(dlq_topic, group=f"orig-{uuid.uuid4().hex[:8]}", to=scratch)
    replayer = Replayer(load_settings(stream.config), load_contract_set(stream.contracts), options)
    report = replayer.run().as_dict()

    assert report["status"] == "completed"
    assert report["values_from_source"] == 1
    assert (report["counts"]["replayed"], report["counts"]["skipped"]) == (1, 2)
    assert report["skipped_by"] == {"value_omitted": 2}
    (back,) = read_topics(kafka_bootstrap, [scratch], until=lambda rs: len(rs) >= 1, settle_s=0.5)
    assert (back.key, back.value, back.timestamp) == (b"ORD-8001", original, now)
    assert without_dce(back.headers) == headers
    assert back.header("dce.replay.count") == "1"


def test_replay_killed_mid_way_resumes_and_delivers_each_record_once(
    stream: Stream, kafka_bootstrap: str, tmp_path: Path, create_topic: Callable[..., str]
) -> None:
    """SIGKILL during a rate-limited replay, then a restart: every replayable record is on
    the source topic exactly once under read_committed, and the restart did only the rest."""
    source = stream.topic("checkout.events")
    dlq_topic = create_topic("dlq", partitions=3)
    now = int(time.time() * 1000)
    passing, failing = 120, 20
    records = []
    for i in range(passing + failing):
        n = 5000 + i
        value = checkout_order(n) if i < passing else checkout_order(n, total_cents=1)
        headers = [
            ("event-type", b"order_created"),
            ("contract-version", b"2"),
            ("dce-sample-seq", str(n).encode()),
        ]
        records.append(
            dead_letter(
                dlq_topic, source, value, headers, partition=i % 3, offset=9000 + i, timestamp=now
            )
        )
    produce_raw(kafka_bootstrap, records)
    ours = set(range(5000, 5000 + passing))

    def mine(r: Record) -> bool:
        return r.header("dce-sample-seq") is not None and seq(r) in ours

    group = f"kill-{uuid.uuid4().hex[:8]}"
    args = ("replay", dlq_topic, "-c", str(stream.config), "--group", group, "--json")
    # 40 records/s: three seconds for the lot, so the kill lands mid-way.
    proc = subprocess.Popen(
        dlq_argv(*args, "--rate", "40", "--batch-size", "25"),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        read_topics(kafka_bootstrap, [source], until=lambda rs: _count(rs, mine) >= 30)
        assert proc.poll() is None, "the replay finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    rest = dlq(*args)
    assert rest.code == 0, rest.stderr
    resumed = rest.json()["counts"]
    # The restart resumed after the committed batches: it did not start over.
    assert 0 < resumed["replayed"] <= passing - 30
    assert resumed["read"] < passing + failing
    landed = read_topics(
        kafka_bootstrap, [source], until=lambda rs: _count(rs, mine) >= passing, settle_s=1.0
    )
    delivered = Counter(seq(r) for r in landed if mine(r))
    assert set(delivered) == ours, "records lost"
    assert max(delivered.values()) == 1, "records delivered twice"


def test_dry_run_changes_no_topic_and_no_group_offset(
    stream: Stream, kafka_bootstrap: str, tmp_path: Path, create_topic: Callable[..., str]
) -> None:
    """``--dry-run`` (also with --from-beginning, --to, --park, --audit-topic) leaves every
    topic's end offsets and the replay group's committed offsets as they were, and predicts
    what a real run would do."""
    contracts = with_version(stream.contracts, tmp_path, "JPY")
    config = str(write_config(tmp_path / "dce.yaml", kafka_bootstrap, contracts))
    dlq_topic = stream.topic("checkout.events.dlq")
    dead = stream.dead(dlq_topic)
    scratch, park, audit = create_topic("to"), create_topic("park"), create_topic("audit")
    group = f"dry-{uuid.uuid4().hex[:8]}"
    # Give the group progress first, so that "unchanged" means something.
    first = dlq("replay", dlq_topic, "-c", config, "--group", group, "--max", "5", "--to", scratch)
    assert first.code == 0, first.stderr
    topics = [*stream.downstream(), *stream.router.topics, scratch, park, audit]
    ends = end_offsets(kafka_bootstrap, topics)
    committed = committed_offsets(kafka_bootstrap, group, dlq_topic)
    assert sum(o for o in committed.values() if o is not None) > 0

    common = ("-c", config, "--group", group, "--dry-run", "--json")
    rest = dlq(
        "replay", dlq_topic, *common, "--to", scratch, "--park", park, "--audit-topic", audit
    )
    everything = dlq("replay", dlq_topic, *common, "--from-beginning")
    assert rest.code == 0, rest.stderr
    assert everything.code == 0, everything.stderr

    assert end_offsets(kafka_bootstrap, topics) == ends
    assert committed_offsets(kafka_bootstrap, group, dlq_topic) == committed
    assert rest.json()["counts"]["read"] == len(dead) - 5
    report = everything.json()
    assert report["dry_run"] is True and everything.audit()["dry_run"] is True
    assert report["counts"]["read"] == len(dead)
    assert report["counts"]["replayed"] == len(stream.jpy)
    assert report["replayed_by_rule"] == {"schema/schema.enum": len(stream.jpy)}
    assert report["counts"]["still_invalid"] == len(dead) - len(stream.jpy)
    assert report["transactions"] == {"committed": 0, "aborted": 0}


def test_loop_guard_skips_records_replayed_max_times(
    stream: Stream, kafka_bootstrap: str, create_topic: Callable[..., str]
) -> None:
    """A record whose dce.replay.count reached --max-replays is skipped (passing or not)
    and counted in dce_replay_records_total{result="skipped"}; one below it is replayed
    with its count incremented."""
    source = stream.topic("checkout.events")
    dlq_topic, scratch = create_topic("dlq"), create_topic("to")
    now = int(time.time() * 1000)
    plan = {  # seq: (replay count already, passes today)
        7001: (3, True),
        7002: (2, True),
        7003: (3, False),
        7004: (None, True),
    }
    records = []
    for i, (n, (count, passes)) in enumerate(plan.items()):
        headers = [("event-type", b"order_created"), ("dce-sample-seq", str(n).encode())]
        extra = [("dce.replay.count", str(count).encode())] if count is not None else []
        value = checkout_order(n) if passes else checkout_order(n, total_cents=1)
        records.append(
            dead_letter(
                dlq_topic, source, value, headers, partition=0, offset=i, timestamp=now, extra=extra
            )
        )
    produce_raw(kafka_bootstrap, records)

    metrics = Metrics()
    settings = load_settings(stream.config)
    options = ReplayOptions(dlq_topic, group=f"guard-{uuid.uuid4().hex[:8]}", to=scratch)
    replayer = Replayer(settings, load_contract_set(stream.contracts), options, metrics=metrics)
    report = replayer.run().as_dict()

    assert report["status"] == "completed"
    assert report["counts"]["skipped"] == 2
    assert report["counts"]["replayed"] == 2
    assert report["skipped_by"] == {"max_replays": 2}
    for result, expected in (("skipped", 2), ("replayed", 2), ("still_invalid", 0)):
        got = metrics.registry.get_sample_value("dce_replay_records_total", {"result": result})
        assert got == expected, result
    out = read_topics(kafka_bootstrap, [scratch], until=lambda rs: len(rs) >= 2, settle_s=0.5)
    assert {seq(r): r.header("dce.replay.count") for r in out} == {7002: "3", 7004: "1"}


# --- inspect ---------------------------------------------------------------------------------


def _pii_strings(value: bytes) -> Iterator[str]:
    try:
        event: Any = orjson.loads(value)
    except orjson.JSONDecodeError:
        return
    stack = [event]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():
                if key in PII_KEYS and isinstance(item, str) and len(item) >= PII_MIN_CHARS:
                    yield item
                stack.append(item)
        elif isinstance(node, list):
            stack.extend(node)


def test_inspect_json_matches_counts_computed_from_what_was_produced(
    stream: Stream, kafka_bootstrap: str
) -> None:
    """Counts by reason, contract, version, team and source topic equal the sample labels;
    counts by rule equal the envelopes read back; filters narrow them; no sample shows a
    PII value; and no consumer group is left behind."""
    contract_set = load_contract_set(stream.contracts)
    for name in ("checkout.events.dlq", "payments.captured.dlq", "identity.users.dlq"):
        topic = stream.topic(name)
        dead = stream.dead(topic)
        assert dead, f"the stream put nothing in {topic}"
        run = dlq("inspect", topic, "-c", str(stream.config), "--json", "--samples", "50")
        assert run.code == 0, run.stderr
        summary = run.json()

        def team(contract_id: str | None) -> str:
            contract = contract_set.get(contract_id) if contract_id else None
            return contract.team if contract else "unknown"

        assert summary["records"] == len(dead)
        assert summary["by_reason"] == dict(Counter(s.expected_reason for s in dead))
        assert summary["by_contract"] == dict(Counter(s.contract_id or "unknown" for s in dead))
        assert summary["by_version"] == dict(
            Counter(
                f"{s.contract_id or 'unknown'}@{s.version if s.version else 'unknown'}"
                for s in dead
            )
        )
        assert summary["by_team"] == dict(Counter(team(s.contract_id) for s in dead))
        assert summary["by_source_topic"] == dict(Counter(s.topic for s in dead))
        read_back = _read_dead_letters(kafka_bootstrap, topic, len(dead))
        rules: Counter[str] = Counter()
        for r in read_back.values():
            rules.update({d["rule"] for d in orjson.loads(r.header("dce.error.detail") or "[]")})
        assert summary["by_rule"] == dict(rules)
        stamps = sorted(r.timestamp for r in read_back.values())
        first, last = summary["time_range"]["first"], summary["time_range"]["last"]
        assert (_ms(first), _ms(last)) == (stamps[0], stamps[-1])

        leaked = [p for s in dead for p in _pii_strings(s.value) if p in run.stdout]
        assert not leaked, f"PII in the inspect output: {leaked[:3]}"
        assert summary["samples"], "no samples"

    groups = AdminClient({"bootstrap.servers": kafka_bootstrap}).list_consumer_groups(
        request_timeout=LOOKUP_TIMEOUT_S
    )
    left = [g.group_id for g in groups.result().valid if g.group_id.startswith("dce-dlq")]
    assert left == [], "inspect left a consumer group behind"

    topic = stream.topic("checkout.events.dlq")
    dead = stream.dead(topic)
    narrowed = dlq(
        "inspect",
        topic,
        "-c",
        str(stream.config),
        "--json",
        "--reason",
        "schema",
        "--contract",
        "checkout.order_created@2",
    ).json()
    expected = [s for s in dead if s.expected_reason == "schema" and s.version == 2]
    assert narrowed["records"] == len(expected) > 0
    assert narrowed["scanned"] == len(dead)


def _ms(iso_time: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso_time).timestamp() * 1000)


def test_inspect_time_window_starts_at_the_first_record_of_since(
    stream: Stream, kafka_bootstrap: str, create_topic: Callable[..., str]
) -> None:
    """``--since``/``--until`` (relative or ISO) select by the records' own timestamps."""
    source = stream.topic("checkout.events")
    topic = create_topic("dlq", partitions=2)
    now = int(time.time() * 1000)
    ages_h = [72, 50, 2, 1]  # hours before now
    records: list[Raw] = []
    for i, age in enumerate(ages_h):
        headers = [("event-type", b"order_created"), ("dce-sample-seq", str(8000 + i).encode())]
        records.append(
            dead_letter(
                topic,
                source,
                checkout_order(8000 + i),
                headers,
                partition=i % 2,
                offset=i,
                timestamp=now - age * 3600_000,
            )
        )
    produce_raw(kafka_bootstrap, records)
    config = str(stream.config)

    def count(*window: str) -> int:
        run = dlq("inspect", topic, "-c", config, "--json", *window)
        assert run.code == 0, run.stderr
        return int(run.json()["records"])

    assert count() == 4
    assert count("--since", "1d") == 2
    assert count("--since", "3d", "--until", "2d") == 1
    iso_since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((now - 60 * 3600_000) / 1000))
    assert count("--since", iso_since) == 3
    bad = dlq("inspect", topic, "-c", config, "--since", "yesterday")
    assert bad.code == 2 and "yesterday" in bad.stderr
