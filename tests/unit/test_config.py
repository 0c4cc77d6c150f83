"""Settings: precedence of flags over env vars over defaults, and errors that name the setting."""

from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.errors import ConfigError


def test_defaults_apply_when_nothing_is_set() -> None:
    settings = Settings.load(environ={})
    assert settings.kafka_port == 9092
    assert settings.partitions == 6
    assert settings.bootstrap_servers == "127.0.0.1:9092"


def test_env_var_overrides_default_and_flag_overrides_env_var() -> None:
    env = {"CXSTREAM_KAFKA_PORT": "19092", "CXSTREAM_PARTITIONS": "3"}
    assert Settings.load(environ=env).kafka_port == 19092
    assert Settings.load({"kafka_port": 29092}, environ=env).kafka_port == 29092
    assert Settings.load({"kafka_port": None}, environ=env).kafka_port == 19092


def test_bootstrap_servers_follow_the_local_port_unless_set() -> None:
    assert Settings.load(environ={"CXSTREAM_KAFKA_PORT": "19092"}).bootstrap_servers == "127.0.0.1:19092"
    env = {"CXSTREAM_KAFKA_BOOTSTRAP": "kafka:29092"}
    assert Settings.load(environ=env).bootstrap_servers == "kafka:29092"


def test_paths_expand_the_home_folder() -> None:
    settings = Settings.load(environ={"CXSTREAM_STATE_DIR": "~/cx-state"})
    assert settings.state_dir == Path.home() / "cx-state"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CXSTREAM_KAFKA_PORT": "nine"}, "CXSTREAM_KAFKA_PORT must be an integer, got 'nine'"),
        ({"CXSTREAM_KAFKA_PORT": "70000"}, "CXSTREAM_KAFKA_PORT must be at most 65535"),
        ({"CXSTREAM_PARTITIONS": "0"}, "CXSTREAM_PARTITIONS must be at least 1"),
        ({"CXSTREAM_LOG_FORMAT": "xml"}, "CXSTREAM_LOG_FORMAT must be one of auto, json, console"),
        ({"CXSTREAM_STATE_DIR": "  "}, "CXSTREAM_STATE_DIR must be a non-empty path"),
    ],
)
def test_invalid_values_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Settings.load(environ=env)


def test_flag_errors_name_the_flag() -> None:
    with pytest.raises(ConfigError, match="--clickhouse-port must be an integer"):
        Settings.load({"clickhouse_port": "x"}, environ={})


def test_unknown_override_is_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings.load({"kafka_prot": 1}, environ={})


def test_password_is_masked_in_descriptions() -> None:
    described = Settings.load(environ={"CXSTREAM_CLICKHOUSE_PASSWORD": "s3cret"}).describe()
    assert described["clickhouse_password"] == "***"
    assert "s3cret" not in repr(described)


def test_replicas_without_a_cluster_are_refused_naming_both_settings() -> None:
    with pytest.raises(ConfigError, match="CXSTREAM_CLICKHOUSE_REPLICAS is set but CXSTREAM_CLICKHOUSE_CLUSTER"):
        Settings.load(environ={"CXSTREAM_CLICKHOUSE_REPLICAS": "ch2:9000"})
    both = Settings.load(environ={"CXSTREAM_CLICKHOUSE_REPLICAS": "ch2:9000", "CXSTREAM_CLICKHOUSE_CLUSTER": "cx"})
    assert (both.clickhouse_replicas, both.clickhouse_cluster) == ("ch2:9000", "cx")
