"""``dce bench --profile``: ranking functions by own time from py-spy's speedscope files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamprocs.benchmarks.pyspy import own_time

SITE = "/work/.venv/lib/python3.11/site-packages"


def speedscope(path: Path, frames: list[dict[str, object]], *threads: list[list[int]]) -> Path:
    path.write_text(
        json.dumps(
            {
                "shared": {"frames": frames},
                "profiles": [
                    {"type": "sampled", "samples": samples, "weights": [0.005] * len(samples)}
                    for samples in threads
                ],
            }
        )
    )
    return path


def test_own_time_counts_the_innermost_frame_over_threads_and_files(tmp_path: Path) -> None:
    frames: list[dict[str, object]] = [
        {"name": "run", "file": "/repo/streamprocs/enforcer/loop.py", "line": 131},
        {"name": "check_rules", "file": "/repo/streamprocs/contracts/rules.py", "line": 81},
        {"name": "loads", "file": f"{SITE}/orjson/__init__.py", "line": 1},
    ]
    first = speedscope(tmp_path / "r1.json", frames, [[0, 1], [0, 1], [0, 2], [0]], [[0, 1]])
    second = speedscope(tmp_path / "r2.json", frames, [[0, 1], []])
    entries = own_time([first, second])
    assert [(e.function, e.samples) for e in entries] == [
        ("check_rules (streamprocs/contracts/rules.py:81)", 4),
        ("loads (orjson/__init__.py:1)", 1),
        ("run (streamprocs/enforcer/loop.py:131)", 1),
    ]
    assert sum(e.share for e in entries) == pytest.approx(1.0)
    assert entries[0].share == pytest.approx(4 / 6)


def test_own_time_keeps_the_top_n_and_copes_with_no_samples(tmp_path: Path) -> None:
    frames: list[dict[str, object]] = [
        {"name": f"f{i}", "file": "x.py", "line": i} for i in range(5)
    ]
    path = speedscope(tmp_path / "p.json", frames, [[i] for i in range(5)] + [[4]])
    top = own_time([path], top=2)
    assert len(top) == 2
    assert top[0].function == "f4 (x.py:4)"
    assert own_time([speedscope(tmp_path / "empty.json", frames, [])]) == []
