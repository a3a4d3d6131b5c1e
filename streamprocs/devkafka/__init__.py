"""A real local single-node Apache Kafka (KRaft) for development and tests, from Maven jars.

    broker = DevBroker(Path(".dce/dev"), port=9092, controller_port=9093)
    bootstrap = broker.up(timeout=90)   # "127.0.0.1:9092"
    broker.status().running             # True
    broker.down()

Needs a JDK (11+, 17 recommended) and, for the one-off jar fetch, Maven.
"""

from streamprocs.devkafka.broker import DEFAULT_UP_TIMEOUT_S, BrokerStatus, DevBroker
from streamprocs.devkafka.config import (
    DEFAULT_CONTROLLER_PORT,
    DEFAULT_PORT,
    HOST,
    KAFKA_VERSION,
)
from streamprocs.devkafka.errors import DevKafkaConfigError, DevKafkaError
from streamprocs.devkafka.jars import ensure_jars
from streamprocs.devkafka.paths import HOME_ENV, cache_root, default_home

__all__ = [
    "DEFAULT_CONTROLLER_PORT",
    "DEFAULT_PORT",
    "DEFAULT_UP_TIMEOUT_S",
    "HOME_ENV",
    "HOST",
    "KAFKA_VERSION",
    "BrokerStatus",
    "DevBroker",
    "DevKafkaConfigError",
    "DevKafkaError",
    "cache_root",
    "default_home",
    "ensure_jars",
]
