"""Python source for one CEL expression, from the AST of ``cel_native_ast``.

``Gen().function(node)`` returns the source of ``def _native(V): ...``, which
reads the top-level fields from ``V`` and calls the helpers that
``cel_native`` puts in its namespace (``_add``, ``_eq``, ``_sel``, ...). Strict
operators become nested calls; ``&&``, ``||``, ``? :`` and macros become
statements (try blocks, ifs, for loops) emitted before the expression that
uses their result, in the same lazy context as in CEL.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, cast

from streamprocs.contracts.cel_native_ast import (
    Binary,
    Call,
    Cond,
    Has,
    Ident,
    Index,
    ListLit,
    Lit,
    Logic,
    Macro,
    MapLit,
    Node,
    Select,
    Unary,
    Unsupported,
    names,
)
from streamprocs.contracts.cel_native_functions import to_duration, to_timestamp
from streamprocs.contracts.cel_native_regex import compile_matcher
from streamprocs.contracts.cel_native_shapes import (
    BOOL,
    DURATION,
    EXACT,
    STR,
    TIMESTAMP,
    Shape,
    int_shape,
)
from streamprocs.contracts.cel_native_values import CelError, FallBack

_BINARY = {
    "+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "%": "_mod", "==": "_eq", "!=": "_ne",
    "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge", "in": "_in",
}  # fmt: skip
# Results that are always a bool (or an error), so need no conversion on the way out.
_BOOL_CALLS = frozenset({"startsWith", "endsWith", "contains", "matches"})
_BOOL_BINARY = frozenset({"==", "!=", "<", "<=", ">", ">=", "in"})
_ORDER = frozenset({"<", "<=", ">", ">="})
_ARITHMETIC = frozenset({"+", "-", "*"})

# A local name or a top-level field read: cheap and pure, so it may appear twice in code.
_SIMPLE = re.compile(r"(?!(?:True|False|None)\b)[A-Za-z_]\w*|V\['\w+'\]")


def _chain(node: Logic) -> list[Node]:
    """The operands of a chain of the same logical operator, in order."""
    out: list[Node] = []
    for side in (node.left, node.right):
        if isinstance(side, Logic) and side.op == node.op:
            out.extend(_chain(side))
        else:
            out.append(side)
    return out


def _is_bool(node: Node) -> bool:
    if isinstance(node, Logic | Has):
        return True
    if isinstance(node, Unary):
        return node.op == "!"
    if isinstance(node, Binary):
        return node.op in _BOOL_BINARY
    if isinstance(node, Call):
        return node.name in _BOOL_CALLS
    if isinstance(node, Macro):
        return node.kind in ("all", "exists", "exists_one")
    if isinstance(node, Cond):
        return _is_bool(node.then) and _is_bool(node.other)
    return isinstance(node, Lit) and type(node.value) is bool


def _operands(node: Unary | Binary) -> tuple[Node, ...]:
    return (node.operand,) if isinstance(node, Unary) else (node.left, node.right)


def _unique_field(node: Macro) -> str | None:
    """``f`` when ``node`` is ``R.all(x, R.exists_one(y, y.f == x.f))`` (sides in either
    order, the same range ``R`` not mentioning ``x`` or ``y``), else None."""
    inner = node.pred
    if node.kind != "all" or not isinstance(inner, Macro) or inner.kind != "exists_one":
        return None
    if inner.range != node.range or inner.var == node.var:
        return None
    if names(node.range) & {node.var, inner.var}:
        return None
    pred = inner.pred
    if not (isinstance(pred, Binary) and pred.op == "=="):
        return None
    sides = (pred.left, pred.right)
    if not all(isinstance(side, Select) and isinstance(side.target, Ident) for side in sides):
        return None
    left, right = cast(tuple[Select, Select], sides)
    if left.field != right.field:
        return None
    variables = {cast(Ident, left.target).name, cast(Ident, right.target).name}
    return left.field if variables == {node.var, inner.var} else None


class Gen:
    """Generates one function body. ``expr`` returns a Python expression for a node and
    may first emit statements (for ``&&``, ``||``, ``? :`` and macros) that it relies on."""

    def __init__(self, first_name: int = 0, root: Shape | None = None) -> None:
        # With a root shape (the schema's, see cel_native_shapes), the code may assume a
        # schema-valid event holding every top-level field it reads: typed operations
        # become plain Python operators. Without one, every operation is checked.
        self.root = root
        # Top-level fields known to be there (typed code only): the schema's required ones
        # and those held_function checks for before the expression runs.
        self.present: frozenset[str] = root.required if root is not None else frozenset()
        self.var_shapes: dict[str, Shape | None] = {}  # macro variable (local) -> shape
        self.lines: list[str] = []
        self.depth = 2  # inside "def" and "try"
        # Temporaries are numbered from here: several expressions can share one function.
        self.count = first_name
        self.consts: dict[str, Any] = {}
        self.memos: list[str] = []
        self.loops = 0  # how many macro loops enclose the code being generated

    def tmp(self, prefix: str = "_t") -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, value: Any) -> str:
        name = self.tmp("_k")
        self.consts[name] = value
        return name

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self.emit(header)
        self.depth += 1
        mark = len(self.lines)
        yield
        if len(self.lines) == mark:
            self.emit("pass")
        self.depth -= 1

    @contextmanager
    def loop(self, header: str) -> Iterator[None]:
        self.loops += 1
        with self.block(header):
            yield
        self.loops -= 1

    def assign(self, node: Node, scope: dict[str, str], target: str) -> None:
        self.emit(f"{target} = {self.expr(node, scope)}")

    # ----------------------------------------------------------------- shapes

    def shape(self, node: Node, scope: dict[str, str]) -> Shape | None:
        """The shape the node's value has on every schema-valid event, if known."""
        if self.root is None:
            return None
        if isinstance(node, Lit):
            v = node.value
            if type(v) is bool:
                return BOOL
            if type(v) is int:
                return int_shape(v, v)
            return STR if type(v) is str else None
        if isinstance(node, Ident):
            local = scope.get(node.name)
            return self.var_shapes.get(local) if local else self.root.field(node.name)
        if isinstance(node, Select):
            target = self.shape(node.target, scope)
            return target.field(node.field) if target and target.kind == "object" else None
        if isinstance(node, Has):
            target = self.shape(node.target, scope)
            return BOOL if target and target.kind == "object" else None
        if isinstance(node, Unary):
            operand = self.shape(node.operand, scope)
            if operand is None:
                return None
            if node.op == "!":
                return BOOL if operand.kind == "bool" else None
            return int_shape(-operand.hi, -operand.lo) if operand.kind == "int" else None
        if isinstance(node, Binary):
            return self._binary_shape(node, scope)
        if isinstance(node, Logic):
            return BOOL if all(self.shape(n, scope) == BOOL for n in _chain(node)) else None
        if isinstance(node, Macro) and node.kind in ("all", "exists", "exists_one"):
            rng = self.shape(node.range, scope)
            return BOOL if rng and rng.kind == "array" else None
        if isinstance(node, Call) and node.name == "size" and len(node.args) == 1:
            # A list's length, or a string's in code points (as Python's len counts).
            arg = self.shape(node.args[0], scope)
            return int_shape(0, EXACT) if arg and arg.kind in ("array", "str") else None
        if (
            isinstance(node, Call)
            and node.name in ("timestamp", "duration")
            and len(node.args) == 1
            and self.shape(node.args[0], scope) == STR
        ):
            # The value, or an error for a string that does not parse.
            return TIMESTAMP if node.name == "timestamp" else DURATION
        return None

    def _binary_shape(self, node: Binary, scope: dict[str, str]) -> Shape | None:
        a, b = self.shape(node.left, scope), self.shape(node.right, scope)
        if a is None or b is None or a.kind != b.kind:
            return None
        if a.kind == "timestamp" and node.op == "-":
            return DURATION
        if node.op in _ARITHMETIC:
            if a.kind != "int":
                return None
            if node.op == "+":
                return int_shape(a.lo + b.lo, a.hi + b.hi)
            if node.op == "-":
                return int_shape(a.lo - b.hi, a.hi - b.lo)
            products = (a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)
            return int_shape(min(products), max(products))
        if node.op in _ORDER:
            return BOOL if a.kind in ("int", "str", "timestamp", "duration") else None
        if node.op in ("==", "!="):
            return BOOL if a.kind in ("int", "str", "bool", "timestamp", "duration") else None
        return None

    def safe(self, node: Node, scope: dict[str, str]) -> bool:
        """Whether the node cannot raise on a schema-valid event (typed code only)."""
        if self.root is None:
            return False
        if isinstance(node, Lit):
            return True
        if isinstance(node, Ident):
            return node.name in scope or node.name in self.present
        if isinstance(node, Select | Has):
            target = self.shape(node.target, scope)
            if target is None or target.kind != "object" or not self.safe(node.target, scope):
                return False
            return isinstance(node, Has) or node.field in target.required
        if isinstance(node, Unary | Binary):
            return self.shape(node, scope) is not None and all(
                self.safe(child, scope) for child in _operands(node)
            )
        if isinstance(node, Logic):
            return all(self.shape(n, scope) == BOOL and self.safe(n, scope) for n in _chain(node))
        return False

    # ----------------------------------------------------------------- nodes

    def expr(self, node: Node, scope: dict[str, str]) -> str:
        method: Callable[[Any, dict[str, str]], str] = getattr(self, "gen_" + type(node).__name__)
        if self.loops and not isinstance(node, Lit | Ident) and not names(node) & scope.keys():
            # Inside a macro but independent of every macro variable, such as
            # timestamp(occurred_at) in consents.all(c, timestamp(c.at) <= timestamp(occurred_at)):
            # computed on first use, then reused for the rest of the call. First use is where
            # the Rust CEL evaluates it too, and a failed evaluation is not kept, so the next
            # use fails again: errors and their absorption by && and || stay the same.
            memo = self.tmp("_m")
            self.memos.append(memo)
            with self.block(f"if {memo} is _UNSET:"):
                self.emit(f"{memo} = {method(node, scope)}")
            return memo
        return method(node, scope)

    def gen_Lit(self, node: Lit, scope: dict[str, str]) -> str:
        v = node.value
        if type(v) is float and not math.isfinite(v):
            return self.const(v)
        return repr(v)

    def gen_Ident(self, node: Ident, scope: dict[str, str]) -> str:
        # A missing top-level field is a KeyError: an error, as in the Rust CEL.
        return scope.get(node.name) or f"V[{node.name!r}]"

    def simple(self, code: str) -> str:
        """``code`` if it is a name or a field read (cheap, pure), else a temp holding its
        value, assigned first. Hoisting is safe for strict operands: if any of them fails
        the whole expression fails, whichever is evaluated first."""
        if _SIMPLE.fullmatch(code):
            return code
        name = self.tmp()
        self.emit(f"{name} = {code}")
        return name

    def gen_Select(self, node: Select, scope: dict[str, str]) -> str:
        # Inlined, as field reads are the commonest operation: a dict lookup or _sel's error.
        target = self.shape(node.target, scope)
        if target is not None and target.kind == "object":
            return f"{self.expr(node.target, scope)}[{node.field!r}]"  # absent: KeyError
        t = self.simple(self.expr(node.target, scope))
        return f"({t}[{node.field!r}] if type({t}) is dict else _sel({t}, {node.field!r}))"

    def gen_Has(self, node: Has, scope: dict[str, str]) -> str:
        target = self.shape(node.target, scope)
        if target is not None and target.kind == "object":
            return f"({node.field!r} in {self.expr(node.target, scope)})"
        return f"_has({self.expr(node.target, scope)}, {node.field!r})"

    def gen_Index(self, node: Index, scope: dict[str, str]) -> str:
        return f"_index({self.expr(node.target, scope)}, {self.expr(node.index, scope)})"

    def gen_ListLit(self, node: ListLit, scope: dict[str, str]) -> str:
        return "[" + "".join(self.expr(item, scope) + ", " for item in node.items) + "]"

    def gen_MapLit(self, node: MapLit, scope: dict[str, str]) -> str:
        parts = [f"{self.expr(k, scope)}: {self.expr(v, scope)}" for k, v in node.entries]
        return "{" + ", ".join(parts) + "}"

    def gen_Unary(self, node: Unary, scope: dict[str, str]) -> str:
        if self.shape(node, scope) is not None:
            return f"({'not ' if node.op == '!' else '-'}{self.expr(node.operand, scope)})"
        return f"{'_not' if node.op == '!' else '_neg'}({self.expr(node.operand, scope)})"

    def gen_Binary(self, node: Binary, scope: dict[str, str]) -> str:
        shape = self.shape(node, scope)
        if shape is not None and self.shape(node.left, scope) == DURATION:
            # Durations compare by their nanoseconds.
            return f"({self._ns(node.left, scope)} {node.op} {self._ns(node.right, scope)})"
        left = self.expr(node.left, scope)
        right = self.expr(node.right, scope)
        if shape is not None:
            if self.shape(node.left, scope) == TIMESTAMP:
                if shape == DURATION:
                    return f"_sub({left}, {right})"
                # Instants compare by (seconds, nanoseconds); the offset is not part of one.
                a, b = self.simple(left), self.simple(right)
                return f"(({a}.sec, {a}.ns) {node.op} ({b}.sec, {b}.ns))"
            # Both sides of one shape: ints within +-2^53 (no overflow, integral floats
            # exact), strings or bools. Python's operator is CEL's there.
            return f"({left} {node.op} {right})"
        if node.op in ("==", "!="):
            literal = self._plain_equality(node, left, right)
            if literal is not None:
                return literal
            # Two strings (skus, purposes, types) are the common case: compared inline.
            a, b = self.simple(left), self.simple(right)
            op, helper = ("==", "_eq") if node.op == "==" else ("!=", "_ne")
            return (
                f"({a} {op} {b} if type({a}) is str and type({b}) is str else {helper}({a}, {b}))"
            )
        return f"{_BINARY[node.op]}({left}, {right})"

    def _ns(self, node: Node, scope: dict[str, str]) -> str:
        """The nanoseconds of a duration-shaped node; of ``a - b`` (two timestamps)
        without building the Duration."""
        if isinstance(node, Binary) and node.op == "-":
            a = self.simple(self.expr(node.left, scope))
            b = self.simple(self.expr(node.right, scope))
            return f"(({a}.sec - {b}.sec) * 1000000000 + ({a}.ns - {b}.ns))"
        return f"{self.simple(self.expr(node, scope))}.ns"

    @staticmethod
    def _plain_equality(node: Binary, left: str, right: str) -> str | None:
        """``x == 'card'``, ``x == null``, ``x == true`` as plain Python: CEL equality with a
        string, null or bool literal is Python's ``==``/``is`` for every JSON value."""
        for lit, other_node, other in (
            (node.right, node.left, left),
            (node.left, node.right, right),
        ):
            if isinstance(other_node, Lit):
                continue  # two literals: left to _eq (Python warns about "1 is True")
            if isinstance(lit, Lit) and type(lit.value) in (str, bool, type(None)):
                if type(lit.value) is str:
                    op = "==" if node.op == "==" else "!="
                    return f"({other} {op} {lit.value!r})"
                op = "is" if node.op == "==" else "is not"
                return f"({other} {op} {lit.value!r})"
        return None

    def gen_Logic(self, node: Logic, scope: dict[str, str]) -> str:
        # Both orders absorb an error: false && error and error && false are false, as are
        # non-bool operands (1 && false is false); only the decisive value short-circuits.
        # That makes a && b && c simply "false if any operand is false, else an error if
        # any failed, else true", evaluated left to right until the first false; so a chain
        # is generated flat, which keeps long chains within Python's block nesting limit.
        if self.safe(node, scope):
            # Bools that cannot fail: no error to absorb, so Python's and/or is CEL's,
            # provided no operand needs statements (they would run unconditionally).
            mark = len(self.lines)
            operands = [self.expr(n, scope) for n in _chain(node)]
            if len(self.lines) == mark:
                return "(" + f" {'and' if node.op == '&&' else 'or'} ".join(operands) + ")"
            del self.lines[mark:]
        decisive, other = ("False", "True") if node.op == "&&" else ("True", "False")
        undecided, failed, value = self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{undecided} = True")
        self.emit(f"{failed} = False")
        for i, operand in enumerate(_chain(node)):
            with self.block(f"if {undecided}:") if i else nullcontext():
                with self.block("try:"):
                    self.assign(operand, scope, value)
                with self.block("except Exception:"):
                    self.emit(f"{value} = None")
                with self.block(f"if {value} is {decisive}:"):
                    self.emit(f"{undecided} = False")
                with self.block(f"elif {value} is not {other}:"):
                    self.emit(f"{failed} = True")
        with self.block(f"if {failed} and {undecided}:"):
            self.emit("_fail('logical operand is an error or not a bool')")
        return f"({other} if {undecided} else {decisive})"

    def gen_Cond(self, node: Cond, scope: dict[str, str]) -> str:
        cond, out = self.tmp(), self.tmp()
        self.assign(node.cond, scope, cond)
        with self.block(f"if {cond} is True:"):
            self.assign(node.then, scope, out)
        with self.block(f"elif {cond} is False:"):
            self.assign(node.other, scope, out)
        with self.block("else:"):
            self.emit("_fail('condition is not a bool')")
        return out

    def gen_Call(self, node: Call, scope: dict[str, str]) -> str:
        if node.name in ("timestamp", "duration"):
            folded = self._fold_time(node)
            if folded is not None:
                return folded
        if node.name == "size" and self.shape(node, scope) is not None:
            return f"len({self.expr(node.args[0], scope)})"
        args = [self.expr(a, scope) for a in node.args]
        if node.name == "matches":
            pattern = node.args[1]
            assert isinstance(pattern, Lit)
            matcher = compile_matcher(pattern.value)
            if matcher is None:
                raise Unsupported("regex outside the subset shared by RE2 and Rust")
            text = self.tmp()
            return (
                f"({self.const(matcher)}({text}) if type({text} := {args[0]}) is str else _fail())"
            )
        return f"_{node.name}({', '.join(args)})"

    def _fold_time(self, node: Call) -> str | None:
        """``duration('168h')``, ``timestamp('...')`` of a literal: parsed once, here."""
        arg = node.args[0]
        if not (isinstance(arg, Lit) and type(arg.value) is str):
            return None
        parse = to_timestamp if node.name == "timestamp" else to_duration
        try:
            return self.const(parse(arg.value))
        except (CelError, FallBack):
            return None  # left to run time, which raises (or falls back) on every call

    def gen_Macro(self, node: Macro, scope: dict[str, str]) -> str:
        rng, out = self.tmp(), self.tmp()
        var = self.tmp("_v")
        inner = {**scope, node.var: var}
        self.assign(node.range, scope, rng)
        shape = self.shape(node.range, scope)
        listed = shape is not None and shape.kind == "array"
        if listed:
            assert shape is not None
            self.var_shapes[var] = shape.items
        unique = _unique_field(node)
        if unique is not None:
            # The idiom for "no two items share a field", quadratic as written: when
            # every item is a map holding a string there it cannot fail, and is a set
            # size comparison; anything else takes the general loop below.
            vals = self.tmp()
            fast = f"type({rng}) is list and ({vals} := _str_fields({rng}, {unique!r})) is not None"
            with self.block(f"if {fast}:"):
                self.emit(f"{out} = len(set({vals})) == len({vals})")
            with self.block("else:"):
                if listed:
                    self._loop(node, inner, rng, var, out)
                else:
                    self._macro(node, inner, rng, var, out)
            return out
        if listed and node.kind in ("all", "exists", "exists_one"):
            self._loop(node, inner, rng, var, out)  # the schema says a list: no other case
        else:
            self._macro(node, inner, rng, var, out)
        return out

    def _macro(self, node: Macro, inner: dict[str, str], rng: str, var: str, out: str) -> None:
        not_iterable = f"type({rng}) is not list and type({rng}) is not dict"
        if node.kind == "exists_one":
            # It never stops early (an error anywhere is the answer), so key order is moot.
            with self.block(f"if {not_iterable}:"):
                self.emit("_fail('macro range must be a list or a map')")
            self._loop(node, inner, rng, var, out)
            return
        with self.block(f"if type({rng}) is dict and len({rng}) > 1:"):
            if node.kind in ("all", "exists"):
                self._dict_quantifier(node, inner, rng, var, out)
            else:
                # map/filter list a map's keys in the Rust CEL's hash order, which varies.
                self.emit("_fall_back()")
        with self.block(f"elif {not_iterable}:"):
            self.emit("_fail('macro range must be a list or a map')")
        with self.block("else:"):
            self._loop(node, inner, rng, var, out)

    def _predicate(self, node: Macro, scope: dict[str, str]) -> str:
        assert node.pred is not None
        pred = self.tmp()
        self.assign(node.pred, scope, pred)
        return pred

    def _loop(self, node: Macro, scope: dict[str, str], rng: str, var: str, out: str) -> None:
        kind = node.kind
        if kind in ("all", "exists"):
            # Sequential with short-circuit, as the Rust CEL: the first decisive value or
            # the first error wins ([0, 2].all(i, 1/i == 5) is an error, not false).
            decisive, other = ("False", "True") if kind == "all" else ("True", "False")
            self.emit(f"{out} = {other}")
            assert node.pred is not None
            if self.shape(node.pred, scope) == BOOL and self.safe(node.pred, scope):
                # A bool that cannot fail: only its value matters.
                with self.loop(f"for {var} in {rng}:"):
                    pred = self._predicate(node, scope)
                    with self.block(f"if {'not ' if kind == 'all' else ''}{pred}:"):
                        self.emit(f"{out} = {decisive}")
                        self.emit("break")
                return
            with self.loop(f"for {var} in {rng}:"):
                pred = self._predicate(node, scope)
                with self.block(f"if {pred} is {decisive}:"):
                    self.emit(f"{out} = {decisive}")
                    self.emit("break")
                with self.block(f"if {pred} is not {other}:"):
                    self.emit("_fail('predicate is not a bool')")
        elif kind == "exists_one":
            count = self.tmp()
            self.emit(f"{count} = 0")
            with self.loop(f"for {var} in {rng}:"):
                pred = self._predicate(node, scope)
                with self.block(f"if {pred} is True:"):
                    self.emit(f"{count} += 1")
                with self.block(f"elif {pred} is not False:"):
                    self.emit("_fail('predicate is not a bool')")
            self.emit(f"{out} = {count} == 1")
        else:  # map (with optional filter) and filter
            self.emit(f"{out} = []")
            with self.loop(f"for {var} in {rng}:"):
                if node.pred is not None:
                    pred = self._predicate(node, scope)
                    keep = f"{pred} is True"
                    with self.block(f"if {pred} is not True and {pred} is not False:"):
                        self.emit("_fail('predicate is not a bool')")
                    with self.block(f"if {keep}:"):
                        value = var if node.transform is None else self.expr(node.transform, scope)
                        self.emit(f"{out}.append({value})")
                else:
                    assert node.transform is not None
                    self.emit(f"{out}.append({self.expr(node.transform, scope)})")

    def _dict_quantifier(
        self, node: Macro, scope: dict[str, str], rng: str, var: str, out: str
    ) -> None:
        """all/exists over a map of several keys: the Rust CEL walks the keys in hash order
        and stops at the first decisive value or error, so the answer is fixed unless both
        an error and a decisive value occur; then the Rust CEL is asked (its answer varies)."""
        decisive, other = ("False", "True") if node.kind == "all" else ("True", "False")
        err = self.tmp()
        self.emit(f"{out} = {other}")
        self.emit(f"{err} = False")
        with self.loop(f"for {var} in {rng}:"):
            pred = self.tmp()
            with self.block("try:"):
                self.assign(node.pred, scope, pred)  # type: ignore[arg-type]
            with self.block("except Exception:"):
                self.emit(f"{err} = True")
                self.emit("continue")
            with self.block(f"if {pred} is {decisive}:"):
                self.emit(f"{out} = {decisive}")
            with self.block(f"elif {pred} is not {other}:"):
                self.emit(f"{err} = True")
        with self.block(f"if {err} and {out} is {decisive}:"):
            self.emit("_fall_back()")
        with self.block(f"if {err}:"):
            self.emit("_fail('predicate error')")

    # ----------------------------------------------------------------- function

    def held_function(self, nodes: list[Node], fields: list[tuple[str, ...]] | None = None) -> str:
        """``def _held(V, _s=0)``: how many of the expressions, from the first, are exactly
        True or do not apply; from the ``_s``-th on (the earlier ones are skipped): the
        index ``i`` of the first at or after ``_s`` that is not (``-1 - i`` when it is
        exactly False), or the count of expressions.

        The whole fused into one function saves a call per rule on the hot path. Any
        error or fallback stops the count: the caller's slow path evaluates the rule
        at that position on its own (with the Rust CEL when needed) and explains it.
        With ``fields`` (the top-level fields each expression reads), an expression
        whose fields are not all there does not apply, as in ``rules.check_rules``;
        without, every field must be there. With a root shape (``self.root``), the
        event must be valid against the schema it came from.
        """
        body: list[str] = []
        memos: list[str] = []
        root = self.root
        for i, node in enumerate(nodes):
            gen = Gen(first_name=self.count, root=root)
            # Fields the schema does not require may be absent: then the rule is skipped.
            optional = sorted(
                f for f in (fields[i] if fields else ()) if root is None or f not in root.required
            )
            pad = "            "
            gen.depth = 3
            gen.present = gen.present.union(optional)
            result = gen.expr(node, {})
            self.count = gen.count
            self.consts.update(gen.consts)
            memos.extend(gen.memos)
            if i:
                body.append(f"        _n = {i}")
            # Rules before _s are skipped: a caller resumes after one it explained itself.
            body.append(
                "        if "
                + " and ".join([f"_s <= {i}"] + [f"{f!r} in V" for f in optional])
                + ":"
            )
            body.extend(gen.lines)
            body.append(f"{pad}if (_r := ({result})) is not True:")
            body.append(f"{pad}    return {-1 - i} if _r is False else {i}")
        return (
            "def _held(V, _s=0):\n"
            "    _n = 0\n"
            "    try:\n"
            + "".join(f"        {memo} = _UNSET\n" for memo in memos)
            + "".join(line + "\n" for line in body)
            + f"        return {len(nodes)}\n"
            "    except (Exception, _FallBack):\n"
            "        return _n\n"
        )

    def function(self, node: Node) -> str:
        result = self.expr(node, {})
        if not _is_bool(node):
            result = f"_export({result})"
        body = "".join(f"        {memo} = _UNSET\n" for memo in self.memos)
        body += "".join(line + "\n" for line in self.lines)
        return (
            "def _native(V):\n"
            "    try:\n"
            f"{body}"
            f"        return {result}\n"
            "    except _FallBack:\n"
            "        return _rust(V)\n"
        )
