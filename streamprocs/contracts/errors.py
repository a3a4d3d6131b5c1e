"""Errors about contract files: each names the file, the field and what to do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ContractError:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "field": self.field, "message": self.message}


class ContractSetError(Exception):
    """A contract set that cannot be used, with every problem found, not just the first."""

    def __init__(self, errors: Sequence[ContractError]) -> None:
        self.errors = list(errors)
        super().__init__(
            f"{len(self.errors)} problem(s) in the contracts:\n"
            + "\n".join(f"  {e}" for e in self.errors)
        )


def field_path(loc: Sequence[str | int]) -> str:
    """``("bindings", 0, "topic")`` -> ``bindings[0].topic``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
