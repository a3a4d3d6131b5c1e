"""What every command shares: exit codes, consoles, loading contracts or exiting cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from streamprocs.contracts.errors import ContractSetError
from streamprocs.contracts.loader import ContractSet, load_contract_set

EXIT_OK = 0
EXIT_PROBLEMS = 1  # the check ran and found problems
EXIT_USAGE = 2  # bad usage, bad config, unusable contracts

out = Console()
err = Console(stderr=True)

DirArg = Annotated[
    Path, typer.Option("--dir", "-d", help="The contracts directory.", show_default=True)
]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code=code)


def print_contract_errors(exc: ContractSetError) -> None:
    err.print(f"[bold red]{len(exc.errors)} problem(s) in the contracts:[/]", highlight=False)
    for e in exc.errors:
        where = f"[cyan]{e.file}[/]" + (f": [yellow]{e.field}[/]" if e.field else "")
        err.print(f"  {where}: {e.message}", highlight=False, soft_wrap=True)


def load_or_exit(root: Path) -> ContractSet:
    """Load the contracts, or print every problem and exit 2 (the command cannot run)."""
    try:
        return load_contract_set(root)
    except ContractSetError as exc:
        print_contract_errors(exc)
        raise typer.Exit(code=EXIT_USAGE) from exc
