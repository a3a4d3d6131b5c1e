"""``matches()`` for natively compiled CEL: a subset of regex syntax on which RE2 and
Rust's ``regex`` crate (what the Rust CEL uses) agree.

The two engines differ outside that subset: Rust's ``\\d``, ``\\w``, ``\\s`` and
``\\b`` are Unicode-aware (``'٣'.matches('\\\\d')`` is true), RE2's are ASCII; Rust
has class set operations (``[a-z&&[^x]]``) and nested classes; case folding
and flags differ in corners. So a pattern is compiled natively only when it
uses literal characters, ``.``, ``^``, ``$``, groups, ``|``, the quantifiers
``* + ? {n} {n,} {n,m}`` (also lazy) on something quantifiable, and bracket
classes of literal characters and ranges. Anything else returns None and the
rule runs on the Rust CEL.

RE2 rather than Python's ``re``: patterns come from contracts but the text
comes from events, and RE2 runs in linear time whatever the pattern, where a
backtracking engine can be made to take exponential time by crafted input.
"""

from __future__ import annotations

from collections.abc import Callable

import re2  # type: ignore[import-untyped]

_META = frozenset("\\.^$|?*+()[]{}")
# Escapes both engines read as the literal character (or the usual control character).
_ESCAPABLE = frozenset("\\.^$|?*+()[]{}-/")
_CONTROL = {"n": "\n", "t": "\t", "r": "\r"}
_MAX_REPEAT = 100


class _Refuse(Exception):
    pass


class _Checker:
    """Recursive descent over the subset; raises ``_Refuse`` on anything else."""

    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def peek(self) -> str:
        return self.p[self.i] if self.i < len(self.p) else ""

    def check(self) -> None:
        self.alternation()
        if self.i != len(self.p):
            raise _Refuse  # a stray ')'

    def alternation(self) -> None:
        self.concatenation()
        while self.peek() == "|":
            self.i += 1
            self.concatenation()

    def concatenation(self) -> None:
        while self.peek() not in ("", "|", ")"):
            quantifiable = self.atom()
            if self.peek() in ("*", "+", "?", "{"):
                if not quantifiable:
                    raise _Refuse
                self.quantifier()

    def atom(self) -> bool:
        """Consume one atom; whether a quantifier may follow it."""
        c = self.peek()
        if c in ("^", "$"):
            self.i += 1
            return False
        if c == "(":
            self.i += 1
            if self.p.startswith("?:", self.i):
                self.i += 2
            elif self.peek() == "?":
                raise _Refuse  # flags, named groups, look-around
            self.alternation()
            if self.peek() != ")":
                raise _Refuse
            self.i += 1
            return True
        if c == "[":
            self.bracket()
            return True
        if c == ".":
            self.i += 1
            return True
        self.literal(_META)
        return True

    def literal(self, special: frozenset[str]) -> str:
        c = self.peek()
        if c == "\\":
            e = self.p[self.i + 1 : self.i + 2]
            if e in _ESCAPABLE:
                self.i += 2
                return e
            if e in _CONTROL:
                self.i += 2
                return _CONTROL[e]
            raise _Refuse  # \d \w \s \b \p \x ... differ between the engines or are rare
        if c == "" or c in special:
            raise _Refuse
        self.i += 1
        return c

    def quantifier(self) -> None:
        c = self.peek()
        self.i += 1
        if c == "{":
            end = self.p.find("}", self.i)
            if end < 0:
                raise _Refuse
            low, comma, high = self.p[self.i : end].partition(",")
            if not low.isascii() or not low.isdigit() or int(low) > _MAX_REPEAT:
                raise _Refuse
            if high and (not high.isascii() or not high.isdigit() or not int(low) <= int(high)):
                raise _Refuse
            if high and int(high) > _MAX_REPEAT:
                raise _Refuse
            del comma
            self.i = end + 1
        if self.peek() == "?":
            self.i += 1  # lazy: the same language, so the same answer for a yes/no match
        if self.peek() in ("*", "+", "?", "{"):
            raise _Refuse  # stacked quantifiers: Rust and RE2 disagree on which are errors

    def bracket(self) -> None:
        self.i += 1
        if self.peek() == "^":
            self.i += 1
        items = 0
        # Inside a class '-' '&' '~' and '[' are operators in Rust (ranges, set operations,
        # nesting), so only literal characters and a-z ranges are allowed.
        special = frozenset("[]\\^-&~") - {"\\"}
        while self.peek() != "]":
            start = self.literal(special)
            if self.peek() == "-":
                self.i += 1
                end = self.literal(special)
                if ord(end) < ord(start):
                    raise _Refuse
            items += 1
        if not items:
            raise _Refuse
        self.i += 1


def _options() -> object:
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True  # only "is there a match" is needed
    return options


def compile_matcher(pattern: str) -> Callable[[str], bool] | None:
    """A function telling whether a string contains a match (CEL ``matches`` is a search,
    not a full match), or None when the pattern is outside the shared subset."""
    try:
        _Checker(pattern).check()
        compiled = re2.compile(pattern, _options())
    except (_Refuse, re2.error):
        return None
    # The low-level RE2 object: the public search() builds match objects and costs
    # ~4 µs per call, Match() on UTF-8 bytes ~1 µs.
    regexp = getattr(compiled, "_regexp", None)
    anchor = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
    if regexp is None or anchor is None:
        search = compiled.search
        return lambda text: search(text) is not None
    match = regexp.Match

    def matches(text: str) -> bool:
        data = text.encode("utf-8")
        return bool(match(anchor, data, 0, len(data))[0][0] != -1)

    return matches
