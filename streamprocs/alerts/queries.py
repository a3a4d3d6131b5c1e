"""Every PromQL expression of a Grafana dashboard JSON or a Prometheus rules file.

The tests use these to check the generated artifacts themselves (not the code
that made them): metric names, and that a real Prometheus parses and answers
each expression.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_LABEL_VALUES = re.compile(r"^\s*label_values\((?:(?P<expr>.+),\s*)?(?P<label>\w+)\)\s*$", re.S)
_GRAFANA_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


@dataclass(frozen=True)
class Expr:
    where: str  # "overview.json: Events in /s [A]", "dce-rules.yml: DceEnforcerDown"
    promql: str
    kind: str  # panel, variable, annotation, alert, record


def _variable_promql(query: str) -> str | None:
    """A Grafana ``label_values(expr, label)`` variable as the PromQL that lists its values."""
    match = _LABEL_VALUES.match(query)
    if match is None:
        return None
    expr = match.group("expr") or "{__name__=~'.+'}"
    return f"group by ({match.group('label')}) ({expr})"


def dashboard_exprs(name: str, board: Mapping[str, Any]) -> list[Expr]:
    out = []
    for panel in board.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                if target.get("expr"):
                    where = f"{name}: {inner.get('title')} [{target.get('refId')}]"
                    out.append(Expr(where, target["expr"], "panel"))
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query)
        promql = _variable_promql(text)
        if promql is None:
            raise ValueError(f"{name}: variable {variable.get('name')}: unsupported query {text!r}")
        out.append(Expr(f"{name}: variable ${variable.get('name')}", promql, "variable"))
    for annotation in board.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            where = f"{name}: annotation {annotation.get('name')}"
            out.append(Expr(where, annotation["expr"], "annotation"))
    return out


def rule_exprs(name: str, doc: Mapping[str, Any]) -> list[Expr]:
    """Rules of a plain rules file, or of a ``PrometheusRule`` (under ``spec``)."""
    groups = doc.get("groups") or doc.get("spec", {}).get("groups", [])
    out = []
    for group in groups:
        for rule in group.get("rules", []):
            kind = "alert" if "alert" in rule else "record"
            label = rule.get("alert") or rule.get("record")
            contract = rule.get("labels", {}).get("contract")
            where = f"{name}: {label}" + (f" ({contract})" if contract else "")
            out.append(Expr(where, rule["expr"], kind))
    return out


def substitute(promql: str, values: Mapping[str, str]) -> str:
    """Grafana's ``$var`` / ``${var}`` replaced by ``values`` (what Grafana does before asking)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"no value for ${name} in {promql!r}")
        return values[name]

    return _GRAFANA_VAR.sub(replace, promql)
