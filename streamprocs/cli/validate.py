"""``dce validate``: check JSON Lines events against a contract, offline."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, BinaryIO

import orjson
import typer
from rich.table import Table

from streamprocs.cli.common import EXIT_PROBLEMS, fail, load_or_exit, out
from streamprocs.cli.contracts import DEFAULT_DIR, find_contract, split_ref
from streamprocs.contracts.compiler import CompiledVersion
from streamprocs.contracts.loader import Contract
from streamprocs.contracts.registry import locate, select_version
from streamprocs.contracts.verdict import Verdict

# Human output lists at most this many failing lines; the summary counts all.
MAX_SHOWN = 50


def _judge(contract: Contract, pinned: int | None, raw: bytes) -> tuple[int | None, Verdict]:
    """Pick the version (pinned, named by the event, or the default) and judge the line."""
    if pinned is not None:
        return pinned, contract.compiled[pinned].check(raw)
    source = contract.spec.version_source
    named: str | None = None
    if source.pointer is not None:
        decoded = next(iter(contract.compiled.values())).decode(raw)
        if isinstance(decoded, Verdict):
            return None, decoded
        named = locate(source, {}, decoded)
    chosen: CompiledVersion | Verdict = select_version(contract, named)
    if isinstance(chosen, Verdict):
        return None, chosen
    return chosen.version, chosen.check(raw)


def validate(
    contract_ref: Annotated[
        str,
        typer.Option("--contract", "-c", metavar="ID[@VERSION]", help="Contract to check against."),
    ],
    file: Annotated[
        str, typer.Argument(metavar="[FILE|-]", help="JSON Lines file; '-' or nothing reads stdin.")
    ] = "-",
    directory: Annotated[
        Path, typer.Option("--dir", "-d", help="The contracts directory.")
    ] = DEFAULT_DIR,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON verdict per input line.")
    ] = False,
) -> None:
    """Validate events (one JSON document per line) against a contract. Exit 1 if any is invalid."""
    contract_set = load_or_exit(directory)
    contract_id, pinned = split_ref(contract_ref)
    contract = find_contract(contract_set, contract_id)
    if pinned is not None and pinned not in contract.versions:
        fail(f"{contract_id} has no version {pinned} (has {sorted(contract.versions)})")
    stream: BinaryIO
    if file == "-":
        stream = sys.stdin.buffer
    else:
        try:
            stream = Path(file).open("rb")  # noqa: SIM115 - closed below, stdin must not be
        except OSError as exc:
            fail(f"cannot read {file}: {exc.strerror}")
    counts: Counter[str] = Counter()
    failures: list[tuple[int, int | None, Verdict]] = []
    try:
        for lineno, line in enumerate(stream, start=1):
            raw = line.rstrip(b"\r\n")
            if not raw.strip():
                continue
            version, verdict = _judge(contract, pinned, raw)
            outcome = (
                "invalid" if not verdict.valid else ("warned" if verdict.violations else "valid")
            )
            counts[outcome] += 1
            if as_json:
                record = {
                    "line": lineno,
                    "contract": contract_id,
                    "version": version,
                    "valid": verdict.valid,
                    "violations": [v.as_dict() for v in verdict.violations],
                }
                sys.stdout.buffer.write(orjson.dumps(record) + b"\n")
            elif verdict.violations:
                failures.append((lineno, version, verdict))
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if not as_json:
        _print_human(contract_id, failures, counts)
    if counts["invalid"]:
        raise typer.Exit(code=EXIT_PROBLEMS)


def _print_human(
    contract_id: str, failures: list[tuple[int, int | None, Verdict]], counts: Counter[str]
) -> None:
    if failures:
        table = Table(title=f"{contract_id}: violations and warnings")
        for column in ("line", "version", "severity", "reason", "rule", "path", "message"):
            table.add_column(column)
        for lineno, version, verdict in failures[:MAX_SHOWN]:
            for v in verdict.violations:
                table.add_row(
                    str(lineno),
                    f"v{version}" if version else "-",
                    v.severity.value,
                    v.reason,
                    v.rule,
                    v.path or "/",
                    v.message,
                )
        out.print(table)
        if len(failures) > MAX_SHOWN:
            out.print(f"... and {len(failures) - MAX_SHOWN} more lines with findings")
    total = sum(counts.values())
    colour = "red" if counts["invalid"] else "green"
    out.print(
        f"[{colour}]{total} events: {counts['valid']} valid, {counts['warned']} valid with "
        f"warnings, {counts['invalid']} invalid[/]",
        highlight=False,
    )
