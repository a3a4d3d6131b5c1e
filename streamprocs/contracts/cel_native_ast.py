"""CEL source to a small AST of the natively supported subset.

cel-python's Lark grammar does the parsing; this module lowers its tree into
the node types below and raises ``Unsupported`` for anything outside the
subset (uint and bytes literals, message construction, ``.name`` roots, any
function or macro not listed, type names used as values). Literal tokens are
re-checked against the CEL spec's own lexical grammar, because the Lark
grammar is looser in places (it accepts ``1.e3`` and unknown escapes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lark import Token, Tree


class Unsupported(Exception):
    """The expression is valid CEL (maybe) but not in the native subset."""


@dataclass(frozen=True, slots=True)
class Lit:
    value: Any  # int, float, str, bool or None


@dataclass(frozen=True, slots=True)
class Ident:
    name: str


@dataclass(frozen=True, slots=True)
class Select:
    target: Node
    field: str


@dataclass(frozen=True, slots=True)
class Has:
    target: Node
    field: str


@dataclass(frozen=True, slots=True)
class Index:
    target: Node
    index: Node


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLit:
    entries: tuple[tuple[Lit, Node], ...]


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "!" or "-"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / % == != < <= > >= in
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logic:
    op: str  # "&&" or "||"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Cond:
    cond: Node
    then: Node
    other: Node


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # size startsWith endsWith contains matches timestamp duration int double string
    args: tuple[Node, ...]  # the receiver first for method calls


@dataclass(frozen=True, slots=True)
class Macro:
    kind: str  # all exists exists_one map filter
    range: Node
    var: str
    pred: Node | None  # the predicate; for 2-arg map, None
    transform: Node | None  # map's result expression


Node = (
    Lit
    | Ident
    | Select
    | Has
    | Index
    | ListLit
    | MapLit
    | Unary
    | Binary
    | Logic
    | Cond
    | Call
    | Macro
)

_RELATIONS = {
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
}
_ADDITIONS = {"addition_add": "+", "addition_sub": "-"}
_MULTIPLICATIONS = {"multiplication_mul": "*", "multiplication_div": "/", "multiplication_mod": "%"}
_METHODS = {"startsWith": 1, "endsWith": 1, "contains": 1, "matches": 1, "size": 0}
_FUNCTIONS = frozenset({"size", "timestamp", "duration", "int", "double", "string"})
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
# Type names: when no variable has the name, the Rust CEL reads one as a value (`int` is
# 'int'), not as a missing variable; and the roots of qualified names it may resolve.
_RESERVED = frozenset(
    {"int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type",
     "optional", "google"}
)  # fmt: skip

# The CEL spec's lexical grammar (langdef.md), optionally signed as cel-python's tokens are.
_INT = re.compile(r"-?(?:0x[0-9a-fA-F]+|[0-9]+)")
_DOUBLE = re.compile(r"-?(?:[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)")
_ESCAPE = re.compile(
    r"\\(?:([abfnrtv\\'\"`?])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})"
    r"|([0-3][0-7]{2}))|\\"
)
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?",
}  # fmt: skip


def _string(text: str) -> str:
    raw = text[0] in "rR"
    body = text[1:] if raw else text
    quote = body[:3] if body[:3] in ('"""', "'''") else body[0]
    if not (body.startswith(quote) and body.endswith(quote) and len(body) >= 2 * len(quote)):
        raise Unsupported("malformed string literal")
    body = body[len(quote) : len(body) - len(quote)]
    if raw:
        if "\\" in body:
            # The Rust lexer ends r"\" at the quote while cel-python's reads on; rare, refused.
            raise Unsupported("backslash in a raw string")
        return body

    def decode(m: re.Match[str]) -> str:
        simple, hex2, hex4, hex8, octal = m.groups()
        if simple:
            return _SIMPLE_ESCAPES[simple]
        if m.group(0) == "\\":
            raise Unsupported("invalid escape")
        code = int(hex2 or hex4 or hex8 or "0", 16) if not octal else int(octal, 8)
        if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            raise Unsupported("surrogate or out-of-range code point")
        return chr(code)

    return _ESCAPE.sub(decode, body)


def _literal(token: Token) -> Lit:
    kind, text = token.type, str(token)
    if kind == "INT_LIT":
        if not _INT.fullmatch(text):
            raise Unsupported(text)
        neg = text.startswith("-")
        digits = text.lstrip("-")
        value = int(digits, 16) if digits.startswith("0x") else int(digits)
        value = -value if neg else value
        if not -(2**63) <= value < 2**63:
            raise Unsupported("int literal out of range")
        return Lit(value)
    if kind == "FLOAT_LIT":
        if not _DOUBLE.fullmatch(text):
            raise Unsupported(text)
        return Lit(float(text))
    if kind in ("STRING_LIT", "MLSTRING_LIT"):
        return Lit(_string(text))
    if kind == "BOOL_LIT":
        return Lit(text == "true")
    if kind == "NULL_LIT":
        return Lit(None)
    raise Unsupported(f"{kind} literal")  # UINT_LIT, BYTES_LIT


