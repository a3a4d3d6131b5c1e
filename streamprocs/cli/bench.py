"""``dce bench``: throughput, latency and memory of the enforcer next to its ceiling and rivals.

Register with ``app.command("bench")(bench)`` in :mod:`streamprocs.cli.main`.
``python -m streamprocs.benchmarks`` runs the same command on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from confluent_kafka import KafkaException
from rich.console import Console

from streamprocs.benchmarks import runner
from streamprocs.benchmarks.report import render, to_json
from streamprocs.benchmarks.scenarios import SCENARIOS, select
from streamprocs.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    err,
    fail,
    out,
    print_contract_errors,
)
from streamprocs.contracts.errors import ContractSetError
from streamprocs.devkafka import DevKafkaError

_SCENARIO_HELP = "Comma-separated subset: " + ", ".join(f"{s.name} ({s.letter})" for s in SCENARIOS)


def bench(
    events: Annotated[
        int,
        typer.Option(
            "--events", "-n", help="Input records for each run (slow scenarios: --slow-events)."
        ),
    ] = runner.DEFAULT_EVENTS,
    repeat: Annotated[
        int, typer.Option("--repeat", "-r", help="Rounds; the report gives their median.")
    ] = runner.DEFAULT_REPEAT,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the rows as JSON (progress goes to stderr).")
    ] = False,
    bootstrap: Annotated[
        str | None,
        typer.Option(
            "--bootstrap",
            help="Use this broker instead of starting a private one on free ports.",
        ),
    ] = None,
    invalid_share: Annotated[
        float, typer.Option("--invalid-share", help="Share of invalid records in the mix.")
    ] = 0.03,
    event_size: Annotated[
        int | None,
        typer.Option(
            "--event-size",
            help="Pad JSON events to about this many bytes (default: the examples' own sizes).",
        ),
    ] = None,
    scenarios: Annotated[str | None, typer.Option("--scenarios", "-s", help=_SCENARIO_HELP)] = None,
    slow_events: Annotated[
        int,
        typer.Option(
            "--slow-events", help="Input records for faust and naive_jsonschema (at most --events)."
        ),
    ] = runner.DEFAULT_SLOW_EVENTS,
    max_event_bytes: Annotated[
        int,
        typer.Option(
            "--max-event-bytes",
            help="The enforcer's size limit; too_large samples are 1 byte over.",
        ),
    ] = runner.DEFAULT_MAX_EVENT_BYTES,
    latency_rate: Annotated[
        float, typer.Option("--latency-rate", help="Events/s of the paced latency phase.")
    ] = runner.DEFAULT_LATENCY_RATE,
    latency_seconds: Annotated[
        float, typer.Option("--latency-seconds", help="Length of the latency phase; 0 skips it.")
    ] = runner.DEFAULT_LATENCY_SECONDS,
    partitions: Annotated[
        int, typer.Option("--partitions", help="Partitions of every benchmark topic.")
    ] = 1,
    contracts_dir: Annotated[
        Path, typer.Option("--contracts", help="The contracts whose mix is the input.")
    ] = Path("contracts"),
    profile_dir: Annotated[
        Path | None,
        typer.Option(
            "--profile",
            help="py-spy every throughput run into this folder and print the top functions "
            "by own time (profiled figures are not comparable).",
        ),
    ] = None,
    keep_topics: Annotated[
        bool, typer.Option("--keep-topics", help="Leave the benchmark's topics on the broker.")
    ] = False,
) -> None:
    """Benchmark the enforcer against a passthrough ceiling, faust and pure-Python jsonschema.

    Exit code 1 only when a scenario failed to move its input; the issue's targets
    are printed as information.
    """
    try:
        options = runner.Options(
            events=events,
            repeat=repeat,
            slow_events=slow_events,
            invalid_share=invalid_share,
            event_size=event_size,
            max_event_bytes=max_event_bytes,
            scenarios=tuple(select(scenarios)),
            bootstrap=bootstrap,
            contracts_dir=contracts_dir,
            partitions=partitions,
            latency_rate=latency_rate,
            latency_seconds=latency_seconds,
            keep_topics=keep_topics,
            profile_dir=profile_dir,
        )
        options.validate()
    except ValueError as exc:
        fail(str(exc))
    if not contracts_dir.is_dir():
        fail(f"{contracts_dir} is not a directory (run from the repository root or --contracts)")
    progress_console = err

    def progress(line: str) -> None:
        progress_console.print(f"[dim]{line}[/]", highlight=False, soft_wrap=True)

    try:
        report = runner.run_bench(options, progress)
    except ContractSetError as exc:
        print_contract_errors(exc)
        raise typer.Exit(code=EXIT_USAGE) from exc
    except (DevKafkaError, KafkaException) as exc:
        fail(f"the benchmark could not run: {exc}", EXIT_PROBLEMS)
    if json_output:
        typer.echo(to_json(report))
    else:
        console = out if out.is_terminal else Console(width=140)
        render(report, console)
    if report.failed:
        err.print("[bold red]some runs failed[/]; see above", highlight=False)
        raise typer.Exit(code=EXIT_PROBLEMS)
    raise typer.Exit(code=EXIT_OK)
