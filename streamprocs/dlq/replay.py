"""The replay engine: re-judge dead letters with the current contracts, send back those that pass.

Exactly once, resumable: progress is the committed offset of a replay
consumer group on the dead-letter topic, and it is committed in the same Kafka
transaction as the records that progress produced
(``send_offsets_to_transaction``). A run killed at any point leaves either a
committed batch (its records delivered, its offsets past them) or an open
transaction, which the next run with the same group aborts when it starts
(same ``transactional.id``), so it resumes exactly where the last committed
batch ended. Every record read advances the offset, including records the
filters left out and records the loop guard skipped: they were considered.

A dry run uses no producer at all and commits nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from confluent_kafka import TopicPartition

from streamprocs.contracts.loader import ContractSet
from streamprocs.contracts.router import Router
from streamprocs.dlq.audit import ReplayReport, Tally, audit_record
from streamprocs.dlq.bucket import TokenBucket
from streamprocs.dlq.decision import (
    Action,
    destination,
    judge,
    park_headers,
    replay_headers,
)
from streamprocs.dlq.options import ReplayOptions
from streamprocs.dlq.originals import Originals
from streamprocs.dlq.reader import (
    POLL_TIMEOUT_S,
    DlqError,
    KafkaFailure,
    TopicReader,
    open_consumer,
    partition_count,
)
from streamprocs.dlq.record import DeadLetter
from streamprocs.dlq.transactions import Transactions
from streamprocs.enforcer.config import Settings
from streamprocs.observability.metrics import Metrics

log = structlog.get_logger("dce.dlq.replay")

# A batch is committed when it is full or this old, whichever comes first. At
# a low --rate a batch would otherwise stay open for minutes: this bounds the
# work a killed run redoes and how long the open transaction holds back
# read_committed consumers of the destination topics.
COMMIT_INTERVAL_S = 1.0


@dataclass
class _Batch:
    """Records considered since the last commit, with their offsets and tallies."""

    started: float = 0.0  # when its first record came: idle time does not age a batch
    first: dict[int, int] = field(default_factory=dict)
    next_offsets: dict[int, int] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)
    selected: int = 0
    size: int = 0

    def note(self, record: DeadLetter) -> None:
        if not self.size:
            self.started = time.monotonic()
        self.first.setdefault(record.partition, record.offset)
        self.next_offsets[record.partition] = record.offset + 1
        self.size += 1


class Replayer:
    def __init__(
        self,
        settings: Settings,
        contract_set: ContractSet,
        options: ReplayOptions,
        *,
        metrics: Metrics | None = None,
        on_start: Callable[[int], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        problems = options.problems()
        if problems:
            raise DlqError("; ".join(problems))
        self.settings = settings
        self.options = options
        self.contract_set = contract_set
        self.router = Router(contract_set, settings.limits, settings.default_dead_letter)
        self.metrics = metrics or Metrics()
        for result in (Action.REPLAY, Action.STILL_INVALID, Action.SKIP):
            self.metrics.replay_records.labels(result.value)
        self._on_start = on_start or (lambda _total: None)
        self._on_progress = on_progress or (lambda _n: None)
        self._stop = threading.Event()
        self._bucket = TokenBucket(options.rate, sleep=self._stop.wait) if options.rate else None
        self._partitions: dict[str, int | None] = {}
        self._batch = _Batch()
        self._originals = Originals(settings)
        self.consumer: Any = None
        self.txn: Transactions | None = None  # None in a dry run
        self.report = ReplayReport(
            replay_id=options.replay_id,
            topic=options.topic,
            group=options.group_id,
            filters=options.filters,
            dry_run=options.dry_run,
            contracts_revision=contract_set.revision,
            to=options.to,
            park=options.park,
            max_records=options.max_records,
            rate=options.rate,
            max_replays=options.max_replays,
            from_beginning=options.from_beginning,
        )

    def stop(self) -> None:
        """Finish the record at hand, commit the open batch and return. Signal-safe."""
        self._stop.set()

    # --- the run -----------------------------------------------------------------------

    def run(self) -> ReplayReport:
        """Replay; the report says how it ended.

        Raises ``DlqError`` when the options or topics are unusable (nothing was
        done) and ``KafkaFailure`` when Kafka failed mid-way (``report.status`` is
        ``failed``; committed batches stay committed, the open one is aborted).
        """
        report = self.report
        opts = self.options
        self.consumer = open_consumer(self.settings, opts.group_id)
        try:
            reader = self._prepare()
            reader.start()
            finished = self._loop(reader)
            report.status = "completed" if finished else "interrupted"
        except KafkaFailure as exc:
            report.status = "failed"
            report.error = str(exc)
            raise
        finally:
            report.finished_ms = int(time.time() * 1000)
            if self.txn is not None:
                self.txn.abort_quietly()
                if report.status in ("completed", "interrupted"):
                    self._write_audit(self.txn)
                self.txn.close()
                # The client has no close(): dropping it stops its threads now rather
                # than whenever the Replayer is collected.
                self.txn = None
            self.consumer.close()
            self._originals.close()
        return report

    def _prepare(self) -> TopicReader:
        """Check the topics, fence earlier runs, and plan what to read."""
        opts = self.options
        for name, topic in (
            ("--to", opts.to),
            ("--park", opts.park),
            ("--audit-topic", opts.audit_topic),
        ):
            if topic is not None and self._partition_count(topic) is None:
                raise DlqError(f"{name} topic {topic!r} does not exist; create it first")
        if not opts.dry_run:
            self.txn = Transactions(self._producer_config())
            # Fences an earlier run of this group that may still be alive, and aborts
            # the open transaction of one that was killed, before the committed
            # offsets are read below (a pending transactional commit would otherwise
            # hold that read back until the broker times the transaction out).
            self.txn.init()
        reader = TopicReader.plan(
            self.consumer,
            opts.topic,
            since_ms=opts.filters.since_ms,
            from_committed=not opts.from_beginning,
        )
        total = reader.total
        self._on_start(min(total, opts.max_records) if opts.max_records else total)
        log.info(
            "replay started",
            replay_id=opts.replay_id,
            topic=opts.topic,
            group=opts.group_id,
            dry_run=opts.dry_run,
            revision=self.contract_set.revision,
            offsets={s.partition: [s.next, s.end] for s in reader.spans.values()},
        )
        return reader

    def _producer_config(self) -> dict[str, Any]:
        s = self.settings
        return {
            **s.kafka,
            "enable.idempotence": True,
            "linger.ms": 5,
            # Records go back as they came: let the broker, which accepted them
            # once, judge their size rather than the client's 1 MB default.
            "message.max.bytes": 100_000_000,
            **s.producer,
            # One per replay group, on purpose the same on every host: a second
            # run of the same group fences the first instead of racing it.
            "transactional.id": self.options.group_id,
        }

    def _partition_count(self, topic: str) -> int | None:
        if topic not in self._partitions:
            self._partitions[topic] = partition_count(self.consumer, topic)
        return self._partitions[topic]

    def _selected(self) -> int:
        """Records selected by the filters so far, in committed batches and the open one."""
        t = self.report.totals
        return t.read - t.actions[Action.FILTERED.value] + self._batch.selected

    def _loop(self, reader: TopicReader) -> bool:
        """Read, judge, produce and commit until the end (True) or a stop request (False)."""
        opts = self.options
        while True:
            if self._stop.is_set():
                self._commit_or_rewind(reader)
                return False
            at_max = opts.max_records is not None and self._selected() >= opts.max_records
            if reader.done or at_max:
                # The final commit can still abort and rewind: then go on reading.
                if self._commit_or_rewind(reader):
                    return True
                continue
            records = reader.poll(opts.batch_size, POLL_TIMEOUT_S)
            if not records:
                if self._due():
                    self._commit_or_rewind(reader)
                continue
            for record in records:
                if self._stop.is_set():
                    break
                if opts.max_records is not None and self._selected() >= opts.max_records:
                    break
                if self._wait_would_hold_batch() and not self._commit_or_rewind(reader):
                    break
                if not self._handle(record):
                    break  # stopped while waiting for the rate limit
                if (self._batch.size >= opts.batch_size or self._due()) and not (
                    self._commit_or_rewind(reader)
                ):
                    break  # aborted and rewound: the rest of this poll is read again
            # Records of this poll not handled (stop, --max) are not committed:
            # the next run reads them again.

    def _due(self) -> bool:
        batch = self._batch
        return bool(batch.size) and time.monotonic() - batch.started >= COMMIT_INTERVAL_S

    def _wait_would_hold_batch(self) -> bool:
        """True when waiting for the rate limit would keep the open batch past its interval.

        At a very low --rate the wait for one token can be long; committing first
        keeps every transaction short (see COMMIT_INTERVAL_S).
        """
        if self._bucket is None or not self._batch.size:
            return False
        age = time.monotonic() - self._batch.started
        return age + self._bucket.delay() >= COMMIT_INTERVAL_S

    def _handle(self, record: DeadLetter) -> bool:
        """Judge one record and produce what it calls for; False if stopped first."""
        opts = self.options
        if record.value_omitted is not None and opts.filters.matches(record):
            # Sent without its value (too large for the dead-letter topic): judged and
            # replayed as the event its source topic still holds, if it does.
            completed = self._originals.complete(record)
            if completed is not None:
                record = completed
                self.report.values_from_source += 1
        judgement = judge(record, self.router, opts.filters, opts.max_replays)
        target: str | None = None
        headers: Any = None
        partition: int | None = None
        if judgement.action is Action.REPLAY:
            target = destination(record, opts.to)
            headers = replay_headers(record, opts.replay_id)
            # Also in a dry run: a missing source topic would fail the real run.
            partition = self._partition_for(record, target)
        elif judgement.action is Action.STILL_INVALID and opts.park is not None:
            assert judgement.decision is not None
            target = opts.park
            headers = park_headers(
                record, judgement.decision, self.router.revision, f"dce-replay:{opts.replay_id}"
            )
        if self.txn is not None:
            bucket = self._bucket
            if target is not None and bucket is not None and not bucket.acquire(self._stop.is_set):
                return False
            # Every batch needs a transaction, if only for its offsets.
            self.txn.begin()
            if target is not None:
                self.txn.produce(
                    target,
                    key=record.key,
                    value=record.value,
                    headers=headers,
                    timestamp=record.event_timestamp_ms,
                    partition=partition,
                )
        self._batch.note(record)
        if judgement.action is not Action.FILTERED:
            self._batch.selected += 1
        self._batch.tally.add(
            record, judgement, target, parked=target is not None and target == opts.park
        )
        self._on_progress(1)
        return True

    def _partition_for(self, record: DeadLetter, target: str) -> int | None:
        """The record's original partition when it goes back to its source topic.

        Keys keep the partition (and so the order relative to their other events)
        they had, whatever partitioner the original producer used; with ``--to``
        the producer's partitioner picks one from the key.
        """
        count = self._partition_count(target)
        if count is None:
            raise KafkaFailure(
                f"topic {target!r} (where record {record.partition}/{record.offset} goes back "
                "to) does not exist; create it, or send records elsewhere with --to"
            )
        original = record.source_partition
        if self.options.to is None and original is not None and 0 <= original < count:
            return original
        return None

    # --- commits ----------------------------------------------------------------------

    def _commit_or_rewind(self, reader: TopicReader) -> bool:
        """Commit the open batch; on an abortable failure, abort it and read it again.

        Returns False when the batch was aborted and rewound.
        """
        batch = self._batch
        if not batch.size:
            return True
        if self.txn is None:  # dry run: nothing to commit, only to count
            self._counted(batch)
            return True
        offsets = [TopicPartition(self.options.topic, p, o) for p, o in batch.next_offsets.items()]
        aborted = self.txn.commit(offsets, self.consumer.consumer_group_metadata())
        if aborted is not None:
            self.report.aborted_transactions += 1
            log.warning(
                "batch aborted; reading it again",
                error=aborted,
                delivery_errors=self.txn.delivery_errors[:3],
            )
            self._on_progress(-batch.size)
            reader.rewind(batch.first)
            self._batch = _Batch()
            return False
        self.report.transactions += 1
        self._counted(batch)
        return True

    def _counted(self, batch: _Batch) -> None:
        self.report.totals.merge(batch.tally)
        if self.txn is not None:
            for action in (Action.REPLAY, Action.STILL_INVALID, Action.SKIP):
                n = batch.tally.actions[action.value]
                if n:
                    self.metrics.replay_records.labels(action.value).inc(n)
        self._batch = _Batch()

    def _write_audit(self, txn: Transactions) -> None:
        """Produce the audit record to ``--audit-topic`` in its own transaction (real runs)."""
        topic = self.options.audit_topic
        if topic is None:
            return
        try:
            txn.write_one(
                topic, self.options.replay_id.encode(), orjson.dumps(audit_record(self.report))
            )
        except KafkaFailure as exc:
            self.report.error = f"the audit record was not written: {exc}"
            log.error("audit record not written", topic=topic, error=str(exc))
