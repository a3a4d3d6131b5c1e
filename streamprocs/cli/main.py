"""The ``dce`` command: one Typer app, one module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from streamprocs import __version__
from streamprocs.cli.alerts import alerts_app
from streamprocs.cli.bench import bench
from streamprocs.cli.contracts import contracts_app
from streamprocs.cli.dlq import dlq_app
from streamprocs.cli.run import run, topics_app
from streamprocs.cli.validate import validate

app = typer.Typer(
    name="dce",
    help="dce, the streaming data-contract enforcer for Kafka.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets or event values
)
app.add_typer(contracts_app, name="contracts")
app.command("validate")(validate)
app.command("run")(run)
app.add_typer(topics_app, name="topics")
app.add_typer(alerts_app, name="alerts")
app.add_typer(dlq_app, name="dlq")
app.command("bench")(bench)

try:
    from streamprocs.cli.dev import dev_app
except ImportError:  # pragma: no cover - the dev broker module is optional while it lands
    pass
else:
    app.add_typer(dev_app, name="dev")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dce {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """dce keeps bad events out of Kafka pipelines, by contract."""


if __name__ == "__main__":  # pragma: no cover
    app()
