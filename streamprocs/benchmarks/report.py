"""The report: a rich table with the issue's targets beside it, or the JSON rows."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from streamprocs.benchmarks.pyspy import Entry
from streamprocs.benchmarks.results import Row, TargetCheck
from streamprocs.benchmarks.runner import LATENCY_WARMUP_S, Report
from streamprocs.benchmarks.scenarios import BY_NAME


def to_json(report: Report) -> str:
    """The rows of shared/notes/interfaces.md, a JSON list."""
    return json.dumps([row.to_json() for row in report.rows], indent=2)


def _num(value: float | None, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def rows_table(report: Report) -> Table:
    o = report.options
    table = Table(title="dce bench: events/s (median of rounds), latency, memory")
    for heading, justify in (
        ("", "left"),
        ("scenario", "left"),
        ("events/run", "right"),
        ("events/s", "right"),
        ("x ceiling", "right"),
        ("CPU µs/event", "right"),
        ("p50 ms", "right"),
        ("p99 ms", "right"),
        ("peak RSS MB", "right"),
        ("runs", "right"),
    ):
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for row in report.rows:
        scenario = BY_NAME[row.name]
        table.add_row(
            f"({scenario.letter})",
            f"{row.name}\n[dim]{scenario.description}[/]",
            f"{o.events_for(scenario):,}",
            _num(row.events_per_s),
            _num(row.ratio_to_ceiling, 2, "x"),
            _num(row.cpu_us_per_event, 1),
            _num(row.p50_ms, 1),
            _num(row.p99_ms, 1),
            _num(row.peak_rss_mb, 0),
            f"{row.runs}/{o.repeat}",
        )
    return table


def targets_table(checks: list[TargetCheck], events: int) -> Table:
    table = Table(title="issue 6 targets (information only; never an exit code)")
    table.add_column("target")
    table.add_column("measured", justify="right")
    table.add_column("result")
    for check in checks:
        unit = " MB" if check.unit == "MB" else "x"
        digits = 0 if check.unit == "MB" else 2
        result = (
            "[dim]not measured[/]"
            if check.passed is None
            else ("[green]pass[/]" if check.passed else "[red]FAIL[/]")
        )
        label = check.label
        if check.label.startswith("peak RSS"):
            label += f" (the issue's figure is for 1M events; this run: {events:,})"
        elif check.value is None and check.label.startswith("RSS growth"):
            label += " (needs --events >= 200000)"
        table.add_row(label, _num(check.value, digits, unit), result)
    return table


def notes(report: Report) -> list[str]:
    o = report.options
    lines = [
        f"input: {report.input_summary}",
        "events/s: events of the run / (broker LogAppendTime of its last output record - "
        "wall clock of its first non-empty consume); every output and dead-letter record "
        "is read back and counted",
        f"x ceiling: median over {o.repeat} round(s) of (scenario / ceiling) within the same "
        "round; rounds rotate the scenarios' order",
        "CPU µs/event: user + system CPU time of the scenario's worker process (all its "
        "threads, the Kafka client's included; not the broker's) from its first record to "
        "its end, per event, median of rounds: cores for a rate R are about R x this / 1e6",
        (
            f"latency: separate paced phase, {o.latency_rate:.0f} events/s for "
            f"{o.latency_seconds:g} s after {LATENCY_WARMUP_S:g} s of warm-up; when a "
            "read_committed consumer saw the output record - input CreateTime"
            if o.latency_seconds > 0
            else "latency: not measured (--latency-seconds 0)"
        ),
        "peak RSS: VmHWM of the scenario's own worker process (MiB), max over its runs",
        f"wall time {report.wall_seconds:.0f} s",
    ]
    for name, why in report.unavailable.items():
        lines.append(f"not run: {name}: {why}")
    return lines


def errors(rows: list[Row]) -> list[str]:
    return [f"{row.name}: {e}" for row in rows for e in row.errors]


def profile_table(scenario: str, entries: list[Entry]) -> Table:
    table = Table(title=f"{scenario}: top functions by own time (py-spy, all its runs)")
    table.add_column("#", justify="right")
    table.add_column("own %", justify="right")
    table.add_column("samples", justify="right")
    table.add_column("function (file:first line)")
    for i, entry in enumerate(entries, 1):
        table.add_row(str(i), f"{entry.share:.1%}", str(entry.samples), entry.function)
    return table


def render(report: Report, console: Console) -> None:
    console.print(rows_table(report))
    console.print(targets_table(report.checks, report.options.events))
    for scenario, entries in report.profiles.items():
        console.print(profile_table(scenario, entries))
    for line in notes(report):
        console.print(f"[dim]{line}[/]", highlight=False, soft_wrap=True)
    for line in errors(report.rows):
        console.print(f"[bold red]failed:[/] {line}", highlight=False, soft_wrap=True)
