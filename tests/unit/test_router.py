"""The router: from (topic, headers, value) to a decision, on the example contracts and small trees.

The example contracts cover the three ways a topic tells its events apart:
``checkout.events`` (header discriminator, version in a header, enforced),
``identity.users`` (JSON-pointer discriminator, version in a header, shadow
mode, v1 retired, v2 deprecated) and ``payments.captured`` (one contract, no
discriminator, version at the JSON pointer ``/schema_version``, v1
deprecated). Special cases (dead-letter fallback order, ``default_version``,
a retired version of an enforced contract) use small contract trees written
to ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamprocs.contracts.compiler import Limits
from streamprocs.contracts.loader import ContractSet, load_contract_set
from streamprocs.contracts.registry import compile_pointer, pointer_text
from streamprocs.contracts.router import MAX_CACHED_VERSION_NAMES, Decision, Outcome, Router

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
CONTRACT_SET = load_contract_set(CONTRACTS)
ROUTER = Router(CONTRACT_SET)

CHECKOUT = "checkout.events"
IDENTITY = "identity.users"
PAYMENTS = "payments.captured"

REASONS = frozenset(
    {
        "schema",
        "rule",
        "decode",
        "too_large",
        "too_deep",
        "unknown_contract",
        "unknown_version",
        "retired_version",
    }
)


def example(contract_dir: str, version: int, kind: str, index: int = 0) -> bytes:
    """One line of a contract's examples file, as record bytes."""
    path = CONTRACTS / contract_dir / "examples" / f"v{version}.{kind}.jsonl"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[index].encode()


def checkout_headers(version: str | None = None) -> list[tuple[str, bytes | None]]:
    headers: list[tuple[str, bytes | None]] = [("event-type", b"order_created")]
    if version is not None:
        headers.append(("contract-version", version.encode()))
    return headers


# A v2-only order: currency CAD exists from v2 on, so v1 rejects it and v2 accepts it.
ORDER_V2_ONLY = example("checkout/order_created", 2, "valid", 0)
# Valid for v1 and v2 but with a warn-severity rule violated (guest without phone).
ORDER_WARNED = example("checkout/order_created", 1, "valid", 2)
USER_V3 = example("identity/user_signed_up", 3, "valid", 0)
USER_V3_INVALID = example("identity/user_signed_up", 3, "invalid", 0)
USER_V2 = example("identity/user_signed_up", 2, "valid", 0)
PAYMENT_V1 = example("payments/payment_captured", 1, "valid", 0)
PAYMENT_V2 = example("payments/payment_captured", 2, "valid", 0)


def with_fields(raw: bytes, **fields: Any) -> bytes:
    event = orjson.loads(raw)
    for name, value in fields.items():
        if value is ...:
            event.pop(name, None)
        else:
            event[name] = value
    return orjson.dumps(event)


# --- small contract trees -------------------------------------------------------------

INT_SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer"}, "kind": {"type": "string"}},
    "required": ["n"],
}


