"""Prometheus rules as data, rendered as a plain rules file or a ``PrometheusRule``.

One in-memory description feeds both outputs, so the file Prometheus loads and
the object prometheus-operator loads can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

# Where the runbooks are published. Alertmanager and Grafana show ``runbook_url``
# as a link, so it must be absolute; forks change this one line and regenerate.
RUNBOOK_BASE = "https://github.com/acme/dce/blob/main/docs/runbooks"

# The scrape job of the enforcer: ``up{job="dce"}`` tells whether it is scraped.
JOB = "dce"


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str
    runbook: str  # file name in docs/runbooks/
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self, runbook_base: str) -> dict[str, Any]:
        rule: dict[str, Any] = {"alert": self.name, "expr": self.expr}
        if self.for_ not in ("0s", "0m"):
            rule["for"] = self.for_
        rule["labels"] = {"severity": self.severity, **self.labels}
        rule["annotations"] = {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": f"{runbook_base.rstrip('/')}/{self.runbook}",
        }
        return rule


@dataclass(frozen=True)
class Record:
    name: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self, runbook_base: str) -> dict[str, Any]:
        rule: dict[str, Any] = {"record": self.name, "expr": self.expr}
        if self.labels:
            rule["labels"] = dict(self.labels)
        return rule


@dataclass(frozen=True)
class Group:
    name: str
    rules: Sequence[Alert | Record]
    # Empty: Prometheus' global evaluation_interval.
    interval: str = ""

    def to_dict(self, runbook_base: str) -> dict[str, Any]:
        group: dict[str, Any] = {"name": self.name}
        if self.interval:
            group["interval"] = self.interval
        group["rules"] = [rule.to_dict(runbook_base) for rule in self.rules]
        return group


class _Dumper(yaml.SafeDumper):
    """Multi-line PromQL as ``|`` blocks, so the files read like hand-written ones."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: Any, header: str) -> str:
    body = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000, indent=2
    )
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return lines + body


def rules_file(groups: Sequence[Group], header: str, runbook_base: str = RUNBOOK_BASE) -> str:
    """A plain Prometheus rules file (``rule_files:`` in prometheus.yml)."""
    return dump({"groups": [g.to_dict(runbook_base) for g in groups]}, header)


def prometheus_rule(
    groups: Sequence[Group], name: str, header: str, runbook_base: str = RUNBOOK_BASE
) -> str:
    """The same groups as a prometheus-operator ``PrometheusRule`` object."""
    obj = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            # The operator picks rules up by label (ruleSelector); these are the
            # kube-prometheus conventions, adjust them to the cluster's selector.
            "labels": {"app.kubernetes.io/name": "dce", "app.kubernetes.io/part-of": "dce"},
        },
        "spec": {"groups": [g.to_dict(runbook_base) for g in groups]},
    }
    return dump(obj, header)


def alerts(groups: Sequence[Group]) -> list[Alert]:
    return [r for g in groups for r in g.rules if isinstance(r, Alert)]
