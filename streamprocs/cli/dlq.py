"""``dce dlq inspect`` and ``dce dlq replay``: what is in a dead-letter topic, and sending
back what the current contracts accept. The operator guide is docs/dlq.md."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import orjson
import typer

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
from streamprocs.contracts.loader import ContractSet, load_contract_set
from streamprocs.dlq.filters import FilterError, Filters
from streamprocs.dlq.render import print_report, print_summary, progress
from streamprocs.enforcer.config import ConfigError, Settings, load_settings
from streamprocs.observability.logging import configure

dlq_app = typer.Typer(
    help="Dead-letter topics: see what is in them, send back what now passes.",
    no_args_is_help=True,
)


TopicArg = Annotated[str, typer.Argument(help="The dead-letter topic.", show_default=False)]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="dce.yaml (kafka:, contracts_dir, ...); DCE_* override."),
]
DirOpt = Annotated[
    Path | None,
    typer.Option("--dir", "-d", help="The contracts directory (default: the config's)."),
]
BootstrapOpt = Annotated[
    str | None,
    typer.Option("--bootstrap-servers", "-b", help="Overrides kafka.bootstrap.servers."),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(help="Only records at or after: ISO 8601 time or a duration ago (2h, 1d)."),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(help="Only records before: ISO 8601 time or a duration ago (30m)."),
]
ContractOpt = Annotated[
    list[str] | None,
    typer.Option("--contract", metavar="ID[@VERSION]", help="Only these contracts (repeatable)."),
]
ReasonOpt = Annotated[
    list[str] | None,
    typer.Option("--reason", help="Only these dce.error.reason values (repeatable)."),
]
RuleOpt = Annotated[
    list[str] | None,
    typer.Option("--rule", help="Only records that broke one of these rules (repeatable)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts (stable shape).")]


# --- shared set-up -------------------------------------------------------------------------


def _settings(config: Path | None, directory: Path | None, bootstrap: str | None) -> Settings:
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        fail(f"bad config:\n{exc}")
    if directory is not None:
        settings.contracts_dir = directory
    if bootstrap is not None:
        settings.kafka = {**settings.kafka, "bootstrap.servers": bootstrap}
    configure(settings.log.level, settings.log.format)
    return settings


def _contracts(settings: Settings) -> ContractSet:
    try:
        return load_contract_set(settings.contracts_dir, settings.limits)
    except ContractSetError as exc:
        print_contract_errors(exc)
        raise typer.Exit(code=EXIT_USAGE) from exc


def _filters(
    since: str | None,
    until: str | None,
    contracts: list[str] | None,
    reasons: list[str] | None,
    rules: list[str] | None,
) -> Filters:
    try:
        return Filters.build(
            since=since,
            until=until,
            contracts=contracts or (),
            reasons=reasons or (),
            rules=rules or (),
        )
    except FilterError as exc:
        fail(str(exc))


# --- inspect -------------------------------------------------------------------------------


@dlq_app.command("inspect")
def inspect(
    topic: TopicArg,
    config: ConfigOpt = None,
    directory: DirOpt = None,
    bootstrap: BootstrapOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    contract: ContractOpt = None,
    reason: ReasonOpt = None,
    rule: RuleOpt = None,
    samples: Annotated[int, typer.Option(min=0, help="Sample records to show (redacted).")] = 5,
    top: Annotated[int, typer.Option(min=1, help="Most frequent violation paths to list.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Summarise a dead-letter topic, without moving any consumer group."""
    from streamprocs.dlq.inspect import Summary
    from streamprocs.dlq.reader import (
        DlqError,
        KafkaFailure,
        TopicReader,
        open_consumer,
        throwaway_group,
    )

    filters = _filters(since, until, contract, reason, rule)
    settings = _settings(config, directory, bootstrap)
    contract_set = _contracts(settings)
    summary = Summary(
        topic,
        contract_set,
        limits=settings.limits,
        filters=filters,
        sample_limit=samples,
        top_limit=top,
    )
    try:
        consumer = open_consumer(settings, throwaway_group())
    except DlqError as exc:
        fail(str(exc))
    try:
        reader = TopicReader.plan(consumer, topic, since_ms=filters.since_ms)
        reader.start()
        with progress(err, f"reading {topic}") as (start, advance):
            start(reader.total)
            while not reader.done:
                records = reader.poll(1000)
                for record in records:
                    summary.consider(record)
                advance(len(records))
    except DlqError as exc:
        fail(str(exc))
    except KafkaFailure as exc:
        fail(str(exc), EXIT_PROBLEMS)
    finally:
        consumer.close()
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2))
        sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
    else:
        print_summary(out, summary.as_dict())


