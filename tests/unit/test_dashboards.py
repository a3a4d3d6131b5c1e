"""Grafana dashboards: committed JSON current, the panels the on-call needs, real metric names.

Every PromQL expression of every panel, variable and annotation is parsed by
promtool (as a recording rule), so a typo fails here rather than at 3 a.m.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards import generate
from streamprocs.alerts import promql
from streamprocs.alerts.queries import dashboard_exprs, substitute
from streamprocs.observability.metrics import Metrics

REPO = Path(__file__).resolve().parents[2]
RULES = [REPO / "deploy/prometheus/dce-rules.yml", REPO / "deploy/prometheus/dce-sla-rules.yml"]
GRAFANA_VALUES = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "6h",
    "contract": "payments.payment_captured",
    "version": ".*",
    "team": "payments",
}


def board(name: str) -> dict[str, Any]:
    data = json.loads((generate.HERE / name).read_text())
    assert isinstance(data, dict)
    return data


def titles(name: str) -> set[str]:
    return {p["title"] for p in board(name)["panels"]}


def variables(name: str) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in board(name)["templating"]["list"]}


def test_committed_json_is_what_the_generator_writes() -> None:
    """dashboards/*.json matches `python -m dashboards.generate`."""
    for name, text in generate.render().items():
        assert (generate.HERE / name).read_text() == text, f"regenerate {name}"
    assert generate.main(["--check"]) == 0


def test_check_flag_fails_on_a_stale_file_without_writing(tmp_path: Path) -> None:
    assert generate.main(["--out", str(tmp_path)]) == 0
    assert generate.main(["--check", "--out", str(tmp_path)]) == 0
    stale = tmp_path / "team.json"
    stale.write_text("{}\n")
    assert generate.main(["--check", "--out", str(tmp_path)]) == 1
    assert stale.read_text() == "{}\n"


def test_overview_answers_the_on_call_questions() -> None:
    assert titles("overview.json") >= {
        "Events in and out /s",
        "Valid vs invalid",
        "Dead-letter rate by reason",
        "Top failing contracts",
        "Top failing rules",
        "Violations by owner team /s",
        "Consumer lag by topic",
        "Contract reloads",
        "Contract revisions in use",
        "Kafka transactions /s",
        "Instances",
        "Enforcers up",
    }
    names = {a["name"] for a in board("overview.json")["annotations"]["list"]}
    assert "Contract revision changes" in names


def test_contract_drill_down_has_contract_and_version_variables() -> None:
    assert {"contract", "version"} <= set(variables("contract.json"))
    assert variables("contract.json")["version"]["multi"] is True
    assert titles("contract.json") >= {
        "Violations by rule /s",
        "Traffic by version /s",
        "Versions: status and events in the time range",
        "Silence since last event",
    }


def test_deprecated_version_traffic_stands_out() -> None:
    """Deprecated versions are joined from dce_contracts_loaded and drawn thick and red."""
    panel = next(p for p in board("contract.json")["panels"] if p["title"].startswith("Traffic by"))
    exprs = [t["expr"] for t in panel["targets"]]
    assert any('status="deprecated"' in e and "group_left" in e for e in exprs)
    override = panel["fieldConfig"]["overrides"][0]
    assert override["matcher"] == {"id": "byRegexp", "options": ".*DEPRECATED.*"}
    assert {"id": "color", "value": {"fixedColor": "red", "mode": "fixed"}} in override[
        "properties"
    ]


def test_team_view_filters_every_panel_by_team() -> None:
    assert "team" in variables("team.json")
    for expr in dashboard_exprs("team.json", board("team.json")):
        if expr.kind == "panel":
            assert "$team" in expr.promql, expr.where


def test_every_query_reads_the_selected_prometheus() -> None:
    for name in generate.BOARDS:
        for panel in board(name)["panels"]:
            for target in panel.get("targets", []):
                assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_panel_titles_are_unique_per_dashboard() -> None:
    for name in generate.BOARDS:
        exprs = dashboard_exprs(name, board(name))
        wheres = [e.where for e in exprs]
        assert len(wheres) == len(set(wheres)), name


def test_every_metric_a_dashboard_reads_is_exported_or_recorded() -> None:
    """Names come from the enforcer's registry and the recording rules, not a hand list."""
    known = promql.exported_names(Metrics().registry) | {"up"}
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            known |= {r["record"] for r in group["rules"] if "record" in r}
    used: set[str] = set()
    for name in generate.BOARDS:
        for expr in dashboard_exprs(name, board(name)):
            unknown = promql.metric_names(expr.promql) - known
            assert not unknown, f"{expr.where} reads {unknown}, which nothing exports"
            used |= promql.metric_names(expr.promql)
    # The headline metrics are all on a dashboard somewhere.
    assert used >= {
        "dce_events_total",
        "dce_violations_total",
        "dce_dlq_records_total",
        "dce_dlq_errors_total",
        "dce_consumer_lag",
        "dce_last_event_timestamp_seconds",
        "dce_contracts_loaded",
        "dce_contracts_reload_total",
        "dce_contracts_revision_info",
        "dce_transactions_total",
        "dce_build_info",
        "dce_batch_duration_seconds_bucket",
    }


def test_promtool_parses_every_dashboard_expression(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail(
            "promtool is not installed: run `bash .ci/install-observability-deps.sh`",
            pytrace=False,
        )
    rules = []
    for name in generate.BOARDS:
        for i, expr in enumerate(dashboard_exprs(name, board(name))):
            record = f"dashboard_check:{name.removesuffix('.json')}:q{i}"
            rules.append({"record": record, "expr": substitute(expr.promql, GRAFANA_VALUES)})
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
