"""``dce alerts generate``: Prometheus rules from the platform defaults and contract SLAs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from streamprocs.alerts import files
from streamprocs.alerts.model import RUNBOOK_BASE
from streamprocs.cli.common import EXIT_PROBLEMS, err, load_or_exit, out

DEFAULT_DIR = Path("contracts")
DEFAULT_OUT = Path("deploy/prometheus")
DirOption = Annotated[Path, typer.Option("--dir", "-d", help="The contracts directory.")]
OutOption = Annotated[Path, typer.Option("--out", "-o", help="Where the rule files go.")]

alerts_app = typer.Typer(
    help="Prometheus alert rules: platform alerts and per-contract SLA alerts.",
    no_args_is_help=True,
)


@alerts_app.callback()
def alerts() -> None:
    """Prometheus alert rules: platform alerts and per-contract SLA alerts."""
    # A callback keeps `generate` a subcommand even while it is the only one.


@alerts_app.command("generate")
def generate(
    directory: DirOption = DEFAULT_DIR,
    out_dir: OutOption = DEFAULT_OUT,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; exit 1 when a file differs from what would be written."
        ),
    ] = False,
    runbook_base: Annotated[
        str, typer.Option(help="URL that docs/runbooks/ is published under.")
    ] = RUNBOOK_BASE,
) -> None:
    """Write the rules files, their PrometheusRule twins and the SLA rule tests."""
    contract_set = load_or_exit(directory)
    rendered = files.render(contract_set, runbook_base=runbook_base)
    if check:
        outdated = files.stale(out_dir, rendered)
        for path in outdated:
            err.print(f"[red]out of date[/] {path}", highlight=False)
        if outdated:
            err.print("run `dce alerts generate` and commit the result", highlight=False)
            raise typer.Exit(code=EXIT_PROBLEMS)
        out.print(f"[green]ok[/]: {len(rendered)} files in {out_dir} are up to date")
        return
    written = files.write(out_dir, rendered)
    for path in written:
        out.print(f"wrote {path}", highlight=False)
    if not written:
        out.print(f"{len(rendered)} files in {out_dir} were already up to date", highlight=False)
