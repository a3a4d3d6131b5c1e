"""Which metric names a PromQL expression reads, and which names the enforcer exports.

Enough of a PromQL lexer to tell metric names from functions, keywords, label
names and Grafana's ``$variables``; used to prove that every dashboard panel
and every alert reads a metric that exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client import CollectorRegistry

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_COMMENT = re.compile(r"#[^\n]*")
_BRACES = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
# Label lists: by (...), without (...), on (...), ignoring (...), group_left (...).
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_NAME = re.compile(r"(?<![\w:.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")
_NUMBER_WORD = re.compile(r"^(inf|nan)$", re.IGNORECASE)
_KEYWORDS = frozenset(
    {
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "atan2",
    }
)


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (functions and keywords excluded).

    Grafana's ``$variables`` and ``${variables}`` count as neither.
    """
    text = _COMMENT.sub(" ", _STRING.sub('""', expr))
    text = _VARIABLE.sub(" ", text)
    text = _BRACKETS.sub(" ", text)
    # Label matchers: keep what precedes the braces (the metric name, if any).
    text = _BRACES.sub(" ", text)
    text = _LABEL_LIST.sub(" ", text)
    names = set()
    for match in _NAME.finditer(text):
        word, call = match.group(1), match.group(2)
        if call or word in _KEYWORDS or _NUMBER_WORD.match(word):
            continue
        # Durations after offset (5m) and number literals (1e3) start with a digit
        # and never match; @ modifiers' start()/end() are calls.
        names.add(word)
    return names


def referenced(exprs: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for expr in exprs:
        out |= metric_names(expr)
    return out


_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("_count", "_sum", ""),
    "info": ("_info",),
}


def exported_names(registry: CollectorRegistry) -> set[str]:
    """Every series name a registry exposes, including label sets never used yet.

    A labelled metric has no samples until its first ``labels()`` call, so the
    names come from each family's type, not from collected samples.
    """
    names: set[str] = set()
    for family in registry.collect():
        for suffix in _SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
        names.update(sample.name for sample in family.samples)
    return names
