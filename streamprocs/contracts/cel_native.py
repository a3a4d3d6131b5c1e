"""Compile a subset of CEL to native Python that matches the Rust CEL exactly.

``compile_native(expr)`` returns a function of the event's top-level fields
that computes what ``cel.compile(expr).execute(fields)`` computes (the same
value, or an exception where the Rust CEL raises one), or None when the
expression uses anything outside the supported subset; the caller then keeps
using the Rust CEL. The point is speed: the Rust binding spends most of a
rule's time converting Python values into CEL values (~8 µs per small
object), which native code never does.

How: cel-python's parser gives a Lark tree; ``cel_native_ast`` lowers it into a
small AST, refusing what is unsupported; ``cel_native_codegen`` writes the
source of one Python function, which this module compiles once with
``compile``/``exec`` in a namespace holding only the helpers (operators in
``cel_native_runtime``, functions in ``cel_native_functions``, timestamps and
durations in ``cel_native_time``, ``matches`` in ``cel_native_regex``) and a
few builtins. Nothing from the event is ever evaluated as code: event values
only flow through the helpers.

Rare values that the helpers do not model (ints beyond int64, leap seconds,
macros over maps where the Rust CEL's hash order shows) raise ``FallBack``;
the generated function catches it and evaluates the expression with the Rust
CEL instead, so those stay exact too. docs/cel-native.md lists the subset and
the semantic corners; tests/unit/test_cel_native.py checks both sides agree.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cel
from celpy.celparser import CELParser

from streamprocs.contracts import cel_native_functions as fn
from streamprocs.contracts import cel_native_runtime as rt
from streamprocs.contracts import cel_native_values as values
from streamprocs.contracts.cel_native_ast import Node, Unsupported, lower
from streamprocs.contracts.cel_native_codegen import Gen
from streamprocs.contracts.cel_native_shapes import shape_of

NativeFn = Callable[[Mapping[str, Any]], Any]


@dataclass
class Stats:
    """How often compiled functions handed an evaluation to the Rust CEL (see FallBack)."""

    fallbacks: int = 0


STATS = Stats()

# The generated code's whole world: these names and nothing else (no open, no import).
_BUILTINS = {
    "type": type, "len": len, "list": list, "dict": dict, "str": str, "set": set,
    "Exception": Exception,
}  # fmt: skip
_HELPERS: dict[str, Any] = {
    "_FallBack": values.FallBack,
    "_UNSET": object(),
    "_fail": values.fail,
    "_fall_back": values.fall_back,
    "_truth": rt.truth,
    "_not": rt.not_,
    "_neg": rt.neg,
    "_add": rt.add,
    "_sub": rt.sub,
    "_mul": rt.mul,
    "_div": rt.div,
    "_mod": rt.mod,
    "_eq": rt.eq,
    "_ne": rt.ne,
    "_lt": rt.lt,
    "_le": rt.le,
    "_gt": rt.gt,
    "_ge": rt.ge,
    "_in": rt.in_,
    "_sel": rt.select,
    "_str_fields": rt.str_fields,
    "_has": rt.has,
    "_index": rt.index,
    "_size": rt.size,
    "_startsWith": fn.starts_with,
    "_endsWith": fn.ends_with,
    "_contains": fn.contains,
    "_int": fn.to_int,
    "_double": fn.to_double,
    "_string": fn.to_string,
    "_timestamp": fn.to_timestamp,
    "_duration": fn.to_duration,
    "_export": fn.export,
}

_parser: CELParser | None = None


def _parse(expr: str) -> Node:
    global _parser
    if _parser is None:
        _parser = CELParser()
    return lower(_parser.parse(expr))


def generate_held_source(
    exprs: list[str],
    fields: list[tuple[str, ...]] | None = None,
    schema: dict[str, Any] | None = None,
) -> str | None:
    """The Python source ``compile_held`` would run, for reading and debugging."""
    root = shape_of(schema) if schema is not None else None
    try:
        return Gen(root=root if root is not None and root.kind == "object" else None).held_function(
            [_parse(expr) for expr in exprs], fields
        )
    except Unsupported:
        return None


def generate_source(expr: str) -> str | None:
    """The Python source ``compile_native`` would run, for reading and debugging."""
    try:
        return Gen().function(_parse(expr))
    except Unsupported:
        return None


def compile_held(
    exprs: list[str],
    fields: list[tuple[str, ...]] | None = None,
    schema: dict[str, Any] | None = None,
) -> Callable[[Mapping[str, Any], int], int] | None:
    """One function telling how many of ``exprs``, from the first, evaluate to exactly
    True on the fields or do not apply, or None when one of them is outside the native
    subset. An error, a non-bool or a value the Rust CEL must judge stops the count.
    Its second argument (0 by default) starts the count there instead, skipping the
    expressions before it: it then returns the index of the first that did not hold.
    An expression that evaluated to exactly False at index ``i`` returns ``-1 - i``.

    ``fields`` lists the top-level fields each expression reads: one that lacks any
    does not apply. Without it, the fields must include every field read. With
    ``schema``, the function may be called only on events valid against it, and runs
    typed code where the schema fixes the types (see ``cel_native_shapes``).
    """
    root = shape_of(schema) if schema is not None else None
    gen = Gen(root=root if root is not None and root.kind == "object" else None)
    try:
        nodes = [_parse(expr) for expr in exprs]
        source = gen.held_function(nodes, fields)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            code = compile(source, f"<cel native: {len(exprs)} rules>", "exec")
    except (Unsupported, RecursionError, SyntaxError, MemoryError):
        return None
    except Exception:  # noqa: BLE001 - a cel-python parse error: not in our subset
        return None
    namespace: dict[str, Any] = {"__builtins__": _BUILTINS, **_HELPERS, **gen.consts}
    exec(code, namespace)  # our generated source only; event values never become code
    held: Callable[[Mapping[str, Any], int], int] = namespace["_held"]
    return held


def compile_native(expr: str) -> NativeFn | None:
    """A native function equivalent to the Rust CEL for ``expr``, or None if unsupported.

    The function takes the top-level fields (JSON-decoded values: dict, list,
    str, int, float, bool, None; strings valid Unicode, as orjson guarantees)
    and returns the expression's value, raising an ``Exception`` where the
    Rust CEL raises. Timestamps and durations in a result come back as the
    binding returns them (datetime, timedelta).
    """
    try:
        program = cel.compile(expr)  # the Rust CEL must accept it too, and is the fallback
    except Exception:  # noqa: BLE001 - any compile failure means "not ours to run"
        return None
    gen = Gen()
    try:
        source = gen.function(_parse(expr))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # e.g. "1 is True" from literals
            code = compile(source, f"<cel native: {expr[:60]}>", "exec")
    except (Unsupported, RecursionError, SyntaxError, MemoryError):
        return None
    except Exception:  # noqa: BLE001 - a cel-python parse error: not in our subset
        return None

    def rust(fields: Mapping[str, Any]) -> Any:
        STATS.fallbacks += 1
        return program.execute(dict(fields))

    namespace: dict[str, Any] = {
        "__builtins__": _BUILTINS,
        **_HELPERS,
        **gen.consts,
        "_rust": rust,
    }
    exec(code, namespace)  # our generated source only; event values never become code
    native: NativeFn = namespace["_native"]
    return native


__all__ = ["STATS", "NativeFn", "compile_native", "generate_source"]
