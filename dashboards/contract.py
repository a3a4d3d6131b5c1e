"""*dce contract*: one contract's drill-down (variables: contract, version).

Which rules fail and since when, which versions producers still send (traffic
on a deprecated version drawn in red), how long since the last event, all
against the contract's SLA.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import common as common_models

from dashboards.panels import (
    INVALID,
    Section,
    base,
    dashed,
    highlight,
    query_variable,
    stat_panel,
    table_panel,
    timeseries_panel,
)

RATE = "$__rate_interval"
C = 'contract="$contract"'
CV = 'contract="$contract", version=~"$version"'


def now() -> Section:
    return (
        Section("$contract now")
        .with_panel(
            stat_panel(
                "Owner team",
                "owner.team of the contract: the team its alerts page.",
                (f"group by (team) (dce_events_total{{{C}}})", "{{team}}"),
                "none",
                text_mode=common_models.BigValueTextMode.NAME,
            )
        )
        .with_panel(
            stat_panel(
                "Events /s",
                "Events of the selected versions judged per second.",
                (f"sum(rate(dce_events_total{{{CV}}}[{RATE}]))", ""),
                "ops",
                thresholds=[(None, "red"), (0.001, "green")],
            )
        )
        .with_panel(
            stat_panel(
                "Invalid share",
                "Share of the selected versions' events that broke the contract.",
                (
                    f"(sum(rate(dce_events_total{{{CV}, {INVALID}}}[{RATE}])) or vector(0))\n"
                    f"/ sum(rate(dce_events_total{{{CV}}}[{RATE}]))",
                    "",
                ),
                "percentunit",
                thresholds=[(None, "green"), (0.01, "orange"), (0.05, "red")],
            )
        )
        .with_panel(
            stat_panel(
                "SLA: max violation ratio",
                "sla.max_violation_ratio from contract.yaml (none: the default alert threshold).",
                (f"max(contract:dce_sla_max_violation_ratio{{{C}}})", ""),
                "percentunit",
                no_value="none declared",
            )
        )
        .with_panel(
            stat_panel(
                "Silence now",
                "Time since the newest event of this contract (its Kafka timestamp).",
                (f"time() - max(dce_last_event_timestamp_seconds{{{C}}})", ""),
                "s",
                thresholds=[(None, "green"), (600, "orange"), (1800, "red")],
                no_value="no event seen",
            )
        )
        .with_panel(
            stat_panel(
                "SLA: max silence",
                "sla.max_silence from contract.yaml.",
                (f"max(contract:dce_sla_max_silence_seconds{{{C}}})", ""),
                "s",
                no_value="none declared",
            )
        )
    )


def violations() -> Section:
    return (
        Section("Violations")
        .with_panel(
            timeseries_panel(
                "Violations by rule /s",
                "Per rule id (schema.<keyword> for JSON Schema failures) and reason.",
                [
                    (
                        f"sum by (rule, reason) (rate(dce_violations_total{{{CV}}}[{RATE}]))",
                        "{{rule}} ({{reason}})",
                    )
                ],
                "ops",
                stack=common_models.StackingMode.NORMAL,
            )
        )
        .with_panel(
            table_panel(
                "Rules broken in the time range",
                "Violations per version, reason and rule over the selected time range. "
                "Inspect samples: dce dlq inspect <dead-letter topic> --contract $contract "
                "--rule <rule>.",
                [
                    (
                        "sort_desc(sum by (version, reason, rule) "
                        f"(increase(dce_violations_total{{{CV}}}[$__range])) > 0)",
                        "",
                    )
                ],
            )
        )
        .with_panel(
            dashed(
                timeseries_panel(
                    "Invalid share vs SLA",
                    "Invalid share of the selected versions; dashed: the SLA threshold.",
                    [
                        (
                            f"(sum(rate(dce_events_total{{{CV}, {INVALID}}}[{RATE}]))\n"
                            f" or 0 * sum(rate(dce_events_total{{{CV}}}[{RATE}])))\n"
                            f"/ sum(rate(dce_events_total{{{CV}}}[{RATE}]))",
                            "invalid share",
                        ),
                        (f"max(contract:dce_sla_max_violation_ratio{{{C}}})", "SLA"),
                    ],
                    "percentunit",
                ),
                "^SLA$",
            )
        )
        .with_panel(
            timeseries_panel(
                "Outcomes /s",
                "valid, warned (a warn rule failed), invalid, shadow_invalid.",
                [(f"sum by (outcome) (rate(dce_events_total{{{CV}}}[{RATE}]))", "{{outcome}}")],
                "ops",
                stack=common_models.StackingMode.NORMAL,
            )
        )
    )


# Versions known to the enforcer, with their status (active, deprecated, retired).
LOADED = f"max by (version, status) (dce_contracts_loaded{{{C}}})"
DEPRECATED = f'max by (version) (dce_contracts_loaded{{{C}, status="deprecated"}})'


def versions() -> Section:
    by_version = timeseries_panel(
        "Traffic by version /s",
        "Events per version; versions marked deprecated in their v<N>.yaml are drawn "
        'thick and red ("DEPRECATED"): their producers must move on.',
        [
            (
                f"sum by (version) (rate(dce_events_total{{{CV}}}[{RATE}]))\n"
                f"unless on (version) {DEPRECATED}",
                "v{{version}}",
            ),
            (
                f"sum by (version) (rate(dce_events_total{{{CV}}}[{RATE}]))\n"
                f"* on (version) group_left {DEPRECATED}",
                "v{{version}} DEPRECATED",
            ),
        ],
        "ops",
    )
    return (
        Section("Versions in use")
        .with_panel(highlight(by_version, ".*DEPRECATED.*", "red"))
        .with_panel(
            table_panel(
                "Versions: status and events in the time range",
                "Every version of the contract with its status and the events judged by it "
                "in the selected time range.",
                [
                    (
                        f"sum by (version) (increase(dce_events_total{{{C}}}[$__range]))\n"
                        f"* on (version) group_left (status) {LOADED}",
                        "",
                    )
                ],
                width=6,
            )
        )
        .with_panel(
            stat_panel(
                "Deprecated-version share",
                "Share of this contract's events that name a deprecated version.",
                (
                    f"(sum(sum by (version) (rate(dce_events_total{{{C}}}[{RATE}]))\n"
                    f"  * on (version) group_left {DEPRECATED}) or vector(0))\n"
                    f"/ sum(rate(dce_events_total{{{C}}}[{RATE}]))",
                    "",
                ),
                "percentunit",
                thresholds=[(None, "green"), (0.0001, "orange"), (0.2, "red")],
                width=6,
                height=8,
            )
        )
        .with_panel(
            dashed(
                timeseries_panel(
                    "Silence since last event",
                    "Seconds since the newest event; dashed: the SLA's max_silence.",
                    [
                        (f"time() - max(dce_last_event_timestamp_seconds{{{C}}})", "silence"),
                        (f"max(contract:dce_sla_max_silence_seconds{{{C}}})", "SLA"),
                    ],
                    "s",
                    width=24,
                    height=6,
                ),
                "^SLA$",
            )
        )
    )


def build() -> dashboard.Dashboard:
    board = base(
        "dce-contract",
        "dce contract",
        "One contract: failing rules, versions in use (deprecated ones stand out), "
        "silence since the last event, against its SLA.",
    )
    board = board.with_variable(
        query_variable("contract", "Contract", "label_values(dce_contracts_loaded, contract)")
    ).with_variable(
        query_variable(
            "version",
            "Version",
            'label_values(dce_contracts_loaded{contract="$contract"}, version)',
            multi=True,
        )
    )
    for row in (now(), violations(), versions()):
        board = row.add_to(board)
    return board
