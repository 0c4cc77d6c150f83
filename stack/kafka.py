"""The local Apache Kafka broker: jars from Maven Central, KRaft storage, start, stop.

The jars are resolved once per Kafka version into the cache folder with the machine's ``mvn``
(``stack/kafka-pom.xml``), so a second clone or a second ``make test`` reuses them.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from importlib import resources
from pathlib import Path

from cxstream.config import Settings, env_var
from cxstream.errors import StackError
from cxstream.logs import get_logger
from cxstream.stack.process import ManagedProcess, port_in_use, require_free_ports, wait_until

log = get_logger(__name__)

_READY_MARKER = ".complete"
_MAIN_CLASS = "kafka.Kafka"
_STORAGE_TOOL = "kafka.tools.StorageTool"


class KafkaBroker:
    """One KRaft broker+controller on 127.0.0.1, its files under ``<state_dir>/kafka``."""

    name = "kafka"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.state_dir.resolve() / "kafka"
        self.data_dir = self.home / "data"
        self.logs_dir = self.home / "logs"
        self.jars_dir = jars_dir(settings)
        self.process = ManagedProcess(
            name="kafka",
            pid_file=self.home / "kafka.pid",
            marker=f"-Dcxstream.stack.kafka={self.home}",
            log_file=self.logs_dir / "stdout.log",
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.settings.kafka_port}"

    def describe(self) -> str:
        return f"Kafka {self.settings.kafka_version} (KRaft) at {self.address}, logs in {self.logs_dir}"

    # --- install --------------------------------------------------------------------------
    def ensure_installed(self) -> None:
        """Check Java; fetch the broker jars with Maven unless the cache already has them."""
        ensure_jars(self.settings)

    # --- lifecycle --------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.process.pid() is not None

    def start(self) -> bool:
        """Start the broker unless ours already runs; True if this call started it."""
        if self.is_running():
            return False
        require_free_ports(
            "Kafka",
            {env_var("kafka_port"): self.settings.kafka_port,
             env_var("kafka_controller_port"): self.settings.kafka_controller_port},
        )
        self.ensure_installed()
        config = self._write_config()
        self._format_storage_once(config)
        argv = server_argv(jars_dir=self.jars_dir, home=self.home, logs_dir=self.logs_dir, heap=self.settings.kafka_heap,
                           marker=self.process.marker, config=config)
        child = self.process.start(argv, cwd=self.home)
        log.info("stack.kafka.starting", pid=child.pid, address=self.address)
        wait_until(self._answers, timeout=self.settings.start_timeout, what="Kafka", process=self.process,
                   child=child)
        log.info("stack.kafka.started", pid=child.pid, address=self.address)
        return True

    def stop(self) -> bool:
        stopped = self.process.stop(timeout=30)
        if stopped:
            log.info("stack.kafka.stopped")
        return stopped

    # --- internals --------------------------------------------------------------------------
    def _write_config(self) -> Path:
        return write_server_files(
            self.home, self.logs_dir,
            render_template(
                "kafka-server.properties",
                port=self.settings.kafka_port,
                controller_port=self.settings.kafka_controller_port,
                data_dir=self.data_dir,
                partitions=self.settings.partitions,
            ),
        )

    def _format_storage_once(self, config: Path) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = new_cluster_id()
        format_storage(jars_dir=self.jars_dir, home=self.home, logs_dir=self.logs_dir, data_dir=self.data_dir,
                       config=config, cluster_id=cluster_id)
        log.info("stack.kafka.formatted", cluster_id=cluster_id, data_dir=str(self.data_dir))

    def _answers(self) -> bool:
        return answers_admin_request(self.address, self.settings.kafka_port)


def new_cluster_id() -> str:
    """A random Kafka cluster id: 16 bytes, URL-safe base64 without padding, never starting with
    '-' (the storage tool's argument parser would take it for an option; Kafka's own generator
    skips such ids for the same reason)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def _require_tool(tool: str, advice: str) -> None:
    if shutil.which(tool) is None:
        raise StackError(f"'{tool}' was not found on PATH. {advice}.")