def write_contract(
    root: Path,
    contract_id: str,
    bindings: list[dict[str, Any]],
    statuses: list[str],
    **extra: Any,
) -> None:
    """A contract folder with one ``v<N>.yaml`` per status, all with the same small schema."""
    domain, event = contract_id.split(".")
    folder = root / domain / event
    folder.mkdir(parents=True)
    spec = {
        "id": contract_id,
        "owner": {"team": domain, "contact": f"#{domain}"},
        "description": f"test contract {contract_id}",
        "bindings": bindings,
        **extra,
    }
    (folder / "contract.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    for number, status in enumerate(statuses, start=1):
        version = {"version": number, "status": status, "schema": INT_SCHEMA}
        (folder / f"v{number}.yaml").write_text(yaml.safe_dump(version, sort_keys=False))


def shared_topic_set(tmp_path: Path) -> ContractSet:
    """Two contracts on ``shared.events``, told apart by the ``kind`` header.

    The returned set lists ``beta`` before ``alpha`` so that only sorting by
    contract id (not dict order) makes ``alpha``'s binding the first one.
    """
    root = tmp_path / "contracts"
    for cid in ("alpha.made", "beta.made"):
        domain = cid.split(".")[0]
        binding = {
            "topic": "shared.events",
            "discriminator": {"header": "kind", "value": domain},
            "output": f"{domain}.out",
            "dead_letter": f"{domain}.dlq",
        }
        write_contract(root, cid, [binding], ["active"])
    loaded = load_contract_set(root)
    reordered = dict(sorted(loaded.contracts.items(), reverse=True))
    assert list(reordered) == ["beta.made", "alpha.made"]
    return ContractSet(root=loaded.root, contracts=reordered, revision=loaded.revision)


def single_contract_router(tmp_path: Path, statuses: list[str], **extra: Any) -> Router:
    root = tmp_path / "contracts"
    binding = {"topic": "solo.events", "output": "solo.out", "dead_letter": "solo.dlq"}
    write_contract(root, "solo.thing", [binding], statuses, **extra)
    return Router(load_contract_set(root))


def version_header(version: str) -> list[tuple[str, bytes | None]]:
    return [("contract-version", version.encode())]


# --- contract selection -------------------------------------------------------------


def test_header_discriminator_selects_the_contract() -> None:
    """On checkout.events the ``event-type`` header picks checkout.order_created."""
    decision = ROUTER.route(CHECKOUT, checkout_headers("2"), ORDER_V2_ONLY)
    assert decision.target is not None
    assert decision.target.contract.id == "checkout.order_created"
    assert decision.outcome is Outcome.VALID
    assert decision.topic == "checkout.events.valid"
    assert decision.version == 2


@pytest.mark.parametrize(
    "headers",
    [
        [("event-type", b"order_shipped"), ("contract-version", b"2")],
        [("contract-version", b"2")],
        None,
        [],
    ],
    ids=["other-value", "header-missing", "headers-none", "headers-empty"],
)
def test_header_discriminator_without_a_match_is_unknown_contract(
    headers: list[tuple[str, bytes | None]] | None,
) -> None:
    """A checkout.events record whose ``event-type`` names no contract is dead-lettered."""
    decision = ROUTER.route(CHECKOUT, headers, ORDER_V2_ONLY)
    assert decision.outcome is Outcome.INVALID
    assert decision.to_dead_letter
    assert decision.verdict.reason == "unknown_contract"
    assert decision.topic == "checkout.events.dlq"
    assert decision.target is None
    assert decision.version is None


def test_pointer_discriminator_selects_the_contract() -> None:
    """On identity.users the ``/type`` field of the event picks identity.user_signed_up."""
    decision = ROUTER.route(IDENTITY, [("contract-version", b"3")], USER_V3)
    assert decision.target is not None
    assert decision.target.contract.id == "identity.user_signed_up"
    assert decision.outcome is Outcome.VALID
    assert decision.topic == "identity.users.valid"
    assert decision.version == 3


@pytest.mark.parametrize("type_value", ["user_deleted", 7, None, ...], ids=repr)
def test_pointer_discriminator_without_a_match_is_unknown_contract(type_value: Any) -> None:
    """An identity.users event whose ``/type`` is another value, a number, null or absent."""
    decision = ROUTER.route(IDENTITY, None, with_fields(USER_V3, type=type_value))
    assert decision.outcome is Outcome.INVALID
    assert decision.verdict.reason == "unknown_contract"
    assert decision.topic == "identity.users.dlq"
    assert decision.target is None


def test_unknown_contract_goes_to_the_first_binding_by_contract_id(tmp_path: Path) -> None:
    """Without a default, a record no contract matches goes to the dead letter of the binding
    of the contract whose id sorts first, whatever order the set lists contracts in."""
    router = Router(shared_topic_set(tmp_path))
    decision = router.route("shared.events", [("kind", b"gamma")], b'{"n": 1}')
    assert decision.verdict.reason == "unknown_contract"
    assert decision.topic == "alpha.dlq"
    # And the discriminator still routes each known kind to its own contract.
    beta = router.route("shared.events", [("kind", b"beta")], b'{"n": 1}')
    assert beta.target is not None and beta.target.contract.id == "beta.made"
    assert beta.topic == "beta.out"
    bad_beta = router.route("shared.events", [("kind", b"beta")], b'{"n": "x"}')
    assert bad_beta.topic == "beta.dlq"


def test_unknown_contract_goes_to_the_default_dead_letter_when_given(tmp_path: Path) -> None:
    """``default_dead_letter`` wins over the bindings' own dead letters for unmatched records,
    while records of a known contract still go to that contract's dead letter."""
    router = Router(shared_topic_set(tmp_path), default_dead_letter="fallback.dlq")
    decision = router.route("shared.events", [("kind", b"gamma")], b'{"n": 1}')
    assert decision.verdict.reason == "unknown_contract"
    assert decision.topic == "fallback.dlq"
    known = router.route("shared.events", [("kind", b"alpha")], b'{"n": "x"}')
    assert known.topic == "alpha.dlq"
    # The example contracts' unmatched records too.
    examples = Router(CONTRACT_SET, default_dead_letter="fallback.dlq")
    assert examples.route(CHECKOUT, None, ORDER_V2_ONLY).topic == "fallback.dlq"


def test_unbound_topic_is_unknown_contract_without_raising() -> None:
    """A topic no contract binds is judged ``unknown_contract`` (no exception)."""
    decision = ROUTER.route("nobody.reads.this", None, b"{}")
    assert decision.outcome is Outcome.INVALID
    assert decision.verdict.reason == "unknown_contract"
    assert decision.target is None


# --- version selection ---------------------------------------------------------------


@pytest.mark.parametrize("named", ["2", "v2", "2.0", "V2", " 2 "])
def test_version_header_spellings_select_v2(named: str) -> None:
    """``2``, ``v2`` and ``2.0`` all name v2: the CAD order passes, which v1 would reject."""
    decision = ROUTER.route(CHECKOUT, checkout_headers(named), ORDER_V2_ONLY)
    assert decision.version == 2
    assert decision.outcome is Outcome.VALID


@pytest.mark.parametrize("named", ["1", "v1", "1.0"])
def test_version_header_selects_v1(named: str) -> None:
    """The version header really chooses the validator: v1 rejects the CAD currency."""
    decision = ROUTER.route(CHECKOUT, checkout_headers(named), ORDER_V2_ONLY)
    assert decision.version == 1
    assert decision.outcome is Outcome.INVALID
    assert decision.verdict.reason == "schema"
    assert any(v.path == "/currency" for v in decision.verdict.errors)
    assert decision.topic == "checkout.events.dlq"


@pytest.mark.parametrize(("named", "version"), [(1, 1), (2, 2), ("2", 2), ("v1", 1), (2.0, 2)])
def test_version_from_json_pointer(named: Any, version: int) -> None:
    """payments.payment_captured names its version at ``/schema_version``."""
    raw = with_fields(PAYMENT_V1, schema_version=named)
    decision = ROUTER.route(PAYMENTS, None, raw)
    assert decision.version == version
    assert decision.target is not None
    assert decision.target.contract.id == "payments.payment_captured"


def test_default_version_is_the_newest_live_one() -> None:
    """Without a version header checkout uses v2 and identity v3 (v1 retired, v2 deprecated)."""
    order = ROUTER.route(CHECKOUT, checkout_headers(None), ORDER_V2_ONLY)
    assert (order.version, order.outcome) == (2, Outcome.VALID)
    user = ROUTER.route(IDENTITY, None, USER_V3)
    assert (user.version, user.outcome, user.deprecated) == (3, Outcome.VALID, False)


def test_default_version_skips_a_retired_newest_version(tmp_path: Path) -> None:
    """When the newest version is retired, records naming none get the newest live one."""
    router = single_contract_router(tmp_path, ["active", "retired"])
    decision = router.route("solo.events", None, b'{"n": 1}')
    assert decision.version == 1
    assert decision.outcome is Outcome.VALID


def test_default_version_from_the_contract(tmp_path: Path) -> None:
    """``default_version: 1`` is used for records naming no version even when v2 is newer."""
    router = single_contract_router(tmp_path, ["active", "active"], default_version=1)
    decision = router.route("solo.events", None, b'{"n": 1}')
    assert decision.version == 1
    named = router.route("solo.events", version_header("2"), b'{"n": 1}')
    assert named.version == 2


@pytest.mark.parametrize("named", ["7", "0", "-1", "two", "", "v", "2.5", "1e1"])
def test_unknown_version_is_dead_lettered(named: str) -> None:
    """A version the contract does not have is ``unknown_version``, to the contract's DLQ."""
    decision = ROUTER.route(CHECKOUT, checkout_headers(named), ORDER_V2_ONLY)
    assert decision.outcome is Outcome.INVALID
    assert decision.verdict.reason == "unknown_version"
    assert decision.topic == "checkout.events.dlq"
    assert decision.target is not None
    assert decision.target.contract.id == "checkout.order_created"
    assert decision.version is None


def test_unknown_version_from_json_pointer() -> None:
    """``/schema_version: 9`` names no payments version."""
    decision = ROUTER.route(PAYMENTS, None, with_fields(PAYMENT_V2, schema_version=9))
    assert decision.verdict.reason == "unknown_version"
    assert decision.topic == "payments.captured.dlq"


def test_retired_version_of_an_enforced_contract_is_dead_lettered(tmp_path: Path) -> None:
    """Naming a retired version is ``retired_version``, even when the event would pass it."""
    router = single_contract_router(tmp_path, ["retired", "active"])
    decision = router.route("solo.events", version_header("1"), b'{"n": 1}')
    assert decision.outcome is Outcome.INVALID
    assert decision.verdict.reason == "retired_version"
    assert decision.topic == "solo.dlq"
    assert decision.target is not None and decision.target.contract.id == "solo.thing"


def test_retired_version_of_a_shadow_contract_is_reported_and_forwarded() -> None:
    """identity v1 is retired; identity is in shadow mode, so the record still flows on."""
    decision = ROUTER.route(IDENTITY, [("contract-version", b"1")], USER_V3)
    assert decision.verdict.reason == "retired_version"
    assert decision.outcome is Outcome.SHADOW_INVALID
    assert decision.topic == "identity.users.valid"


@pytest.mark.parametrize(
    ("topic", "headers", "value", "version"),
    [
        (IDENTITY, [("contract-version", b"2")], USER_V2, 2),
        (PAYMENTS, None, PAYMENT_V1, 1),
    ],
    ids=["identity-v2-header", "payments-v1-pointer"],
)
def test_deprecated_version_passes_flagged(
    topic: str, headers: list[tuple[str, bytes | None]] | None, value: bytes, version: int
) -> None:
    """A valid event of a deprecated version is forwarded with ``deprecated=True``."""
    decision = ROUTER.route(topic, headers, value)
    assert decision.outcome is Outcome.VALID
    assert decision.deprecated is True
    assert decision.version == version
    assert not decision.to_dead_letter


def test_active_version_is_not_flagged_deprecated() -> None:
    """The flag is not always on: payments v2 is active."""
    decision = ROUTER.route(PAYMENTS, None, PAYMENT_V2)
    assert (decision.outcome, decision.deprecated) == (Outcome.VALID, False)


# --- outcomes ------------------------------------------------------------------------


def test_shadow_contract_forwards_invalid_events_as_shadow_invalid() -> None:
    """identity is in shadow mode: an invalid v3 event goes to the output, not the DLQ."""
    decision = ROUTER.route(IDENTITY, [("contract-version", b"3")], USER_V3_INVALID)
    assert decision.outcome is Outcome.SHADOW_INVALID
    assert decision.topic == "identity.users.valid"
    assert not decision.to_dead_letter
    assert not decision.verdict.valid
    assert decision.verdict.reason == "schema"


def test_warn_only_violations_pass_as_warned() -> None:
    """A warn-severity rule violation alone forwards the event with outcome ``warned``."""
    decision = ROUTER.route(CHECKOUT, checkout_headers("1"), ORDER_WARNED)
    assert decision.outcome is Outcome.WARNED
    assert decision.topic == "checkout.events.valid"
    assert decision.verdict.valid
    assert [v.rule for v in decision.verdict.warnings] == ["guest_checkout_has_phone"]


@pytest.mark.parametrize(
    ("topic", "headers"),
    [(CHECKOUT, checkout_headers("2")), (IDENTITY, None), (PAYMENTS, None)],
    ids=["checkout", "identity", "payments"],
)
def test_tombstone_is_a_decode_failure_to_the_dead_letter(
    topic: str, headers: list[tuple[str, bytes | None]] | None
) -> None:
    """A record with no value (a tombstone) is dead-lettered as ``decode`` on every topic,
    even the shadow one: there is nothing to forward."""
    decision = ROUTER.route(topic, headers, None)
    assert decision.outcome is Outcome.INVALID
    assert decision.verdict.reason == "decode"
    assert decision.topic == f"{topic}.dlq"


@pytest.mark.parametrize("value", [b"{not json", b"\xff\xfe\x00", b"", b'{"type": '])
def test_undecodable_value_on_pointer_topic_has_no_contract(value: bytes) -> None:
    """identity.users must parse a record to find its contract; when it cannot, the record
    goes to the topic's dead letter as ``decode`` with no contract attached."""
    decision = ROUTER.route(IDENTITY, [("contract-version", b"3")], value)
    assert decision.outcome is Outcome.INVALID
    assert decision.verdict.reason == "decode"
    assert decision.topic == "identity.users.dlq"
    assert decision.target is None
    assert decision.version is None


def test_oversized_value_on_pointer_topic_is_too_large() -> None:
    """The size limit is checked before the discriminator parse."""
    router = Router(CONTRACT_SET, Limits(max_bytes=64))
    decision = router.route(IDENTITY, None, USER_V3)
    assert decision.verdict.reason == "too_large"
    assert decision.topic == "identity.users.dlq"


def test_undecodable_value_on_header_topic_keeps_the_contract() -> None:
    """On checkout.events the contract and version are known from headers, so a bad value
    is a ``decode`` failure of that contract and version."""
    decision = ROUTER.route(CHECKOUT, checkout_headers("2"), b"not json at all")
    assert decision.verdict.reason == "decode"
    assert decision.topic == "checkout.events.dlq"
    assert decision.target is not None
    assert decision.version == 2


def test_header_with_none_value_does_not_crash() -> None:
    """Kafka headers may carry no value; a None discriminator or version header is absent."""
    no_disc = ROUTER.route(CHECKOUT, [("event-type", None), ("contract-version", b"2")], b"{}")
    assert no_disc.verdict.reason == "unknown_contract"
    no_version = ROUTER.route(
        CHECKOUT, [("event-type", b"order_created"), ("contract-version", None)], ORDER_V2_ONLY
    )
    assert (no_version.version, no_version.outcome) == (2, Outcome.VALID)
    identity = ROUTER.route(IDENTITY, [("contract-version", None), ("x", None)], USER_V3)
    assert (identity.version, identity.outcome) == (3, Outcome.VALID)


@pytest.mark.parametrize("where", ["header", "pointer"])
def test_superscript_digit_version_does_not_raise(where: str) -> None:
    """A version named ``²`` (``str.isdigit`` accepts it, ``int()`` rejects it) is
    ``unknown_version``, not an exception (regression: route used to raise ValueError)."""
    if where == "header":
        decision = ROUTER.route(CHECKOUT, checkout_headers("²"), ORDER_V2_ONLY)
    else:
        decision = ROUTER.route(PAYMENTS, None, with_fields(PAYMENT_V2, schema_version="²"))
    assert decision.verdict.reason == "unknown_version"


@pytest.mark.parametrize("where", ["header", "pointer"])
def test_huge_numeric_version_does_not_raise(where: str) -> None:
    """A version named by 5000 digits is ``unknown_version``, not an exception (regression:
    ``int()`` refuses more than 4300 digits, and route used to raise ValueError)."""
    huge = "9" * 5000
    if where == "header":
        decision = ROUTER.route(CHECKOUT, checkout_headers(huge), ORDER_V2_ONLY)
    else:
        decision = ROUTER.route(PAYMENTS, None, with_fields(PAYMENT_V2, schema_version=huge))
    assert decision.verdict.reason == "unknown_version"


# --- topic tables ----------------------------------------------------------------------


def test_output_topics_and_dead_letters_of_the_examples() -> None:
    """Every source topic maps to exactly its output and dead letter."""
    assert ROUTER.output_topics() == {
        CHECKOUT: {"checkout.events.valid", "checkout.events.dlq"},
        IDENTITY: {"identity.users.valid", "identity.users.dlq"},
        PAYMENTS: {"payments.captured.valid", "payments.captured.dlq"},
    }
    assert ROUTER.dead_letters == frozenset(
        {"checkout.events.dlq", "identity.users.dlq", "payments.captured.dlq"}
    )
    assert ROUTER.topics == [CHECKOUT, IDENTITY, PAYMENTS]


def test_output_topics_with_shared_topic_and_default_dead_letter(tmp_path: Path) -> None:
    """A shared topic lists every contract's output and DLQ plus the default dead letter,
    and the default dead letter counts as a dead letter."""
    router = Router(shared_topic_set(tmp_path), default_dead_letter="fallback.dlq")
    assert router.output_topics() == {
        "shared.events": {"alpha.out", "alpha.dlq", "beta.out", "beta.dlq", "fallback.dlq"}
    }
    assert router.dead_letters == frozenset({"alpha.dlq", "beta.dlq", "fallback.dlq"})


# --- never raises -------------------------------------------------------------------------

HEADER_NAMES = ["event-type", "contract-version", "type", "schema_version", "kind", "x-trace"]
HEADER_VALUES = [
    b"order_created",
    b"user_signed_up",
    b"1",
    b"2",
    b"3",
    b"v2",
    b"2.0",
    b"0",
    b"",
    b"\xff",
    "²".encode(),
    "١".encode(),
    b"9" * 5000,
]
EXAMPLE_VALUES = [
    path.read_bytes().splitlines()[0]
    for path in sorted(CONTRACTS.glob("*/*/examples/*.jsonl"))
    if path.read_bytes().strip()
]


header_values = st.one_of(
    st.none(),
    st.sampled_from(HEADER_VALUES),
    st.binary(max_size=12),
)
headers_strategy = st.one_of(
    st.none(),
    st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_values), max_size=5),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["1", "v2", "user_signed_up", "²", "9" * 5000]),
)
values_strategy = st.one_of(
    st.none(),
    st.binary(max_size=64),
    st.sampled_from(EXAMPLE_VALUES),
    st.fixed_dictionaries(
        {},
        optional={"type": json_scalars, "schema_version": json_scalars, "n": json_scalars},
    ).map(orjson.dumps),
    st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=8).map(
        orjson.dumps
    ),
)


