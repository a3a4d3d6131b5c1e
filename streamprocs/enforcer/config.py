"""The enforcer's settings: a YAML file, overridden by ``DCE_*`` environment variables.

``kafka:`` is passed to librdkafka as it is (SASL, TLS and tuning need no new
code here). Environment variables use ``__`` for nesting and ``_`` for the
dots of librdkafka keys: ``DCE_KAFKA__BOOTSTRAP_SERVERS`` sets
``kafka.bootstrap.servers``.
"""

from __future__ import annotations

import os
import socket
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from streamprocs.contracts.compiler import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, Limits
from streamprocs.contracts.errors import field_path
from streamprocs.contracts.yamlfile import YamlFileError, load_mapping

# librdkafka settings whose values must never be logged.
SECRET_WORDS = ("password", "secret", "token", "sasl.oauthbearer.config", "key.pem")

# librdkafka settings the enforcer owns: a user value would break its guarantees.
OWNED_KEYS = frozenset(
    {
        "enable.auto.commit",
        "enable.auto.offset.store",
        "isolation.level",
        "transactional.id",
        "group.id",
        "enable.partition.eof",
    }
)


class Guarantee(StrEnum):
    EXACTLY_ONCE = "exactly_once"
    AT_LEAST_ONCE = "at_least_once"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricsSettings(Section):
    enabled: bool = True
    host: str = "0.0.0.0"
    port: int = Field(default=9464, ge=0, le=65535)


class ReloadSettings(Section):
    enabled: bool = True
    # Polling a handful of small files every two seconds costs nothing and
    # works on every filesystem (ConfigMap mounts swap symlinks, which some
    # inotify watchers miss).
    interval_s: float = Field(default=2.0, gt=0)


class LogSettings(Section):
    level: str = Field(default="info", pattern=r"^(?i)(debug|info|warning|error)$")
    format: str = Field(default="auto", pattern=r"^(auto|json|console)$")
    # At most one violation log line per contract and rule in this many seconds;
    # the rest are counted in the next line, so a bad producer cannot flood logs.
    violation_log_interval_s: float = Field(default=10.0, ge=0)


def _default_processor_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DCE_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    kafka: dict[str, str] = Field(default_factory=lambda: {"bootstrap.servers": "127.0.0.1:9092"})
    consumer: dict[str, str] = Field(default_factory=dict)
    producer: dict[str, str] = Field(default_factory=dict)
    group_id: str = "dce-enforcer"
    contracts_dir: Path = Path("contracts")
    processing_guarantee: Guarantee = Guarantee.EXACTLY_ONCE
    # Stable across restarts so that a restarted instance fences its zombie.
    transactional_id: str | None = None
    processor_id: str = Field(default_factory=_default_processor_id)
    # A batch (one commit; one transaction under exactly-once) closes after this many
    # records or batch_timeout_s after it opened, whichever comes first. Records are
    # forwarded as they are consumed; under exactly-once they become visible at commit.
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    batch_timeout_s: float = Field(default=0.2, gt=0, le=10)
    max_event_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1)
    max_depth: int = Field(default=DEFAULT_MAX_DEPTH, ge=1, le=1000)
    default_dead_letter: str | None = None
    # Bound on a clean shutdown: finishing the open batch and closing the clients.
    shutdown_timeout_s: float = Field(default=30.0, gt=0)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    reload: ReloadSettings = Field(default_factory=ReloadSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    @field_validator("kafka", "consumer", "producer", mode="before")
    @classmethod
    def _librdkafka_keys(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            name = str(key).lower().replace("_", ".")
            if name in OWNED_KEYS:
                raise ValueError(
                    f"{name!r} is set by dce itself (it decides the processing guarantee); "
                    "remove it"
                )
            if item is None:
                raise ValueError(
                    f"{name!r} has no value; give one or remove the key to use the default"
                )
            out[name] = item if isinstance(item, str) else _librdkafka_value(item)
        return out

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file (init_settings carries the file).
        return env_settings, init_settings

    @property
    def limits(self) -> Limits:
        return Limits(max_bytes=self.max_event_bytes, max_depth=self.max_depth)

    def effective_transactional_id(self) -> str:
        return self.transactional_id or f"{self.group_id}-{socket.gethostname()}"

    def redacted_kafka(self) -> dict[str, str]:
        """The librdkafka settings with secret values hidden, for logs."""
        return {
            k: ("***" if any(word in k for word in SECRET_WORDS) else v)
            for k, v in {**self.kafka, **self.consumer, **self.producer}.items()
        }


def _librdkafka_value(item: Any) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)


class ConfigError(ValueError):
    """A config that cannot be used; the message names the file and the key."""


def load_settings(path: Path | None, **overrides: Any) -> Settings:
    """Settings from a YAML file (optional), the environment and explicit overrides."""
    data: dict[str, Any] = {}
    where = str(path) if path else "the environment"
    if path is not None:
        try:
            data = load_mapping(path)
        except YamlFileError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the config: {exc.strerror}") from exc
    data.update(overrides)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = "unknown key (a typo?); remove it or fix its spelling"
            problems.append(f"{where}: {field_path(err['loc'])}: {message}")
        raise ConfigError("\n".join(problems)) from exc
    if path is not None and not settings.contracts_dir.is_absolute():
        # A relative contracts_dir is relative to the config file, like a
        # relative path in any config: the enforcer may start from anywhere.
        candidate = path.parent / settings.contracts_dir
        if candidate.is_dir() or not settings.contracts_dir.is_dir():
            settings.contracts_dir = candidate
    return settings
