"""Pydantic models of the contract files: ``contract.yaml`` and ``v<N>.yaml``.

These models are the single definition of the contract format. Every model
forbids unknown keys so that a typo (``compatibilty:``) is an error naming the
field, not a silently ignored setting.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CONTRACT_ID = re.compile(r"^[a-z][a-z0-9_-]*\.[a-z][a-z0-9_-]*$")
RULE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# Kafka's own limit: 249 characters of [a-zA-Z0-9._-].
TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
JSON_POINTER = re.compile(r"^(/([^~/]|~[01])*)+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Compatibility(StrEnum):
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @property
    def base(self) -> str:
        """The mode without ``_TRANSITIVE``: BACKWARD, FORWARD, FULL or NONE."""
        return self.value.removesuffix("_TRANSITIVE")


class Enforcement(StrEnum):
    ENFORCE = "enforce"
    SHADOW = "shadow"


class Status(StrEnum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


class Severity(StrEnum):
    ERROR = "error"
    WARN = "warn"


class Owner(Strict):
    team: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_-]*$")
    contact: str = Field(min_length=1, description="e-mail address or chat channel")
    # A GitHub team or user for CODEOWNERS (``@org/team``); derived when absent.
    github: str | None = Field(default=None, pattern=r"^@[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$")


class Locator(Strict):
    """Where a value lives in a Kafka record: a header, or a JSON pointer into the value."""

    header: str | None = Field(default=None, min_length=1)
    pointer: str | None = None

    @field_validator("pointer")
    @classmethod
    def _pointer_syntax(cls, value: str | None) -> str | None:
        if value is not None and not JSON_POINTER.match(value):
            raise ValueError(f"{value!r} is not a JSON pointer: write it as /field or /outer/inner")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Locator:
        if (self.header is None) == (self.pointer is None):
            raise ValueError("give exactly one of 'header' or 'pointer'")
        return self


class Discriminator(Locator):
    value: str = Field(min_length=1, description="the value that selects this contract")


class Binding(Strict):
    topic: str = Field(pattern=TOPIC_NAME.pattern)
    discriminator: Discriminator | None = None
    output: str = Field(pattern=TOPIC_NAME.pattern)
    dead_letter: str = Field(pattern=TOPIC_NAME.pattern)

    @model_validator(mode="after")
    def _distinct_topics(self) -> Binding:
        if len({self.topic, self.output, self.dead_letter}) != 3:
            raise ValueError(
                "topic, output and dead_letter must be three different topics, "
                "or events would loop back into the enforcer"
            )
        return self


# Prometheus duration syntax, so SLA values drop straight into alert rules.
PROM_DURATION = r"^[1-9][0-9]*(ms|s|m|h|d|w)$"


class Sla(Strict):
    """What the owning team promises about the stream; alert rules are generated from it."""

    # Longest tolerated time without any event for this contract (e.g. "15m").
    max_silence: str | None = Field(default=None, pattern=PROM_DURATION)
    # Highest tolerated share of invalid events, 0..1, over ``window``.
    max_violation_ratio: float | None = Field(default=None, gt=0, le=1)
    window: str = Field(default="10m", pattern=PROM_DURATION)


def _default_version_source() -> Locator:
    return Locator(header="contract-version")


class ContractFile(Strict):
    """``contract.yaml``: what the contract is, who owns it, where it applies."""

    id: str = Field(pattern=CONTRACT_ID.pattern, description="<domain>.<event>")
    owner: Owner
    description: str = Field(min_length=1)
    compatibility: Compatibility = Compatibility.BACKWARD
    enforcement: Enforcement = Enforcement.ENFORCE
    version_source: Locator = Field(default_factory=_default_version_source)
    # None: an event that names no version is judged by the newest version that
    # is not retired.
    default_version: int | None = Field(default=None, ge=1)
    bindings: list[Binding] = Field(default_factory=list)
    sla: Sla | None = None

    @property
    def domain(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def event(self) -> str:
        return self.id.split(".", 1)[1]


class Rule(Strict):
    id: str = Field(pattern=RULE_ID.pattern)
    expr: str = Field(min_length=1, description="a CEL expression over the event's fields")
    message: str = Field(min_length=1)
    severity: Severity = Severity.ERROR


class VersionFile(Strict):
    """``v<N>.yaml``: one immutable version of a contract's event shape and rules."""

    version: int = Field(ge=1)
    status: Status = Status.ACTIVE
    description: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    rules: list[Rule] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("rules")
    @classmethod
    def _unique_rule_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} appears twice; rule ids must be unique")
            seen.add(rule.id)
        return rules


# Fields of a published version file that may change after publication.
MUTABLE_VERSION_FIELDS: frozenset[str] = frozenset({"status", "description"})

ViolationReason = Literal[
    "schema",
    "rule",
    "decode",
    "too_large",
    "too_deep",
    "unknown_contract",
    "unknown_version",
    "retired_version",
]

# Every reason a record can be dead-lettered for, in the order of interfaces.md.
REASONS: tuple[str, ...] = get_args(ViolationReason)
