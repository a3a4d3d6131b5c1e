"""Per-contract rules from each contract's ``sla:``, labelled with its owning team.

``dce_last_event_timestamp_seconds`` carries no ``team`` label, so the team is
written into each rule from ``contract.yaml``: the rules are regenerated (and
checked in CI) whenever a contract's owner or SLA changes.
"""

from __future__ import annotations

from streamprocs.alerts.durations import humanize, number, seconds
from streamprocs.alerts.model import Alert, Group, Record
from streamprocs.alerts.static import SLA_RATIO_SERIES, SLA_SILENCE_SERIES, invalid_ratio
from streamprocs.alerts.tuning import Tuning
from streamprocs.contracts.loader import Contract, ContractSet
from streamprocs.contracts.model import Enforcement


def _severity(contract: Contract) -> str:
    # A shadow contract forwards every event: consumers still get their data,
    # so its breaches warn the team instead of paging it.
    return "warning" if contract.spec.enforcement is Enforcement.SHADOW else "critical"


def _ratio_alert(contract: Contract, ratio: float, window: str, t: Tuning) -> Alert:
    selector = f'contract="{contract.id}"'
    mode = contract.spec.enforcement.value
    consequence = (
        "they are forwarded (shadow mode) but break the contract"
        if contract.spec.enforcement is Enforcement.SHADOW
        else "they go to the dead-letter topic and their consumers never see them"
    )
    return Alert(
        "DceViolationRatioAboveSla",
        f"{invalid_ratio(window, selector)}\n> {ratio:g}",
        t.sla_ratio_for,
        _severity(contract),
        f"{contract.id}: {{{{ $value | humanizePercentage }}}} of events break the contract "
        f"(SLA {ratio:.2%})",
        f"{{{{ $value | humanizePercentage }}}} of the events of {contract.id} broke the "
        f"contract over the last {humanize(window)}; its SLA tolerates {ratio:.2%}. "
        f"Enforcement is {mode}: {consequence}.",
        "violation-ratio-above-sla.md",
        {"team": contract.team, "contract": contract.id},
    )


def _silence_alert(contract: Contract, max_silence: str, t: Tuning) -> Alert:
    series = f'dce_last_event_timestamp_seconds{{contract="{contract.id}"}}'
    limit = seconds(max_silence)
    # max_over_time keeps the newest timestamp across an enforcer restart (the
    # new process exports the gauge only from its first event on);
    # absent_over_time covers a contract with no event in the whole window.
    expr = (
        f"time() - max by (contract) (max_over_time({series}[{max_silence}])) > {number(limit)}\n"
        f"or\n"
        f"absent_over_time({series}[{max_silence}])"
    )
    return Alert(
        "DceContractSilent",
        expr,
        t.silence_for,
        _severity(contract),
        f"{contract.id}: no event for more than {humanize(max_silence)}",
        f"The enforcer has seen no event of {contract.id} for more than "
        f"{humanize(max_silence)} (its SLA max_silence). The producer may be down, "
        "or its events no longer match the contract's binding.",
        "contract-silent.md",
        {"team": contract.team, "contract": contract.id},
    )


def groups(contract_set: ContractSet, t: Tuning) -> list[Group]:
    records: list[Alert | Record] = []
    alerts: list[Alert | Record] = []
    for contract_id in sorted(contract_set.contracts):
        contract = contract_set.contracts[contract_id]
        sla = contract.spec.sla
        if sla is None:
            continue
        labels = {"contract": contract.id, "team": contract.team}
        window = t.sla_window or sla.window
        if sla.max_violation_ratio is not None:
            # The thresholds as series: dashboards draw them beside the ratio,
            # and the default-threshold alert stands aside for these contracts.
            records.append(Record(SLA_RATIO_SERIES, f"vector({sla.max_violation_ratio:g})", labels))
            alerts.append(_ratio_alert(contract, sla.max_violation_ratio, window, t))
        if sla.max_silence is not None:
            limit = seconds(sla.max_silence)
            records.append(Record(SLA_SILENCE_SERIES, f"vector({number(limit)})", labels))
            alerts.append(_silence_alert(contract, sla.max_silence, t))
    return [Group("dce.sla.records", records), Group("dce.sla.alerts", alerts)]
