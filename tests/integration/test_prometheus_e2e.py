"""Dashboards and alerts against a real Prometheus scraping a real enforcer on the real broker.

A Prometheus server (Debian's ``/usr/bin/prometheus``) scrapes the enforcer's
``/metrics`` every second and evaluates a copy of the generated rules with
second-scale windows (``Tuning.fast()``). Producers send all-valid traffic for
two contracts and a bad producer sends half-invalid traffic for a third. Then,
through Prometheus' HTTP API:

- every PromQL expression of every dashboard panel, variable and annotation, and
  of every rule, parses (``status: success``);
- every expression returns data, except the few listed in ``MAY_BE_EMPTY`` with
  the reason nothing is expected there in a healthy run;
- the violation-ratio alert of the bad contract goes pending or firing with its
  owner's ``team`` label, and the good contracts' alerts stay silent.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards.generate import BOARDS
from dashboards.generate import HERE as DASHBOARDS
from streamprocs.alerts import files
from streamprocs.alerts.queries import Expr, dashboard_exprs, rule_exprs, substitute
from streamprocs.alerts.tuning import Tuning
from streamprocs.contracts.loader import ContractSet, load_contract_set
from streamprocs.enforcer.loop import Enforcer
from streamprocs.observability.http import serve
from streamprocs.traffic import generate_mix, produce
from tests.integration.support import create_topics, isolated_contracts, running, settings_for

BAD = "payments.payment_captured"
BAD_TEAM = "payments"
GOOD = ("checkout.order_created", "identity.user_signed_up")

# What Grafana would put in for its macros and the dashboards' variables. The rate
# window spans 20 scrapes at 1 s, as $__rate_interval does at production scrapes.
GRAFANA_VALUES = {
    "__rate_interval": "20s",
    "__interval": "5s",
    "__range": "5m",
    "contract": BAD,
    "version": ".*",
    "team": BAD_TEAM,
}

# Expressions that may rightly return nothing in a healthy run with this traffic.
MAY_BE_EMPTY = {
    "Dead-letter produce errors": "no dead-letter write fails on a healthy broker",
    "annotation Contract revision changes": "a marker only where the revision changes",
    "annotation dce deploys": "a marker only where the dce version changes",
    "DceEnforcerDown": "the enforcer is up",
    "DceContractReloadFailing": "no contract change is made",
    "DceDeadLetterProduceErrors": "no dead-letter write fails",
    "DceTransactionsAborting": "no transaction aborts on a healthy broker",
    "DceConsumerLagGrowing": "whether the lag grows depends on timing",
    "DceContractSilent": "every contract receives events",
    "DceViolationRatioAboveDefault": "every example contract declares its own SLA threshold",
}
# The good contracts' SLA ratio alerts must be empty: proven separately below.
for _contract in GOOD:
    MAY_BE_EMPTY[f"DceViolationRatioAboveSla ({_contract})"] = "healthy contract"

RATE_PER_S = 60  # per producer
# Outlasts the checks below (alert and data within ~6 s here) with a wide margin for a
# slow box; once it stops, the series stay and only the ratio alert could resolve.
TRAFFIC_S = 45
READY_TIMEOUT_S = 60.0
DATA_TIMEOUT_S = 90.0
POLL_S = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Prometheus:
    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, **params: str) -> dict[str, Any]:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:  # 400/422 carry the parse error as JSON
            body = exc.read()
        data: dict[str, Any] = json.loads(body)
        return data

    def query(self, promql: str) -> dict[str, Any]:
        return self.get("/api/v1/query", query=promql)

    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self.get("/api/v1/alerts")["data"]["alerts"]
        return alerts


@contextmanager
def prometheus_server(config: Path, data: Path, log: Path) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(binary).is_file():
        pytest.fail(
            "the prometheus server is not installed: run `bash .ci/install-observability-deps.sh`",
            pytrace=False,
        )
    port = free_port()
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            server = Prometheus(f"http://127.0.0.1:{port}")
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                if process.poll() is not None:
                    pytest.fail(f"prometheus exited at start:\n{log.read_text()}", pytrace=False)
                try:
                    with urllib.request.urlopen(f"{server.base}/-/ready", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"prometheus not ready:\n{log.read_text()}", pytrace=False)
                time.sleep(0.2)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def all_exprs(rules_dir: Path) -> list[Expr]:
    exprs = []
    for name in BOARDS:
        exprs += dashboard_exprs(name, json.loads((DASHBOARDS / name).read_text()))
    for name in (files.RULES, files.SLA_RULES):
        exprs += rule_exprs(name, yaml.safe_load((rules_dir / name).read_text()))
    return exprs


def may_be_empty(expr: Expr) -> bool:
    return any(key in expr.where for key in MAY_BE_EMPTY)


def traffic(contract_set: ContractSet, bootstrap: str) -> list[threading.Thread]:
    """An all-valid producer for the good contracts and a bad one for BAD, in parallel."""
    count = RATE_PER_S * TRAFFIC_S
    good_set = ContractSet(
        contract_set.root,
        {k: v for k, v in contract_set.contracts.items() if k != BAD},
        contract_set.revision,
    )
    bad_set = ContractSet(contract_set.root, {BAD: contract_set.contracts[BAD]}, "bad")
    good = generate_mix(good_set, count, invalid_share=0.0, seed=1)
    bad = generate_mix(bad_set, count, invalid_share=0.5, seed=2, reasons=["schema", "rule"])
    threads = [
        threading.Thread(target=produce, args=(records, bootstrap), kwargs={"rate": RATE_PER_S})
        for records in (good, bad)
    ]
    for thread in threads:
        thread.daemon = True
        thread.start()
    return threads


def test_dashboards_and_alerts_work_against_a_real_prometheus(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    contracts, _ = isolated_contracts(tmp_path)
    contract_set = load_contract_set(contracts)
    create_topics(kafka_bootstrap, contracts)

    rules_dir = tmp_path / "rules"
    files.write(rules_dir, files.render(contract_set, Tuning.fast()))
    # The default guarantee (exactly_once): consumer lag must be exported under it too.
    settings = settings_for(kafka_bootstrap, contracts)
    enforcer = Enforcer(settings)
    http, _ = serve(enforcer.metrics.registry, enforcer.health, "127.0.0.1", 0)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(rules_dir / files.RULES), str(rules_dir / files.SLA_RULES)],
                "scrape_configs": [
                    {
                        "job_name": "dce",
                        "static_configs": [{"targets": [f"127.0.0.1:{http.server_port}"]}],
                    }
                ],
            }
        )
    )
    exprs = all_exprs(rules_dir)
    try:
        with (
            prometheus_server(config, tmp_path / "tsdb", tmp_path / "prometheus.log") as prom,
            running(enforcer),
        ):
            producers = traffic(contract_set, kafka_bootstrap)
            alert = wait_for_violation_alert(prom)
            assert alert["labels"]["team"] == BAD_TEAM
            assert alert["labels"]["severity"] == "critical"
            assert alert["annotations"]["runbook_url"].endswith("violation-ratio-above-sla.md")

            results = wait_for_data(prom, exprs)
            errors = {w: r for w, r in results.items() if r.get("status") != "success"}
            assert not errors, f"PromQL that Prometheus rejects: {errors}"
            empty = [
                e.where
                for e in exprs
                if not results[e.where]["data"]["result"] and not may_be_empty(e)
            ]
            assert not empty, f"no data for: {empty}"

            silent = [
                a
                for a in prom.alerts()
                if a["labels"]["alertname"] == "DceViolationRatioAboveSla"
                and a["labels"].get("contract") in GOOD
            ]
            assert not silent, f"healthy contracts alerted: {silent}"
            for producer in producers:
                producer.join(timeout=TRAFFIC_S + 60)
    finally:
        http.shutdown()


def wait_for_violation_alert(prom: Prometheus) -> dict[str, Any]:
    deadline = time.monotonic() + DATA_TIMEOUT_S
    while time.monotonic() < deadline:
        for alert in prom.alerts():
            labels = alert["labels"]
            if (
                labels["alertname"] == "DceViolationRatioAboveSla"
                and labels.get("contract") == BAD
                and alert["state"] in ("pending", "firing")
            ):
                return alert
        time.sleep(POLL_S)
    pytest.fail(f"no DceViolationRatioAboveSla alert for {BAD}: {prom.alerts()}", pytrace=False)


def wait_for_data(prom: Prometheus, exprs: list[Expr]) -> dict[str, dict[str, Any]]:
    """Each expression's answer, polled until every one that must have data has it."""
    results: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + DATA_TIMEOUT_S
    while True:
        for expr in exprs:
            done = results.get(expr.where, {}).get("data", {}).get("result")
            if done and not may_be_empty(expr):
                continue  # had data once: enough
            results[expr.where] = prom.query(substitute(expr.promql, GRAFANA_VALUES))
        missing = [
            e
            for e in exprs
            if results[e.where].get("status") == "success"
            and not results[e.where]["data"]["result"]
            and not may_be_empty(e)
        ]
        if not missing or time.monotonic() > deadline:
            return results
        time.sleep(POLL_S)
