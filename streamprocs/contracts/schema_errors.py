"""Turning jsonschema-rs errors into violations whose messages quote no event value.

jsonschema-rs messages quote the offending instance (``-1 is less than the
minimum of 0``, or a whole object for a ``type`` error), which would leak
PII-tagged values into logs and dead-letter headers. So messages are rebuilt
here from the failing keyword and the *schema's* value at that keyword, never
from the event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from streamprocs.contracts.verdict import Violation


def pointer(parts: Iterable[str | int]) -> str:
    """RFC 6901 JSON pointer for a sequence of keys and indexes."""
    out = []
    for part in parts:
        out.append("/" + str(part).replace("~", "~0").replace("/", "~1"))
    return "".join(out)


def _schema_at(schema: Any, schema_path: Sequence[str | int]) -> Any:
    node = schema
    for part in schema_path:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        else:
            return None
    return node


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(keyword: str, expected: Any, kind: Any) -> str:
    """A sentence about what the schema expects at a keyword, without the event value."""
    match keyword:
        case "type":
            return f"must be of type {_short(expected)}"
        case "required":
            missing = getattr(kind, "property", None)
            return f"required property {missing!r} is missing"
        case "additionalProperties" | "unevaluatedProperties":
            unexpected = getattr(kind, "unexpected", None)
            names = ", ".join(repr(n) for n in unexpected) if unexpected else "some properties"
            return f"property {names} is not allowed here"
        case "minimum":
            return f"must be >= {expected}"
        case "maximum":
            return f"must be <= {expected}"
        case "exclusiveMinimum":
            return f"must be > {expected}"
        case "exclusiveMaximum":
            return f"must be < {expected}"
        case "multipleOf":
            return f"must be a multiple of {expected}"
        case "minLength":
            return f"must be at least {expected} characters long"
        case "maxLength":
            return f"must be at most {expected} characters long"
        case "minItems":
            return f"must have at least {expected} items"
        case "maxItems":
            return f"must have at most {expected} items"
        case "uniqueItems":
            return "items must be unique"
        case "minProperties":
            return f"must have at least {expected} properties"
        case "maxProperties":
            return f"must have at most {expected} properties"
        case "pattern":
            return f"must match the pattern {_short(expected)}"
        case "format":
            return f"must be a valid {expected}"
        case "enum":
            return f"must be one of {_short(expected)}"
        case "const":
            return f"must equal {_short(expected)}"
        case "oneOf":
            return "must match exactly one of the alternatives in 'oneOf'"
        case "anyOf":
            return "must match at least one of the alternatives in 'anyOf'"
        case "not":
            return "must not match the schema in 'not'"
        case "contains":
            return "must contain an item matching 'contains'"
        case "false":
            return "no value is allowed here"
        case _:
            return f"fails the schema keyword {keyword!r}"


def to_violation(error: Any, schema: dict[str, Any]) -> Violation:
    """Build a violation from one jsonschema-rs ``ValidationError``."""
    schema_path: list[str | int] = list(error.schema_path)
    instance_path: list[str | int] = list(error.instance_path)
    expected = _schema_at(schema, schema_path)
    keyword = next((p for p in reversed(schema_path) if isinstance(p, str)), "false")
    # A ``false`` subschema fails at its own location: the last path step is then
    # a property name or a container keyword, not the keyword that failed.
    if expected is False or keyword in ("properties", "items", "prefixItems", "$ref"):
        keyword = "false"
    kind = error.kind
    if keyword == "required" and getattr(kind, "property", None) is not None:
        # Point at the missing field itself: that is what people search for.
        instance_path = [*instance_path, str(kind.property)]
    path = pointer(instance_path)
    return Violation(
        reason="schema",
        rule=f"schema.{keyword}",
        path=path,
        message=f"{path or '/'}: {_describe(keyword, expected, kind)}",
    )
