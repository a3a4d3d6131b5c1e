"""Alert rules: generated files current, well-formed, routed by team, and proven by promtool.

promtool (Debian's ``prometheus`` package, ``bash .ci/install-observability-deps.sh``)
is required: without it these tests FAIL, since CI installs it and a skipped
rules check would let broken alerts through.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from streamprocs.alerts import files, promql, sla, static
from streamprocs.alerts.model import RUNBOOK_BASE
from streamprocs.alerts.queries import rule_exprs
from streamprocs.alerts.tuning import Tuning
from streamprocs.cli.alerts import alerts_app
from streamprocs.contracts.loader import ContractSet, load_contract_set
from streamprocs.observability.metrics import Metrics

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "deploy" / "prometheus"
RUNBOOKS = REPO / "docs" / "runbooks"
RULE_FILES = [files.RULES, files.SLA_RULES]
OPERATOR_FILES = {files.RULES_OPERATOR: files.RULES, files.SLA_RULES_OPERATOR: files.SLA_RULES}
# Series Prometheus makes itself rather than the enforcer.
PROMETHEUS_SERIES = {"up"}
PROMTOOL_TIMEOUT_S = 120


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(
            "promtool is not installed: run `bash .ci/install-observability-deps.sh` "
            "(Debian's prometheus package)",
            pytrace=False,
        )
    return path


def run_promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=PROMTOOL_TIMEOUT_S,
        check=False,
    )


@pytest.fixture(scope="module")
def contract_set() -> ContractSet:
    return load_contract_set(REPO / "contracts")


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((OUT / name).read_text())
    assert isinstance(data, dict)
    return data


def all_rules() -> list[dict[str, Any]]:
    return [rule for name in RULE_FILES for g in load(name)["groups"] for rule in g["rules"]]


# --- generated files --------------------------------------------------------------------


def test_committed_rule_files_are_what_the_generator_writes(contract_set: ContractSet) -> None:
    """deploy/prometheus/ matches `dce alerts generate` for the committed contracts."""
    stale = files.stale(OUT, files.render(contract_set))
    assert not stale, f"run `dce alerts generate`: {stale}"


def test_check_flag_exits_1_on_a_stale_file_and_generate_fixes_it(tmp_path: Path) -> None:
    """`--check` writes nothing and fails on a differing file; `generate` rewrites it."""
    runner = CliRunner()
    args = ["generate", "--dir", str(REPO / "contracts"), "--out", str(tmp_path)]
    assert runner.invoke(alerts_app, args).exit_code == 0
    assert runner.invoke(alerts_app, [*args, "--check"]).exit_code == 0
    target = tmp_path / files.SLA_RULES
    target.write_text(target.read_text().replace("0.02", "0.2"))
    result = runner.invoke(alerts_app, [*args, "--check"])
    assert result.exit_code == 1
    assert files.SLA_RULES in result.output
    assert "0.2)" in target.read_text(), "--check must not write"
    assert runner.invoke(alerts_app, args).exit_code == 0
    assert runner.invoke(alerts_app, [*args, "--check"]).exit_code == 0


def test_bad_contracts_are_a_usage_error(tmp_path: Path) -> None:
    """Unloadable contracts exit 2, like every other dce command."""
    bad = tmp_path / "contracts" / "a" / "b"
    bad.mkdir(parents=True)
    (bad / "contract.yaml").write_text("id: a.b\n")
    result = CliRunner().invoke(
        alerts_app, ["generate", "--dir", str(tmp_path / "contracts"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2


def test_prometheus_rule_objects_hold_exactly_the_plain_rules() -> None:
    """The operator objects and the plain files can never drift apart."""
    for operator_name, plain_name in OPERATOR_FILES.items():
        obj = load(operator_name)
        assert obj["apiVersion"] == "monitoring.coreos.com/v1"
        assert obj["kind"] == "PrometheusRule"
        assert obj["metadata"]["name"]
        assert obj["spec"]["groups"] == load(plain_name)["groups"]


# --- what every alert carries -----------------------------------------------------------


def test_every_alert_has_severity_summary_description_and_an_existing_runbook() -> None:
    alerts = [r for r in all_rules() if "alert" in r]
    assert alerts
    for rule in alerts:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], rule["alert"]
        url = annotations["runbook_url"]
        assert url.startswith(RUNBOOK_BASE + "/"), url
        runbook = RUNBOOKS / url.removeprefix(RUNBOOK_BASE + "/")
        assert runbook.is_file(), f"{rule['alert']}: no runbook {runbook}"
        text = runbook.read_text()
        assert rule["alert"] in text, f"{runbook.name} does not name {rule['alert']}"


def test_the_required_alerts_exist() -> None:
    names = {r["alert"] for r in all_rules() if "alert" in r}
    assert names >= {
        "DceViolationRatioAboveSla",  # per contract, from sla.max_violation_ratio
        "DceViolationRatioAboveDefault",  # contracts without an SLA threshold
        "DceDeadLetterGrowing",
        "DceContractSilent",  # per contract, from sla.max_silence
        "DceConsumerLagGrowing",
        "DceContractReloadFailing",
        "DceDeadLetterProduceErrors",
        "DceTransactionsAborting",
        "DceEnforcerDown",
    }


def test_sla_alerts_route_to_the_owning_team(contract_set: ContractSet) -> None:
    """Each contract's SLA alerts carry its owner.team, so Alertmanager pages that team."""
    seen: dict[str, set[str]] = {}
    for rule in load(files.SLA_RULES)["groups"][1]["rules"]:
        contract = contract_set.contracts[rule["labels"]["contract"]]
        assert rule["labels"]["team"] == contract.team
        assert f'contract="{contract.id}"' in rule["expr"]
        seen.setdefault(contract.id, set()).add(rule["alert"])
    for contract in contract_set.contracts.values():
        assert contract.spec.sla is not None
        expected = set()
        if contract.spec.sla.max_violation_ratio is not None:
            expected.add("DceViolationRatioAboveSla")
        if contract.spec.sla.max_silence is not None:
            expected.add("DceContractSilent")
        assert seen.get(contract.id, set()) == expected


