"""Labelled sample records: what a record is, and the constants of the mix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from streamprocs.contracts.loader import Contract, ContractSet
from streamprocs.contracts.model import Binding

SEQ_HEADER = "dce-sample-seq"
# The version an unknown_version sample names (a higher one if a contract has a v99).
UNKNOWN_VERSION = 99
# Share of valid events (of a contract whose version source is a header) that name
# no version and so are judged by the contract's default version.
NO_VERSION_SHARE = 0.10
# Share of the other header-versioned valid events that write the version as ``v<N>``.
V_PREFIX_SHARE = 0.05
# Relative weight of the default version among a contract's live versions (others: 1).
DEFAULT_VERSION_WEIGHT = 4
# Discriminator values for unknown_contract samples; any other value gets ``not_`` before it.
UNMATCHED_VALUES: Mapping[str, str] = {
    "order_created": "order_cancelled",
    "user_signed_up": "user_deleted",
}
# Reasons about the record's bytes, found before the event is parsed.
BODY_REASONS = frozenset({"decode", "too_large", "too_deep"})
# The producer's own size cap; the broker's (message.max.bytes, default 1 MiB + 12
# bytes) or the topic's (max.message.bytes) still applies.
PRODUCER_MESSAGE_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class SampleRecord:
    """One record to produce, with the verdict the enforcer must reach on it."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    # None for unknown_contract.
    contract_id: str | None
    # The version that judges the record, or the one it names when that version
    # exists (retired_version); None when no version of the contract applies
    # (unknown_contract, unknown_version, an unreadable body naming its version in
    # the body).
    version: int | None
    # The contract's verdict, "valid" or "invalid", whatever the enforcement mode.
    expected: str
    # None when valid, else one of REASONS.
    expected_reason: str | None
    # Where the enforcer must route it: the binding's output, or its dead-letter topic
    # (shadow contracts: output even when invalid).
    destination: str

    @property
    def seq(self) -> int | None:
        """The ``dce-sample-seq`` header as a number."""
        for name, value in self.headers:
            if name == SEQ_HEADER:
                return int(value)
        return None


@dataclass(frozen=True)
class Outcome:
    """What the enforcer decides about one record (see :func:`judge_record`)."""

    contract_id: str | None
    version: int | None
    reason: str | None
    destination: str

    @property
    def valid(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class _Slot:
    """One binding of one contract, in the order the enforcer tries them."""

    contract: Contract
    binding: Binding


def topic_bindings(contract_set: ContractSet) -> dict[str, list[_Slot]]:
    """Source topic -> its bindings, sorted by contract id (then binding order)."""
    out: dict[str, list[_Slot]] = {}
    for contract_id in sorted(contract_set.contracts):
        contract = contract_set.contracts[contract_id]
        for binding in contract.spec.bindings:
            out.setdefault(binding.topic, []).append(_Slot(contract, binding))
    return out
