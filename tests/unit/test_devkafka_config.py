"""The dev broker's generated files and command lines, its safety checks and its CLI errors.

Nothing here starts a JVM or needs the network: these pin down what `dce dev up` would run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamprocs.cli.dev import dev_app
from streamprocs.devkafka import (
    DevBroker,
    DevKafkaConfigError,
    cache_root,
    config,
    default_home,
    jars,
    tools,
)
from streamprocs.devkafka.process import is_alive, terminate
from streamprocs.devkafka.state import BrokerState, read_state, write_state

REPO = Path(__file__).resolve().parents[2]
LIBS = Path("/cache/kafka-3.9.1/libs")


@pytest.fixture
def layout(tmp_path: Path) -> config.Layout:
    return config.Layout(tmp_path / "home")


def parse_properties(text: str) -> dict[str, str]:
    """Enough of java.util.Properties for what render_properties writes."""
    props: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            props[key] = value.replace("\\\\", "\\")
    return props


# -- server.properties ------------------------------------------------------------------


def test_server_properties_are_a_single_combined_kraft_node() -> None:
    """Every setting the notes require for one broker+controller node, with our ports."""
    props = config.server_properties(19092, 19093, Path("/d/data"))
    assert props == {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": "1@127.0.0.1:19093",
        "listeners": "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093",
        "advertised.listeners": "PLAINTEXT://127.0.0.1:19092",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": "/d/data",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "group.initial.rebalance.delay.ms": "0",
    }


def test_broker_listens_on_loopback_only() -> None:
    """No listener may bind a routable address: the dev broker has no authentication."""
    props = config.server_properties(9092, 9093, Path("/d"))
    for key in ("listeners", "advertised.listeners", "controller.quorum.voters"):
        for endpoint in props[key].split(","):
            assert "127.0.0.1:" in endpoint, (key, endpoint)


def test_rendered_properties_are_sorted_commented_and_round_trip() -> None:
    """The file java.util.Properties reads back holds exactly the generated settings."""
    props = config.server_properties(9092, 9093, Path("/odd\\dir/with space"))
    text = config.render_properties(props, "line one\nline two")
    lines = text.splitlines()
    assert lines[:2] == ["# line one", "# line two"]
    keys = [line.partition("=")[0] for line in lines[2:]]
    assert keys == sorted(props)
    assert parse_properties(text) == props
    assert text.endswith("\n")


def test_property_value_with_leading_blank_is_escaped() -> None:
    """Java trims a value's leading blanks unless escaped."""
    assert config.render_properties({"k": " v"}) == "k=\\ v\n"


@pytest.mark.parametrize(
    ("port", "controller_port"), [(0, 9093), (9092, 70000), (9092, 9092), (-1, 9093)]
)
def test_bad_ports_are_config_errors(port: int, controller_port: int) -> None:
    with pytest.raises(DevKafkaConfigError):
        config.validate_ports(port, controller_port)


def test_good_ports_pass_validation() -> None:
    config.validate_ports(19092, 19093)


# -- log4j configs ----------------------------------------------------------------------


def test_tools_log_only_warnings_and_only_to_stderr() -> None:
    """INFO lines on stdout would corrupt the id that `random-uuid` prints there."""
    assert "log4j.rootLogger=WARN, stderr" in config.TOOLS_LOG4J
    assert "log4j.appender.stderr.Target=System.err" in config.TOOLS_LOG4J
    assert "System.out" not in config.TOOLS_LOG4J


def test_broker_logs_to_a_rolled_file_in_the_logs_dir() -> None:
    assert "File=${kafka.logs.dir}/server.log" in config.BROKER_LOG4J
    assert "RollingFileAppender" in config.BROKER_LOG4J
    assert "MaxBackupIndex" in config.BROKER_LOG4J


# -- command lines ----------------------------------------------------------------------


def test_broker_command(layout: config.Layout) -> None:
    """Fixed 512 MB heap, the classpath wildcard left for the JVM, kafka.Kafka + our config."""
    cmd = config.broker_command("/jdk/bin/java", LIBS, layout)
    assert cmd[0] == "/jdk/bin/java"
    assert {"-Xms512m", "-Xmx512m"} <= set(cmd)
    assert cmd[cmd.index("-cp") + 1] == f"{LIBS}/*"
    assert cmd[-2:] == ["kafka.Kafka", str(layout.server_properties)]
    assert f"-Dkafka.logs.dir={layout.logs_dir}" in cmd
    assert f"-Dlog4j.configuration={layout.broker_log4j.as_uri()}" in cmd
    # JVM options must all come before the main class, or they become program arguments.
    main_at = cmd.index("kafka.Kafka")
    assert all(not arg.startswith("-X") and not arg.startswith("-D") for arg in cmd[main_at:])