# --- shared by the single broker and the nodes of the local cluster (stack/kafka_cluster.py) ---------------
def jars_dir(settings: Settings) -> Path:
    """Where the jars of ``settings.kafka_version`` are cached (shared by every clone and the cluster)."""
    return settings.cache_dir.expanduser().resolve() / f"kafka-{settings.kafka_version}" / "libs"


def ensure_jars(settings: Settings) -> Path:
    """Check Java; fetch the broker jars with Maven unless the cache already has them; their folder."""
    libs = jars_dir(settings)
    _require_tool("java", "Java 17+ is needed to run the Kafka broker: install a JDK "
                          "(e.g. apt-get install openjdk-17-jre-headless)")
    if (libs / _READY_MARKER).exists():
        return libs
    _require_tool("mvn", "Maven is needed once to fetch the Kafka jars: install it (e.g. apt-get install maven)")
    staging = libs.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    pom = resources.files("cxstream.stack").joinpath("kafka-pom.xml")
    log_path = libs.parent / "mvn.log"
    log.info("stack.kafka.fetching", version=settings.kafka_version, into=str(libs))
    with resources.as_file(pom) as pom_path, open(log_path, "wb") as mvn_log:
        result = subprocess.run(
            [
                "mvn", "-B", "-q", "-f", str(pom_path),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
                f"-Dkafka.version={settings.kafka_version}",
            ],
            stdout=mvn_log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        raise StackError(
            f"fetching Kafka {settings.kafka_version} jars with Maven failed (exit "
            f"{result.returncode}); check the network to the Maven repository and "
            f"{env_var('kafka_version')}, details in {log_path}"
        )
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    (libs / _READY_MARKER).write_text(settings.kafka_version + "\n")
    log.info("stack.kafka.fetched", jars=len(list(libs.glob("*.jar"))))
    return libs


def render_template(name: str, **values: object) -> str:
    """A properties template of this package with its ``{placeholders}`` filled in."""
    return resources.files("cxstream.stack").joinpath(name).read_text().format(**values)


def write_server_files(home: Path, logs_dir: Path, server_properties: str) -> Path:
    """Write a node's ``server.properties`` and its log4j configuration under ``home``; the former's path."""
    home.mkdir(parents=True, exist_ok=True)
    logs_dir.mkdir(parents=True, exist_ok=True)
    config = home / "server.properties"
    config.write_text(server_properties)
    log4j = resources.files("cxstream.stack").joinpath("kafka-log4j.properties").read_text()
    (home / "log4j.properties").write_text(log4j)
    return config


def server_argv(*, jars_dir: Path, home: Path, logs_dir: Path, heap: str, marker: str, config: Path) -> list[str]:
    """The command line of a Kafka server; ``marker`` lets ManagedProcess recognise it later."""
    return [
        "java",
        f"-Xmx{heap}",
        f"-Xms{heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dkafka.logs.dir={logs_dir}",
        f"-Dlog4j.configuration=file:{home / 'log4j.properties'}",
        marker,
        "-cp", f"{jars_dir}/*",
        _MAIN_CLASS,
        str(config),
    ]


def format_storage(*, jars_dir: Path, home: Path, logs_dir: Path, data_dir: Path, config: Path, cluster_id: str) -> None:
    """Format a node's KRaft storage (``data_dir``, named in ``config``) for ``cluster_id``."""
    result = subprocess.run(
        ["java", "-cp", f"{jars_dir}/*", f"-Dlog4j.configuration=file:{home / 'log4j.properties'}",
         f"-Dkafka.logs.dir={logs_dir}", _STORAGE_TOOL, "format", "-t", cluster_id, "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(
            f"formatting Kafka storage in {data_dir} failed: {result.stdout.strip()} "
            f"{result.stderr.strip()}"
        )


def answers_admin_request(bootstrap: str, port: int) -> bool:
    """True if a broker at ``bootstrap`` answers an admin request (``port`` is probed first)."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    # Probe the socket first: kafka-python's own reconnect backoff would add seconds.
    if not port_in_use(port):
        return False
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000, client_id="cxstream-stack-probe")
    except (KafkaError, OSError, ValueError):
        return False
    try:
        admin.list_topics()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()
