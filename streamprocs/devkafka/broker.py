"""`DevBroker`: start, find, check and stop one local single-node Kafka in a home dir."""

from __future__ import annotations

import errno
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from streamprocs.devkafka import config
from streamprocs.devkafka.config import (
    DEFAULT_CONTROLLER_PORT,
    DEFAULT_PORT,
    HOST,
    KAFKA_VERSION,
    Layout,
)
from streamprocs.devkafka.errors import DevKafkaConfigError, DevKafkaError
from streamprocs.devkafka.jars import Progress, ensure_jars
from streamprocs.devkafka.locks import exclusive
from streamprocs.devkafka.paths import default_home
from streamprocs.devkafka.probe import wait_until_answering
from streamprocs.devkafka.process import is_alive, read_cmdline, terminate
from streamprocs.devkafka.state import BrokerState, clear_state, read_state, write_state
from streamprocs.devkafka.tools import check_java, find_java

#: Readiness deadline for `up`, counted from the JVM's start (the one-off jar fetch has its
#: own bound). A fresh broker answers in a few seconds on an idle 2-core box; 90 s leaves
#: room for a CI machine busy with other work, yet a broker that is not coming up fails the
#: run in minutes, not at CI's 90-minute limit.
DEFAULT_UP_TIMEOUT_S = 90.0

#: StorageTool runs start a JVM and load Scala: about a second. Two minutes only guards
#: against a hung JVM.
TOOL_TIMEOUT_S = 120.0

#: SIGTERM starts Kafka's controlled shutdown (flush logs, leave the quorum), a few seconds
#: for a single node; 30 s covers a loaded box before we resort to SIGKILL, which is safe
#: for a dev broker but makes the next start recover its logs.
STOP_GRACE_S = 30.0

#: After SIGKILL the kernel frees the process almost at once; 10 s is a generous bound.
KILL_WAIT_S = 10.0

#: `status` asks for metadata once with this bound: a running, healthy broker on loopback
#: answers in milliseconds; this keeps `dce dev status` snappy when it does not.
STATUS_PROBE_TIMEOUT_S = 3.0

#: Log lines quoted when the broker fails to start.
_TAIL_LINES = 25

_CLUSTER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")


@dataclass(frozen=True)
class BrokerStatus:
    """What `status` reports: whether our broker runs, and where to find everything."""

    running: bool
    ready: bool  # answered a metadata request during this status call
    pid: int | None
    bootstrap: str | None
    port: int | None
    controller_port: int | None
    home: Path
    data_dir: Path
    log_file: Path
    kafka_version: str

    def to_json(self) -> dict[str, object]:
        return {
            "running": self.running,
            "ready": self.ready,
            "pid": self.pid,
            "bootstrap": self.bootstrap,
            "port": self.port,
            "controller_port": self.controller_port,
            "home": str(self.home),
            "data_dir": str(self.data_dir),
            "log_file": str(self.log_file),
            "kafka_version": self.kafka_version,
        }


