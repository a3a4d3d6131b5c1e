"""A contract version compiled once into a validator: bytes in, verdict out.

The validator never raises, whatever the bytes: every failure is a verdict.
Size and nesting limits are checked before parsing so that a hostile record
costs at most one pass over its bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs
import orjson

from streamprocs.contracts.model import Status, VersionFile
from streamprocs.contracts.pii import PiiPath, pii_paths
from streamprocs.contracts.rules import CompiledRule, check_rules, compile_rule, held_prefix
from streamprocs.contracts.schema_errors import to_violation
from streamprocs.contracts.verdict import VALID, Verdict, Violation, single

DEFAULT_MAX_BYTES = 1024 * 1024
# Distinct sets of failed rules whose shared verdict a version keeps.
MAX_CACHED_VERDICTS = 64
DEFAULT_MAX_DEPTH = 64

# The bytes that matter for nesting: brackets, and what starts, ends or escapes a string.
_STRUCTURAL = re.compile(rb'[\[\]{}"\\]')
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPENERS = frozenset(b"[{")
_CLOSERS = frozenset(b"]}")


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH


def nesting_depth_exceeds(raw: bytes, max_depth: int) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``max_depth``, without parsing.

    The common case costs two C-level counts: fewer brackets than the limit
    cannot nest deeper than it. Only otherwise are the structural bytes walked,
    skipping brackets inside strings.
    """
    if raw.count(b"{") + raw.count(b"[") <= max_depth:
        return False
    # One linear pass over the structural bytes only; a regex over whole
    # strings would backtrack quadratically on hostile unterminated strings.
    depth = 0
    in_string = False
    escaped = -1  # position of a byte escaped by the backslash before it
    for match in _STRUCTURAL.finditer(raw):
        pos = match.start()
        if pos == escaped:
            continue
        byte = raw[pos]
        if in_string:
            if byte == _BACKSLASH:
                escaped = pos + 1
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            if depth > max_depth:
                return True
        elif byte in _CLOSERS:
            depth -= 1
    return False


def nests_deeper(value: Any, max_depth: int) -> bool:
    """Whether a parsed JSON value nests arrays/objects deeper than ``max_depth``.

    The same count as ``nesting_depth_exceeds`` on the value's text: the
    outermost array or object is level 1. Walks containers only, stopping at
    the first one past the limit.
    """
    stack = [(value, 1)] if type(value) is dict or type(value) is list else []
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


def decode(raw: bytes, limits: Limits) -> Any:
    """Parse a record value, or return the ``Verdict`` that explains why it cannot be.

    Callers tell the two apart with ``isinstance(result, Verdict)``: no JSON
    document parses to a ``Verdict``. The nesting limit is checked on the
    parsed value, and only when the text has more brackets than the limit
    (which fewer cannot exceed): on the text it would cost a Python-level walk
    of every string of such records (orjson itself refuses nesting past 1024,
    and its parse is linear, so a hostile record still costs one pass).
    """
    if len(raw) > limits.max_bytes:
        return single(
            "too_large", f"event is {len(raw)} bytes, over the limit of {limits.max_bytes}"
        )
    max_depth = limits.max_depth
    try:
        value = orjson.loads(raw)
    except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
        if nesting_depth_exceeds(raw, max_depth):
            return _too_deep(max_depth)
        # orjson's message names a position and a reason, never the content.
        return single("decode", f"not valid UTF-8 JSON: {str(exc)[:200]}")
    if raw.count(b"{") + raw.count(b"[") > max_depth and nests_deeper(value, max_depth):
        return _too_deep(max_depth)
    return value


def _too_deep(max_depth: int) -> Verdict:
    return single("too_deep", f"event nests deeper than the limit of {max_depth}")


class SchemaCompileError(ValueError):
    """The version's JSON Schema is not usable; the message says why."""


