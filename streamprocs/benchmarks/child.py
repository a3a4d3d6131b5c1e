"""Running one worker process: its protocol lines, its exit, and what its stderr said."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from streamprocs.benchmarks.spec import DONE, ERROR, WorkerSpec, parse_message

# After "done" a worker only closes its clients (the enforcer flushes and leaves
# the group, bounded by its shutdown_timeout_s of 30 s): a minute is ample.
EXIT_TIMEOUT_S = 60.0
# After a kill, the kernel reaps a process at once; the bound only avoids a hang.
KILL_WAIT_S = 10.0
# py-spy writes its file within a second of the worker's exit; a long run's
# speedscope file takes a few seconds more.
PROFILER_WAIT_S = 30.0
# Lines of the worker's stderr quoted when it fails.
TAIL_LINES = 15


class WorkerFailed(RuntimeError):
    """The worker reported an error, exited early, or missed a deadline."""


def _child_env() -> dict[str, str]:
    # The enforcer's settings read DCE_* variables and let them override what the
    # benchmark passes; a developer's DCE_GROUP_ID must not leak into a run.
    return {k: v for k, v in os.environ.items() if not k.startswith("DCE_")}


class WorkerProcess:
    def __init__(self, spec: WorkerSpec, log_path: Path) -> None:
        self.spec = spec
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamprocs.benchmarks.worker", spec.to_json()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=_child_env(),
            text=True,
        )
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="worker-stdout", daemon=True)
        self._reader.start()
        self._profiler: subprocess.Popen[bytes] | None = None

    def profile(self, executable: str, output: Path) -> None:
        """Attach py-spy now; it records until the worker exits (see :mod:`.pyspy`)."""
        from streamprocs.benchmarks.pyspy import attach

        self._profiler = attach(executable, self.proc.pid, output)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            parsed = parse_message(line)
            if parsed is not None:
                self._lines.put(parsed)
        self._lines.put(None)  # end of stream: the worker exited

    def wait_for(self, event: str, timeout: float) -> dict[str, Any]:
        """The next protocol message ``event``; raises on an error, an early exit or a timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerFailed(f"no {event!r} from the worker within {timeout:.0f} s")
            try:
                msg = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if msg is None:
                raise WorkerFailed(f"the worker exited before {event!r}" + self.tail())
            if msg["event"] == ERROR:
                raise WorkerFailed(str(msg.get("message")) + self.tail())
            if msg["event"] == event:
                return msg
            if msg["event"] == DONE:
                raise WorkerFailed(f"the worker finished before {event!r}")

    def finish(self, timeout: float = EXIT_TIMEOUT_S) -> int:
        """Wait for the worker to exit (killing it after ``timeout``); its exit code."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(KILL_WAIT_S)
        self._reader.join(timeout=KILL_WAIT_S)
        if self._profiler is not None:
            # py-spy notices the exit at its next sample and writes its file.
            try:
                self._profiler.wait(PROFILER_WAIT_S)
            except subprocess.TimeoutExpired:
                self._profiler.kill()
                self._profiler.wait(KILL_WAIT_S)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.finish(timeout=KILL_WAIT_S)

    def tail(self) -> str:
        try:
            self._log.flush()
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except (OSError, ValueError):
            return ""
        if not lines:
            return ""
        return "\n  worker stderr:\n    " + "\n    ".join(lines[-TAIL_LINES:])
