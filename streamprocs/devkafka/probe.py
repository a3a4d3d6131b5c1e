"""Readiness: the broker is ready when a client gets cluster metadata from it.

An open port is not enough (Kafka opens its listeners before the node has joined its own
KRaft quorum and been unfenced), and a fixed sleep is either too long or too short.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from streamprocs.devkafka.config import NODE_ID

#: One metadata attempt. Short, so that a JVM that died is noticed within about a second;
#: a healthy broker on loopback answers in milliseconds.
ATTEMPT_TIMEOUT_S = 1.0

#: Floor between attempts, so an attempt that fails at once does not spin a core.
MIN_INTERVAL_S = 0.1

#: librdkafka backs off reconnects exponentially up to 10 s by default, which would make
#: us notice a just-started listener seconds late; retry refused connects quickly instead.
#: log_level 0: the refused connects while the JVM starts are expected, not worth printing.
_CLIENT_CONFIG: dict[str, str | int] = {
    "reconnect.backoff.ms": 50,
    "reconnect.backoff.max.ms": 250,
    "log_level": 0,
}


def answers(admin: AdminClient, timeout_s: float) -> bool:
    """One metadata request; True if it came back listing our node as a broker."""
    try:
        metadata = admin.list_topics(timeout=max(timeout_s, 0.01))
    except KafkaException:
        return False
    return NODE_ID in metadata.brokers


def wait_until_answering(
    bootstrap: str, timeout_s: float, still_running: Callable[[], bool]
) -> bool:
    """Poll metadata until it answers (True), the deadline passes or the process died (False).

    At least one attempt is made, however small `timeout_s` is.
    """
    admin = AdminClient({"bootstrap.servers": bootstrap, **_CLIENT_CONFIG})
    deadline = time.monotonic() + timeout_s
    while True:
        started = time.monotonic()
        remaining = deadline - started
        if answers(admin, min(ATTEMPT_TIMEOUT_S, max(remaining, 0.0))):
            return True
        if not still_running():
            return False
        now = time.monotonic()
        if now >= deadline:
            return False
        pause = MIN_INTERVAL_S - (now - started)
        if pause > 0:
            time.sleep(min(pause, deadline - now))
