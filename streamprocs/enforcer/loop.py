"""The enforcer: consume records, judge each, produce it on; commit in batches. Repeat.

Records are judged and produced as soon as ``consume()`` returns them (it waits
at most ``POLL_TIMEOUT_S``); they are committed in batches, each closed after
``batch_size`` records or ``batch_timeout_s``, whichever comes first.

Guarantees:
- ``exactly_once``: one Kafka transaction per batch holds the output records,
  the dead-letter records and the consumed offsets; a failed batch is aborted
  and re-read from its first offset.
- ``at_least_once``: offsets are committed only after every record of the
  batch was acknowledged by the broker; a failed batch is re-read.

A rebalance (its callbacks run inside ``consume()``) commits the open batch
before the partitions go.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Decision, Outcome, Router
from streamprocs.enforcer.config import Guarantee, Settings
from streamprocs.enforcer.envelope import VALUE_OMITTED, HeaderList, Source, envelope
from streamprocs.enforcer.fetching import prefetch_settings
from streamprocs.enforcer.reload import Reloader
from streamprocs.enforcer.runtime import tune_gc
from streamprocs.enforcer.sizes import (
    batch_bytes,
    diverted,
    read_limits,
    record_bytes,
    value_guard,
    value_left_out,
)
from streamprocs.enforcer.topics import missing_destinations
from streamprocs.observability.http import Health
from streamprocs.observability.logging import RateLimiter, kafka_logger
from streamprocs.observability.metrics import DlqKey, EventKey, Metrics, ViolationKey

log = structlog.get_logger("dce.enforcer")

# Transaction calls block on the broker; a minute is far above a healthy
# round trip yet short enough for a stuck coordinator to surface as an error.
TXN_TIMEOUT_S = 60.0
# One step of waiting for the transaction coordinator at start-up; short so
# that a stop request is noticed while the broker is unreachable.
INIT_STEP_S = 5.0
# librdkafka's local queue is full: give its threads this long to drain it.
QUEUE_FULL_BACKOFF_S = 0.05
# Longest wait in one consume() call. librdkafka's batch consume waits for a
# full batch or its timeout, so this bounds how long a record waits to be
# judged and forwarded at light load; batches still close (commit) every
# batch_timeout_s or batch_size records, across several consume() calls.
POLL_TIMEOUT_S = 0.005
# How long a metadata request may take at start and on reload: short, so that
# a broker down at start delays it little (the check is then skipped).
METADATA_TIMEOUT_S = 5.0
# Consumer lag comes from librdkafka's statistics, emitted this often.
STATS_INTERVAL_MS = 5000


def _lag(partition: dict[str, Any]) -> int | None:
    """Messages between this consumer's position and the end of a partition.

    librdkafka's ``consumer_lag`` is computed from offsets the consumer itself
    committed; under exactly-once the offsets are committed by the producer's
    transaction, so it stays -1. The last stable offset (what read_committed
    can reach) minus the position works for both guarantees.
    """
    end = partition.get("ls_offset", -1)
    position = partition.get("app_offset", -1)
    if isinstance(end, int) and isinstance(position, int) and end >= 0 and position >= 0:
        return max(end - position, 0)
    lag = partition.get("consumer_lag")
    return lag if isinstance(lag, int) and lag >= 0 else None


class FatalError(RuntimeError):
    """The enforcer cannot go on (fenced by a newer instance, broker refused config)."""


@dataclass
class _Batch:
    """What one batch did. Per event only the decision is counted; the metric
    labels are derived from the distinct decisions once per batch."""

    # perf_counter() when the batch was opened, the records taken into it, and
    # the seconds spent judging and producing them (waits in consume() excluded).
    started: float = 0.0
    records: int = 0
    busy_s: float = 0.0
    first: dict[tuple[str, int], int] = field(default_factory=dict)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    # (source topic, decision) -> [events, newest timestamp in ms]. Valid events
    # of one contract version share one decision object (see router.Lane), so
    # this holds a few entries plus one per violation.
    decisions: dict[tuple[str, Decision], list[int]] = field(default_factory=dict)
    dlq: Counter[DlqKey] = field(default_factory=Counter)
    delivery_errors: list[str] = field(default_factory=list)

    def discard_tallies(self) -> None:
        """The batch will be re-read: what it counted must not reach the metrics."""
        self.decisions.clear()
        self.dlq.clear()

    def metric_tallies(
        self,
    ) -> tuple[Counter[EventKey], Counter[ViolationKey], dict[tuple[str, str], float]]:
        events: Counter[EventKey] = Counter()
        violations: Counter[ViolationKey] = Counter()
        last_seen: dict[tuple[str, str], float] = {}
        for (topic, decision), (n, newest_ms) in self.decisions.items():
            target = decision.target
            contract = target.contract.id if target else "unknown"
            team = target.contract.team if target else "unknown"
            version = str(decision.version) if decision.version is not None else ""
            events[(topic, contract, version, team, decision.outcome.value)] += n
            for v in decision.verdict.violations:
                violations[(contract, version, team, v.reason, v.rule)] += n
            if newest_ms > 0:
                key = (topic, contract)
                seconds = newest_ms / 1000.0
                if seconds > last_seen.get(key, 0.0):
                    last_seen[key] = seconds
        return events, violations, last_seen


class Enforcer:
    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.health = Health()
        self.exactly_once = settings.processing_guarantee is Guarantee.EXACTLY_ONCE
        contract_set = load_contract_set(settings.contracts_dir, settings.limits)
        self.router = self._router(contract_set)
        self.metrics.contracts_changed(contract_set)
        self.reloader = Reloader(
            settings, contract_set.revision, self.metrics, check=self._topics_missing_for
        )
        self._stop = threading.Event()
        self._violation_logs = RateLimiter(settings.log.violation_log_interval_s)
        # The batch open across consume() calls until it is due (see run()).
        self._batch: _Batch | None = None
        # Partitions revoked during the last consume() call (see _without_revoked).
        self._revoked: set[tuple[str, int]] = set()
        self.consumer: Any = None
        self.producer: Any = None
        self.admin: Any = None
        self._admin_lock = threading.Lock()
        # max.message.bytes of the topics written (see sizes.py), and the value length
        # from which a record's size is checked against them; -1 checks every record
        # while a batch a topic refused is read again.
        self._limits: dict[str, int] = {}
        self._guard = value_guard(())
        self._exact_sizes = False
        # Topics that refused a record batch as too large since the last batch opened.
        self._refused: set[str] = set()

    def _router(self, contract_set: Any) -> Router:
        return Router(contract_set, self.settings.limits, self.settings.default_dead_letter)

    # --- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to finish the open batch, commit it and close. Thread- and signal-safe."""
        self._stop.set()

    def _destinations(self) -> set[str]:
        return set().union(*self.router.output_topics().values())

    def _admin(self) -> Any:
        # Shared by the loop and the reload thread: librdkafka clients are thread-safe.
        with self._admin_lock:
            if self.admin is None:
                config: dict[str, Any] = {**self.settings.kafka, "logger": kafka_logger()}
                self.admin = AdminClient(config)
            return self.admin

    def _topics_missing_for(self, contract_set: Any) -> list[str]:
        """Reload check: the topics a new contract set would write that do not exist."""
        missing = missing_destinations(
            self._admin(), self._router(contract_set), METADATA_TIMEOUT_S
        )
        return missing or []

    def _check_topics(self) -> None:
        """Stop at start when a topic the contracts write does not exist (records sent to it
        would wait for it, then fail their batch, again and again); learn the limits."""
        missing = missing_destinations(self._admin(), self.router, METADATA_TIMEOUT_S)
        if missing is None:
            log.warning(
                "could not read the cluster's topics at start; not checking that the output"
                " and dead-letter topics exist, nor their max.message.bytes"
            )
            return
        if missing:
            raise FatalError(
                "topics the contracts write do not exist: "
                + "; ".join(missing)
                + ". Create them with `dce topics ensure` (or start with"
                " `dce run --ensure-topics`), or fix the contracts' bindings."
            )
        self._read_limits(self._destinations())

    def _read_limits(self, topics: set[str]) -> None:
        """Learn the limits of ``topics``; the guard follows the smallest known one."""
        limits, problems = read_limits(self._admin(), topics)
        if problems:
            log.warning(
                "could not read max.message.bytes; a record too large for these topics"
                " will stop the enforcer with an error instead of being dead-lettered",
                topics=problems,
            )
        self._limits.update(limits)
        self._guard = -1 if self._exact_sizes else value_guard(self._limits.values())

    def _clients(self) -> tuple[Any, Any]:
        s = self.settings
        self._check_topics()
        consumer = Consumer(
            {
                **s.kafka,
                "group.id": s.group_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                # Source producers may be transactional: never judge aborted data.
                "isolation.level": "read_committed",
                "statistics.interval.ms": STATS_INTERVAL_MS,
                # librdkafka prefetches up to 64 MiB per consumer by default; a
                # few batches ahead is all the loop can use (override in consumer:).
                **prefetch_settings(),
                "stats_cb": self._on_stats,
                "logger": kafka_logger(),
                **s.consumer,
            }
        )
        producer_config: dict[str, Any] = {
            **s.kafka,
            "enable.idempotence": True,
            "linger.ms": 5,
            "logger": kafka_logger(),
            # Delivery reports cost a Python call per record; only failures
            # matter (a batch is committed only when flush() left none).
            "delivery.report.only.error": True,
            "on_delivery": self._on_delivery,
            # Records are forwarded as they came: let the broker, which already
            # accepted them once, judge their size rather than the client's 1 MB default.
            "message.max.bytes": 100_000_000,
            **s.producer,
        }
        batch_size = batch_bytes(self._limits.values())
        if batch_size is not None and "batch.size" not in s.producer:
            # A topic below librdkafka's 1 MB batches would refuse whole batches of
            # records that each fit it.
            producer_config["batch.size"] = batch_size
        if self.exactly_once:
            producer_config["transactional.id"] = s.effective_transactional_id()
        producer = Producer(producer_config)
        return consumer, producer

    def run(self) -> None:
        """Run until ``stop()``; raises ``FatalError`` when it cannot go on."""
        tune_gc()
        self.consumer, self.producer = self._clients()
        try:
            if self.exactly_once and not self._init_transactions():
                return
            self._subscribe()
            self.reloader.start()
            log.info(
                "enforcer started",
                guarantee=self.settings.processing_guarantee.value,
                topics=self.router.topics,
                revision=self.router.revision,
                processor=self.settings.processor_id,
                kafka=self.settings.redacted_kafka(),
            )
            while not self._stop.is_set():
                batch = self._batch
                if batch is None:
                    self._maybe_swap_router()
                room = self.settings.batch_size - (batch.records if batch else 0)
                messages = self.consumer.consume(num_messages=room, timeout=POLL_TIMEOUT_S)
                self.health.beat()
                if self._revoked:
                    messages = self._without_revoked(messages)
                if messages:
                    self._take(messages)
                batch = self._batch
                if batch is not None and self._due(batch):
                    self._finish_batch()
            # Stopped: what was taken so far is committed before the clients close.
            if self._batch is not None:
                self._finish_batch()
        finally:
            self._close()

    def _init_transactions(self) -> bool:
        """Register the transactional id (fencing an older instance); False if stopped meanwhile.

        Retried in short steps so that SIGTERM is honoured while the broker is
        unreachable, instead of after one long blocking call.
        """
        while not self._stop.is_set():
            try:
                self.producer.init_transactions(INIT_STEP_S)
                return True
            except KafkaException as exc:
                error = exc.args[0]
                if isinstance(error, KafkaError) and error.retriable():
                    log.warning("waiting for the transaction coordinator", error=error.str())
                    continue
                raise FatalError(f"could not initialise transactions: {exc}") from exc
        return False

    def _close(self) -> None:
        self.reloader.stop()
        self.health.ready = False
        self.health.reason = "shutting down"
        deadline = self.settings.shutdown_timeout_s
        if self.producer is not None:
            self.producer.flush(deadline)
        if self.consumer is not None:
            # close() leaves the group at once, so partitions move on without
            # waiting for the session timeout.
            self.consumer.close()
        log.info("enforcer stopped")

    def _subscribe(self) -> None:
        self.consumer.subscribe(
            self.router.topics, on_assign=self._on_assign, on_revoke=self._on_revoke
        )

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        self.health.ready = True
        self.health.reason = ""
        log.info(
            "partitions assigned", partitions=[f"{p.topic}[{p.partition}]" for p in partitions]
        )

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        # A batch may be open across consume() calls: it is committed before the
        # partitions go, so that their next owner starts after it. If that fails,
        # the next owner starts from the last commit and judges those records again.
        if self._batch is not None:
            self._finish_batch()
        self._revoked.update((p.topic, p.partition) for p in partitions)
        # Lag of partitions this instance no longer owns would be stale: drop it.
        for p in partitions:
            with contextlib.suppress(KeyError):
                self.metrics.consumer_lag.remove(p.topic, str(p.partition))
        log.info("partitions revoked", partitions=[f"{p.topic}[{p.partition}]" for p in partitions])

    def _without_revoked(self, messages: list[Any]) -> list[Any]:
        """The messages of a consume() call that revoked partitions, minus theirs.

        The call may return records it had taken before the rebalance callback
        ran. Judged now, they would be committed past their partition's new
        owner's start (or, if the partition came back here, read twice); dropped,
        they are read again from the offset committed when the partitions went.
        """
        revoked, self._revoked = self._revoked, set()
        return [
            m
            for m in messages
            if m.error() is not None or (m.topic(), m.partition()) not in revoked
        ]

    def _on_stats(self, stats_json: str) -> None:
        try:
            stats = orjson.loads(stats_json)
            for topic, data in stats.get("topics", {}).items():
                for partition, p in data.get("partitions", {}).items():
                    lag = _lag(p)
                    if partition != "-1" and lag is not None:
                        self.metrics.consumer_lag.labels(topic, partition).set(lag)
        except (orjson.JSONDecodeError, AttributeError, TypeError):
            log.warning("could not read librdkafka statistics")

    def _maybe_swap_router(self) -> None:
        contract_set = self.reloader.take()
        if contract_set is None:
            return
        old_topics = self.router.topics
        self.router = self._router(contract_set)
        self.metrics.contracts_changed(contract_set)
        log.info("contracts reloaded", revision=contract_set.revision)
        if self.router.topics != old_topics:
            self._subscribe()
        new = self._destinations() - set(self._limits)
        if new:
            self._read_limits(new)

    # --- one batch ---------------------------------------------------------------------

    def _take(self, messages: list[Message]) -> None:
        """Judge and produce records into the open batch, opening one if needed."""
        started = time.perf_counter()
        batch = self._batch
        if batch is None:
            if self._refused:
                self._after_refusal()
            batch = _Batch(started=started)
            if self.exactly_once:
                self.producer.begin_transaction()
            self._batch = batch
        batch.records += len(messages)
        try:
            self._route_all(messages, batch)
        except BaseException:
            self._batch = None
            if self.exactly_once:
                self._abort(batch, "exception while routing")
            raise
        batch.busy_s += time.perf_counter() - started

    def _due(self, batch: _Batch) -> bool:
        s = self.settings
        return (
            batch.records >= s.batch_size
            or time.perf_counter() - batch.started >= s.batch_timeout_s
        )

    def _finish_batch(self) -> None:
        """Commit the open batch: its offsets, and under exactly-once its transaction."""
        batch = self._batch
        assert batch is not None
        started = time.perf_counter()
        if batch.next_offsets:
            if self.exactly_once:
                self._commit_transaction(batch)
            else:
                self._commit_acknowledged(batch)
        elif self.exactly_once:
            # Only consumer errors were taken: nothing to commit, but a transaction is open.
            self._end_empty_transaction()
        self._batch = None
        events, violations, last_seen = batch.metric_tallies()
        self.metrics.add_batch(events, violations, batch.dlq, last_seen)
        self._log_deprecated(batch)
        batch.busy_s += time.perf_counter() - started
        self.metrics.batch_duration.observe(batch.busy_s)

    def _route_all(self, messages: list[Any], batch: _Batch) -> None:
        """Judge and produce every record of a batch: the hot loop.

        Everything per record is here, with attributes bound to locals, because
        a method call or attribute lookup per record is a measurable share of
        the loop (bench/README.md). ``Any``: the client's stubs type every
        accessor as optional, which holds only for error events, and those are
        handled first.
        """
        route = self.router.route
        produce = self.producer.produce
        guard = self._guard
        first = batch.first
        next_offsets = batch.next_offsets
        decisions = batch.decisions
        invalid = Outcome.INVALID
        no_timestamp = TIMESTAMP_NOT_AVAILABLE
        for msg in messages:
            error = msg.error()
            if error is not None:
                self._consumer_error(error)
                continue
            topic = msg.topic()
            headers = msg.headers()
            value = msg.value()
            decision = route(topic, headers, value)
            ts_type, ts = msg.timestamp()
            timestamp = ts if ts_type != no_timestamp else 0
            key = msg.key()
            if len(value or b"") > guard:
                decision, key, value, headers = self._fitted(
                    msg, decision, key, value, headers, timestamp, batch
                )
            elif decision.outcome is invalid:
                headers = self._dead_letter_headers(msg, decision, headers, timestamp, batch)
            try:
                produce(decision.topic, value, key, headers=headers, timestamp=timestamp)
            except BufferError:
                self._produce(decision.topic, key, value, headers, timestamp)
            tp = (topic, msg.partition())
            offset = msg.offset()
            if tp not in first:
                first[tp] = offset
            next_offsets[tp] = offset + 1
            key = (topic, decision)
            tally = decisions.get(key)
            if tally is None:
                decisions[key] = [1, timestamp]
            else:
                tally[0] += 1
                if timestamp > tally[1]:
                    tally[1] = timestamp

    def _dead_letter_headers(
        self, msg: Any, decision: Decision, headers: Any, timestamp: int, batch: _Batch
    ) -> HeaderList:
        batch.dlq[(decision.topic, decision.verdict.reason or "schema")] += 1
        self._log_violation(decision, msg.topic(), msg.partition(), msg.offset())
        return self._envelope(msg, decision, headers, timestamp)

    def _envelope(self, msg: Any, decision: Decision, headers: Any, timestamp: int) -> HeaderList:
        target = decision.target
        return envelope(
            headers,
            decision.verdict,
            Source(msg.topic(), msg.partition(), msg.offset(), timestamp or None),
            contract_id=target.contract.id if target else None,
            version=decision.version,
            revision=self.router.revision,
            processor=self.settings.processor_id,
        )

    def _fitted(
        self,
        msg: Any,
        decision: Decision,
        key: bytes | None,
        value: bytes | None,
        headers: Any,
        timestamp: int,
        batch: _Batch,
    ) -> tuple[Decision, bytes | None, bytes | None, Any]:
        """A record near a limit, made to fit where it goes (the slow path).

        A record its output topic cannot take goes to the dead-letter topic whole;
        a dead-letter record its topic cannot take goes without its value (its
        length in ``dce.value.omitted``), and if even that is too large, without
        its key and original headers: the envelope still says where it is.
        """
        limits = self._limits
        if decision.outcome is not Outcome.INVALID:
            limit = limits.get(decision.topic)
            size = record_bytes(key, value, headers)
            if limit is None or size <= limit:
                return decision, key, value, headers
            decision = diverted(decision, size, limit)
        extra: HeaderList = []
        limit = limits.get(decision.topic)
        if limit is not None:
            probe = self._envelope(msg, decision, headers, timestamp)
            if record_bytes(key, value, probe) > limit:
                size = len(value or b"")
                self._value_left_out(decision.topic, size, limit)
                decision = value_left_out(decision, size, limit)
                value = None
                extra = [(VALUE_OMITTED, str(size).encode())]
                probe = self._envelope(msg, decision, headers, timestamp) + extra
                if record_bytes(key, None, probe) > limit:
                    key, headers = None, None
        return (
            decision,
            key,
            value,
            self._dead_letter_headers(msg, decision, headers, timestamp, batch) + extra,
        )

    def _log_violation(self, decision: Decision, topic: str, partition: int, offset: int) -> None:
        first = decision.verdict.errors[0]
        contract = decision.target.contract.id if decision.target else None
        suppressed = self._violation_logs.allow((contract, first.rule))
        if suppressed is None:
            return
        log.warning(
            "event rejected",
            contract=contract,
            version=decision.version,
            reason=first.reason,
            rule=first.rule,
            path=first.path,
            message=first.message,
            topic=topic,
            partition=partition,
            offset=offset,
            dead_letter=decision.topic,
            similar_suppressed=suppressed,
        )

    def _log_deprecated(self, batch: _Batch) -> None:
        for (_, decision), (n, _) in batch.decisions.items():
            if not decision.deprecated:
                continue
            contract = decision.target.contract.id if decision.target else None
            suppressed = self._violation_logs.allow(("deprecated", contract, decision.version), n)
            if suppressed is not None:
                log.info(
                    "deprecated contract version in use",
                    contract=contract,
                    version=decision.version,
                    similar_suppressed=suppressed,
                )

    def _produce(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int
    ) -> None:
        while True:
            try:
                self.producer.produce(
                    topic,
                    value=value,
                    key=key,
                    headers=headers,
                    timestamp=timestamp,
                )
                return
            except BufferError:
                # The local queue is full: serve delivery reports until it drains.
                self.producer.poll(QUEUE_FULL_BACKOFF_S)

    def _value_left_out(self, topic: str, size: int, limit: int) -> None:
        """Counted as a dead-letter error: the topic is too small for what it must hold."""
        self.metrics.dlq_errors.labels(topic).inc()
        suppressed = self._violation_logs.allow((topic, "value_left_out"))
        if suppressed is not None:
            log.warning(
                "dead-letter record written without its value: the topic cannot take it",
                dlq_topic=topic,
                value_bytes=size,
                max_message_bytes=limit,
                similar_suppressed=suppressed,
            )

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            return
        if err.code() == KafkaError.MSG_SIZE_TOO_LARGE:
            self._refused.add(msg.topic() or "")
        batch = self._batch
        if batch is not None:
            batch.delivery_errors.append(f"{msg.topic()}: {err.str()}")
        if msg.topic() in self.router.dead_letters:
            self.metrics.dlq_errors.labels(msg.topic()).inc()

    def _after_refusal(self) -> None:
        """A topic refused a batch as too large: read the batch again checking every
        record's size against fresh limits, or stop if that was already done."""
        refused, self._refused = self._refused, set()
        if self._exact_sizes:
            raise FatalError(
                f"{', '.join(sorted(refused))} refused record batches as too large although"
                " every record was checked against its max.message.bytes: the limit could"
                " not be read, or was lowered below the producer's batch.size after dce"
                " started. Grant DescribeConfigs on the topic, or restart dce so that it"
                " reads the limits again."
            )
        log.warning("records refused as too large; re-reading them checked", topics=sorted(refused))
        self._exact_sizes = True
        self._read_limits(refused)

    def _sizes_confirmed(self) -> None:
        """A batch committed: back to checking only the records near a limit."""
        if self._exact_sizes:
            self._exact_sizes = False
            self._guard = value_guard(self._limits.values())

    def _consumer_error(self, error: KafkaError) -> None:
        if error.code() == KafkaError._PARTITION_EOF:
            return
        if error.fatal():
            raise FatalError(f"consumer: {error.str()}")
        log.warning("consumer error", error=error.str(), code=error.name())

    # --- commit ------------------------------------------------------------------------

    def _offsets(self, batch: _Batch) -> list[TopicPartition]:
        return [TopicPartition(t, p, o) for (t, p), o in batch.next_offsets.items()]

    def _rewind(self, batch: _Batch) -> None:
        """Re-read a failed batch from its first record, for both guarantees."""
        for (topic, partition), offset in batch.first.items():
            try:
                self.consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:
                # Not assigned any more: its new owner starts from the committed offset.
                log.info(
                    "partition moved before rewind",
                    topic=topic,
                    partition=partition,
                    error=str(exc),
                )

    def _end_empty_transaction(self) -> None:
        try:
            self.producer.abort_transaction(TXN_TIMEOUT_S)
        except KafkaException as exc:
            raise FatalError(f"could not end an empty transaction: {exc}") from exc

    def _abort(self, batch: _Batch, why: str) -> None:
        try:
            self.producer.abort_transaction(TXN_TIMEOUT_S)
        except KafkaException as exc:
            raise FatalError(f"could not abort the transaction: {exc}") from exc
        self.metrics.transactions.labels("aborted").inc()
        self._rewind(batch)
        log.warning("batch aborted and will be re-read", why=why)

    def _commit_transaction(self, batch: _Batch) -> None:
        try:
            self.producer.send_offsets_to_transaction(
                self._offsets(batch), self.consumer.consumer_group_metadata(), TXN_TIMEOUT_S
            )
            self.producer.commit_transaction(TXN_TIMEOUT_S)
        except KafkaException as exc:
            error = exc.args[0]
            if isinstance(error, KafkaError) and error.txn_requires_abort():
                self._abort(batch, error.str())
                batch.discard_tallies()
                return
            raise FatalError(f"transaction commit failed: {exc}") from exc
        self.metrics.transactions.labels("committed").inc()
        self._sizes_confirmed()

    def _commit_acknowledged(self, batch: _Batch) -> None:
        remaining = self.producer.flush(TXN_TIMEOUT_S)
        if remaining or batch.delivery_errors:
            why = batch.delivery_errors[:3] or [f"{remaining} records unacknowledged"]
            self._rewind(batch)
            batch.discard_tallies()
            log.warning("batch not fully acknowledged; re-reading it", errors=why)
            return
        self.consumer.commit(offsets=self._offsets(batch), asynchronous=False)
        self._sizes_confirmed()
