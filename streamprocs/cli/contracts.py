"""``dce contracts``: lint, list, show, check against a git ref, CODEOWNERS."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
import yaml
from rich.table import Table

from streamprocs.cli.common import (
    EXIT_PROBLEMS,
    EXIT_USAGE,
    err,
    fail,
    load_or_exit,
    out,
    print_contract_errors,
)
from streamprocs.contracts.errors import ContractError, ContractSetError
from streamprocs.contracts.examples import check_examples
from streamprocs.contracts.loader import Contract, ContractSet, load_contract_set

contracts_app = typer.Typer(help="Lint, list, show and check data contracts.", no_args_is_help=True)

DirOption = Annotated[Path, typer.Option("--dir", "-d", help="The contracts directory.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DEFAULT_DIR = Path("contracts")


def _dump_json(data: Any) -> None:
    out.file.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _lint(root: Path) -> tuple[ContractSet | None, list[ContractError]]:
    try:
        contract_set = load_contract_set(root)
    except ContractSetError as exc:
        return None, exc.errors
    problems: list[ContractError] = []
    for contract in contract_set.contracts.values():
        problems.extend(check_examples(contract, contract_set.root.parent))
    return contract_set, problems


def _report(contract_set: ContractSet | None, problems: list[ContractError], as_json: bool) -> None:
    if as_json:
        _dump_json(
            {
                "ok": not problems,
                "revision": contract_set.revision if contract_set else None,
                "problems": [p.as_dict() for p in problems],
            }
        )
    elif problems:
        print_contract_errors(ContractSetError(problems))
    elif contract_set is not None:
        versions = sum(len(c.versions) for c in contract_set.contracts.values())
        out.print(
            f"[green]ok[/]: {len(contract_set.contracts)} contracts, {versions} versions, "
            f"revision {contract_set.revision}",
            highlight=False,
        )


@contracts_app.command("lint")
def lint(
    directory: Annotated[Path, typer.Argument(help="The contracts directory.")] = DEFAULT_DIR,
    as_json: JsonOption = False,
) -> None:
    """Check every contract file: format, schemas, rules, bindings and examples."""
    contract_set, problems = _lint(directory)
    _report(contract_set, problems, as_json)
    if problems:
        raise typer.Exit(code=EXIT_PROBLEMS)


def _summary(contract: Contract) -> dict[str, Any]:
    return {
        "id": contract.id,
        "owner": {
            "team": contract.spec.owner.team,
            "contact": contract.spec.owner.contact,
        },
        "versions": [
            {"version": n, "status": v.status.value} for n, v in sorted(contract.versions.items())
        ],
        "topics": sorted({b.topic for b in contract.spec.bindings}),
    }


@contracts_app.command("list")
def list_(directory: DirOption = DEFAULT_DIR, as_json: JsonOption = False) -> None:
    """List the contracts with their owners, versions and topics."""
    contract_set = load_or_exit(directory)
    rows = [_summary(c) for _, c in sorted(contract_set.contracts.items())]
    if as_json:
        _dump_json(rows)
        return
    table = Table(title=f"contracts (revision {contract_set.revision})")
    for column in ("id", "team", "contact", "versions", "compatibility", "enforcement", "topics"):
        table.add_column(column)
    for _, contract in sorted(contract_set.contracts.items()):
        spec = contract.spec
        versions = " ".join(
            f"v{n}" + ("" if v.status.value == "active" else f" ({v.status.value})")
            for n, v in sorted(contract.versions.items())
        )
        table.add_row(
            spec.id,
            spec.owner.team,
            spec.owner.contact,
            versions,
            spec.compatibility.value,
            spec.enforcement.value,
            ", ".join(sorted({b.topic for b in spec.bindings})),
        )
    out.print(table)


def split_ref(ref: str) -> tuple[str, int | None]:
    """``checkout.order_created@2`` -> (id, 2); without ``@`` the version is None."""
    contract_id, _, version = ref.partition("@")
    if not version:
        return contract_id, None
    number = version.lstrip("vV")
    if not number.isdigit():
        fail(f"{ref!r}: the version after '@' must be a number, e.g. {contract_id}@2")
    return contract_id, int(number)


def find_contract(contract_set: ContractSet, contract_id: str) -> Contract:
    contract = contract_set.get(contract_id)
    if contract is None:
        known = ", ".join(sorted(contract_set.contracts)) or "none"
        fail(f"no contract {contract_id!r} (known: {known})")
    return contract


@contracts_app.command("show")
def show(
    ref: Annotated[
        str, typer.Argument(metavar="ID[@VERSION]", help="e.g. payments.payment_captured@2")
    ],
    directory: DirOption = DEFAULT_DIR,
    as_json: JsonOption = False,
) -> None:
    """Show one contract and one version's schema and rules (default: the latest)."""
    contract_set = load_or_exit(directory)
    contract_id, number = split_ref(ref)
    contract = find_contract(contract_set, contract_id)
    number = number or contract.latest
    version = contract.versions.get(number)
    if version is None:
        fail(f"{contract_id} has no version {number} (has {sorted(contract.versions)})")
    pii = sorted("/" + "/".join(p) for p in contract.compiled[number].pii)
    data = {
        **contract.spec.model_dump(mode="json"),
        "version": version.model_dump(mode="json", by_alias=True),
        "pii_paths": pii,
    }
    if as_json:
        _dump_json(data)
        return
    spec = contract.spec
    out.print(f"[bold]{spec.id}[/] v{number} ({version.status.value})", highlight=False)
    out.print(f"  owner: {spec.owner.team} ({spec.owner.contact})", highlight=False)
    out.print(f"  {spec.description}", highlight=False)
    out.print(
        f"  compatibility {spec.compatibility.value}, enforcement {spec.enforcement.value}",
        highlight=False,
    )
    for b in spec.bindings:
        disc = ""
        if b.discriminator:
            where = b.discriminator.header or b.discriminator.pointer
            disc = f" where {where} = {b.discriminator.value!r}"
        out.print(
            f"  {b.topic}{disc} -> {b.output}, dead letters -> {b.dead_letter}", highlight=False
        )
    out.print(f"  PII: {', '.join(pii) or 'none'}", highlight=False)
    if version.rules:
        table = Table(title="rules")
        for column in ("id", "severity", "expr", "message"):
            table.add_column(column)
        for rule in version.rules:
            table.add_row(rule.id, rule.severity.value, rule.expr, rule.message)
        out.print(table)
    out.print(yaml.safe_dump({"schema": version.schema_}, sort_keys=False), highlight=False)


