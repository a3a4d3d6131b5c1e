"""*dce overview*: the one dashboard the on-call engineer opens first.

Top to bottom it answers: is data flowing; which contract, rule and team is
failing; is the enforcer keeping up and healthy; did a deploy or a contract
change coincide (annotations).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import common as common_models

from dashboards.panels import (
    DATASOURCE,
    INVALID,
    JOB,
    Section,
    bars_panel,
    base,
    dashed,
    highlight,
    stat_panel,
    table_panel,
    timeseries_panel,
)

RATE = "$__rate_interval"
CONTRACT_LINK = (
    "/d/dce-contract/dce-contract?var-contract=${__field.labels.contract}&${__url_time_range}"
)


def change_markers() -> list[dashboard.AnnotationQuery]:
    """Markers where the contract revision or the dce version changed.

    A revision is a label of an info gauge: a new revision is a new series,
    found as "exists now, did not exist two minutes ago".
    """
    return [
        dashboard.AnnotationQuery()
        .name("Contract revision changes")
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color("purple")
        .expr(
            "count by (revision) (dce_contracts_revision_info)\n"
            "unless count by (revision) (dce_contracts_revision_info offset 2m)"
        ),
        dashboard.AnnotationQuery()
        .name("dce deploys")
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color("blue")
        .expr(
            "count by (version) (dce_build_info)\n"
            "unless count by (version) (dce_build_info offset 2m)"
        ),
    ]


# Grafana's Prometheus annotations read these keys, which the SDK's
# AnnotationQuery does not model; generate.py merges them into the JSON.
ANNOTATION_EXTRAS = {
    "Contract revision changes": {"step": "1m", "titleFormat": "contracts {{revision}}"},
    "dce deploys": {"step": "1m", "titleFormat": "dce {{version}}"},
}


def flowing() -> Section:
    return (
        Section("Is data flowing?")
        .with_panel(
            stat_panel(
                "Events in /s",
                "Events judged per second, all contracts.",
                (f"sum(rate(dce_events_total[{RATE}]))", ""),
                "ops",
                thresholds=[(None, "red"), (0.001, "green")],
            )
        )
        .with_panel(
            stat_panel(
                "Invalid share",
                "Share of events that broke their contract (dead-lettered, or forwarded "
                "in shadow mode).",
                (
                    f"(sum(rate(dce_events_total{{{INVALID}}}[{RATE}])) or vector(0))\n"
                    f"/ sum(rate(dce_events_total[{RATE}]))",
                    "",
                ),
                "percentunit",
                thresholds=[(None, "green"), (0.01, "orange"), (0.05, "red")],
            )
        )
        .with_panel(
            stat_panel(
                "Dead-lettered /s",
                "Records written to dead-letter topics per second.",
                (f"sum(rate(dce_dlq_records_total[{RATE}])) or vector(0)", ""),
                "ops",
                thresholds=[(None, "green"), (1, "orange")],
            )
        )
        .with_panel(
            stat_panel(
                "Enforcers up",
                "Enforcer instances Prometheus scrapes successfully.",
                (f'sum(up{{job="{JOB}"}})', ""),
                "none",
                thresholds=[(None, "red"), (1, "green")],
                no_value="0 (not scraped)",
            )
        )
        .with_panel(
            stat_panel(
                "Max consumer lag",
                "Messages behind the end of the worst partition (librdkafka statistics).",
                ("max(dce_consumer_lag)", ""),
                "short",
                thresholds=[(None, "green"), (1000, "orange"), (10000, "red")],
            )
        )
        .with_panel(
            stat_panel(
                "Contract revisions in use",
                "Distinct contract revisions across instances: more than 1 means a "
                "rollout is in progress or an instance failed to reload.",
                ("count(count by (revision) (dce_contracts_revision_info))", ""),
                "none",
                thresholds=[(None, "green"), (2, "orange")],
            )
        )
    )


def traffic() -> Section:
    return (
        Section("Traffic")
        .with_panel(
            timeseries_panel(
                "Events in and out /s",
                "In: events judged. Out: to the output topics (valid, warned, shadow) "
                "and to the dead-letter topics.",
                [
                    (f"sum(rate(dce_events_total[{RATE}]))", "in"),
                    (
                        f'sum(rate(dce_events_total{{outcome!="invalid"}}[{RATE}]))',
                        "out: output topics",
                    ),
                    (f"sum(rate(dce_dlq_records_total[{RATE}]))", "out: dead-letter topics"),
                ],
                "ops",
                width=8,
            )
        )
        .with_panel(
            timeseries_panel(
                "Valid vs invalid",
                "Share of each outcome: valid, warned (a warn rule failed), invalid "
                "(dead-lettered), shadow_invalid (would be rejected; forwarded).",
                [(f"sum by (outcome) (rate(dce_events_total[{RATE}]))", "{{outcome}}")],
                "ops",
                width=8,
                stack=common_models.StackingMode.PERCENT,
            )
        )
        .with_panel(
            timeseries_panel(
                "Dead-letter rate by reason",
                "Records per second into dead-letter topics, by dce.error.reason.",
                [(f"sum by (reason) (rate(dce_dlq_records_total[{RATE}]))", "{{reason}}")],
                "ops",
                width=8,
                stack=common_models.StackingMode.NORMAL,
            )
        )
    )


def failing() -> Section:
    ratio = timeseries_panel(
        "Invalid share by contract, with SLA thresholds",
        "Each contract's invalid share; dashed: the contract's SLA max_violation_ratio.",
        [
            (
                f"(sum by (contract) (rate(dce_events_total{{{INVALID}}}[{RATE}]))\n"
                f" or 0 * sum by (contract) (rate(dce_events_total[{RATE}])))\n"
                f"/ sum by (contract) (rate(dce_events_total[{RATE}]))",
                "{{contract}}",
            ),
            ("max by (contract) (contract:dce_sla_max_violation_ratio)", "SLA {{contract}}"),
        ],
        "percentunit",
    )
    by_contract = bars_panel(
        "Top failing contracts",
        "Violations in the selected time range; click through to the contract drill-down.",
        (
            "topk(10, sum by (contract, team) (increase(dce_violations_total[$__range])) > 0)",
            "{{contract}} ({{team}})",
        ),
        "short",
        width=6,
    ).data_links([dashboard.DashboardLink("Contract drill-down").url(CONTRACT_LINK)])
    return (
        Section("Who is failing?")
        .with_panel(by_contract)
        .with_panel(
            bars_panel(
                "Top failing rules",
                "Violations in the selected time range by contract and rule "
                "(schema.<keyword> for schema failures).",
                (
                    "topk(10, sum by (contract, rule) "
                    "(increase(dce_violations_total[$__range])) > 0)",
                    "{{contract}}: {{rule}}",
                ),
                "short",
                width=6,
            )
        )
        .with_panel(dashed(ratio, "^SLA .*"))
        .with_panel(
            timeseries_panel(
                "Violations by owner team /s",
                "Violations per second by the owning team (contract.yaml owner.team).",
                [(f"sum by (team) (rate(dce_violations_total[{RATE}]))", "{{team}}")],
                "ops",
                width=24,
                height=7,
            )
        )
    )


def enforcer() -> Section:
    transactions = timeseries_panel(
        "Kafka transactions /s",
        "Committed and aborted transactions (exactly-once). An aborted batch is re-read.",
        [(f"sum by (result) (rate(dce_transactions_total[{RATE}]))", "{{result}}")],
        "ops",
        width=8,
    )
    reloads = timeseries_panel(
        "Contract reloads",
        "Hot reloads of the contracts directory; an error means a change was rejected "
        "and the previous contracts stay in force.",
        [(f"sum by (result) (increase(dce_contracts_reload_total[{RATE}]))", "{{result}}")],
        "short",
        width=8,
    )
    return (
        Section("Is the enforcer keeping up?")
        .with_panel(
            timeseries_panel(
                "Consumer lag by topic",
                "Messages behind the end of each source topic (sum over partitions).",
                [("sum by (topic) (dce_consumer_lag)", "{{topic}}")],
                "short",
                width=8,
            )
        )
        .with_panel(highlight(transactions, "aborted", "red"))
        .with_panel(
            timeseries_panel(
                "Batch duration",
                "Time to judge, route and commit one batch.",
                [
                    (
                        "histogram_quantile(0.99, sum by (le) "
                        f"(rate(dce_batch_duration_seconds_bucket[{RATE}])))",
                        "p99",
                    ),
                    (
                        "histogram_quantile(0.5, sum by (le) "
                        f"(rate(dce_batch_duration_seconds_bucket[{RATE}])))",
                        "p50",
                    ),
                ],
                "s",
                width=8,
            )
        )
        .with_panel(highlight(reloads, "error", "red"))
        .with_panel(
            timeseries_panel(
                "Dead-letter produce errors",
                "Dead-letter records the broker refused; their batches are retried.",
                [
                    (
                        f"sum by (dlq_topic) (increase(dce_dlq_errors_total[{RATE}]))",
                        "{{dlq_topic}}",
                    )
                ],
                "short",
                width=8,
            )
        )
        .with_panel(
            table_panel(
                "Instances",
                "Each scraped instance: up, dce version and contract revision in force.",
                [
                    (f'up{{job="{JOB}"}}', ""),
                    (
                        "max by (instance, version, revision) (\n"
                        "  dce_build_info * on (instance) group_left (revision) "
                        "dce_contracts_revision_info\n"
                        ")",
                        "",
                    ),
                ],
                hide=["__name__", "job", "Value #B"],
                width=8,
            )
        )
    )


def build() -> dashboard.Dashboard:
    board = base(
        "dce-overview",
        "dce overview",
        "Is data flowing, which contract and rule fail, who owns them, is the enforcer "
        "keeping up. Annotations: contract revision changes and dce deploys.",
    )
    for annotation in change_markers():
        board = board.annotation(annotation)
    for row in (flowing(), traffic(), failing(), enforcer()):
        board = row.add_to(board)
    return board
