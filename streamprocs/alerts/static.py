"""The platform's rules: the same for every deployment, whatever the contracts say.

Alerts about one contract carry the ``team`` label of the metrics (set from
``owner.team``), so Alertmanager routes them to the owning team; alerts about
the enforcer itself carry no ``team`` and fall through to the platform route.
"""

from __future__ import annotations

from streamprocs.alerts.model import JOB, Alert, Group, Record
from streamprocs.alerts.tuning import Tuning

# Outcomes that mean "the event broke its contract": shadow mode forwards the
# event but the owning team still has a broken producer.
INVALID_OUTCOMES = "invalid|shadow_invalid"

# Recorded by the generated SLA rules, one series per contract that declares it;
# the default-threshold alert stands aside for those contracts.
SLA_RATIO_SERIES = "contract:dce_sla_max_violation_ratio"
SLA_SILENCE_SERIES = "contract:dce_sla_max_silence_seconds"


def ratio_series(window: str) -> str:
    return f"contract_team:dce_events_invalid:ratio_rate{window}"


def invalid_ratio(window: str, selector: str = 'contract!="unknown"') -> str:
    """Invalid share of a contract's events; 0, not missing, for a contract with none invalid.

    ``contract="unknown"`` (no contract matched) is always 100 % invalid and has no
    owner: the dead-letter alert covers it.
    """
    invalid = f'{selector}, outcome=~"{INVALID_OUTCOMES}"'
    return (
        f"(\n"
        f"  sum by (contract, team) (rate(dce_events_total{{{invalid}}}[{window}]))\n"
        f"  or 0 * sum by (contract, team) (rate(dce_events_total{{{selector}}}[{window}]))\n"
        f")\n"
        f"/\n"
        f"sum by (contract, team) (rate(dce_events_total{{{selector}}}[{window}]))"
    )


def records(t: Tuning) -> Group:
    return Group(
        "dce.records",
        [Record(ratio_series(t.default_ratio_window), invalid_ratio(t.default_ratio_window))],
    )


def alerts(t: Tuning) -> Group:
    rules = [
        Alert(
            "DceViolationRatioAboveDefault",
            f"{ratio_series(t.default_ratio_window)} > {t.default_max_violation_ratio:g}\n"
            f"unless on (contract) {SLA_RATIO_SERIES}",
            t.default_ratio_for,
            "warning",
            "{{ $labels.contract }}: {{ $value | humanizePercentage }} of events break the "
            "contract",
            "{{ $value | humanizePercentage }} of the events of contract {{ $labels.contract }} "
            "(team {{ $labels.team }}) broke it over the last "
            f"{t.default_ratio_window}, above the default "
            f"{t.default_max_violation_ratio:.0%}. The contract declares no "
            "sla.max_violation_ratio; declare one to set the team's own threshold.",
            "violation-ratio-above-default.md",
        ),
        Alert(
            "DceDeadLetterGrowing",
            f"sum by (dlq_topic, reason) (rate(dce_dlq_records_total[{t.dlq_window}]))"
            f" > {t.dlq_max_rate:g}",
            t.dlq_for,
            "warning",
            "Dead-letter topic {{ $labels.dlq_topic }} grows by {{ $value | humanize }} "
            "records/s ({{ $labels.reason }})",
            "{{ $labels.dlq_topic }} has received {{ $value | humanize }} records/s with reason "
            f"{{{{ $labels.reason }}}} over the last {t.dlq_window} (threshold "
            f"{t.dlq_max_rate:g}/s). Events are being held back from their consumers.",
            "dead-letter-growing.md",
        ),
        Alert(
            "DceConsumerLagGrowing",
            # max by partition first: after a rebalance the previous owner may still
            # export its last value for a partition for a while.
            f"sum by (topic) (max by (topic, partition) (dce_consumer_lag)) > {t.lag_min}\n"
            f"and\n"
            f"sum by (topic) (max by (topic, partition) (delta(dce_consumer_lag[{t.lag_window}])))"
            f" > 0",
            t.lag_for,
            "warning",
            "The enforcer falls behind on {{ $labels.topic }} ({{ $value | humanize }} messages)",
            "The enforcer is {{ $value | humanize }} messages behind the end of "
            f"{{{{ $labels.topic }}}} and the lag grew over the last {t.lag_window}. "
            "Consumers of the output topics see the data late.",
            "consumer-lag-growing.md",
        ),
        Alert(
            "DceContractReloadFailing",
            f'sum by (job, instance) (increase(dce_contracts_reload_total{{result="error"}}'
            f"[{t.reload_window}])) > 0",
            "0s",
            "warning",
            "{{ $labels.instance }} rejected a change to the contracts",
            "{{ $labels.instance }} rejected a change of its contracts directory in the last "
            f"{t.reload_window}; it keeps enforcing the previous contracts, so the change "
            "is not in force.",
            "contract-reload-failing.md",
        ),
        Alert(
            "DceDeadLetterProduceErrors",
            f"sum by (dlq_topic) (increase(dce_dlq_errors_total[{t.dlq_errors_window}])) > 0\n"
            # increase() cannot see the first increment of a series that is born
            # with it, and this counter is born at its first error.
            f"or\n"
            f"sum by (dlq_topic) (dce_dlq_errors_total)\n"
            f"  unless sum by (dlq_topic) (dce_dlq_errors_total offset {t.dlq_errors_window})",
            "0s",
            "critical",
            "Dead-letter records cannot be written to {{ $labels.dlq_topic }}",
            "The enforcer failed to produce dead-letter records to {{ $labels.dlq_topic }} in "
            f"the last {t.dlq_errors_window}, or wrote them without their value because the "
            "topic cannot take it. Batches the broker refused are retried and the "
            "partitions they came from stall until the topic accepts writes.",
            "dead-letter-produce-errors.md",
        ),
        Alert(
            "DceTransactionsAborting",
            f'sum by (job, instance) (increase(dce_transactions_total{{result="aborted"}}'
            f"[{t.aborts_window}])) > {t.aborts_max}",
            t.aborts_for,
            "critical",
            "{{ $labels.instance }} keeps aborting its Kafka transactions",
            "{{ $labels.instance }} aborted {{ $value | humanize }} transactions in the last "
            f"{t.aborts_window}. Each abort re-reads its batch: nothing is lost, but the "
            "enforcer makes no progress while it repeats.",
            "transactions-aborting.md",
        ),
        Alert(
            "DceEnforcerDown",
            f'up{{job="{JOB}"}} == 0\nor\nabsent(up{{job="{JOB}"}})',
            t.down_for,
            "critical",
            "The dce enforcer is down or not scraped"
            "{{ if $labels.instance }} ({{ $labels.instance }}){{ end }}",
            f'Prometheus cannot scrape the enforcer (job "{JOB}") '
            "{{ if $labels.instance }}at {{ $labels.instance }}{{ else }}at all{{ end }}. "
            "No contract is being enforced by it and its source topics are not read.",
            "enforcer-down.md",
        ),
    ]
    return Group("dce.alerts", rules)


def groups(t: Tuning) -> list[Group]:
    return [records(t), alerts(t)]