def check_invariants(router: Router, topic: str, decision: Decision) -> None:
    assert isinstance(decision, Decision)
    assert decision.topic in router.output_topics()[topic]
    assert decision.verdict.reason in REASONS | {None}
    if decision.outcome in (Outcome.VALID, Outcome.WARNED):
        assert decision.verdict.valid
        assert decision.target is not None
        assert decision.topic == decision.target.binding.output
    elif decision.outcome is Outcome.SHADOW_INVALID:
        assert not decision.verdict.valid
        assert decision.target is not None and decision.target.shadow
        assert decision.topic == decision.target.binding.output
    else:
        assert not decision.verdict.valid
        assert decision.to_dead_letter
        assert decision.topic in router.dead_letters
    if decision.target is None:
        assert decision.verdict.reason in {"decode", "too_large", "too_deep", "unknown_contract"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    topic=st.sampled_from([CHECKOUT, IDENTITY, PAYMENTS]),
    headers=headers_strategy,
    value=values_strategy,
)
def test_route_never_raises(
    topic: str, headers: list[tuple[str, bytes | None]] | None, value: bytes | None
) -> None:
    """For random headers (names include the real discriminator and version headers) and
    random or example values, ``route`` returns a consistent decision and never raises."""
    check_invariants(ROUTER, topic, ROUTER.route(topic, headers, value))


