"""Tables of what a mix holds, per source topic and per destination."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from streamprocs.contracts.model import REASONS
from streamprocs.traffic.records import SampleRecord


def summarize(records: Iterable[SampleRecord]) -> dict[str, Counter[str]]:
    """Per source topic: ``count``, ``valid``, ``invalid`` and one count per reason."""
    out: dict[str, Counter[str]] = {}
    for record in records:
        counts = out.setdefault(record.topic, Counter())
        counts["count"] += 1
        counts[record.expected] += 1
        if record.expected_reason is not None:
            counts[record.expected_reason] += 1
    return out


def _destinations(records: Iterable[SampleRecord]) -> Counter[str]:
    return Counter(record.destination for record in records)


# Column headings of the summary, two lines each to keep the table narrow.
_HEADINGS = {
    "count": "records",
    "too_large": "too\nlarge",
    "too_deep": "too\ndeep",
    "unknown_contract": "unknown\ncontract",
    "unknown_version": "unknown\nversion",
    "retired_version": "retired\nversion",
}


def summary_tables(records: Sequence[SampleRecord]) -> list[Any]:
    """Rich tables: per source topic (records, valid, invalid by reason), per destination."""
    from rich.table import Table

    per_topic = summarize(records)
    present = [r for r in REASONS if any(c[r] for c in per_topic.values())]
    columns = ("count", "valid", "invalid", *present)
    table = Table(title=f"Sample traffic: {len(records)} records (expected verdicts)")
    table.add_column("source topic")
    for name in columns:
        table.add_column(_HEADINGS.get(name, name), justify="right")
    total: Counter[str] = Counter()
    for topic in sorted(per_topic):
        counts = per_topic[topic]
        total.update(counts)
        table.add_row(topic, *(str(counts[n]) for n in columns))
    table.add_section()
    table.add_row("total", *(str(total[n]) for n in columns))
    routes = Table(title="Where the enforcer must route them")
    routes.add_column("destination topic")
    routes.add_column("records", justify="right")
    for topic, n in sorted(_destinations(records).items()):
        routes.add_row(topic, str(n))
    return [table, routes]


def _print_summary(records: Sequence[SampleRecord]) -> None:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        # Piped or logged: no terminal width to respect, so do not squeeze the columns.
        console = Console(width=140)
    for table in summary_tables(records):
        console.print(table)
