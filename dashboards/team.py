"""*dce team*: one team's contracts only (variable: team), for the team's own on-call."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import common as common_models

from dashboards.overview import CONTRACT_LINK
from dashboards.panels import (
    INVALID,
    Section,
    bars_panel,
    base,
    dashed,
    highlight,
    query_variable,
    stat_panel,
    table_panel,
    timeseries_panel,
)

RATE = "$__rate_interval"
T = 'team="$team"'
# dce_last_event_timestamp_seconds and dce_contracts_loaded carry no team label:
# the team's contracts are those whose events carry it.
TEAM_CONTRACTS = f"group by (contract, team) (dce_events_total{{{T}}})"


def summary() -> Section:
    return (
        Section("$team now")
        .with_panel(
            stat_panel(
                "Events /s",
                "Events of the team's contracts judged per second.",
                (f"sum(rate(dce_events_total{{{T}}}[{RATE}]))", ""),
                "ops",
                thresholds=[(None, "red"), (0.001, "green")],
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Invalid share",
                "Share of the team's events that broke their contract.",
                (
                    f"(sum(rate(dce_events_total{{{T}, {INVALID}}}[{RATE}])) or vector(0))\n"
                    f"/ sum(rate(dce_events_total{{{T}}}[{RATE}]))",
                    "",
                ),
                "percentunit",
                thresholds=[(None, "green"), (0.01, "orange"), (0.05, "red")],
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Violations in the time range",
                "Violations of the team's contracts over the selected time range.",
                (f"sum(increase(dce_violations_total{{{T}}}[$__range]))", ""),
                "short",
                thresholds=[(None, "green"), (1, "orange")],
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Deprecated-version share",
                "Share of the team's events that name a deprecated version.",
                (
                    "(sum(\n"
                    f"  sum by (contract, version) (rate(dce_events_total{{{T}}}[{RATE}]))\n"
                    "  * on (contract, version) group_left\n"
                    '  max by (contract, version) (dce_contracts_loaded{status="deprecated"})\n'
                    ") or vector(0))\n"
                    f"/ sum(rate(dce_events_total{{{T}}}[{RATE}]))",
                    "",
                ),
                "percentunit",
                thresholds=[(None, "green"), (0.0001, "orange"), (0.2, "red")],
                width=6,
            )
        )
    )


def contracts() -> Section:
    ratio = timeseries_panel(
        "Invalid share by contract, with SLA thresholds",
        "Each of the team's contracts; dashed: its SLA max_violation_ratio.",
        [
            (
                f"(sum by (contract) (rate(dce_events_total{{{T}, {INVALID}}}[{RATE}]))\n"
                f" or 0 * sum by (contract) (rate(dce_events_total{{{T}}}[{RATE}])))\n"
                f"/ sum by (contract) (rate(dce_events_total{{{T}}}[{RATE}]))",
                "{{contract}}",
            ),
            (
                f"max by (contract) (contract:dce_sla_max_violation_ratio{{{T}}})",
                "SLA {{contract}}",
            ),
        ],
        "percentunit",
    )
    deprecated = timeseries_panel(
        "Traffic by contract version /s",
        "Events per contract and version; deprecated versions drawn thick and red.",
        [
            (
                f"sum by (contract, version) (rate(dce_events_total{{{T}}}[{RATE}]))\n"
                "unless on (contract, version)\n"
                'max by (contract, version) (dce_contracts_loaded{status="deprecated"})',
                "{{contract}} v{{version}}",
            ),
            (
                f"sum by (contract, version) (rate(dce_events_total{{{T}}}[{RATE}]))\n"
                "* on (contract, version) group_left\n"
                'max by (contract, version) (dce_contracts_loaded{status="deprecated"})',
                "{{contract}} v{{version}} DEPRECATED",
            ),
        ],
        "ops",
    )
    return (
        Section("Contracts")
        .with_panel(
            timeseries_panel(
                "Events /s by contract",
                "Events judged per second for each of the team's contracts.",
                [(f"sum by (contract) (rate(dce_events_total{{{T}}}[{RATE}]))", "{{contract}}")],
                "ops",
            )
        )
        .with_panel(dashed(ratio, "^SLA .*"))
        .with_panel(highlight(deprecated, ".*DEPRECATED.*", "red"))
        .with_panel(
            table_panel(
                "Silence since last event",
                "Seconds since the newest event of each of the team's contracts.",
                [
                    (
                        "(time() - max by (contract) (dce_last_event_timestamp_seconds))\n"
                        f"* on (contract) group_left (team) {TEAM_CONTRACTS}",
                        "",
                    )
                ],
                hide=["team"],
            ).unit("s")
        )
    )


def rules() -> Section:
    return (
        Section("Violations")
        .with_panel(
            timeseries_panel(
                "Violations by contract and rule /s",
                "Per contract and rule id (schema.<keyword> for JSON Schema failures).",
                [
                    (
                        f"sum by (contract, rule) (rate(dce_violations_total{{{T}}}[{RATE}]))",
                        "{{contract}}: {{rule}}",
                    )
                ],
                "ops",
                stack=common_models.StackingMode.NORMAL,
            )
        )
        .with_panel(
            bars_panel(
                "Top failing rules in the time range",
                "Click through to the contract drill-down.",
                (
                    "topk(10, sum by (contract, rule) "
                    f"(increase(dce_violations_total{{{T}}}[$__range])) > 0)",
                    "{{contract}}: {{rule}}",
                ),
                "short",
            ).data_links([dashboard.DashboardLink("Contract drill-down").url(CONTRACT_LINK)])
        )
    )


def build() -> dashboard.Dashboard:
    board = base(
        "dce-team",
        "dce team",
        "One team's contracts: traffic, invalid share against SLAs, failing rules, "
        "deprecated versions still in use, silence.",
    )
    board = board.with_variable(
        query_variable("team", "Team", "label_values(dce_events_total, team)")
    )
    for row in (summary(), contracts(), rules()):
        board = row.add_to(board)
    return board
