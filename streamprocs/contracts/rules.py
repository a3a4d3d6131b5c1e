"""CEL rules, compiled once and fed only the top-level fields they read.

A rule's free variables are the event's top-level fields (``captured_cents <=
authorized_cents``). Feeding a rule only those fields, rather than the whole
event as one variable, is ~5x cheaper with the Rust CEL bindings (see
docs/contract-format.md). A rule is not applied to an event that lacks one of
the fields it reads, in the way SQL CHECK constraints pass on NULL: presence
is the schema's job (``required``), value relations are the rule's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import cel

from streamprocs.contracts.cel_native import compile_held, compile_native
from streamprocs.contracts.model import Rule, Severity
from streamprocs.contracts.verdict import Violation

# Macros that bind a name of their own: ``items.all(i, i.qty > 0)`` binds ``i``.
_BOUND_NAME = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


class RuleCompileError(ValueError):
    """A rule's expression does not compile; the message says where and why."""


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    program: Any
    fields: tuple[str, ...]
    # The same expression compiled to Python (see cel_native), when it is in
    # the supported subset: it reads the fields as they are, with no
    # conversion into CEL values, which is most of the Rust path's cost.
    native: Callable[[Mapping[str, Any]], Any] | None = None
    # The violation of an evaluation to false: the same every time, so built once.
    failed: Violation = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        violation = Violation(
            reason="rule",
            rule=self.rule.id,
            path="",
            message=self.rule.message,
            severity=self.rule.severity,
        )
        object.__setattr__(self, "failed", violation)  # frozen: set once, here

    @property
    def id(self) -> str:
        return self.rule.id

    def check(self, event: dict[str, Any]) -> Violation | None:
        """Evaluate on one schema-valid event; ``None`` when the rule holds or does not apply."""
        return check_rules((self,), event)[0]

    def applies(self, present: dict[str, Any]) -> bool:
        return all(name in present for name in self.fields)

    def evaluate(self, present: dict[str, Any], context: Any) -> bool | BaseException | None:
        """Run natively on ``present`` or against a ``cel.Context`` holding the fields:
        the rule's boolean, the exception it raised, or None for a non-boolean result."""
        try:
            native = self.native
            result = native(present) if native is not None else self.program.execute(context)
        except Exception as exc:  # noqa: BLE001 - the binding raises ValueError or RuntimeError  # noqa: BLE001 - any evaluation failure is a verdict, never a crash
            return exc
        return result if isinstance(result, bool) else None

    def verdict(self, outcome: bool | BaseException | None) -> Violation | None:
        if outcome is True:
            return None
        if outcome is False:
            return self.failed
        message = self.rule.message
        if isinstance(outcome, BaseException):
            # The error text can quote values, so only its type is kept.
            message = f"{message} (could not evaluate: {type(outcome).__name__})"
        elif outcome is None:
            message = f"{message} (rule did not return a boolean)"
        return Violation(
            reason="rule", rule=self.rule.id, path="", message=message, severity=self.rule.severity
        )