# --- the hot path's shortcuts ------------------------------------------------------------


def test_valid_events_of_one_version_share_one_decision() -> None:
    """Valid events get the lane's prebuilt decision (no allocation per event), as do events
    with the same warnings; an invalid event gets a decision of its own, and another
    version another lane's."""
    first = ROUTER.route(CHECKOUT, checkout_headers("2"), ORDER_V2_ONLY)
    again = ROUTER.route(CHECKOUT, checkout_headers("v2"), with_fields(ORDER_V2_ONLY))
    assert first.outcome is Outcome.VALID
    assert again is first
    default = ROUTER.route(CHECKOUT, checkout_headers(None), ORDER_V2_ONLY)
    assert default is first  # v2 is the default version
    warned = ROUTER.route(CHECKOUT, checkout_headers("1"), ORDER_WARNED)
    assert warned.outcome is Outcome.WARNED
    assert warned is ROUTER.route(CHECKOUT, checkout_headers("1"), ORDER_WARNED)
    assert warned is not ROUTER.route(CHECKOUT, checkout_headers("2"), ORDER_WARNED)
    rejected = ROUTER.route(CHECKOUT, checkout_headers("1"), ORDER_V2_ONLY)
    assert rejected.outcome is Outcome.INVALID
    assert rejected is not ROUTER.route(CHECKOUT, checkout_headers("1"), ORDER_V2_ONLY)
    payment_v1 = ROUTER.route(PAYMENTS, None, PAYMENT_V1)
    assert payment_v1 is ROUTER.route(PAYMENTS, None, PAYMENT_V1)
    assert payment_v1 is not ROUTER.route(PAYMENTS, None, PAYMENT_V2)