def test_contract_alerts_without_an_sla_keep_the_team_label_of_the_metrics() -> None:
    """The default-threshold alert aggregates by (contract, team): the team survives."""
    record = static.records(Tuning()).rules[0]
    assert "sum by (contract, team)" in record.expr
    alert = static.alerts(Tuning()).rules[0]
    assert alert.name == "DceViolationRatioAboveDefault"
    assert alert.expr.startswith(record.name)


def test_sla_windows_and_thresholds_come_from_the_contract(contract_set: ContractSet) -> None:
    groups = sla.groups(contract_set, Tuning())
    payments = [
        r for r in groups[1].rules if r.labels.get("contract") == "payments.payment_captured"
    ]
    ratio = next(r for r in payments if r.name == "DceViolationRatioAboveSla")
    assert "[10m]" in ratio.expr and ratio.expr.rstrip().endswith("> 0.01")
    silent = next(r for r in payments if r.name == "DceContractSilent")
    assert "> 1800" in silent.expr and "[30m]" in silent.expr


# --- metric names ------------------------------------------------------------------------


def exported() -> set[str]:
    return promql.exported_names(Metrics().registry)


def recorded() -> set[str]:
    return {r["record"] for r in all_rules() if "record" in r}


def test_exported_names_come_from_the_registry() -> None:
    """Sanity of the derivation: labelled metrics with no samples yet are still listed."""
    names = exported()
    assert {"dce_events_total", "dce_batch_duration_seconds_bucket", "dce_consumer_lag"} <= names
    assert "dce_events" not in names, "a counter is exposed as <name>_total only"


