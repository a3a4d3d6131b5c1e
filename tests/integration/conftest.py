"""Fixtures for tests against a real local Apache Kafka broker (the one `dce dev up` runs).

The broker is started once per session through the same `DevBroker` API as the CLI. If it
cannot start, every test that needs it FAILS with the reason: none may pass or be skipped
without a broker. Every test in this directory is marked `integration`.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from streamprocs.devkafka import DevBroker, DevKafkaError

INTEGRATION_DIR = Path(__file__).resolve().parent
REPO = INTEGRATION_DIR.parents[1]

#: Not 9092/9093, so a developer's own `dce dev up` broker can keep running meanwhile.
TEST_PORT = int(os.environ.get("DCE_TEST_KAFKA_PORT", "19092"))
TEST_CONTROLLER_PORT = int(os.environ.get("DCE_TEST_KAFKA_CONTROLLER_PORT", "19093"))

#: A fixed dir (under the gitignored .dce/) rather than pytest's basetemp: when a run is
#: killed, the next one finds the leftover broker by its pid file and stops it, instead of
#: meeting an orphan that holds the port (pytest prunes old basetemps, pid files and all).
TEST_HOME = Path(os.environ.get("DCE_TEST_BROKER_HOME", str(REPO / ".dce" / "test-broker")))

#: Readiness bound for the session broker, after the one-off jar fetch (bounded on its own).
#: It answers in a few seconds here; CI may run on a busy box, and a broker that cannot
#: start should fail the run within minutes.
UP_TIMEOUT_S = 120.0

#: Creating a topic on a single local node takes milliseconds; the bound only turns a
#: wedged broker into a failure instead of a hang.
TOPIC_CREATE_TIMEOUT_S = 30.0

_TOPIC_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, not only this directory's: filter by path.
    for item in items:
        if INTEGRATION_DIR in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def dev_broker() -> Iterator[DevBroker]:
    """The session's broker, started on fresh data and stopped at the end of the session."""
    broker = DevBroker(TEST_HOME, TEST_PORT, TEST_CONTROLLER_PORT)
    problem = ""
    try:
        # A broker left behind by a killed run is stopped, and every session starts from
        # empty data so results never depend on an earlier run.
        broker.down(wipe=True)
        broker.up(UP_TIMEOUT_S)
    except DevKafkaError as exc:
        problem = str(exc)
    if problem:  # failed outside the `except`, so the report is the reason, not a traceback
        pytest.fail(f"the test Kafka broker could not start: {problem}", pytrace=False)
    try:
        yield broker
    finally:
        broker.down()


@pytest.fixture(scope="session")
def kafka_bootstrap(dev_broker: DevBroker) -> str:
    """`bootstrap.servers` of the running session broker, e.g. "127.0.0.1:19092"."""
    return dev_broker.bootstrap


@pytest.fixture(scope="session")
def kafka_admin(kafka_bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": kafka_bootstrap})


@pytest.fixture
def unique_topic(request: pytest.FixtureRequest) -> Callable[..., str]:
    """A factory of topic names unique to this test and call: `unique_topic("dlq")`."""
    test_part = _TOPIC_UNSAFE.sub("-", request.node.name).strip("-.")[:120]

    def make(suffix: str = "") -> str:
        parts = ["t", test_part, _TOPIC_UNSAFE.sub("-", suffix), uuid.uuid4().hex[:8]]
        return ".".join(part for part in parts if part)

    return make


@pytest.fixture
def create_topic(kafka_admin: AdminClient, unique_topic: Callable[..., str]) -> Callable[..., str]:
    """A factory that creates a fresh topic and returns its name once the broker has it."""

    def create(suffix: str = "", partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = unique_topic(suffix)
        topic = NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})
        kafka_admin.create_topics([topic])[name].result(timeout=TOPIC_CREATE_TIMEOUT_S)
        return name

    return create
