"""The enforcer's settings: a YAML file, ``DCE_*`` environment overrides, errors that name
the file and the key, librdkafka key and value normalisation, redaction of secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streamprocs.enforcer.config import ConfigError, Guarantee, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``DCE_*`` variable of the machine running the tests leaks into them."""
    for name in list(os.environ):
        if name.upper().startswith("DCE_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str, name: str = "dce.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


FULL = """\
kafka:
  bootstrap.servers: broker-a:9092,broker-b:9092
  security.protocol: SASL_SSL
  sasl.mechanism: SCRAM-SHA-512
  sasl.username: dce
  sasl.password: hunter2-secret
group_id: dce-prod
processing_guarantee: exactly_once
batch_size: 1234
default_dead_letter: all.dlq
metrics:
  port: 9999
log:
  level: debug
"""


def test_yaml_file_loads(tmp_path: Path) -> None:
    """Every key of the file reaches the settings."""
    settings = load_settings(write(tmp_path, FULL))
    assert settings.kafka["bootstrap.servers"] == "broker-a:9092,broker-b:9092"
    assert settings.kafka["sasl.username"] == "dce"
    assert settings.group_id == "dce-prod"
    assert settings.processing_guarantee is Guarantee.EXACTLY_ONCE
    assert settings.batch_size == 1234
    assert settings.default_dead_letter == "all.dlq"
    assert settings.metrics.port == 9999
    assert settings.log.level == "debug"


def test_env_overrides_kafka_bootstrap_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``DCE_KAFKA__BOOTSTRAP_SERVERS`` replaces the file's ``bootstrap.servers`` (as that
    librdkafka key, not ``bootstrap_servers``) and leaves the file's other kafka keys alone."""
    monkeypatch.setenv("DCE_KAFKA__BOOTSTRAP_SERVERS", "env-broker:19092")
    settings = load_settings(write(tmp_path, FULL))
    assert settings.kafka["bootstrap.servers"] == "env-broker:19092"
    assert "bootstrap_servers" not in settings.kafka
    assert settings.kafka["security.protocol"] == "SASL_SSL"
    assert settings.kafka["sasl.password"] == "hunter2-secret"


def test_env_overrides_kafka_bootstrap_written_with_underscores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The override also wins when the file spells the key ``bootstrap_servers``."""
    monkeypatch.setenv("DCE_KAFKA__BOOTSTRAP_SERVERS", "env-broker:19092")
    path = write(tmp_path, "kafka:\n  client.id: me\n  bootstrap_servers: file:9092\n")
    settings = load_settings(path)
    assert settings.kafka == {"client.id": "me", "bootstrap.servers": "env-broker:19092"}


def test_env_kafka_bootstrap_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no file at all the environment alone sets ``bootstrap.servers``."""
    monkeypatch.setenv("DCE_KAFKA__BOOTSTRAP_SERVERS", "env-broker:19092")
    assert load_settings(None).kafka == {"bootstrap.servers": "env-broker:19092"}


def test_env_overrides_processing_guarantee(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``DCE_PROCESSING_GUARANTEE=at_least_once`` beats the file's ``exactly_once``."""
    path = write(tmp_path, FULL)
    assert load_settings(path).processing_guarantee is Guarantee.EXACTLY_ONCE
    monkeypatch.setenv("DCE_PROCESSING_GUARANTEE", "at_least_once")
    assert load_settings(path).processing_guarantee is Guarantee.AT_LEAST_ONCE


def test_unknown_top_level_key_names_file_and_key(tmp_path: Path) -> None:
    """A typo at the top level is an error naming the file and the misspelt key."""
    path = write(tmp_path, "group_id: g\nprocesing_guarantee: at_least_once\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    assert "procesing_guarantee" in message
    assert "unknown key" in message


def test_unknown_nested_key_names_its_path(tmp_path: Path) -> None:
    """A typo inside a section names the section and the key (``metrics.prot``)."""
    path = write(tmp_path, "metrics:\n  prot: 1\n")
    with pytest.raises(ConfigError, match=r"metrics\.prot") as info:
        load_settings(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("processing_guarantee: twice\n", "processing_guarantee"),
        ("log:\n  format: xml\n", "log.format"),
        ("log:\n  level: loud\n", "log.level"),
        ("batch_size: 0\n", "batch_size"),
        ("metrics:\n  port: 70000\n", "metrics.port"),
    ],
)
def test_bad_value_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    """A value outside the allowed set or range is an error naming the file and the key."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert f"{path}: {key}:" in message


def test_bad_enum_lists_the_allowed_values(tmp_path: Path) -> None:
    """The processing guarantee error says what would be accepted."""
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, "processing_guarantee: twice\n"))
    assert "exactly_once" in str(info.value)
    assert "at_least_once" in str(info.value)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("kafka", "enable.auto.commit"),
        ("kafka", "ENABLE_AUTO_COMMIT"),
        ("kafka", "isolation.level"),
        ("kafka", "transactional.id"),
        ("consumer", "group.id"),
        ("consumer", "enable.auto.offset.store"),
        ("producer", "transactional.id"),
    ],
)
def test_owned_librdkafka_key_is_refused(tmp_path: Path, section: str, key: str) -> None:
    """Keys dce sets itself may not be set by the user, in any section or spelling."""
    path = write(tmp_path, f"{section}:\n  {key}: 'false'\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    assert section in message
    assert key.lower().replace("_", ".") in message
    assert "set by dce" in message


def test_owned_key_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """``DCE_KAFKA__ENABLE_AUTO_COMMIT`` is refused like the file key."""
    monkeypatch.setenv("DCE_KAFKA__ENABLE_AUTO_COMMIT", "true")
    with pytest.raises(ConfigError, match=r"enable\.auto\.commit"):
        load_settings(None)


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    """Broken YAML is a ConfigError naming the file, not a yaml exception."""
    path = write(tmp_path, "kafka:\n  bootstrap.servers: [a, b\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert "YAML" in str(info.value)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    """A key written twice is refused rather than silently keeping the last one."""
    path = write(tmp_path, "group_id: a\ngroup_id: b\n")
    with pytest.raises(ConfigError, match="group_id"):
        load_settings(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A config path that does not exist is a ConfigError naming it."""
    path = tmp_path / "nope" / "dce.yaml"
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)


