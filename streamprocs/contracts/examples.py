"""A contract's own sample events, checked by lint: producers' executable documentation.

``examples/v<N>.valid.jsonl`` must all pass version N and
``examples/v<N>.invalid.jsonl`` must all fail it, so a contract change that
silently starts accepting (or rejecting) the team's own examples is caught
before merge.
"""

from __future__ import annotations

import re
from pathlib import Path

from streamprocs.contracts.errors import ContractError
from streamprocs.contracts.loader import Contract

EXAMPLE_FILE = re.compile(r"^v([1-9][0-9]*)\.(valid|invalid)\.jsonl$")


def example_files(contract: Contract) -> list[tuple[Path, int, bool]]:
    """(path, version, expected to be valid) for each example file of a contract."""
    folder = contract.folder / "examples"
    out = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            match = EXAMPLE_FILE.match(path.name)
            if match:
                out.append((path, int(match.group(1)), match.group(2) == "valid"))
    return out


def check_examples(contract: Contract, display_root: Path) -> list[ContractError]:
    problems: list[ContractError] = []
    folder = contract.folder / "examples"
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if not EXAMPLE_FILE.match(path.name):
                problems.append(
                    ContractError(
                        str(path.relative_to(display_root)),
                        "",
                        "example files are named v<N>.valid.jsonl or v<N>.invalid.jsonl",
                    )
                )
    for path, version, expect_valid in example_files(contract):
        file = str(path.relative_to(display_root))
        validator = contract.compiled.get(version)
        if validator is None:
            problems.append(
                ContractError(file, "", f"there is no v{version}.yaml to check against")
            )
            continue
        lines = path.read_bytes().splitlines()
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            verdict = validator.check(line)
            if verdict.valid != expect_valid:
                if expect_valid:
                    why = "; ".join(v.message for v in verdict.errors)
                    message = f"should pass v{version} but fails: {why}"
                else:
                    message = f"should fail v{version} but passes"
                problems.append(ContractError(file, f"line {lineno}", message))
    return problems
