"""What the dev broker runs: its server.properties, log4j configs and JVM command lines.

Pure functions and constants only (no I/O), so every byte the broker is started with can be
unit-tested without a JVM. `broker.py` writes these out and runs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from streamprocs.devkafka.errors import DevKafkaConfigError

KAFKA_VERSION = "3.9.1"
#: Loopback only: a dev/test broker must never be reachable from other hosts.
HOST = "127.0.0.1"
DEFAULT_PORT = 9092
DEFAULT_CONTROLLER_PORT = 9093
NODE_ID = 1

BROKER_MAIN = "kafka.Kafka"
STORAGE_TOOL_MAIN = "kafka.tools.StorageTool"

#: Enough for a single-node test broker; fixed (Xms == Xmx) so its footprint is predictable
#: on the 2-core/shared CI box instead of growing with the JVM's default of 1/4 of RAM.
BROKER_HEAP = ("-Xms512m", "-Xmx512m")

#: Kafka's own GC settings from kafka-run-class.sh, plus dying on OOM instead of limping on.
BROKER_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)

#: StorageTool runs for about a second: C1-only JIT and the serial GC start fastest.
TOOL_JVM_FLAGS = (
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
)

#: The tools log WARN and above to stderr only: INFO lines on stdout would corrupt the
#: cluster id that `StorageTool random-uuid` prints there.
TOOLS_LOG4J = """\
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
"""

#: The broker logs to `${kafka.logs.dir}/server.log`, rolled so a long-lived dev broker
#: cannot fill the disk; the chattiest request/state-change loggers are held to WARN.
BROKER_LOG4J = """\
log4j.rootLogger=INFO, serverLog
log4j.appender.serverLog=org.apache.log4j.RollingFileAppender
log4j.appender.serverLog.File=${kafka.logs.dir}/server.log
log4j.appender.serverLog.MaxFileSize=10MB
log4j.appender.serverLog.MaxBackupIndex=3
log4j.appender.serverLog.layout=org.apache.log4j.PatternLayout
log4j.appender.serverLog.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.clients.NetworkClient=WARN
"""


@dataclass(frozen=True)
class Layout:
    """The files of one broker's state dir ("home")."""

    home: Path

    @property
    def server_properties(self) -> Path:
        return self.home / "server.properties"

    @property
    def tools_log4j(self) -> Path:
        return self.home / "tools-log4j.properties"

    @property
    def broker_log4j(self) -> Path:
        return self.home / "log4j.properties"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def server_log(self) -> Path:
        return self.logs_dir / "server.log"

    @property
    def console_log(self) -> Path:
        """The JVM's own stdout/stderr (start-up failures before log4j is up, crashes)."""
        return self.logs_dir / "console.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def state_file(self) -> Path:
        return self.home / "state.json"

    @property
    def cluster_id_file(self) -> Path:
        return self.home / "cluster.id"


def validate_ports(port: int, controller_port: int) -> None:
    """Reject ports the broker cannot listen on before any JVM is started."""
    for name, value in (("port", port), ("controller port", controller_port)):
        if not 1 <= value <= 65535:
            raise DevKafkaConfigError(f"{name} {value} is not a TCP port (1-65535)")
    if port == controller_port:
        raise DevKafkaConfigError(
            f"broker port and controller port are both {port}: they need two different ports"
        )


def bootstrap_servers(port: int) -> str:
    return f"{HOST}:{port}"


def server_properties(port: int, controller_port: int, data_dir: Path) -> dict[str, str]:
    """A single combined broker+controller node in KRaft mode, tuned for tests."""
    return {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        # One node: every internal topic must make do with one replica.
        "offsets.topic.replication.factor": "1",
        # One __consumer_offsets partition instead of 50: the first group join waits for
        # all of them to load, which otherwise costs seconds on every fresh broker.
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        # Same reason as offsets.topic.num.partitions, for the first InitProducerId.
        "transaction.state.log.num.partitions": "1",
        # The default 3 s delay only helps groups whose members trickle in; tests pay it on
        # every first join.
        "group.initial.rebalance.delay.ms": "0",
    }


def _escape_property_value(value: str) -> str:
    # java.util.Properties treats backslash as an escape and trims leading blanks.
    escaped = value.replace("\\", "\\\\")
    return "\\" + escaped if escaped[:1] in (" ", "\t") else escaped


def render_properties(props: Mapping[str, str], header: str = "") -> str:
    """`key=value` lines in a stable order, readable by java.util.Properties."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines += [f"{key}={_escape_property_value(value)}" for key, value in sorted(props.items())]
    return "\n".join(lines) + "\n"


def _classpath(libs_dir: Path) -> str:
    # No shell is involved (argv goes straight to exec), so the literal `*` reaches the JVM,
    # which expands it to every jar in the dir.
    return str(libs_dir / "*")


def tool_command(
    java: str, libs_dir: Path, tools_log4j: Path, main: str, args: Sequence[str]
) -> list[str]:
    return [
        java,
        *TOOL_JVM_FLAGS,
        f"-Dlog4j.configuration={tools_log4j.resolve().as_uri()}",
        "-cp",
        _classpath(libs_dir),
        main,
        *args,
    ]


def random_uuid_command(java: str, libs_dir: Path, tools_log4j: Path) -> list[str]:
    return tool_command(java, libs_dir, tools_log4j, STORAGE_TOOL_MAIN, ["random-uuid"])


def format_command(
    java: str, libs_dir: Path, tools_log4j: Path, cluster_id: str, server_props: Path
) -> list[str]:
    # --ignore-formatted: re-running `up` on an existing data dir keeps its data and id.
    args = ["format", "-t", cluster_id, "-c", str(server_props), "--ignore-formatted"]
    return tool_command(java, libs_dir, tools_log4j, STORAGE_TOOL_MAIN, args)


def broker_command(java: str, libs_dir: Path, layout: Layout) -> list[str]:
    return [
        java,
        *BROKER_HEAP,
        *BROKER_JVM_FLAGS,
        f"-Dkafka.logs.dir={layout.logs_dir}",
        f"-Dlog4j.configuration={layout.broker_log4j.resolve().as_uri()}",
        "-cp",
        _classpath(libs_dir),
        BROKER_MAIN,
        str(layout.server_properties),
    ]


def is_broker_cmdline(argv: Sequence[str], server_props: Path) -> bool:
    """Whether a process's argv is *this* home's broker (so `down` may signal it).

    Both the main class and this home's server.properties must appear as whole arguments:
    a recycled pid, or a broker of another home, does not match.
    """
    return BROKER_MAIN in argv and str(server_props) in argv
