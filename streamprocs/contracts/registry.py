"""Which compiled validator judges an event: contract by topic and discriminator, then version.

Lookups use dictionaries keyed by values precomputed when the set is loaded,
so routing one event is a few dict lookups, not a scan of the contracts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamprocs.contracts.compiler import CompiledVersion
from streamprocs.contracts.loader import Contract
from streamprocs.contracts.model import Locator, Status
from streamprocs.contracts.verdict import Verdict, single

MAX_VERSION_DIGITS = 9


# An RFC 6901 pointer split into its unescaped parts, each with its list index if it has one.
Pointer = tuple[tuple[str, int | None], ...]


def compile_pointer(pointer: str) -> Pointer:
    """Parse a pointer once (``/a~1b/0`` -> ``(("a/b", None), ("0", 0))``) for many reads."""
    parts = []
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        # ASCII digits only (``isdigit`` accepts '²', which ``int()`` refuses).
        index = int(part) if part.isascii() and part.isdigit() and len(part) < 19 else None
        parts.append((part, index))
    return tuple(parts)


def read_pointer(event: Any, pointer: str | Pointer) -> Any:
    """The value at an RFC 6901 pointer, or ``None`` when the event has none there."""
    node = event
    for part, index in compile_pointer(pointer) if isinstance(pointer, str) else pointer:
        if isinstance(node, dict):
            if part not in node:
                return None
            node = node[part]
        elif isinstance(node, list) and index is not None and index < len(node):
            node = node[index]
        else:
            return None
    return node


def pointer_text(event: Any, pointer: str | Pointer) -> str | None:
    """The scalar at a pointer as text (``3`` and ``"3"`` alike), else ``None``."""
    if type(event) is dict and type(pointer) is tuple and len(pointer) == 1:
        # A top-level field (/type, /schema_version): the common case, on the hot path.
        found = event.get(pointer[0][0])
    else:
        found = read_pointer(event, pointer)
    if type(found) is str:
        return found
    if found is None or isinstance(found, dict | list | bool):
        return None
    return str(found)


def locate(locator: Locator, headers: Mapping[str, bytes | None], event: Any) -> str | None:
    """The text a locator points at in a record: a header's value or a field of the event."""
    if locator.header is not None:
        value = headers.get(locator.header)
        return value.decode("utf-8", "replace") if value is not None else None
    assert locator.pointer is not None  # the model guarantees exactly one
    return pointer_text(event, locator.pointer)


def parse_version(text: str) -> int | None:
    """``3``, ``v3`` and ``3.0`` all name version 3; anything else names none."""
    text = text.strip().lower().removeprefix("v")
    if text.endswith(".0"):
        text = text[:-2]
    # ASCII digits only (``isdigit`` accepts '²'), and few of them: a version
    # named by a producer must never make ``int()`` raise.
    if not (0 < len(text) <= MAX_VERSION_DIGITS and text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number > 0 else None


def select_version(contract: Contract, named: str | None) -> CompiledVersion | Verdict:
    """The version that judges an event naming ``named`` (``None``: names none)."""
    if named is None:
        number = contract.default_version()
        if number is None:
            return single("retired_version", f"{contract.id}: every version is retired")
    else:
        parsed = parse_version(named)
        if parsed is None or parsed not in contract.compiled:
            known = ", ".join(str(n) for n in sorted(contract.compiled))
            return single(
                "unknown_version",
                f"{contract.id} has no version {named[:40]!r} (known: {known})",
            )
        number = parsed
    compiled = contract.compiled[number]
    if compiled.status is Status.RETIRED:
        return single("retired_version", f"{contract.id} v{number} is retired")
    return compiled
