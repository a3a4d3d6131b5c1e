"""Reading a dead-letter record's envelope back: tolerant of anything a header may hold."""

from __future__ import annotations

from streamprocs.contracts.verdict import Verdict, Violation
from streamprocs.dlq.record import DeadLetter, parse_details, replay_count
from streamprocs.enforcer import envelope as env


def test_envelope_written_by_the_enforcer_reads_back_field_for_field() -> None:
    """What ``envelope()`` writes, ``DeadLetter.of`` reads: the two stay in step."""
    verdict = Verdict(
        (
            Violation("schema", "schema.enum", "/currency", "not one of the allowed values"),
            Violation("schema", "schema.enum", "/channel", "not one of the allowed values"),
            Violation("schema", "schema.required", "/email", "missing"),
        )
    )
    headers = env.envelope(
        [("trace", b"1")],
        verdict,
        env.Source("orders", 2, 41, 1_700_000_000_000),
        contract_id="checkout.order_created",
        version=2,
        revision="abc123",
        processor="host-1",
    )
    r = DeadLetter.of("orders.dlq", 1, 7, b"k", b"{}", headers, 1_700_000_000_000)
    assert (r.reason, r.contract_id, r.version, r.revision) == (
        "schema",
        "checkout.order_created",
        2,
        "abc123",
    )
    assert (r.source_topic, r.source_partition, r.source_offset) == ("orders", 2, 41)
    assert r.source_timestamp_ms == r.event_timestamp_ms == 1_700_000_000_000
    assert r.rules == ("schema.enum", "schema.required"), "each rule once, in order"
    assert [d.path for d in r.details] == ["/currency", "/channel", "/email"]
    assert r.replay_count == 0 and r.replay_id is None
    assert r.original_headers() == [("trace", b"1")]


def test_garbled_or_missing_envelope_fields_read_as_absent() -> None:
    """A record written by another tool or by hand never breaks inspect or replay."""
    headers: list[tuple[str, bytes | None]] = [
        (env.DETAIL, b"not json"),
        (env.CONTRACT_VERSION, b"two"),
        (env.SOURCE_PARTITION, b""),
        (env.REPLAY_COUNT, None),
    ]
    r = DeadLetter.of("x", 0, 0, None, None, headers, -1)
    assert r.details == () and r.version is None and r.source_partition is None
    assert r.reason is None and r.source_topic is None and r.timestamp_ms is None
    assert r.replay_count == 0


def test_details_keep_valid_entries_and_drop_the_rest() -> None:
    """Entries without a textual rule are dropped; missing paths/messages become empty."""
    found = parse_details('[{"rule":"r1"},{"rule":3},"x",{"rule":"r2","path":"/a","message":5}]')
    assert [(d.rule, d.path, d.message) for d in found] == [("r1", "", ""), ("r2", "/a", "")]
    assert parse_details('{"rule":"r"}') == ()


def test_replay_count_is_a_non_negative_number() -> None:
    """Unreadable or negative counts read as 0 (the next replay writes a correct one)."""
    assert [replay_count(t) for t in (None, "", "x", "-2", "0", " 3 ")] == [0, 0, 0, 0, 0, 3]


def test_original_headers_drop_every_dce_header_and_keep_order_and_duplicates() -> None:
    """Replay restores exactly what the event arrived with, repeated headers included."""
    headers: list[tuple[str, bytes | None]] = [
        ("b", b"1"),
        (env.REASON, b"rule"),
        ("a", None),
        (env.REPLAY_COUNT, b"1"),
        ("b", b"2"),
        ("dce-sample-seq", b"9"),  # not the dce. prefix: an ordinary header
    ]
    r = DeadLetter.of("x", 0, 0, None, b"", headers, 5)
    assert r.original_headers() == [("b", b"1"), ("a", None), ("b", b"2"), ("dce-sample-seq", b"9")]
    assert r.replay_count == 1


def test_value_omitted_is_read_only_from_a_record_without_a_value() -> None:
    """dce.value.omitted says the enforcer left the value out; a record that has a value, or
    a mark that is not a number, is not taken for one."""
    marked = [(env.VALUE_OMITTED, b"20001")]
    assert DeadLetter.of("d", 0, 0, None, None, marked, 5).value_omitted == 20001
    assert DeadLetter.of("d", 0, 0, None, b"{}", marked, 5).value_omitted is None
    garbled = [(env.VALUE_OMITTED, b"lots")]
    assert DeadLetter.of("d", 0, 0, None, None, garbled, 5).value_omitted is None
    assert DeadLetter.of("d", 0, 0, None, None, [], 5).value_omitted is None
