"""``dce run`` (the enforcer) and ``dce topics ensure``."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import structlog
import typer
from rich.table import Table

from streamprocs.cli.common import EXIT_PROBLEMS, EXIT_USAGE, err, fail, out, print_contract_errors
from streamprocs.contracts.errors import ContractSetError
from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Router
from streamprocs.enforcer.config import ConfigError, Settings, load_settings
from streamprocs.observability.logging import configure

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="dce.yaml; DCE_* variables override it.")
]


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(f"bad config:\n{exc}")


def _router(settings: Settings) -> Router:
    try:
        contract_set = load_contract_set(settings.contracts_dir, settings.limits)
    except ContractSetError as exc:
        print_contract_errors(exc)
        raise typer.Exit(code=EXIT_USAGE) from exc
    return Router(contract_set, settings.limits, settings.default_dead_letter)


topics_app = typer.Typer(help="Kafka topics the contracts name.", no_args_is_help=True)


def ensure_topics(settings: Settings, create_sources: bool, partitions: int) -> int:
    from confluent_kafka.admin import AdminClient

    from streamprocs.enforcer import topics
    from streamprocs.enforcer.sizes import read_limits

    router = _router(settings)
    admin = AdminClient(dict(settings.kafka))
    existing = topics.existing_topics(admin)
    # Unknown limits (no DescribeConfigs permission) leave the broker's default.
    source_limits, _ = read_limits(admin, [t for t in router.topics if t in existing])
    plans, missing = topics.plan_topics(
        router,
        existing,
        create_sources=create_sources,
        source_partitions=partitions,
        source_limits=source_limits,
    )
    errors = topics.create(admin, plans)
    table = Table(title="topics created")
    for column in ("topic", "role", "partitions", "config"):
        table.add_column(column)
    for plan in plans:
        table.add_row(
            plan.name,
            plan.role,
            str(plan.partitions),
            ", ".join(f"{k}={v}" for k, v in plan.config.items()),
        )
    if plans:
        out.print(table)
    else:
        out.print("every output and dead-letter topic exists")
    for source in missing:
        err.print(
            f"source topic {source!r} does not exist; its outputs were not created "
            "(create it, or pass --create-sources)",
            highlight=False,
        )
    for line in errors:
        err.print(f"[red]failed[/] {line}", highlight=False)
    return EXIT_PROBLEMS if errors or missing else 0


@topics_app.command("ensure")
def ensure(
    config: ConfigOption = None,
    create_sources: Annotated[
        bool, typer.Option(help="Also create missing source topics (local development).")
    ] = False,
    partitions: Annotated[int, typer.Option(help="Partitions for created source topics.")] = 3,
) -> None:
    """Create missing output and dead-letter topics with the source's partition count."""
    raise typer.Exit(code=ensure_topics(_settings(config), create_sources, partitions))


def run(
    config: ConfigOption = None,
    ensure_topics_first: Annotated[
        bool,
        typer.Option("--ensure-topics", help="Create missing output/dead-letter topics first."),
    ] = False,
) -> None:
    """Run the enforcer until SIGTERM or SIGINT."""
    from streamprocs.enforcer.loop import Enforcer, FatalError
    from streamprocs.observability.http import serve

    settings = _settings(config)
    configure(settings.log.level, settings.log.format)
    log = structlog.get_logger("dce")
    if ensure_topics_first and ensure_topics(settings, False, 0) == EXIT_USAGE:
        raise typer.Exit(code=EXIT_USAGE)
    try:
        enforcer = Enforcer(settings)
    except ContractSetError as exc:
        print_contract_errors(exc)
        raise typer.Exit(code=EXIT_USAGE) from exc

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal received; finishing the open batch", signal=signal.Signals(signum).name)
        enforcer.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = None
    if settings.metrics.enabled:
        server, _ = serve(
            enforcer.metrics.registry, enforcer.health, settings.metrics.host, settings.metrics.port
        )
        log.info("metrics listening", host=settings.metrics.host, port=server.server_port)
    try:
        enforcer.run()
    except FatalError as exc:
        log.error("enforcer stopped on a fatal error", error=str(exc))
        raise typer.Exit(code=EXIT_PROBLEMS) from exc
    finally:
        if server is not None:
            server.shutdown()
