"""``dce bench`` end to end on the real broker, at a tiny size: plumbing, not speed.

Nothing here asserts on a figure: the run is far too small to mean anything and
the machine is shared. It asserts that every scenario ran in its own worker,
moved every input event (the runner reads every output and dead-letter record
back and counts them), had its latency measured, and that the JSON rows have
the fields fixed in shared/notes/interfaces.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from streamprocs.benchmarks.report import to_json
from streamprocs.benchmarks.results import ROW_FIELDS
from streamprocs.benchmarks.runner import Options, available, run_bench
from streamprocs.benchmarks.scenarios import BY_NAME, SCENARIOS
from streamprocs.cli.bench import bench

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"


def check_row_schema(row: dict[str, object]) -> None:
    assert tuple(row) == ROW_FIELDS
    assert isinstance(row["name"], str)
    for key in ROW_FIELDS[1:]:
        value = row[key]
        assert isinstance(value, int | float), (key, value)
        assert value >= 0, (key, value)


def test_every_scenario_moves_every_event(kafka_bootstrap: str) -> None:
    options = Options(
        events=400,
        slow_events=150,
        repeat=1,
        bootstrap=kafka_bootstrap,
        contracts_dir=CONTRACTS,
        latency_rate=200.0,
        latency_seconds=1.0,
    )
    lines: list[str] = []
    report = run_bench(options, lines.append)

    expected = [s.name for s in SCENARIOS if available(s) is None]
    assert [row.name for row in report.rows] == expected
    assert not report.failed, "\n".join(e for row in report.rows for e in row.errors)
    for run in report.runs:
        assert run.error is None, run
        assert run.events == options.events_for(BY_NAME[run.scenario])
        assert run.seconds > 0
    assert sorted(r.scenario for r in report.runs) == sorted(expected)  # not the warm-up
    warmups = [line for line in lines if line.startswith("warm-up")]
    assert len(warmups) == 1 and "ceiling" in warmups[0] and "(not counted)" in warmups[0]
    assert lines.index(warmups[0]) < min(i for i, line in enumerate(lines) if "round 1/" in line)
    for name in expected:
        latency = report.latencies[name]
        assert latency.error is None, latency
        assert len(latency.samples_ms) == 200  # 1 s at 200/s after the 1 s warm-up
        assert min(latency.samples_ms) >= 0
    rows = json.loads(to_json(report))
    assert [r["name"] for r in rows] == expected
    for row in rows:
        check_row_schema(row)
    assert rows[0]["ratio_to_ceiling"] == 1.0
    assert any("input: 400 records" in line for line in lines)


def test_the_faust_scenario_runs(kafka_bootstrap: str) -> None:
    report = run_bench(
        Options(
            events=100,
            repeat=1,
            scenarios=tuple(s for s in SCENARIOS if s.letter in "ad"),
            bootstrap=kafka_bootstrap,
            contracts_dir=CONTRACTS,
            latency_seconds=0,
        ),
        lambda _line: None,
    )
    assert [row.name for row in report.rows] == ["ceiling", "faust"]
    assert not report.failed


def test_the_command_prints_json_rows_on_stdout(kafka_bootstrap: str) -> None:
    """``--json`` keeps stdout to the rows: progress goes to stderr."""
    app = typer.Typer()
    app.command()(bench)
    result = CliRunner().invoke(
        app,
        [
            "--bootstrap",
            kafka_bootstrap,
            "--events",
            "200",
            "--repeat",
            "2",
            "--scenarios",
            "a,b",
            "--latency-seconds",
            "0",
            "--contracts",
            str(CONTRACTS),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == ["ceiling", "dce_at_least_once"]
    for row in rows:
        assert tuple(row) == ROW_FIELDS
        assert row["events_per_s"] > 0
        assert row["p50_ms"] is None  # no latency phase
