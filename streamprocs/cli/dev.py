"""`dce dev up | down | status`: a real local single-node Apache Kafka (KRaft).

Exit codes: 0 ok; 1 the check found a problem (not running, did not start); 2 usage or
configuration error (no JDK/Maven, bad or busy ports).
`up` prints only the bootstrap servers on stdout (`export BOOTSTRAP=$(dce dev up)`);
everything meant for people goes to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from streamprocs.cli.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, err, fail, out
from streamprocs.devkafka import (
    DEFAULT_CONTROLLER_PORT,
    DEFAULT_PORT,
    DEFAULT_UP_TIMEOUT_S,
    HOME_ENV,
    KAFKA_VERSION,
    DevBroker,
    DevKafkaConfigError,
    DevKafkaError,
)

dev_app = typer.Typer(
    help="A local single-node Apache Kafka (KRaft) from Maven Central jars; needs a JDK 17+.",
    no_args_is_help=True,
)

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar=HOME_ENV,
        file_okay=False,
        help="State dir (config, data, logs, pid). Default: $XDG_CACHE_HOME/dce/dev "
        "(~/.cache/dce/dev).",
    ),
]


def _say(message: str) -> None:
    err.print(escape(message), highlight=False)


def _fail(exc: DevKafkaError | OSError) -> NoReturn:
    # A file-system error here is about the home dir the user chose: a config problem.
    code = EXIT_USAGE if isinstance(exc, DevKafkaConfigError | OSError) else EXIT_PROBLEMS
    # Messages quote log lines like "[2025-...] WARN ...": never read them as rich markup.
    fail(escape(str(exc)), code)


@dev_app.command()
def up(
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Broker (PLAINTEXT) port.")
    ] = DEFAULT_PORT,
    controller_port: Annotated[
        int, typer.Option("--controller-port", min=1, max=65535, help="KRaft controller port.")
    ] = DEFAULT_CONTROLLER_PORT,
    home: HomeOption = None,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=1.0, help="Seconds to wait for the broker to answer."),
    ] = DEFAULT_UP_TIMEOUT_S,
) -> None:
    """Start the broker (idempotent) and print its bootstrap servers once it answers."""
    broker = DevBroker(home, port, controller_port, progress=_say)
    try:
        bootstrap = broker.up(timeout)
    except (DevKafkaError, OSError) as exc:
        _fail(exc)
    err.print(
        f"[green]Kafka {KAFKA_VERSION} is up[/] at {escape(bootstrap)} "
        f"(home {escape(str(broker.home))}); `dce dev down` stops it"
    )
    typer.echo(bootstrap)


@dev_app.command()
def down(
    home: HomeOption = None,
    wipe: Annotated[
        bool, typer.Option("--wipe", help="Also delete the broker's data (topics, offsets).")
    ] = False,
) -> None:
    """Stop the broker this home started (a no-op if none runs)."""
    broker = DevBroker(home)
    try:
        stopped = broker.down(wipe=wipe)
    except (DevKafkaError, OSError) as exc:
        _fail(exc)
    what = "stopped the broker" if stopped else "no broker was running"
    _say(f"{what} in {broker.home}" + ("; data wiped" if wipe else ""))


@dev_app.command()
def status(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Report whether the broker runs and answers; exit 1 if it does not."""
    broker = DevBroker(home)
    try:
        report = broker.status()
    except (DevKafkaError, OSError) as exc:
        _fail(exc)
    healthy = report.running and report.ready
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        if not report.running:
            state = "[red]stopped[/]"
        elif report.ready:
            state = "[green]running[/]"
        else:
            state = "[yellow]running, not answering[/]"
        table = Table(show_header=False, box=None)
        table.add_row("state", state)
        for label, value in (
            ("pid", report.pid),
            ("bootstrap", report.bootstrap),
            ("kafka", report.kafka_version),
            ("home", report.home),
            ("data", report.data_dir),
            ("log", report.log_file),
        ):
            table.add_row(label, escape("-" if value is None else str(value)))
        out.print(table)
    raise typer.Exit(code=EXIT_OK if healthy else EXIT_PROBLEMS)