def _git(args: list[str], cwd: Path) -> bytes:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    if result.returncode != 0:
        fail(f"git {' '.join(args)} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def extract_at_ref(directory: Path, ref: str, into: Path) -> Path:
    """Write the contracts directory as it was at a git ref into ``into``; return its root."""
    directory = directory.resolve()
    top = Path(_git(["rev-parse", "--show-toplevel"], directory).decode().strip())
    rel = directory.relative_to(top)
    _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top)
    listed = _git(["ls-tree", "-r", "--name-only", ref, "--", str(rel)], top)
    if listed.strip():
        archive = _git(["archive", "--format=tar", ref, "--", str(rel)], top)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(into, filter="data")
    return into / rel


@contracts_app.command("check")
def check(
    against: Annotated[
        str,
        typer.Option("--against", help="The git ref of the published contracts, e.g. origin/main."),
    ],
    directory: DirOption = DEFAULT_DIR,
    as_json: JsonOption = False,
) -> None:
    """Lint, then check immutability, numbering and compatibility against a git ref."""
    from streamprocs.contracts.evolution import check_evolution, read_published

    contract_set, problems = _lint(directory)
    if contract_set is not None:
        with tempfile.TemporaryDirectory(prefix="dce-check-") as tmp:
            published = read_published(extract_at_ref(directory, against, Path(tmp)))
        problems.extend(check_evolution(contract_set, published, against))
    _report(contract_set, problems, as_json)
    if problems:
        raise typer.Exit(code=EXIT_PROBLEMS)


@contracts_app.command("codeowners")
def codeowners(
    directory: DirOption = DEFAULT_DIR,
    org: Annotated[
        str | None,
        typer.Option(help="GitHub org for owners without 'owner.github': @ORG/<team>."),
    ] = None,
) -> None:
    """Print CODEOWNERS lines mapping each contract folder to its owning team."""
    contract_set = load_or_exit(directory)
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], contract_set.root).decode().strip())
    except typer.Exit:
        top = Path.cwd()
    lines = ["# Generated by `dce contracts codeowners`; owners come from contract.yaml."]
    missing = []
    for _, contract in sorted(contract_set.contracts.items()):
        owner = contract.spec.owner.github or (f"@{org}/{contract.team}" if org else None)
        if owner is None:
            missing.append(contract)
            continue
        path = contract.folder.relative_to(top)
        lines.append(f"/{path.as_posix()}/ {owner}")
    if missing:
        for contract in missing:
            err.print(
                f"{contract.folder / 'contract.yaml'}: owner.github is not set; set it "
                "(e.g. '@acme/" + contract.team + "') or pass --org",
                highlight=False,
            )
        raise typer.Exit(code=EXIT_USAGE)
    out.file.write("\n".join(lines) + "\n")