class DevBroker:
    """One single-node KRaft broker whose config, data, logs and pid live in `home`.

    `up` and `down` are idempotent, and `down` only ever signals the process `up` recorded,
    after checking that it still is this home's `kafka.Kafka`.
    """

    def __init__(
        self,
        home: Path | None = None,
        port: int = DEFAULT_PORT,
        controller_port: int = DEFAULT_CONTROLLER_PORT,
        *,
        cache: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.home = (home if home is not None else default_home()).expanduser().resolve()
        self.port = port
        self.controller_port = controller_port
        self.layout = Layout(self.home)
        self._cache = cache
        self._progress = progress
        # Kept when this object started the JVM, so the child is reaped when it stops.
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return config.bootstrap_servers(self.port)

    # -- public operations -------------------------------------------------------------

    def up(self, timeout: float = DEFAULT_UP_TIMEOUT_S) -> str:
        """Start the broker (fetching jars and formatting storage first if needed) and wait
        until it answers a metadata request; returns the bootstrap servers string.

        If this home's broker already runs on the same ports, just waits for it to answer.
        """
        config.validate_ports(self.port, self.controller_port)
        with exclusive(self.home / ".lock"):
            existing = self._live_state()
            if existing is not None:
                return self._adopt(existing, timeout)
            clear_state(self.layout)  # a stale record of a broker that is gone
            return self._start(timeout)

    def down(self, wipe: bool = False) -> bool:
        """Stop this home's broker; True if one was running. `wipe` also deletes its data."""
        if not self.home.is_dir():
            return False  # never started here; do not create the dir just to lock it
        with exclusive(self.home / ".lock"):
            existing = self._live_state()
            if existing is not None:
                terminate(existing.pid, STOP_GRACE_S, KILL_WAIT_S)
            if self._proc is not None:
                self._proc.poll()  # reap our own child, if it was one
                self._proc = None
            clear_state(self.layout)
            if wipe:
                shutil.rmtree(self.layout.data_dir, ignore_errors=True)
                self.layout.cluster_id_file.unlink(missing_ok=True)
            return existing is not None

    def status(self, probe_timeout: float = STATUS_PROBE_TIMEOUT_S) -> BrokerStatus:
        """Whether this home's broker runs, and whether it answers right now."""
        state = self._live_state()
        ready = state is not None and _answers(state, probe_timeout)
        return BrokerStatus(
            running=state is not None,
            ready=ready,
            pid=state.pid if state else None,
            bootstrap=state.bootstrap if state else None,
            port=state.port if state else None,
            controller_port=state.controller_port if state else None,
            home=self.home,
            data_dir=self.layout.data_dir,
            log_file=self.layout.server_log,
            kafka_version=KAFKA_VERSION,
        )

    # -- finding a running broker -------------------------------------------------------

    def _live_state(self) -> BrokerState | None:
        """The recorded state if its pid is alive and still this home's broker."""
        state = read_state(self.layout)
        if state is None or not is_alive(state.pid):
            return None
        argv = read_cmdline(state.pid)
        if argv is None or not config.is_broker_cmdline(argv, self.layout.server_properties):
            return None  # the pid was recycled by an unrelated process: never signal it
        return state

    def _adopt(self, state: BrokerState, timeout: float) -> str:
        if (state.port, state.controller_port) != (self.port, self.controller_port):
            raise DevKafkaConfigError(
                f"the broker in {self.home} already runs at {state.bootstrap} "
                f"(controller port {state.controller_port}, pid {state.pid}); "
                "stop it with `dce dev down` to change ports"
            )
        if _answers(state, timeout):
            return state.bootstrap
        raise DevKafkaError(
            f"broker pid {state.pid} runs but did not answer at {state.bootstrap} within "
            f"{timeout:.0f} s; see {self.layout.server_log}; `dce dev down` stops it"
        )

    # -- starting ------------------------------------------------------------------------

    def _start(self, timeout: float) -> str:
        # Cheapest checks first: a busy port is reported without starting any JVM.
        for port in (self.port, self.controller_port):
            _ensure_port_free(port)
        java = find_java()
        check_java(java)
        libs = ensure_jars(self._cache, self._progress)
        self._write_configs()
        cluster_id = self._cluster_id(java, libs)
        self._run_tool(
            config.format_command(
                java, libs, self.layout.tools_log4j, cluster_id, self.layout.server_properties
            ),
            "format the storage",
        )
        proc = self._spawn(java, libs)
        write_state(
            self.layout,
            BrokerState(
                pid=proc.pid,
                port=self.port,
                controller_port=self.controller_port,
                bootstrap=self.bootstrap,
                cluster_id=cluster_id,
                kafka_version=KAFKA_VERSION,
                started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )
        if wait_until_answering(self.bootstrap, timeout, lambda: proc.poll() is None):
            return self.bootstrap
        self._fail_start(proc, timeout)

    def _write_configs(self) -> None:
        self.layout.logs_dir.mkdir(parents=True, exist_ok=True)
        props = config.server_properties(self.port, self.controller_port, self.layout.data_dir)
        header = f"Written by `dce dev up` for Kafka {KAFKA_VERSION}; rewritten on every start."
        self.layout.server_properties.write_text(
            config.render_properties(props, header), encoding="utf-8"
        )
        self.layout.tools_log4j.write_text(config.TOOLS_LOG4J, encoding="utf-8")
        self.layout.broker_log4j.write_text(config.BROKER_LOG4J, encoding="utf-8")

    def _cluster_id(self, java: str, libs: Path) -> str:
        """This home's cluster id: the recorded one, else a new one from StorageTool."""
        try:
            recorded = self.layout.cluster_id_file.read_text(encoding="ascii").strip()
        except OSError:
            recorded = ""
        if _CLUSTER_ID_RE.match(recorded):
            return recorded
        out = self._run_tool(
            config.random_uuid_command(java, libs, self.layout.tools_log4j), "make a cluster id"
        ).strip()
        if not _CLUSTER_ID_RE.match(out):
            raise DevKafkaError(f"StorageTool random-uuid printed {out!r}, not a cluster id")
        # A data dir formatted earlier keeps its own id (--ignore-formatted); the file only
        # has to be stable so reformatting a wiped dir is reproducible.
        self.layout.cluster_id_file.write_text(out + "\n", encoding="ascii")
        return out

    def _run_tool(self, command: list[str], purpose: str) -> str:
        try:
            done = subprocess.run(
                command,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=TOOL_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DevKafkaError(
                f"StorageTool did not {purpose} within {TOOL_TIMEOUT_S:.0f} s"
            ) from exc
        if done.returncode != 0:
            tail = _tail_text(done.stderr + done.stdout)
            raise DevKafkaError(
                f"StorageTool failed to {purpose} (exit {done.returncode}):\n{tail}"
            )
        return done.stdout

    def _spawn(self, java: str, libs: Path) -> subprocess.Popen[bytes]:
        command = config.broker_command(java, libs, self.layout)
        with self.layout.console_log.open("wb") as console:
            # Own session: Ctrl-C in the terminal (or pytest's) does not reach the broker,
            # and it outlives `dce dev up`; `down` stops it by pid.
            self._proc = subprocess.Popen(
                command,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self._proc

    def _fail_start(self, proc: subprocess.Popen[bytes], timeout: float) -> NoReturn:
        code = proc.poll()
        if code is None:
            reason = f"did not answer at {self.bootstrap} within {timeout:.0f} s"
            terminate(proc.pid, STOP_GRACE_S, KILL_WAIT_S)
            proc.poll()
        else:
            reason = f"exited with code {code} before answering"
        self._proc = None
        clear_state(self.layout)
        tails = "\n".join(
            f"--- {path} ---\n{_tail_file(path)}"
            for path in (self.layout.console_log, self.layout.server_log)
            if path.exists()
        )
        raise DevKafkaError(f"the Kafka broker {reason}.\n{tails}")


def _answers(state: BrokerState, timeout: float) -> bool:
    return wait_until_answering(state.bootstrap, timeout, lambda: is_alive(state.pid))


def _ensure_port_free(port: int) -> None:
    """Fail clearly if something already listens on the port (a check, not readiness)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the JVM: lingering TIME_WAIT connections of a stopped broker do not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise DevKafkaConfigError(
                    f"{HOST}:{port} is already in use by another process; "
                    "pick other ports (--port / --controller-port) or stop that process"
                ) from exc
            raise DevKafkaConfigError(f"cannot use {HOST}:{port}: {exc}") from exc


def _tail_text(text: str) -> str:
    return "\n".join(text.splitlines()[-_TAIL_LINES:])


def _tail_file(path: Path) -> str:
    try:
        return _tail_text(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        return f"(unreadable: {exc})"
