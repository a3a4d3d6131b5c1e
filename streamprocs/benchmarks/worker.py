"""A benchmark worker process: ``python -m streamprocs.benchmarks.worker SPEC_JSON``.

Each scenario runs in its own process so that its peak RSS is its own and one
scenario's threads and garbage never slow another. The runner reads the
protocol lines (see :mod:`streamprocs.benchmarks.spec`) from this process's
stdout; to keep that stream clean, file descriptor 1 is pointed at stderr
before anything else runs, and the protocol gets a private duplicate of it.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from typing import IO

from streamprocs.benchmarks.scenarios import Kind
from streamprocs.benchmarks.spec import DONE, ERROR, READY, WorkerSpec, message

# Resident memory is sampled each time this many more events were consumed: the
# issue asks for no growth "between the first and the last 100k".
RSS_SAMPLE_EVERY = 100_000


def status_mb(field: str) -> float | None:
    """A ``kB`` field of ``/proc/self/status`` in MiB; ``None`` where there is no /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB, read by the process itself.

    ``VmHWM`` of ``/proc/self/status`` is the high-water mark of the memory map
    the process got at ``exec``. The parent cannot use ``ru_maxrss`` from
    ``wait4`` instead: Linux carries the high-water mark of the pre-``exec``
    memory map over, and before ``exec`` the child shares the runner's pages,
    which hold the benchmark's input (~100 MB at the default size).
    """
    peak = status_mb("VmHWM")
    if peak is not None:
        return peak
    # Not Linux: the best this process can say about itself (KiB on most systems).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_seconds() -> float:
    """User + system CPU time of this process so far, all its threads (librdkafka's too)."""
    times = os.times()
    return times.user + times.system


class Protocol:
    """The worker's side of the protocol; thread-safe, ``ready`` is sent once."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._ready_sent = False
        self.first_consumed_at: float | None = None
        self.cpu_at_first: float | None = None
        # (events consumed, VmRSS MiB) after the first batch past each RSS_SAMPLE_EVERY.
        self.rss_samples: list[tuple[int, float]] = []
        self._next_sample = RSS_SAMPLE_EVERY

    @classmethod
    def take_stdout(cls) -> Protocol:
        sys.stdout.flush()
        private = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
        # Libraries (structlog's default, faust's banner) print to fd 1: send them to stderr.
        os.dup2(2, 1)
        return cls(private)

    def _send(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def ready(self) -> None:
        with self._lock:
            if self._ready_sent:
                return
            self._ready_sent = True
        self._send(message(READY))

    def consumed_first(self) -> None:
        """Note the wall-clock time of the first record consumed (the run's start)."""
        if self.first_consumed_at is None:
            self.first_consumed_at = time.time()
            self.cpu_at_first = cpu_seconds()

    def consumed_so_far(self, consumed: int) -> None:
        """Called after each batch (each event in faust): samples RSS at every 100k."""
        if consumed < self._next_sample:
            return
        rss = status_mb("VmRSS")
        if rss is not None:
            self.rss_samples.append((consumed, rss))
        while self._next_sample <= consumed:
            self._next_sample += RSS_SAMPLE_EVERY

    def done(self, consumed: int) -> None:
        first = self.cpu_at_first
        self._send(
            message(
                DONE,
                consumed=consumed,
                first_consumed_at=self.first_consumed_at,
                peak_rss_mb=peak_rss_mb(),
                rss_samples=self.rss_samples,
                # From the first record consumed to here (the clients are closed by now).
                cpu_seconds=None if first is None else cpu_seconds() - first,
            )
        )

    def error(self, text: str) -> None:
        self._send(message(ERROR, message=text))


def run(spec: WorkerSpec, protocol: Protocol) -> None:
    kind = Kind(spec.kind)
    if kind is Kind.PASSTHROUGH:
        from streamprocs.benchmarks.loops import passthrough

        passthrough(spec, protocol)
    elif kind is Kind.NAIVE:
        from streamprocs.benchmarks.naive import naive_enforcer

        naive_enforcer(spec, protocol)
    elif kind is Kind.ENFORCER:
        from streamprocs.benchmarks.enforcer_run import run_enforcer

        run_enforcer(spec, protocol)
    else:
        from streamprocs.benchmarks.faust_run import run_faust

        run_faust(spec, protocol)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    protocol = Protocol.take_stdout()
    if len(args) != 1:
        protocol.error("usage: python -m streamprocs.benchmarks.worker SPEC_JSON")
        return 2
    try:
        run(WorkerSpec.from_json(args[0]), protocol)
    except Exception as exc:  # noqa: BLE001 - any failure must reach the runner as a message
        traceback.print_exc()
        protocol.error(f"{type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
