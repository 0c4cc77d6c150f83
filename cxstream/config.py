"""One typed settings object for the whole project.

Every setting is a field of :class:`Settings`. Its value comes, in order of precedence, from a
CLI flag (``--kafka-port``), an environment variable (``CXSTREAM_KAFKA_PORT``) or the default.
Values are validated when loaded; an invalid one raises :class:`ConfigError` naming the setting.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from cxstream.errors import ConfigError

ENV_PREFIX = "CXSTREAM_"


def _setting(
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] = (),
    minimum: int | None = None,
    maximum: int | None = None,
    secret: bool = False,
    group: str,
) -> Any:
    """Declare a setting: its default, its help text, and optional bounds or choices.

    ``group`` says which commands show it as a flag (cxstream/cli/options.py: a command lists the
    groups it reads). A ``secret`` is left out of ``repr`` and masked by ``describe``, so printing
    or logging the settings never shows it.
    """
    meta = {"help": help, "choices": choices, "minimum": minimum, "maximum": maximum, "secret": secret,
            "group": group}
    return field(default=default, metadata=meta, repr=not secret)


def _port(default: int, help: str, *, group: str) -> Any:
    """Declare a TCP port setting."""
    return _setting(default, help, minimum=1, maximum=65535, group=group)


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cxstream"


@dataclass(frozen=True)
class Settings:
    """Every knob cxstream has, with its default. Load with :meth:`Settings.load`."""

    # --- where clients connect -------------------------------------------------------------
    kafka_bootstrap: str = _setting(
        "", "Kafka bootstrap servers (host:port,...); empty = the local stack's 127.0.0.1:<kafka_port>", group="kafka",
    )
    kafka_security_protocol: str = _setting(
        "PLAINTEXT", "How clients talk to Kafka", choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"), group="kafka",
    )
    kafka_sasl_mechanism: str = _setting(
        "PLAIN", "SASL mechanism for SASL_* protocols", choices=("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"), group="kafka",
    )
    kafka_sasl_username: str = _setting("", "SASL user name (needed with SASL_PLAINTEXT and SASL_SSL)", group="kafka")
    kafka_sasl_password: str = _setting("", "SASL password", secret=True, group="kafka")
    kafka_sasl_password_file: str = _setting(
        "", "File holding the SASL password (instead of kafka_sasl_password; one trailing newline is ignored)", group="kafka",
    )
    kafka_ssl_cafile: str = _setting(
        "", "CA bundle (PEM) that signed the brokers' certificates; empty = the system's", group="kafka"
    )
    kafka_ssl_certfile: str = _setting("", "Client certificate (PEM) when the brokers require one", group="kafka")
    kafka_ssl_keyfile: str = _setting("", "Private key (PEM) of the client certificate", group="kafka")
    kafka_ssl_key_password: str = _setting("", "Password of an encrypted client key", secret=True, group="kafka")
    kafka_ssl_key_password_file: str = _setting("", "File holding the client key's password", group="kafka")
    kafka_ssl_check_hostname: bool = _setting(
        True, "Check that a broker's certificate names the host connected to", group="kafka"
    )
    topic_prefix: str = _setting(
        "", "Prefix for every topic name (isolates test runs or tenants on one cluster); empty in production", group="kafka",
    )
    clickhouse_host: str = _setting("127.0.0.1", "ClickHouse host for the native protocol", group="clickhouse")
    clickhouse_user: str = _setting("default", "ClickHouse user", group="clickhouse")
    clickhouse_password: str = _setting("", "ClickHouse password", secret=True, group="clickhouse")
    clickhouse_password_file: str = _setting(
        "", "File holding the ClickHouse password (instead of clickhouse_password; one trailing newline is ignored)",
        group="clickhouse",
    )
    clickhouse_secure: bool = _setting(
        False, "Connect to ClickHouse over TLS (the server's secure native port)", group="clickhouse"
    )
    clickhouse_ca_certs: str = _setting(
        "", "CA bundle that signed ClickHouse's certificate; empty = the system's", group="clickhouse"
    )
    clickhouse_verify: bool = _setting(
        True, "Verify ClickHouse's TLS certificate (turn off only for a local test)", group="clickhouse"
    )
    clickhouse_database: str = _setting(
        "cx", "ClickHouse database holding cxstream's tables and views", group="clickhouse"
    )
    clickhouse_replicas: str = _setting(
        "", "Other ClickHouse replicas (host:port,...) of the same data: clients fail over to them when "
        "clickhouse_host does not answer, and `cxstream db migrate` migrates each; empty = one server",
        group="clickhouse",
    )
    clickhouse_cluster: str = _setting(
        "", "ClickHouse cluster (remote_servers name) whose replicas hold cxstream's data: migrations make the "
        "store tables Replicated*MergeTree, coordinated through ZooKeeper; empty = one server", group="clickhouse",
    )
    clickhouse_bi_user: str = _setting(
        "bi", "Read-only ClickHouse user for BI tools (local stack: users.xml)", group="bi"
    )
    clickhouse_bi_password: str = _setting(
        "cxstream-bi-local", "Password of the BI user; the default is for a local development server only", group="bi",
    )
    bi_min_responses: int = _setting(
        10, "Score views flag rows with fewer responses as suppressed (applied by `cxstream db migrate`)", minimum=1, group="bi",
    )

    # --- the local stack (cxstream stack up) -----------------------------------------------
    kafka_port: int = _port(9092, "Kafka broker port of the local stack", group="kafka")
    kafka_controller_port: int = _port(9093, "KRaft controller port of the local stack", group="stack")
    kafka_version: str = _setting("3.9.1", "Apache Kafka release fetched from Maven Central", group="stack")
    kafka_heap: str = _setting("512m", "Java heap (-Xmx) of the local Kafka broker", group="stack")
    clickhouse_port: int = _port(9000, "ClickHouse native protocol port", group="clickhouse")
    clickhouse_http_port: int = _port(8123, "ClickHouse HTTP port", group="stack")
    partitions: int = _setting(
        6, "Partitions of the contract topics (inputs are co-partitioned)", minimum=1, group="topics"
    )
    topic_replication_factor: int = _setting(
        1, "Copies of every topic cxstream creates (contract, internal and changelog topics): 1 for the local "
        "one-broker stack, 3 in production", minimum=1, maximum=32, group="topics",
    )
    topic_min_insync_replicas: int = _setting(
        1, "min.insync.replicas of the topics cxstream creates: with acks=all, how many copies must have a write "
        "(2 with a replication factor of 3)", minimum=1, maximum=32, group="topics",
    )
    state_dir: Path = _setting(
        Path(".cxstream"), "Folder for the local stack's data, logs and pid files", group="state"
    )
    cache_dir: Path = _setting(
        _default_cache_dir(), "Folder for downloads reused across clones (the Kafka jars)", group="stack",
    )
    cluster_port_base: int = _setting(
        19100, "First port of the local cluster (`cxstream stack up --cluster`): Kafka brokers at +0..+2, their "
        "controllers at +10..+12, ZooKeeper at +20, ClickHouse replicas at +30/+31 (native), +40/+41 (HTTP) and "
        "+50/+51 (replication)", minimum=1024, maximum=65000, group="cluster",
    )
    start_timeout: int = _setting(90, "Seconds to wait for Kafka or ClickHouse to answer", minimum=1, group="stack")

    # --- the worker (cxstream worker) ------------------------------------------------------
    worker_id: str = _setting("cxstream", "Faust app id: workers with the same id share the work", group="worker")
    session_timeout_seconds: int = _setting(
        30, "How long a worker that stops answering (killed, frozen) keeps its partitions before the others "
        "take them over (the group's session timeout; Faust's own default is 60)", minimum=6, maximum=300,
        group="worker",
    )
    kafka_wait_max_seconds: int = _setting(
        30, "Longest pause between two attempts to reach Kafka while the worker starts", minimum=1, maximum=600,
        group="worker",
    )
    join_wait_seconds: int = _setting(600, "How long a feedback waits for its touchpoint", minimum=0, group="worker")
    touchpoint_retention_seconds: int = _setting(
        7 * 86400, "How long touchpoints are kept for the join", minimum=60, group="worker",
    )
    dedupe_horizon_seconds: int = _setting(
        7 * 86400, "How long a feedback_id is remembered", minimum=60, group="worker"
    )
    window_retention_seconds: int = _setting(
        48 * 3600, "How long a window's state accepts late feedback", minimum=60, group="worker",
    )
    emit_interval_ms: int = _setting(
        1000, "At most one score update per window per interval", minimum=10, group="worker"
    )
    commit_interval_ms: int = _setting(
        1000, "How often the worker commits its input offsets", minimum=10, group="worker"
    )
    producer_linger_ms: int = _setting(
        10, "How long the worker's producer waits to batch records into one request (0 = send at once)",
        minimum=0, maximum=1000, group="worker",
    )
    producer: str = _setting(
        "librdkafka", "What produces the stages' outputs and table changelogs: librdkafka (confluent-kafka, "
        "faster) or faust (Faust's own aiokafka producer)", choices=("librdkafka", "faust"), group="worker",
    )
    dispatch: str = _setting(
        "direct", "How fetched records reach the stages: direct (handed to each stage that reads the topic, in the "
        "fetch loop: several times faster) or faust (through Faust's agents and streams, the earlier path)",
        choices=("direct", "faust"), group="worker",
    )
    align_inputs: bool = _setting(
        True, "Hold feedback read ahead (in Kafka time) of its partition's touchpoints until they catch up, "
        "so a backlog joins directly instead of through the pending table (direct dispatch only)", group="worker",
    )
    event_loop: str = _setting(
        "uvloop", "The worker's event loop: uvloop (libuv, faster per record) or asyncio (the standard one)",
        choices=("uvloop", "asyncio"), group="worker",
    )
    gc_young_threshold: int = _setting(
        50_000, "Python's garbage collector: container allocations between two young-generation passes, in the "
        "worker and the sink (Python's default, 700, cost the worker about a fifth of its CPU; 0 keeps Python's "
        "defaults)", minimum=0, group="worker",
    )
    state_write_buffer_mb: int = _setting(
        8, "RocksDB write buffer (memtable) size per table partition, MiB; two per partition at most",
        minimum=1, maximum=1024, group="worker",
    )
    state_block_cache_mb: int = _setting(
        16, "RocksDB block cache per table partition, MiB (Faust's default is 2 GiB each)", minimum=1, maximum=4096,
        group="worker",
    )
    alert_threshold_pct: int = _setting(
        60, "Alert when a rolling 15-minute pct_positive falls below this", minimum=0, maximum=100, group="alerts",
    )
    alert_min_responses: int = _setting(
        30, "Responses needed before a rolling score may alert", minimum=1, group="alerts"
    )

    # --- the ClickHouse sink (part of the worker) --------------------------------------------
    sink_enabled: bool = _setting(True, "Run the ClickHouse sink in the worker", group="sink")
    sink_process: str = _setting(
        "child", "Where the worker runs its sink: child (a process of its own that the worker starts, watches and "
        "stops: the stages and the inserts each get a core) or task (in the worker's own event loop, one process)",
        choices=("child", "task"), group="sink",
    )
    sink_batch_rows: int = _setting(
        20000, "Most records the sink holds for one table: that many are written at once, in one insert", minimum=1,
        group="sink",
    )
    sink_flush_ms: int = _setting(
        1000, "Longest the sink holds a consumed record before writing its table's rows (each insert makes a "
        "ClickHouse part: about one per table per interval)", minimum=1, group="sink",
    )
    sink_fetch_min_kb: int = _setting(
        64, "How much the sink's consumer asks the broker to gather before it answers a fetch (KiB; "
        "CXSTREAM_SINK_FETCH_WAIT_MS bounds the wait): fewer, larger fetches cost the sink and the broker less "
        "CPU; 0 answers every fetch at once", minimum=0, group="sink",
    )
    sink_fetch_wait_ms: int = _setting(
        100, "Longest the broker holds a sink fetch that has less than CXSTREAM_SINK_FETCH_MIN_KB (adds at most "
        "this to the event -> ClickHouse latency, beside CXSTREAM_SINK_FLUSH_MS)", minimum=0, group="sink",
    )
    sink_timeout_seconds: int = _setting(
        60, "Longest the sink waits for ClickHouse to answer one insert before it counts the server unreachable "
        "and retries (a network that stops answering is noticed after this long)", minimum=1, group="sink",
    )
    sink_retry_max_seconds: int = _setting(
        30, "Longest pause between the sink's retries while ClickHouse is unreachable", minimum=1, group="sink",
    )

    # --- metrics (Prometheus, served by the worker) -----------------------------------------
    metrics_port: int = _setting(
        9464, "Port of the worker's Prometheus /metrics endpoint; 0 = no endpoint", minimum=0, maximum=65535, group="metrics",
    )
    metrics_host: str = _setting(
        "127.0.0.1", "Address the /metrics endpoint binds to (0.0.0.0 to let another host scrape it)", group="metrics",
    )
    metrics_lag_seconds: int = _setting(
        15, "How often the worker measures its consumer groups' lag for /metrics", minimum=1, group="metrics",
    )

    # --- the HTTP ingest gateway (cxstream gateway) -----------------------------------------
    gateway_host: str = _setting(
        "127.0.0.1", "Address the HTTP gateway binds to (0.0.0.0 to serve other hosts)", group="gateway"
    )
    gateway_port: int = _port(8088, "Port of the HTTP gateway", group="gateway")
    gateway_keys_file: Path = _setting(
        Path(".cxstream/gateway-keys.json"), "API keys of the gateway (hashed), managed by `cxstream keys`", group="keys",
    )
    gateway_max_records: int = _setting(
        500, "Most records in one NDJSON request (more: 413)", minimum=1, group="gateway"
    )
    gateway_max_bytes: int = _setting(
        1024 * 1024, "Largest request body the gateway reads, in bytes (larger: 413)", minimum=1024, group="gateway",
    )
    gateway_rate_per_second: int = _setting(
        50, "Requests per second a new API key may make (`cxstream keys add --rate` overrides)", minimum=1, group="keys",
    )
    gateway_ack_timeout_ms: int = _setting(
        10_000, "Longest the gateway waits for Kafka to acknowledge a request's records (then 503)", minimum=100, group="gateway",
    )
    gateway_body_timeout_seconds: int = _setting(
        15, "Longest the gateway waits for a request's whole body once its headers are in (then 408, closed)",
        minimum=1, group="gateway",
    )
    gateway_header_timeout_seconds: int = _setting(
        15, "Longest a connection may take to send a request's headers, from connecting or from the previous "
        "answer; also how long an idle keep-alive connection stays open (then closed, no answer)", minimum=1, group="gateway",
    )
    gateway_in_flight_per_key: int = _setting(
        32, "Requests one API key may have in flight at once (more: 429 at once, connection closed)", minimum=1, group="gateway",
    )
    gateway_in_flight_per_address: int = _setting(
        128, "Requests one client address may have in flight at once, whatever their keys (more: 429 at once, "
        "connection closed); 0 = no bound (behind a proxy every request has the proxy's address)", minimum=0, group="gateway",
    )

    # --- the live page (cxstream dashboard) ------------------------------------------------------
    dashboard_host: str = _setting(
        "127.0.0.1", "Address the live page binds to (0.0.0.0 to serve other hosts)", group="dashboard"
    )
    dashboard_port: int = _port(8080, "Port of the live page", group="dashboard")
    dashboard_push_seconds: int = _setting(
        3, "How often open pages get a fresh snapshot (one ClickHouse read for all of them)", minimum=1, maximum=300,
        group="dashboard",
    )

    # --- reports (cxstream report) ------------------------------------------------------------
    report_trust_question_text: str = _setting(
        "I trust [agency] to deliver on their mission for the American public.",
        "The current A-11 form's trust question as the survey asks it, for the v2 export's "
        "trust_question_text; [agency] is replaced by each row's agency", group="report",
    )

    # --- logs -------------------------------------------------------------------------------
    log_level: str = _setting("info", "Log level", choices=("debug", "info", "warning", "error"), group="logs")
    log_format: str = _setting(
        "auto", "Log format: json, console, or auto (console on a TTY)", choices=("auto", "json", "console"), group="logs",
    )
    log_repeat_seconds: int = _setting(
        60, "A library log line repeating one message (e.g. Kafka unreachable) is written once per this many "
        "seconds, with a count of the repeats left out; 0 = write every line", minimum=0, maximum=3600, group="logs",
    )

    @property
    def bootstrap_servers(self) -> str:
        """Where Kafka clients connect: the configured servers or the local stack's broker."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.kafka_port}"

    def topic(self, name: str) -> str:
        """The cluster's name for a topic of the contract (``topic_prefix`` + name)."""
        return self.topic_prefix + name

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Build settings from CLI overrides, then ``CXSTREAM_*`` env vars, then defaults."""
        environ = os.environ if environ is None else environ
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            env_name = ENV_PREFIX + f.name.upper()
            if f.name in overrides:
                raw, source = overrides[f.name], f"--{f.name.replace('_', '-')}"
            elif env_name in environ:
                raw, source = environ[env_name], env_name
            else:
                continue
            values[f.name] = _convert(raw, hints[f.name], source, f.metadata)
        _read_secret_files(values)
        settings = cls(**values)
        settings.check_kafka_security()
        settings.check_topics()
        settings.check_clickhouse_replicas()
        return settings

    def check_clickhouse_replicas(self) -> None:
        """ConfigError for replicas that would not be replicas: without a cluster the tables are
        plain on each server, and failing over between them would split the data."""
        if self.clickhouse_replicas.strip() and not self.clickhouse_cluster:
            raise ConfigError(
                f"{env_var('clickhouse_replicas')} is set but {env_var('clickhouse_cluster')} is not: without a "
                "cluster each server keeps its own tables and a failover would split the data; set the "
                "cluster name of the servers' <remote_servers> (their tables become Replicated)"
            )

    def check_topics(self) -> None:
        """ConfigError when no write could ever be acknowledged: more in-sync copies required than exist."""
        if self.topic_min_insync_replicas > self.topic_replication_factor:
            raise ConfigError(
                f"{env_var('topic_min_insync_replicas')}={self.topic_min_insync_replicas} is more than "
                f"{env_var('topic_replication_factor')}={self.topic_replication_factor}: no write could be "
                "acknowledged (acks=all); use at most the replication factor (2 of 3 in production)"
            )

    def check_kafka_security(self) -> None:
        """ConfigError naming the setting when the Kafka security settings cannot work together."""
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ConfigError(
                f"{env_var('kafka_security_protocol')}={self.kafka_security_protocol} needs "
                f"{env_var('kafka_sasl_username')} and {env_var('kafka_sasl_password')} (or "
                f"{env_var('kafka_sasl_password_file')})"
            )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ConfigError(f"{env_var('kafka_ssl_certfile')} and {env_var('kafka_ssl_keyfile')} go together")

    def describe(self) -> dict[str, str]:
        """Settings as strings for logs and ``status``, with secrets masked."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            hidden = f.metadata.get("secret") or "password" in f.name
            out[f.name] = "***" if hidden and value else str(value)
        return out


