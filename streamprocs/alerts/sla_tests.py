"""``promtool test rules`` cases for the generated SLA rules, generated beside them.

Teams change their SLAs in ``contract.yaml``; hand-written cases would then
break CI for a correct change. So for every contract, the cases are derived
from its SLA like the rules: each alert must fire, with the owning team's
label, on a series that breaches the SLA, and stay silent on a healthy one.
"""

from __future__ import annotations

from typing import Any

from streamprocs.alerts.durations import humanize, seconds
from streamprocs.alerts.model import RUNBOOK_BASE, Alert, Group
from streamprocs.contracts.loader import Contract, ContractSet

# promtool's evaluation step; the input series are sampled at the same interval.
STEP_S = 60


def _minutes(duration: str) -> int:
    return max(1, -(-int(seconds(duration)) // STEP_S))


def _annotations(alert: Alert, runbook_base: str, value: str = "") -> dict[str, str]:
    def expand(text: str) -> str:
        return text.replace("{{ $value | humanizePercentage }}", value)

    return {
        "summary": expand(alert.summary),
        "description": expand(alert.description),
        "runbook_url": f"{runbook_base.rstrip('/')}/{alert.runbook}",
    }


def _labels(alert: Alert) -> dict[str, str]:
    return {"alertname": alert.name, "severity": alert.severity, **alert.labels}


def _events(contract: Contract, outcome: str, per_minute: int, minutes: int) -> dict[str, str]:
    topic = contract.spec.bindings[0].topic if contract.spec.bindings else "t"
    labels = (
        f'topic="{topic}", contract="{contract.id}", version="1", '
        f'team="{contract.team}", outcome="{outcome}"'
    )
    return {"series": f"dce_events_total{{{labels}}}", "values": f"0+{per_minute}x{minutes}"}


def _ratio_cases(
    contract: Contract, alert: Alert, ratio: float, window: str, for_: str, base: str
) -> list[dict[str, Any]]:
    at = _minutes(window) + _minutes(for_) + 2
    span = at + 5
    if ratio >= 1:
        return []  # a share of invalid events cannot exceed 100 %: nothing to breach
    # 50 % invalid breaches any threshold below one half; above it, only invalid events.
    valid, invalid, shown = (60, 60, "50%") if ratio < 0.5 else (0, 60, "100%")
    breach = [_events(contract, "invalid", invalid, span)]
    if valid:
        breach.append(_events(contract, "valid", valid, span))
    return [
        {
            "name": f"{contract.id}: a violation ratio above the SLA pages {contract.team}",
            "interval": "1m",
            "input_series": breach,
            "alert_rule_test": [
                {
                    "eval_time": f"{at}m",
                    "alertname": alert.name,
                    "exp_alerts": [
                        {
                            "exp_labels": _labels(alert),
                            "exp_annotations": _annotations(alert, base, shown),
                        }
                    ],
                }
            ],
        },
        {
            "name": f"{contract.id}: a healthy stream raises no violation-ratio alert",
            "interval": "1m",
            "input_series": [_events(contract, "valid", 60, span)],
            "alert_rule_test": [{"eval_time": f"{at}m", "alertname": alert.name, "exp_alerts": []}],
        },
    ]


def _last_event(contract: Contract) -> str:
    topic = contract.spec.bindings[0].topic if contract.spec.bindings else "t"
    return f'dce_last_event_timestamp_seconds{{topic="{topic}", contract="{contract.id}"}}'


def _silence_cases(
    contract: Contract,
    others: list[Contract],
    alert: Alert,
    max_silence: str,
    for_: str,
    base: str,
) -> list[dict[str, Any]]:
    silence = _minutes(max_silence)
    stop = 5  # the producer stops after this many minutes
    at = stop + silence + _minutes(for_) + 2
    span = at + 5
    series = _last_event(contract)
    # The gauge holds the newest event's timestamp (promtool's clock starts at 0).
    flowing = f"0+{STEP_S}x{span}"
    stopped = f"0+{STEP_S}x{stop} {stop * STEP_S}+0x{span - stop}"
    fired = [{"exp_labels": _labels(alert), "exp_annotations": _annotations(alert, base)}]
    # Every other contract keeps flowing, so only this one's alert may fire.
    background = [{"series": _last_event(other), "values": flowing} for other in others]
    return [
        {
            "name": f"{contract.id}: {humanize(max_silence)} without an event pages "
            f"{contract.team}",
            "interval": "1m",
            "input_series": [{"series": series, "values": stopped}, *background],
            "alert_rule_test": [
                {"eval_time": f"{at}m", "alertname": alert.name, "exp_alerts": fired}
            ],
        },
        {
            "name": f"{contract.id}: no event at all for {humanize(max_silence)} pages "
            f"{contract.team}",
            "interval": "1m",
            "input_series": background,
            "alert_rule_test": [
                {"eval_time": f"{at}m", "alertname": alert.name, "exp_alerts": fired}
            ],
        },
        {
            "name": f"{contract.id}: a flowing stream raises no silence alert",
            "interval": "1m",
            "input_series": [{"series": series, "values": flowing}, *background],
            "alert_rule_test": [{"eval_time": f"{at}m", "alertname": alert.name, "exp_alerts": []}],
        },
    ]


def cases(
    contract_set: ContractSet,
    groups: list[Group],
    sla_window: str | None,
    rules_file: str,
    runbook_base: str = RUNBOOK_BASE,
) -> dict[str, Any]:
    by_contract: dict[tuple[str, str], Alert] = {}
    for group in groups:
        for rule in group.rules:
            if isinstance(rule, Alert):
                by_contract[(rule.name, rule.labels["contract"])] = rule
    tests: list[dict[str, Any]] = []
    for contract_id in sorted(contract_set.contracts):
        contract = contract_set.contracts[contract_id]
        sla = contract.spec.sla
        if sla is None:
            continue
        if sla.max_violation_ratio is not None:
            alert = by_contract[("DceViolationRatioAboveSla", contract_id)]
            window = sla_window or sla.window
            tests += _ratio_cases(
                contract, alert, sla.max_violation_ratio, window, alert.for_, runbook_base
            )
        if sla.max_silence is not None:
            alert = by_contract[("DceContractSilent", contract_id)]
            others = [
                c
                for c in contract_set.contracts.values()
                if c.id != contract_id and c.spec.sla and c.spec.sla.max_silence
            ]
            others.sort(key=lambda c: c.id)
            tests += _silence_cases(
                contract, others, alert, sla.max_silence, alert.for_, runbook_base
            )
    return {"rule_files": [rules_file], "evaluation_interval": "1m", "tests": tests}
