"""``make demo``: the whole product on this machine, in about a minute.

A local Apache Kafka broker (``dce dev up``), the topics the example contracts
name, the enforcer (``dce run``) as its own process, and a sample producer
sending a realistic mix of valid events and every kind of invalid one. It then
shows what went where, read back from Kafka, and the enforcer's metrics.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Router
from streamprocs.devkafka import DevBroker, DevKafkaError

console = Console()
HOME = Path(".dce/demo")
PORT = int(os.environ.get("DCE_DEMO_KAFKA_PORT", "9092"))
CONTROLLER_PORT = int(os.environ.get("DCE_DEMO_KAFKA_CONTROLLER_PORT", "9093"))
METRICS_PORT = int(os.environ.get("DCE_DEMO_METRICS_PORT", "9464"))
MAX_EVENT_BYTES = 256 * 1024
EVENTS = int(os.environ.get("DCE_DEMO_EVENTS", "3000"))
# Generous bounds: each step takes seconds here; they only stop a broken demo from hanging.
BROKER_TIMEOUT_S = 180.0
ROUTED_TIMEOUT_S = 120.0


def step(title: str) -> None:
    console.rule(f"[bold]{title}")


def high_watermarks(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], int]:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "dce-demo-reader"})
    try:
        metadata = consumer.list_topics(timeout=10)
        marks = {}
        for topic in topics:
            for partition in metadata.topics[topic].partitions:
                _, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=10
                )
                marks[(topic, partition)] = high
        return marks
    finally:
        consumer.close()


def read_new(bootstrap: str, since: dict[tuple[str, int], int]) -> list[Any]:
    """Committed records written after ``since``, up to the current end of each partition."""
    from confluent_kafka import Consumer, TopicPartition

    until = high_watermarks(bootstrap, sorted({t for t, _ in since}))
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "dce-demo-reader",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    wanted = {tp: end for tp, end in until.items() if end > since[tp]}
    consumer.assign([TopicPartition(t, p, since[(t, p)]) for t, p in wanted])
    records: list[Any] = []
    deadline = time.monotonic() + 30
    try:
        while wanted and time.monotonic() < deadline:
            msg: Any
            for msg in consumer.consume(1000, timeout=0.5):
                if msg.error():
                    continue
                records.append(msg)
                tp = (msg.topic(), msg.partition())
                if tp in wanted and msg.offset() + 1 >= wanted[tp]:
                    del wanted[tp]
    finally:
        consumer.close()
    return records


def scrape(port: int) -> dict[str, float]:
    """Prometheus text -> {sample line without value: value}."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def judged(port: int) -> float:
    try:
        return sum(v for k, v in scrape(port).items() if k.startswith("dce_events_total"))
    except OSError:
        return 0.0


def main() -> int:
    from streamprocs.cli.run import ensure_topics
    from streamprocs.enforcer.config import load_settings
    from streamprocs.traffic import generate_mix, produce

    HOME.mkdir(parents=True, exist_ok=True)
    step("1. A local Apache Kafka broker (dce dev up)")
    broker = DevBroker(port=PORT, controller_port=CONTROLLER_PORT)
    try:
        bootstrap = broker.up(BROKER_TIMEOUT_S)
    except DevKafkaError as exc:
        console.print(f"[red]the local broker could not start:[/] {exc}")
        return 2
    console.print(f"broker answering at [cyan]{bootstrap}[/]")

    config = HOME / "dce.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap.servers": bootstrap},
                "contracts_dir": str(Path("contracts").resolve()),
                "group_id": "dce-demo",
                "transactional_id": "dce-demo",
                "metrics": {"port": METRICS_PORT},
                # Below the broker's 1 MB default, so too_large events can be sent at all.
                "max_event_bytes": MAX_EVENT_BYTES,
            },
            sort_keys=False,
        )
    )
    step(f"2. Topics for the contracts (dce topics ensure --config {config} --create-sources)")
    settings = load_settings(config)
    ensure_topics(settings, create_sources=True, partitions=3)
    contract_set = load_contract_set(settings.contracts_dir)
    router = Router(contract_set, settings.limits)
    downstream = sorted({t for dests in router.output_topics().values() for t in dests})
    before = high_watermarks(bootstrap, downstream)

    step(f"3. The enforcer (dce run --config {config})")
    log_path = HOME / "enforcer.log"
    enforcer = subprocess.Popen(
        [sys.executable, "-m", "streamprocs", "run", "--config", str(config)],
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "DCE_LOG__FORMAT": "json"},
    )
    console.print(f"pid {enforcer.pid}, logs in {log_path}, metrics on :{METRICS_PORT}/metrics")
    try:
        start_count = judged(METRICS_PORT)
        step(f"4. A sample producer: {EVENTS} events, ~10% invalid in every way")
        samples = generate_mix(
            contract_set,
            EVENTS,
            invalid_share=0.10,
            seed=random.randrange(1 << 30),
            max_event_bytes=MAX_EVENT_BYTES,
        )
        produce(samples, bootstrap)
        expected = Counter(s.destination for s in samples)
        console.print(f"produced {len(samples)} events to {', '.join(router.topics)}")

        deadline = time.monotonic() + ROUTED_TIMEOUT_S
        while judged(METRICS_PORT) - start_count < len(samples):
            if enforcer.poll() is not None or time.monotonic() > deadline:
                console.print(f"[red]the enforcer did not route everything; see {log_path}[/]")
                return 1
            time.sleep(0.2)

        step("5. What went where (read back from Kafka, read_committed)")
        records = read_new(bootstrap, before)
        landed = Counter(r.topic() for r in records)
        table = Table()
        for column in ("topic", "records", "expected"):
            table.add_column(column)
        for topic in downstream:
            table.add_row(topic, str(landed[topic]), str(expected[topic]))
        console.print(table)
        reasons: Counter[tuple[str, str]] = Counter()
        example = None
        for r in records:
            headers = dict(r.headers() or [])
            reason = headers.get("dce.error.reason")
            if reason is not None:
                reasons[(r.topic(), reason.decode())] += 1
                example = example or headers
        table = Table(title="dead letters by reason")
        for column in ("dead-letter topic", "reason", "records"):
            table.add_column(column)
        for (topic, reason), n in sorted(reasons.items()):
            table.add_row(topic, reason, str(n))
        console.print(table)
        if example:
            console.print("one dead-letter record's dce headers:")
            for key, value in example.items():
                if key.startswith("dce."):
                    console.print(f"  [cyan]{key}[/] = {value.decode()[:200]}", highlight=False)
        step("6. Metrics (dce_events_total by outcome)")
        outcomes: Counter[str] = Counter()
        for name, value in scrape(METRICS_PORT).items():
            if name.startswith("dce_events_total"):
                outcomes[name.split('outcome="')[1].split('"')[0]] += int(value)
        console.print(dict(outcomes))
        ok = all(landed[t] == expected[t] for t in downstream)
        console.print(
            "[green]every event landed where its contract says[/]"
            if ok
            else "[red]some events are not where they should be[/]"
        )
        console.print(
            f"\nThe broker keeps running at {bootstrap}: try `dce contracts list`, "
            "`dce validate`, or `python -m streamprocs.traffic --bootstrap "
            f"{bootstrap}` against `dce run --config {config}`; `dce dev down` stops it."
        )
        return 0 if ok else 1
    finally:
        enforcer.send_signal(signal.SIGTERM)
        try:
            enforcer.wait(timeout=60)
        except subprocess.TimeoutExpired:
            enforcer.kill()


if __name__ == "__main__":
    sys.exit(main())
