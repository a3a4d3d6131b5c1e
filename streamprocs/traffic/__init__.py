"""Sample traffic for the demo, the tests and the benchmark: labelled Kafka records.

:func:`generate_mix` builds a deterministic mix of records for the topics the
contracts bind: valid events drawn from each contract's
``examples/v<N>.valid.jsonl`` (non-retired versions, with a fresh ``event_id``
and entity id so that records differ) and invalid ones cycling through every
dead-letter reason. Each record carries the ground truth a test can assert on:
which contract and version judge it, whether it is valid, why not, and the
topic the enforcer must route it to. The labels are not guessed from how a
record was built: every record is re-judged by :func:`judge_record`, a small
reference model of the enforcer's routing (topic -> binding by discriminator ->
version -> compiled validator).

:func:`produce` sends records to a broker with ``confluent_kafka`` (imported
only there), and ``python -m streamprocs.traffic`` does both from the command
line and prints what it sent.

Every record has a ``dce-sample-seq`` header (its index in the mix, ASCII
decimal) so that tests can find it again on the output or dead-letter topic.
"""

from streamprocs.contracts.model import REASONS
from streamprocs.traffic.cli import main
from streamprocs.traffic.mix import available_reasons, generate_mix
from streamprocs.traffic.oracle import judge_record
from streamprocs.traffic.produce import ProduceError, produce
from streamprocs.traffic.records import (
    BODY_REASONS,
    SEQ_HEADER,
    Outcome,
    SampleRecord,
    topic_bindings,
)
from streamprocs.traffic.summary import summarize, summary_tables

__all__ = [
    "BODY_REASONS",
    "REASONS",
    "SEQ_HEADER",
    "Outcome",
    "ProduceError",
    "SampleRecord",
    "available_reasons",
    "generate_mix",
    "judge_record",
    "main",
    "produce",
    "summarize",
    "summary_tables",
    "topic_bindings",
]