def _integral_floats_as_ints(value: Any) -> Any:
    """``1.0`` -> ``1``, recursively: JSON Schema calls 1.0 an integer, CEL's int ops do not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    return value


def check_rules(
    rules: tuple[CompiledRule, ...],
    event: dict[str, Any],
    fields: frozenset[str] | None = None,
) -> list[Violation | None]:
    """Evaluate rules on one event; ``fields`` is the union of the fields they read.

    Converting Python values to CEL dominates the Rust path's cost (a list of
    small objects costs ~8 µs per object): rules compiled natively read the
    event as it is, and the others share one context built once, on first need.
    """
    if fields is None:
        fields = frozenset(name for rule in rules for name in rule.fields)
    # The common case: every field any rule reads is there (a C-level subset test).
    complete = fields <= event.keys()
    present: dict[str, Any] = event if complete else {k: event[k] for k in fields if k in event}
    context: Any = None
    retry: dict[str, Any] | None = None
    retry_context: Any = None
    out: list[Violation | None] = []
    for rule in rules:
        if not complete and not rule.applies(present):
            out.append(None)
            continue
        if context is None and rule.native is None:
            context = cel.Context({k: event[k] for k in fields if k in event})
        outcome = rule.evaluate(present, context)
        if isinstance(outcome, BaseException):
            # A schema-valid 1.0 where CEL wants an int: only on this rare path
            # are the values normalised and the rule tried again.
            if retry is None:
                retry = _integral_floats_as_ints({k: event[k] for k in fields if k in event})
            if retry_context is None and rule.native is None:
                retry_context = cel.Context(retry)
            outcome = rule.evaluate(retry, retry_context)
        out.append(rule.verdict(outcome))
    return out


def held_prefix(
    rules: tuple[CompiledRule, ...],
    schema: dict[str, Any] | None = None,
) -> Callable[[dict[str, Any], int], int] | None:
    """A shortcut for the rules that apply to an event, or None when some rule has no
    native form. ``held(event, start)`` returns the index ``i`` of the first rule
    from ``start`` on that neither held nor did not apply, as ``-1 - i`` when it
    evaluated to exactly false (its violation is then ``rules[i].failed``), or
    ``len(rules)``. With ``schema``, it may be called only on events valid against it.

    It is the hot path's shortcut: ``len(rules)`` from 0 means no violation. Else
    the rule at the index is explained (by ``check_rules`` unless it was plainly
    false), and the shortcut resumes after it (a warned event fails a rule or two).
    """
    if not rules or any(rule.native is None for rule in rules):
        return None
    # All rules in one generated function: one call per event instead of one per rule,
    # typed where the schema fixes the types of the fields they read.
    fused = compile_held([rule.rule.expr for rule in rules], [r.fields for r in rules], schema)
    if fused is not None:
        return fused
    checks = tuple(
        (frozenset(rule.fields), cast(Callable[[Mapping[str, Any]], Any], rule.native))
        for rule in rules
    )

    def held(event: dict[str, Any], start: int = 0) -> int:
        n = start
        try:
            keys = event.keys()
            for fields, check in checks[start:]:
                if fields <= keys and (outcome := check(event)) is not True:
                    return -1 - n if outcome is False else n
                n += 1
        except Exception:  # noqa: BLE001 - check_rules turns it into a verdict
            return n
        return n

    return held


def free_variables(program: Any, expr: str) -> list[str]:
    """The names an expression reads from outside, without macro-bound ones."""
    bound = set(_BOUND_NAME.findall(expr))
    return [name for name in program.variables() if name not in bound]


def compile_rule(rule: Rule, known_fields: frozenset[str] | None) -> CompiledRule:
    """Compile one rule; ``known_fields`` are the schema's top-level properties.

    With ``known_fields`` given, a rule reading an undeclared field is an error,
    which catches typos in field names at lint time rather than as a rule that
    silently never applies.
    """
    try:
        program = cel.compile(rule.expr)
    except Exception as exc:
        raise RuleCompileError(f"CEL does not compile: {exc}") from exc
    fields = free_variables(program, rule.expr)
    if known_fields is not None:
        unknown = [name for name in fields if name not in known_fields]
        if unknown:
            raise RuleCompileError(
                f"reads {', '.join(repr(n) for n in unknown)}, which the schema does not declare "
                f"as top-level properties (declared: {', '.join(sorted(known_fields)) or 'none'}); "
                "fix the name or add the property to the schema"
            )
    if not fields:
        raise RuleCompileError(
            "reads no field of the event, so it is constant; reference at least one field"
        )
    return CompiledRule(
        rule=rule, program=program, fields=tuple(fields), native=compile_native(rule.expr)
    )


__all__ = ["CompiledRule", "RuleCompileError", "Severity", "compile_rule", "free_variables"]