# --- replay --------------------------------------------------------------------------------


@contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGINT/SIGTERM finish the record at hand and commit, instead of killing the run."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        err.print(
            f"{signal.Signals(signum).name}: committing what was done and stopping",
            highlight=False,
        )
        stop()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@dlq_app.command("replay")
def replay(
    topic: TopicArg,
    config: ConfigOpt = None,
    directory: DirOpt = None,
    bootstrap: BootstrapOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    contract: ContractOpt = None,
    reason: ReasonOpt = None,
    rule: RuleOpt = None,
    to: Annotated[
        str | None, typer.Option(help="Send passing records here instead of their source topic.")
    ] = None,
    park: Annotated[
        str | None,
        typer.Option(help="Move records that still fail here, with a fresh envelope."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Produce and commit nothing; print what would happen.")
    ] = False,
    max_records: Annotated[
        int | None,
        typer.Option("--max", min=1, help="Stop after this many selected records."),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(min=0.001, help="At most this many records produced per second."),
    ] = None,
    max_replays: Annotated[
        int,
        typer.Option(min=1, help="Skip records already replayed this many times (loop guard)."),
    ] = 3,
    group: Annotated[
        str | None,
        typer.Option(help="Replay consumer group (progress); default dce-replay.<TOPIC>."),
    ] = None,
    from_beginning: Annotated[
        bool,
        typer.Option(
            "--from-beginning",
            help="Ignore the group's progress and reconsider the whole topic (see docs/dlq.md).",
        ),
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Records per transaction, at most.")
    ] = 500,
    audit_topic: Annotated[
        str | None, typer.Option(help="Also produce the run's audit record to this topic.")
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Serve /metrics on this port while running."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-judge dead letters with the current contracts; send back, exactly once, those
    that pass. Resumable: run it again after an interruption."""
    from streamprocs.dlq.audit import audit_record, emit
    from streamprocs.dlq.options import ReplayOptions
    from streamprocs.dlq.reader import DlqError, KafkaFailure
    from streamprocs.dlq.replay import Replayer
    from streamprocs.observability.http import Health, serve
    from streamprocs.observability.metrics import Metrics

    filters = _filters(since, until, contract, reason, rule)
    options = ReplayOptions(
        topic=topic,
        filters=filters,
        group=group,
        to=to,
        park=park,
        dry_run=dry_run,
        max_records=max_records,
        rate=rate,
        max_replays=max_replays,
        from_beginning=from_beginning,
        batch_size=batch_size,
        audit_topic=audit_topic,
    )
    problems = options.problems()
    if problems:
        fail("; ".join(problems))
    settings = _settings(config, directory, bootstrap)
    contract_set = _contracts(settings)
    metrics = Metrics()
    server = None
    if metrics_port is not None:
        health = Health()
        health.ready = True
        server, _ = serve(metrics.registry, health, settings.metrics.host, metrics_port)
        err.print(
            f"metrics on http://{settings.metrics.host}:{server.server_port}/metrics",
            highlight=False,
        )
    failure: str | None = None
    try:
        with progress(err, "dry run" if dry_run else "replaying") as (start, advance):
            try:
                replayer = Replayer(
                    settings,
                    contract_set,
                    options,
                    metrics=metrics,
                    on_start=start,
                    on_progress=advance,
                )
            except DlqError as exc:
                fail(str(exc))
            with _stop_on_signals(replayer.stop):
                try:
                    replayer.run()
                except DlqError as exc:
                    fail(str(exc))
                except KafkaFailure as exc:
                    failure = str(exc)
    finally:
        if server is not None:
            server.shutdown()
    report = replayer.report
    emit(audit_record(report))
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2))
        sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
    else:
        print_report(out, report)
    if failure is not None:
        err.print(f"[bold red]replay failed:[/] {failure}", highlight=False)
    if report.status != "completed" or report.error is not None:
        raise typer.Exit(code=EXIT_PROBLEMS)
    raise typer.Exit(code=EXIT_OK)


__all__ = ["dlq_app"]

if __name__ == "__main__":  # pragma: no cover - ``python -m streamprocs.cli.dlq``
    dlq_app(prog_name="dce dlq")
