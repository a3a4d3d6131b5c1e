"""Where PII lives in an event (``x-pii: true`` in the schema) and how to hide it."""

from __future__ import annotations

from typing import Any

REDACTED = "<redacted>"
# A path step that stands for every item of an array.
ANY_ITEM = "*"

PiiPath = tuple[str, ...]


def pii_paths(schema: Any) -> frozenset[PiiPath]:
    """Every event path whose value a schema tags ``x-pii: true``.

    Follows ``properties``, ``items``/``prefixItems`` (as ``*``) and the
    combinators, which is where contracts put fields; local ``$ref`` targets are
    followed once so that recursive definitions terminate.
    """
    found: set[PiiPath] = set()
    defs = schema.get("$defs", {}) if isinstance(schema, dict) else {}

    def walk(node: Any, path: PiiPath, seen_refs: frozenset[str]) -> None:
        if not isinstance(node, dict):
            return
        if node.get("x-pii") is True:
            found.add(path)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref not in seen_refs:
            walk(defs.get(ref.removeprefix("#/$defs/")), path, seen_refs | {ref})
        for name, sub in (node.get("properties") or {}).items():
            walk(sub, (*path, name), seen_refs)
        if isinstance(node.get("items"), dict):
            walk(node["items"], (*path, ANY_ITEM), seen_refs)
        for sub in node.get("prefixItems") or []:
            walk(sub, (*path, ANY_ITEM), seen_refs)
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(key) or []:
                walk(sub, path, seen_refs)

    walk(schema, (), frozenset())
    return frozenset(found)


def redact(value: Any, paths: frozenset[PiiPath]) -> Any:
    """A copy of an event with every PII-tagged value replaced by ``<redacted>``."""
    if not paths:
        return value

    def walk(node: Any, path: PiiPath) -> Any:
        if path in paths:
            return REDACTED
        if isinstance(node, dict):
            return {k: walk(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*path, ANY_ITEM)) for v in node]
        return node

    return walk(value, ())