def test_every_metric_an_alert_reads_is_exported_or_recorded_here() -> None:
    known = exported() | recorded() | PROMETHEUS_SERIES
    for name in RULE_FILES:
        for expr in rule_exprs(name, load(name)):
            unknown = promql.metric_names(expr.promql) - known
            assert not unknown, f"{expr.where} reads {unknown}, which nothing exports"


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (a, b) (rate(dce_events_total{x="y", z=~"a|b"}[5m]))', {"dce_events_total"}),
        ("x_total offset 5m unless on (a) group_left (b) y:z:rate5m", {"x_total", "y:z:rate5m"}),
        ('time() - max(m{c="$contract"}) > 1e3', {"m"}),
        ("histogram_quantile(0.99, sum by (le) (rate(h_bucket[$__rate_interval])))", {"h_bucket"}),
        ('absent(up{job="dce"}) or vector(0) and inf', {"up"}),
        ('{__name__="weird"} # comment naming not_a_metric', set()),
    ],
)
def test_metric_names_are_told_apart_from_functions_labels_and_keywords(
    expr: str, names: set[str]
) -> None:
    assert promql.metric_names(expr) == names


# --- promtool ------------------------------------------------------------------------------


def test_promtool_accepts_every_rules_file(tmp_path: Path) -> None:
    """`promtool check rules` on the plain files and on the operator objects' spec."""
    paths = [OUT / name for name in RULE_FILES]
    for operator_name in OPERATOR_FILES:
        spec = tmp_path / f"{operator_name}.spec.yml"
        spec.write_text(yaml.safe_dump(load(operator_name)["spec"]))
        paths.append(spec)
    result = run_promtool("check", "rules", *map(str, paths))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests_pass() -> None:
    """Every alert fires on the series that should fire it and stays silent on healthy ones."""
    tests = sorted((OUT / "tests").glob("*.yml"))
    assert {t.name for t in tests} >= {"dce-rules.test.yml", "dce-sla-rules.test.yml"}
    result = run_promtool("test", "rules", *(t.name for t in tests), cwd=OUT / "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_static_alert_has_a_firing_promtool_case() -> None:
    text = (OUT / "tests" / "dce-rules.test.yml").read_text()
    for alert in static.alerts(Tuning()).rules:
        firing = re.search(rf"alertname: {alert.name}\n\s+exp_alerts:\n\s+- exp_labels", text)
        assert firing, f"no promtool case where {alert.name} fires"


def test_the_promtool_cases_have_teeth(tmp_path: Path) -> None:
    """A rule made wrong on purpose (threshold x10) fails the unit tests."""
    shutil.copytree(OUT, tmp_path / "prometheus")
    rules = tmp_path / "prometheus" / files.RULES
    text = rules.read_text()
    assert "> 0.05" in text
    rules.write_text(text.replace("> 0.05", "> 0.5"))
    result = run_promtool("test", "rules", "dce-rules.test.yml", cwd=tmp_path / "prometheus/tests")
    assert result.returncode != 0
    assert "DceViolationRatioAboveDefault" in result.stdout + result.stderr


def test_fast_tuning_renders_valid_rules(tmp_path: Path, contract_set: ContractSet) -> None:
    """The second-scale copy the end-to-end test loads is valid Prometheus too."""
    rendered = files.render(contract_set, Tuning.fast())
    files.write(tmp_path, rendered)
    result = run_promtool("check", "rules", *(str(tmp_path / n) for n in RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_example_prometheus_config_is_valid_and_loads_both_rule_files() -> None:
    """`promtool check config` also checks the rule files the example names."""
    config = yaml.safe_load((OUT / "prometheus.yml").read_text())
    assert config["rule_files"] == RULE_FILES
    assert [job["job_name"] for job in config["scrape_configs"]] == ["dce"]
    result = run_promtool("check", "config", "prometheus.yml", cwd=OUT)
    assert result.returncode == 0, result.stdout + result.stderr