def test_random_uuid_command(layout: config.Layout) -> None:
    cmd = config.random_uuid_command("java", LIBS, layout.tools_log4j)
    assert cmd[-2:] == ["kafka.tools.StorageTool", "random-uuid"]
    assert f"-Dlog4j.configuration={layout.tools_log4j.as_uri()}" in cmd
    assert cmd[cmd.index("-cp") + 1] == f"{LIBS}/*"


def test_format_command_keeps_an_already_formatted_dir(layout: config.Layout) -> None:
    cmd = config.format_command(
        "java", LIBS, layout.tools_log4j, "AbCdEfGhIjKlMnOpQrStUv", layout.server_properties
    )
    main_at = cmd.index("kafka.tools.StorageTool")
    assert cmd[main_at + 1 :] == [
        "format",
        "-t",
        "AbCdEfGhIjKlMnOpQrStUv",
        "-c",
        str(layout.server_properties),
        "--ignore-formatted",
    ]
    assert f"-Dlog4j.configuration={layout.tools_log4j.as_uri()}" in cmd


def test_broker_cmdline_identity(layout: config.Layout, tmp_path: Path) -> None:
    """`down` signals only a kafka.Kafka started with *this* home's server.properties."""
    ours = config.broker_command("java", LIBS, layout)
    other_home = config.broker_command("java", LIBS, config.Layout(tmp_path / "other"))
    assert config.is_broker_cmdline(ours, layout.server_properties)
    assert not config.is_broker_cmdline(other_home, layout.server_properties)
    assert not config.is_broker_cmdline(["sleep", "30"], layout.server_properties)
    assert not config.is_broker_cmdline(
        ["vim", str(layout.server_properties)], layout.server_properties
    )


def test_maven_command_copies_runtime_dependencies(tmp_path: Path) -> None:
    cmd = jars.maven_command("mvn", tmp_path / "pom.xml", tmp_path / "out", tmp_path / "repo")
    assert cmd[0] == "mvn"
    assert "-B" in cmd
    assert cmd[cmd.index("-f") + 1] == str(tmp_path / "pom.xml")
    assert "dependency:copy-dependencies" in cmd
    assert "-DincludeScope=runtime" in cmd
    assert f"-DoutputDirectory={tmp_path / 'out'}" in cmd
    assert f"-Dmaven.repo.local={tmp_path / 'repo'}" in cmd


# -- the POM ----------------------------------------------------------------------------


def test_the_two_poms_are_identical() -> None:
    """deploy/local/pom.xml (for docs) must stay byte-identical to the packaged one."""
    packaged = (REPO / "streamprocs" / "devkafka" / "pom.xml").read_bytes()
    assert (REPO / "deploy" / "local" / "pom.xml").read_bytes() == packaged
    assert jars.pom_bytes() == packaged


def test_pom_depends_on_kafka_and_its_logging_backend() -> None:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    root = ET.fromstring(jars.pom_bytes())
    assert root.findtext("m:packaging", namespaces=ns) == "pom"
    deps = {
        (d.findtext("m:groupId", namespaces=ns), d.findtext("m:artifactId", namespaces=ns)): (
            d.findtext("m:version", namespaces=ns)
        )
        for d in root.iterfind("m:dependencies/m:dependency", ns)
    }
    assert deps == {
        ("org.apache.kafka", "kafka_2.13"): config.KAFKA_VERSION,
        ("org.slf4j", "slf4j-reload4j"): "1.7.36",
        ("ch.qos.reload4j", "reload4j"): "1.2.25",
    }


# -- the jar cache ----------------------------------------------------------------------


def test_drop_logback_removes_only_logback(tmp_path: Path) -> None:
    for name in ("logback-classic-1.2.jar", "logback-core-1.2.jar", "reload4j-1.2.25.jar"):
        (tmp_path / name).write_bytes(b"")
    assert jars.drop_logback(tmp_path) == ["logback-classic-1.2.jar", "logback-core-1.2.jar"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reload4j-1.2.25.jar"]


def test_libs_count_as_complete_only_with_marker_digest_and_jars(tmp_path: Path) -> None:
    for name in jars.REQUIRED_JARS:
        (tmp_path / name).write_bytes(b"")
    assert not jars.libs_complete(tmp_path, "abc")  # no marker: interrupted fetch
    (tmp_path / jars.MARKER).write_text("abc\n")
    assert jars.libs_complete(tmp_path, "abc")
    assert not jars.libs_complete(tmp_path, "def")  # the POM changed since
    (tmp_path / jars.REQUIRED_JARS[0]).unlink()
    assert not jars.libs_complete(tmp_path, "abc")


def test_cache_dirs_follow_xdg_and_dce_dev_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DCE_DEV_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "dce"
    assert default_home() == tmp_path / "dce" / "dev"
    assert jars.libs_dir(cache_root()) == tmp_path / "dce" / "kafka-3.9.1" / "libs"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert cache_root() == Path.home() / ".cache" / "dce"
    monkeypatch.setenv("DCE_DEV_HOME", str(tmp_path / "mine"))
    assert default_home() == tmp_path / "mine"


# -- java discovery ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_372"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ("command not found", None),
    ],
)
def test_parse_java_major(output: str, major: int | None) -> None:
    assert tools.parse_java_major(output) == major