def test_relative_contracts_dir_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``contracts_dir: my-contracts`` in ``conf/dce.yaml`` means ``conf/my-contracts``,
    whatever the working directory."""
    conf = tmp_path / "conf"
    (conf / "my-contracts").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(write(conf, "contracts_dir: my-contracts\n"))
    assert settings.contracts_dir == conf / "my-contracts"


def test_relative_contracts_dir_that_does_not_exist_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when neither candidate exists, the config file's folder is the base."""
    monkeypatch.chdir(tmp_path)
    conf = tmp_path / "conf"
    conf.mkdir()
    settings = load_settings(write(conf, "contracts_dir: later\n"))
    assert settings.contracts_dir.resolve() == (conf / "later").resolve()


def test_absolute_contracts_dir_is_kept(tmp_path: Path) -> None:
    """An absolute path is used as written."""
    target = tmp_path / "abs-contracts"
    settings = load_settings(write(tmp_path, f"contracts_dir: {target}\n"))
    assert settings.contracts_dir == target


def test_redacted_kafka_hides_passwords(tmp_path: Path) -> None:
    """``sasl.password`` and ``ssl.key.password`` (in any section) are hidden; other keys
    are shown as they are."""
    path = write(
        tmp_path,
        FULL + "consumer:\n  ssl.key.password: keypass-secret\n  fetch.min.bytes: 1\n",
    )
    redacted = load_settings(path).redacted_kafka()
    assert redacted["sasl.password"] == "***"
    assert redacted["ssl.key.password"] == "***"
    assert redacted["bootstrap.servers"] == "broker-a:9092,broker-b:9092"
    assert redacted["sasl.username"] == "dce"
    assert redacted["fetch.min.bytes"] == "1"
    assert "hunter2-secret" not in repr(redacted)
    assert "keypass-secret" not in repr(redacted)


def test_redacted_kafka_hides_env_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """A password given as ``DCE_KAFKA__SASL_PASSWORD`` is hidden too."""
    monkeypatch.setenv("DCE_KAFKA__SASL_PASSWORD", "from-env-secret")
    settings = load_settings(None)
    assert settings.kafka["sasl.password"] == "from-env-secret"
    assert settings.redacted_kafka()["sasl.password"] == "***"


def test_kafka_values_become_librdkafka_strings(tmp_path: Path) -> None:
    """YAML booleans, ints and floats become the strings librdkafka expects."""
    path = write(
        tmp_path,
        "kafka:\n"
        "  bootstrap.servers: b:9092\n"
        "  enable.idempotence: true\n"
        "  socket.keepalive.enable: false\n"
        "  linger.ms: 5\n"
        "  retry.backoff.ms: 100\n"
        "  queue.buffering.max.kbytes: 1048576\n"
        "producer:\n"
        "  compression.level: -1\n"
        "consumer:\n"
        "  fetch.wait.max.ms: 50\n",
    )
    settings = load_settings(path)
    assert settings.kafka == {
        "bootstrap.servers": "b:9092",
        "enable.idempotence": "true",
        "socket.keepalive.enable": "false",
        "linger.ms": "5",
        "retry.backoff.ms": "100",
        "queue.buffering.max.kbytes": "1048576",
    }
    assert settings.producer == {"compression.level": "-1"}
    assert settings.consumer == {"fetch.wait.max.ms": "50"}


def test_underscore_keys_become_librdkafka_dots(tmp_path: Path) -> None:
    """``linger_ms`` in the file is librdkafka's ``linger.ms``."""
    settings = load_settings(write(tmp_path, "kafka:\n  linger_ms: 5\n"))
    assert settings.kafka == {"linger.ms": "5"}


def test_empty_kafka_value_is_not_the_string_none(tmp_path: Path) -> None:
    """``socket.timeout.ms:`` with no value is refused (naming the key) or left out; it must
    not reach librdkafka as the text ``None``."""
    path = write(tmp_path, "kafka:\n  bootstrap.servers: b:9092\n  socket.timeout.ms:\n")
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        assert "socket.timeout.ms" in str(exc)
    else:
        assert settings.kafka.get("socket.timeout.ms") != "None"
