"""Inspecting and stopping the broker process by pid, without touching anything else."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from streamprocs.devkafka.errors import DevKafkaError

#: How often a stopping process is checked. Exit is seen within this of happening.
_POLL_INTERVAL_S = 0.1

#: `ps` only forks and prints; it is used where there is no /proc (macOS).
_PS_TIMEOUT_S = 10.0


def read_cmdline(pid: int) -> list[str] | None:
    """The argv of a live process, or None if there is no such process (or it is a zombie)."""
    proc_root = Path("/proc")
    if proc_root.is_dir():
        try:
            raw = (proc_root / str(pid) / "cmdline").read_bytes()
        except OSError:
            return None
        # A zombie has an empty cmdline: it is no longer the broker.
        return [os.fsdecode(arg) for arg in raw.rstrip(b"\0").split(b"\0")] if raw else None
    try:
        done = subprocess.run(
            ["ps", "-ww", "-p", str(pid), "-o", "command="],
            capture_output=True,
            text=True,
            timeout=_PS_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    # ps joins argv with blanks, so an argument with a blank in it cannot be told apart here.
    return done.stdout.split() if done.returncode == 0 and done.stdout.strip() else None


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the command name, which is in parentheses and may hold blanks.
    return stat.rpartition(")")[2].split()[:1] in (["Z"], ["X"])


def is_alive(pid: int) -> bool:
    """Whether `pid` is a running (not exited, not zombie) process."""
    try:
        # If it is our own exited child (a test started it in-process), reap it: an unreaped
        # child stays a zombie that `kill(pid, 0)` still reports as present.
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass  # not our child: the init process reaps it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return not _is_zombie(pid)


def wait_gone(pid: int, timeout_s: float) -> bool:
    """Poll until `pid` has exited or `timeout_s` passed; True if it exited."""
    deadline = time.monotonic() + timeout_s
    while is_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_INTERVAL_S)
    return True


def terminate(pid: int, grace_s: float, kill_wait_s: float) -> bool:
    """SIGTERM, wait up to `grace_s`, then SIGKILL and wait up to `kill_wait_s`.

    Returns True if SIGTERM sufficed, False if SIGKILL was needed. Raises if it survives both.
    """
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if wait_gone(pid, grace_s):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    if not wait_gone(pid, kill_wait_s):
        raise DevKafkaError(f"process {pid} survived SIGKILL for {kill_wait_s:.0f} s")
    return False