@pytest.fixture
def no_tools_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("JAVA_HOME", raising=False)


@pytest.mark.usefixtures("no_tools_on_path")
def test_missing_java_says_how_to_install_it() -> None:
    with pytest.raises(DevKafkaConfigError, match="openjdk-17-jdk-headless"):
        tools.find_java()


@pytest.mark.usefixtures("no_tools_on_path")
def test_missing_maven_says_how_to_install_it() -> None:
    with pytest.raises(DevKafkaConfigError, match="apt-get install maven"):
        tools.find_maven()


# -- state and stopping -----------------------------------------------------------------


def _state(pid: int) -> BrokerState:
    return BrokerState(
        pid=pid,
        port=19092,
        controller_port=19093,
        bootstrap="127.0.0.1:19092",
        cluster_id="AbCdEfGhIjKlMnOpQrStUv",
        kafka_version="3.9.1",
        started_at="2025-01-01T00:00:00+00:00",
    )


def test_state_round_trips_and_corrupt_state_reads_as_none(layout: config.Layout) -> None:
    layout.home.mkdir(parents=True)
    write_state(layout, _state(1234))
    assert read_state(layout) == _state(1234)
    assert layout.pid_file.read_text() == "1234\n"
    layout.state_file.write_text("{not json")
    assert read_state(layout) is None


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated live process whose pid a stale state file might name."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_down_never_signals_a_pid_that_is_not_our_broker(
    layout: config.Layout, bystander: subprocess.Popen[bytes]
) -> None:
    """A recycled pid in a stale state file is left alone; the stale record is removed."""
    layout.home.mkdir(parents=True)
    write_state(layout, _state(bystander.pid))
    broker = DevBroker(layout.home, 19092, 19093)
    assert broker.status().running is False
    assert broker.down() is False
    assert bystander.poll() is None and is_alive(bystander.pid)
    assert not layout.state_file.exists() and not layout.pid_file.exists()


def test_up_refuses_a_port_held_by_another_process(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        with pytest.raises(DevKafkaConfigError, match="already in use"):
            DevBroker(tmp_path / "home", busy, busy + 1 if busy < 65535 else busy - 1).up(5)


# -- CLI exit codes ---------------------------------------------------------------------


def _free_ports() -> tuple[str, str]:
    """Two ports nothing listens on right now, so only the missing JDK can fail `up`."""
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        second.bind(("127.0.0.1", 0))
        return str(first.getsockname()[1]), str(second.getsockname()[1])


def test_cli_status_of_a_stopped_broker_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(dev_app, ["status", "--home", str(tmp_path), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["running"] is False
    assert report["home"] == str(tmp_path.resolve())


def test_cli_up_with_bad_port_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(dev_app, ["up", "--home", str(tmp_path), "--port", "0"])
    assert result.exit_code == 2


@pytest.mark.usefixtures("no_tools_on_path")
def test_cli_up_without_java_exits_2_with_install_hint(tmp_path: Path) -> None:
    port, controller_port = _free_ports()
    result = CliRunner().invoke(
        dev_app,
        ["up", "--home", str(tmp_path), "--port", port, "--controller-port", controller_port],
    )
    assert result.exit_code == 2
    assert "openjdk-17-jdk-headless" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_status_answers_without_a_broker_on_this_machine(tmp_path: Path) -> None:
    """A fresh home reports stopped, with its paths, and starts nothing."""
    report = DevBroker(tmp_path, 19092, 19093).status()
    assert (report.running, report.ready, report.pid, report.bootstrap) == (
        False,
        False,
        None,
        None,
    )
    assert report.data_dir == tmp_path.resolve() / "data"
    assert os.listdir(tmp_path) == []


def test_terminate_escalates_to_sigkill_after_the_grace_period() -> None:
    """A process that ignores SIGTERM is SIGKILLed once the grace period is over."""
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert stubborn.stdout is not None
        assert stubborn.stdout.readline() == b"ready\n"  # the handler is installed
        assert terminate(stubborn.pid, grace_s=0.5, kill_wait_s=10) is False
        assert not is_alive(stubborn.pid)
    finally:
        stubborn.kill()
        stubborn.wait()
        if stubborn.stdout is not None:
            stubborn.stdout.close()
