"""Human output of ``dce dlq``: rich tables, redacted samples, a progress bar.

Scripts read ``--json`` instead; nothing here is a stable interface.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.columns import Columns
from rich.console import Console, Group
from rich.json import JSON
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from streamprocs.dlq.audit import ReplayReport
from streamprocs.dlq.filters import iso

# Human output shows this many rows per count table; --json has them all.
MAX_ROWS = 15

Advance = Callable[[int], None]


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rec/s" if speed else "- rec/s", style="progress.data.speed")


@contextmanager
def progress(console: Console, label: str) -> Iterator[tuple[Callable[[int], None], Advance]]:
    """(start(total), advance(n)) callbacks; a live bar only when ``console`` is a terminal.

    Piped or logged output gets no bar: its redraws would fill the log.
    """
    if not console.is_terminal:
        yield (lambda _total: None), (lambda _n: None)
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task(label, total=None)
    with bar:
        yield (
            lambda total: bar.update(task, total=total),
            lambda n: bar.advance(task, n),
        )


def counts_table(title: str, counts: dict[str, int], heading: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(heading)
    table.add_column("records", justify="right")
    for name, n in list(counts.items())[:MAX_ROWS]:
        table.add_row(name, f"{n:,}")
    if len(counts) > MAX_ROWS:
        table.add_row(f"... {len(counts) - MAX_ROWS} more (see --json)", "")
    return table


def print_summary(out: Console, data: dict[str, Any]) -> None:
    """The inspect summary (``Summary.as_dict()``) as tables and redacted samples."""
    span = data["time_range"]
    out.print(
        f"[bold]{data['topic']}[/]: {data['records']:,} dead letters"
        + (f" (of {data['scanned']:,} read)" if data["scanned"] != data["records"] else "")
        + (f", {span['first']} .. {span['last']}" if span["first"] else ""),
        highlight=False,
    )
    if not data["records"]:
        return
    out.print(
        Columns(
            [
                counts_table(title, data[key], heading)
                for title, key, heading in (
                    ("By reason", "by_reason", "reason"),
                    ("By owning team", "by_team", "team"),
                    ("By contract", "by_contract", "contract"),
                    ("By version", "by_version", "contract@version"),
                    ("By rule", "by_rule", "rule"),
                    ("By source topic", "by_source_topic", "source topic"),
                )
            ]
        )
    )
    paths = Table(title="Most frequent violation paths", title_justify="left")
    for column in ("contract", "rule", "path"):
        paths.add_column(column, overflow="fold")
    paths.add_column("records", justify="right")
    for row in data["top_paths"]:
        paths.add_row(row["contract"], row["rule"], row["path"] or "/", f"{row['count']:,}")
    out.print(paths)
    for sample in data["samples"]:
        title = (
            f"partition {sample['partition']} offset {sample['offset']}: "
            f"{sample['reason']} ({sample['contract']}@{sample['version']})"
        )
        body: list[Any] = [
            Text(
                "; ".join(f"{v['rule']} at {v['path'] or '/'}" for v in sample["violations"])
                or "no detail",
                style="yellow",
            )
        ]
        if sample["value"] is not None:
            # Compact and wrapped: a few samples should fit a screen.
            value = JSON.from_data(sample["value"], indent=None)
            value.text.no_wrap = False
            value.text.overflow = "fold"
            body.append(value)
        else:
            body.append(Text(sample["value_note"] or "", style="dim"))
        out.print(Panel(Group(*body), title=title, title_align="left"))


def print_report(out: Console, report: ReplayReport) -> None:
    """What a replay did (or, dry, would do): counts per outcome and per reason/rule."""
    data = report.as_dict()
    counts = data["counts"]
    verb = "would be" if report.dry_run else "were"
    table = Table(
        title=f"{'Dry run' if report.dry_run else 'Replay'} {report.replay_id} of {report.topic}",
        title_justify="left",
    )
    table.add_column("records")
    table.add_column("count", justify="right")
    table.add_row("read", f"{counts['read']:,}")
    table.add_row("left out by the filters", f"{counts['filtered']:,}")
    table.add_row(f"pass now: {verb} sent back", f"{counts['replayed']:,}")
    table.add_row(
        "still fail" + (f": {verb} parked" if report.park else ": stay"),
        (f"{counts['still_invalid']:,}"),
    )
    table.add_row("skipped (loop guard, no source topic)", f"{counts['skipped']:,}")
    out.print(table)
    for title, key, heading in (
        ("Outcome under the current contracts", "by_outcome", "outcome"),
        ("Sent back: what they had been dead-lettered for", "replayed_by_rule", "reason/rule"),
        ("Still failing: what the current contracts find", "still_invalid_by_rule", "reason/rule"),
        ("Skipped", "skipped_by", "why"),
        (
            f"Destinations ({'would be ' if report.dry_run else ''}produced to)",
            "destinations",
            "topic",
        ),
    ):
        if data[key]:
            out.print(counts_table(title, data[key], heading))
    elapsed = ((report.finished_ms or report.started_ms) - report.started_ms) / 1000
    if report.dry_run:
        note = "dry run: nothing was produced and no offset was committed"
    elif report.status == "completed":
        note = f"completed in {elapsed:.1f} s; group {report.group} is past every record read"
    else:
        note = (
            f"{report.status}; committed batches stay committed. Run the same command again "
            f"to resume from group {report.group}"
        )
    out.print(f"[bold]{report.status}[/] ({iso(report.finished_ms)}): {note}", highlight=False)