def _args(tree: Tree[Any] | None) -> list[Tree[Any]]:
    if tree is None:
        return []
    return [c for c in tree.children if isinstance(c, Tree)]


def _ident_of(node: Node) -> str:
    if isinstance(node, Ident):
        return node.name
    raise Unsupported("macro variable must be a simple name")


def lower(tree: Tree[Any]) -> Node:
    """The AST of a Lark ``expr`` tree from ``celpy.celparser.CELParser``."""
    data = tree.data
    kids = [c for c in tree.children if c is not None]
    if data == "expr":
        if len(kids) == 1:
            return lower(kids[0])
        return Cond(lower(kids[0]), lower(kids[1]), lower(kids[2]))
    if data in ("conditionalor", "conditionaland"):
        if len(kids) == 1:
            return lower(kids[0])
        return Logic("||" if data == "conditionalor" else "&&", lower(kids[0]), lower(kids[1]))
    if data in ("relation", "addition", "multiplication"):
        if len(kids) == 1:
            return lower(kids[0])
        op_tree, right = kids
        ops = {**_RELATIONS, **_ADDITIONS, **_MULTIPLICATIONS}
        return Binary(ops[op_tree.data], lower(op_tree.children[0]), lower(right))
    if data == "unary":
        if len(kids) == 1:
            return lower(kids[0])
        return Unary("!" if kids[0].data == "unary_not" else "-", lower(kids[1]))
    if data in ("member", "primary", "paren_expr"):
        return lower(kids[0])
    if data == "literal":
        token = kids[0]
        assert isinstance(token, Token)
        return _literal(token)
    if data == "ident":
        name = str(kids[0])
        if name in _RESERVED:
            raise Unsupported(f"{name} as a value")
        return Ident(name)
    if data == "member_dot":
        return Select(lower(kids[0]), str(kids[1]))
    if data == "member_index":
        return Index(lower(kids[0]), lower(kids[1]))
    if data == "list_lit":
        return ListLit(tuple(lower(c) for c in _args(kids[0] if kids else None)))
    if data == "map_lit":
        return _map(kids[0] if kids else None)
    if data == "ident_arg":
        return _function(
            str(kids[0]), [lower(c) for c in _args(kids[1] if len(kids) > 1 else None)]
        )
    if data == "member_dot_arg":
        target = lower(kids[0])
        args = [lower(c) for c in _args(kids[2] if len(kids) > 2 else None)]
        return _method(target, str(kids[1]), args)
    raise Unsupported(data)  # member_object, dot_ident, dot_ident_arg


def _map(inits: Tree[Any] | None) -> MapLit:
    parts = [lower(c) for c in _args(inits)]
    entries = []
    for key, value in zip(parts[::2], parts[1::2], strict=True):
        # String and int literal keys only: Python would merge true and 1 into one key,
        # and a double key is an error in the Rust CEL.
        if not (isinstance(key, Lit) and type(key.value) in (str, int)):
            raise Unsupported("map keys must be string or int literals")
        entries.append((key, value))
    return MapLit(tuple(entries))


def _function(name: str, args: list[Node]) -> Node:
    if name == "has":
        if len(args) == 1 and isinstance(args[0], Select):
            return Has(args[0].target, args[0].field)
        raise Unsupported("has() needs a field selection")
    if name in _FUNCTIONS and len(args) == 1:
        return Call(name, tuple(args))
    raise Unsupported(f"function {name}/{len(args)}")


def _method(target: Node, name: str, args: list[Node]) -> Node:
    if name in _MACROS:
        if name == "map" and len(args) == 3:
            return Macro("map", target, _ident_of(args[0]), args[1], args[2])
        if len(args) != 2:
            raise Unsupported(f"{name} with {len(args)} arguments")
        var = _ident_of(args[0])
        if name == "map":
            return Macro("map", target, var, None, args[1])
        return Macro(name, target, var, args[1], None)
    if _METHODS.get(name) == len(args):
        if name == "matches" and not (isinstance(args[0], Lit) and type(args[0].value) is str):
            raise Unsupported("matches() needs a literal pattern")
        return Call(name, (target, *args))
    raise Unsupported(f"method {name}/{len(args)}")


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Select | Has):
        return (node.target,)
    if isinstance(node, Index):
        return (node.target, node.index)
    if isinstance(node, ListLit):
        return node.items
    if isinstance(node, MapLit):
        return tuple(part for entry in node.entries for part in entry)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary | Logic):
        return (node.left, node.right)
    if isinstance(node, Cond):
        return (node.cond, node.then, node.other)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Macro):
        return tuple(n for n in (node.range, node.pred, node.transform) if n is not None)
    return ()


def names(node: Node) -> set[str]:
    """Every identifier the expression mentions, macro variables included."""
    if isinstance(node, Ident):
        return {node.name}
    out = {node.var} if isinstance(node, Macro) else set()
    for child in children(node):
        out |= names(child)
    return out