@dataclass(slots=True)
class CompiledVersion:
    contract_id: str
    version: int
    status: Status
    schema: dict[str, Any]
    rules: tuple[CompiledRule, ...]
    limits: Limits
    pii: frozenset[PiiPath]
    _validator: Any = field(repr=False)
    # Every top-level field some rule reads.
    rule_fields: frozenset[str] = frozenset()
    # The index of the first rule, from a start, that did not hold (see rules.held_prefix).
    # Called only on schema-valid events: it may rely on the types the schema fixes.
    _held: Callable[[dict[str, Any], int], int] | None = field(default=None, repr=False)
    # Verdicts by the rules that were plainly false (bounded: see check_value).
    _verdicts: dict[tuple[int, ...], Verdict] = field(default_factory=dict, repr=False)

    def check(self, raw: bytes) -> Verdict:
        """Judge one record value. Never raises."""
        decoded = self.decode(raw)
        if isinstance(decoded, Verdict):
            return decoded
        return self.check_value(decoded)

    def decode(self, raw: bytes) -> Any:
        """Parse a record value, or return the verdict that explains why it cannot be."""
        return decode(raw, self.limits)

    def check_value(self, event: Any) -> Verdict:
        """Judge an already-parsed event. Never raises."""
        try:
            if not self._validator.is_valid(event):
                return Verdict(
                    tuple(to_violation(e, self.schema) for e in self._validator.iter_errors(event))
                )
            if not self.rules or not isinstance(event, dict):
                return VALID
            rules = self.rules
            held = self._held
            if held is None:
                every = [v for v in check_rules(rules, event, self.rule_fields) if v is not None]
                return Verdict(tuple(every)) if every else VALID
            count = len(rules)
            n = held(event, 0)
            if n == count:
                return VALID
            found: list[Violation] = []
            plainly_false: list[int] | None = []  # None once a failure needed check_rules
            while n != count:
                if n < 0:  # rule i evaluated to false: its violation is always the same
                    i = -1 - n
                    found.append(rules[i].failed)
                    if plainly_false is not None:
                        plainly_false.append(i)
                else:
                    # An error or a value the shortcut leaves to the Rust CEL: check_rules
                    # says why (or that the rule holds after all).
                    i = n
                    violation = check_rules((rules[i],), event)[0]
                    if violation is not None:
                        found.append(violation)
                        plainly_false = None
                n = held(event, i + 1)  # the shortcut goes on after it
            if not found:
                return VALID
            if plainly_false is None:
                return Verdict(tuple(found))
            # Events failing the same warn rules share one verdict (and so one routing
            # decision): warnings are common, a fifth of the default benchmark mix.
            key = tuple(plainly_false)
            verdict = self._verdicts.get(key)
            if verdict is None:
                verdict = Verdict(tuple(found))
                if len(self._verdicts) < MAX_CACHED_VERDICTS:
                    self._verdicts[key] = verdict
            return verdict
        except Exception as exc:  # noqa: BLE001 - a validator bug must not stop the stream
            return Verdict(
                (
                    Violation(
                        reason="schema",
                        rule="schema.internal",
                        path="",
                        message=f"validator failed: {type(exc).__name__}",
                    ),
                )
            )


def compile_schema(schema: dict[str, Any]) -> Any:
    """A jsonschema-rs validator asserting ``format``, refusing remote references."""
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as exc:
        where = "/" + "/".join(str(p) for p in exc.instance_path)
        raise SchemaCompileError(
            f"not a valid JSON Schema (draft 2020-12) at {where}: {exc.message}"
        ) from exc
    except Exception as exc:
        raise SchemaCompileError(f"not a valid JSON Schema: {exc}") from exc
    try:
        return jsonschema_rs.Draft202012Validator(schema, validate_formats=True, offline=True)
    except Exception as exc:
        raise SchemaCompileError(f"JSON Schema does not compile: {exc}") from exc


def top_level_properties(schema: dict[str, Any]) -> frozenset[str]:
    props = schema.get("properties")
    return frozenset(props) if isinstance(props, dict) else frozenset()


def compile_version(
    contract_id: str, version: VersionFile, limits: Limits | None = None
) -> CompiledVersion:
    """Compile one version; raises ``SchemaCompileError`` or ``RuleCompileError``."""
    schema = version.schema_
    validator = compile_schema(schema)
    known = top_level_properties(schema)
    rules = tuple(compile_rule(rule, known) for rule in version.rules)
    return CompiledVersion(
        contract_id=contract_id,
        version=version.version,
        status=version.status,
        schema=schema,
        rules=rules,
        limits=limits or Limits(),
        pii=pii_paths(schema),
        _validator=validator,
        rule_fields=frozenset(name for rule in rules for name in rule.fields),
        _held=held_prefix(rules, schema),
    )