def test_version_names_are_cached_up_to_a_bound(tmp_path: Path) -> None:
    """A producer sending ever new version spellings cannot grow the cache without bound,
    and names past the bound are still resolved correctly."""
    router = single_contract_router(tmp_path, ["active", "active"])
    for i in range(MAX_CACHED_VERSION_NAMES + 50):
        named = " " * i + "2"
        decision = router.route("solo.events", version_header(named), b'{"n": 1}')
        assert (decision.version, decision.outcome) == (2, Outcome.VALID)
        unknown = router.route("solo.events", version_header(f"x{i}"), b'{"n": 1}')
        assert unknown.verdict.reason == "unknown_version"
    versions = router.tables["solo.events"].only
    assert versions is not None
    assert len(versions._by_header) == MAX_CACHED_VERSION_NAMES


@pytest.mark.parametrize(
    ("pointer", "event", "found"),
    [
        ("/a~1b/0", {"a/b": ["x"]}, "x"),
        ("/a~0b", {"a~b": 3}, "3"),
        ("/l/²", {"l": ["x"]}, None),  # not an ASCII index: no item, no exception
        ("/l/" + "9" * 30, {"l": ["x"]}, None),
        ("/l/1", {"l": ["x"]}, None),
        ("/m/1", {"m": {"1": "y"}}, "y"),
    ],
)
def test_compiled_pointers_read_like_rfc6901(pointer: str, event: Any, found: str | None) -> None:
    assert pointer_text(event, compile_pointer(pointer)) == found
    assert pointer_text(event, pointer) == found