#: Secrets that may come from a file instead (Docker/Kubernetes secrets): setting -> its file setting.
SECRET_FILES = {"kafka_sasl_password": "kafka_sasl_password_file",
                "kafka_ssl_key_password": "kafka_ssl_key_password_file",
                "clickhouse_password": "clickhouse_password_file"}


def _read_secret_files(values: dict[str, Any]) -> None:
    """Fill each secret from its file setting, if given; both given is an error (which one wins?)."""
    for secret, file_setting in SECRET_FILES.items():
        path = values.get(file_setting)
        if not path:
            continue
        if values.get(secret):
            raise ConfigError(f"set {env_var(secret)} or {env_var(file_setting)}, not both")
        try:
            text = Path(path).expanduser().read_text()
        except OSError as exc:
            raise ConfigError(f"{env_var(file_setting)}: cannot read {path}: {exc.strerror}") from None
        values[secret] = text[:-1] if text.endswith("\n") else text
        if values[secret].endswith("\r"):
            values[secret] = values[secret][:-1]


def env_var(name: str) -> str:
    """The environment variable that sets the field ``name``."""
    return ENV_PREFIX + name.upper()


def setting_fields() -> list[dataclasses.Field[Any]]:
    """The declared settings, for generating CLI flags and docs."""
    return list(dataclasses.fields(Settings))


def _convert(raw: Any, kind: Any, source: str, meta: Mapping[str, Any]) -> Any:
    converters: dict[Any, Callable[[Any], Any]] = {int: _to_int, str: str, Path: _to_path, bool: _to_bool}
    converter = converters.get(kind)
    if converter is None:  # pragma: no cover - a new field type needs a converter here
        raise ConfigError(f"{source}: no converter for type {kind!r}")
    try:
        value = converter(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{source} must be {_kind_name(kind)}, got {raw!r}") from None
    choices = meta.get("choices") or ()
    if choices and value not in choices:
        raise ConfigError(f"{source} must be one of {', '.join(choices)}; got {value!r}")
    minimum = meta.get("minimum")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{source} must be at least {minimum}, got {value!r}")
    maximum = meta.get("maximum")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{source} must be at most {maximum}, got {value!r}")
    return value


def _to_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, int):
        return raw
    return int(str(raw).strip())


def _to_path(raw: Any) -> Path:
    text = str(raw).strip()
    if not text:
        raise ValueError(raw)
    return Path(text).expanduser()


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(raw)


def _kind_name(kind: Any) -> str:
    return {int: "an integer", Path: "a non-empty path", bool: "true or false"}.get(kind, "a string")
