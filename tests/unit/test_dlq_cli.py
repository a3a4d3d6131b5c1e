"""``dce dlq`` usage errors exit 2 before any broker is contacted; options are checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from streamprocs.dlq.options import ReplayOptions, default_group

REPO = Path(__file__).resolve().parents[2]
# The commands below fail during argument checking, before librdkafka is even
# created; the bound only keeps a regression from hanging the suite.
RUN_TIMEOUT_S = 60.0
# Nothing listens here: a command that reached Kafka would hang, not exit 2 at once.
NO_BROKER = "127.0.0.1:1"


def dlq(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamprocs.cli.dlq", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["inspect", "t", "--since", "yesterday"], "ISO 8601"),
        (["inspect", "t", "--reason", "schemaa"], "unknown --reason"),
        (["replay", "t", "--to", "t"], "--to must differ"),
        (["replay", "t", "--park", "p", "--to", "p"], "--to and --park must differ"),
        (["replay", "t", "--dir", "no/such/dir"], "no such directory"),
        (["replay", "t", "--max-replays", "0"], "--max-replays"),
    ],
)
def test_usage_errors_exit_2_with_the_reason(args: list[str], says: str) -> None:
    done = dlq(*args, "-b", NO_BROKER)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr


def test_help_lists_the_fixed_command_names() -> None:
    done = dlq("--help")
    assert done.returncode == 0
    assert "inspect" in done.stdout and "replay" in done.stdout


def test_options_report_every_problem_at_once() -> None:
    problems = ReplayOptions(
        "d", to="d", park="d", max_replays=0, batch_size=0, rate=0, max_records=0
    ).problems()
    assert len(problems) == 7
    assert ReplayOptions("d").problems() == []


def test_default_group_is_per_topic() -> None:
    assert ReplayOptions("orders.dlq").group_id == default_group("orders.dlq")
    assert default_group("orders.dlq") == "dce-replay.orders.dlq"
    assert ReplayOptions("orders.dlq", group="mine").group_id == "mine"
