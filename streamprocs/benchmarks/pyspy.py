"""``--profile DIR``: py-spy on every throughput run, and the functions with the most own time.

py-spy attaches to a worker once it reports ``ready`` (partitions assigned), so
imports, compiling the contracts and joining the group stay out of the profile,
and records until the worker exits, in speedscope format, one file per run.
Own time of a function = samples whose innermost frame is that function (py-spy
leaves out idle threads, e.g. a thread blocked in ``consume()`` waiting for the
broker). Samples are taken with ``--nonblocking`` (the worker is never paused)
but still cost some CPU: figures of a profiled run are not comparable to others.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Samples per second: ~2,000 samples over a 10 s run, enough to rank the top functions.
RATE = 200


@dataclass(frozen=True)
class Entry:
    function: str  # name (file:line of its first line)
    samples: int
    share: float  # of all non-idle samples


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter (a venv), else on the PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.is_file():
        return str(beside)
    return shutil.which("py-spy")


def attach(executable: str, pid: int, output: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            executable,
            "record",
            "--pid",
            str(pid),
            "--format",
            "speedscope",
            "--output",
            str(output),
            "--rate",
            str(RATE),
            "--function",
            "--nonblocking",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def own_time(paths: Iterable[Path], top: int = 15) -> list[Entry]:
    """The ``top`` functions by own time over the speedscope files ``paths``."""
    counts: Counter[str] = Counter()
    total = 0
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        frames = data["shared"]["frames"]
        labels = [_label(frame) for frame in frames]
        for profile in data["profiles"]:
            # Every sample stands for the same 1/RATE s (py-spy's weights), so count them.
            for stack in profile["samples"]:
                if stack:  # root first: the last frame is the one running
                    counts[labels[stack[-1]]] += 1
                    total += 1
    if total == 0:
        return []
    return [Entry(name, n, n / total) for name, n in counts.most_common(top)]


def _label(frame: dict[str, object]) -> str:
    name = str(frame.get("name", "?"))
    file = str(frame.get("file", ""))
    short = _shorten(file)
    line = frame.get("line")
    return f"{name} ({short}:{line})" if line else f"{name} ({short})"


def _shorten(file: str) -> str:
    """A path from its package on (``streamprocs/enforcer/loop.py``, ``json/decoder.py``)."""
    for marker in ("site-packages/", "/lib/python3."):
        if marker in file:
            tail = file.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker.startswith("/lib") and "/" in tail else tail
    if "/streamprocs/" in file:
        return "streamprocs/" + file.split("/streamprocs/", 1)[1]
    return file
