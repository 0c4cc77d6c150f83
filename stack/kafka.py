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
        self.jars_dir = settings.cache_dir.expanduser().resolve() / f"kafka-{settings.kafka_version}" / "libs"
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
        _require_tool("java", "Java 17+ is needed to run the Kafka broker: install a JDK "
                              "(e.g. apt-get install openjdk-17-jre-headless)")
        if (self.jars_dir / _READY_MARKER).exists():
            return
        _require_tool("mvn", "Maven is needed once to fetch the Kafka jars: install it (e.g. apt-get install maven)")
        staging = self.jars_dir.with_name("libs.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        pom = resources.files("cxstream.stack").joinpath("kafka-pom.xml")
        log_path = self.jars_dir.parent / "mvn.log"
        log.info("stack.kafka.fetching", version=self.settings.kafka_version, into=str(self.jars_dir))
        with resources.as_file(pom) as pom_path, open(log_path, "wb") as mvn_log:
            result = subprocess.run(
                [
                    "mvn", "-B", "-q", "-f", str(pom_path),
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={staging}",
                    "-DincludeScope=runtime",
                    f"-Dkafka.version={self.settings.kafka_version}",
                ],
                stdout=mvn_log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            raise StackError(
                f"fetching Kafka {self.settings.kafka_version} jars with Maven failed (exit "
                f"{result.returncode}); check the network to the Maven repository and "
                f"{env_var('kafka_version')}, details in {log_path}"
            )
        shutil.rmtree(self.jars_dir, ignore_errors=True)
        staging.rename(self.jars_dir)
        (self.jars_dir / _READY_MARKER).write_text(self.settings.kafka_version + "\n")
        log.info("stack.kafka.fetched", jars=len(list(self.jars_dir.glob("*.jar"))))

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
        argv = [
            "java",
            f"-Xmx{self.settings.kafka_heap}",
            f"-Xms{self.settings.kafka_heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.logs_dir}",
            f"-Dlog4j.configuration=file:{self.home / 'log4j.properties'}",
            self.process.marker,
            "-cp", f"{self.jars_dir}/*",
            _MAIN_CLASS,
            str(config),
        ]
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
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        template = resources.files("cxstream.stack").joinpath("kafka-server.properties").read_text()
        config = self.home / "server.properties"
        config.write_text(
            template.format(
                port=self.settings.kafka_port,
                controller_port=self.settings.kafka_controller_port,
                data_dir=self.data_dir,
                partitions=self.settings.partitions,
            )
        )
        log4j = resources.files("cxstream.stack").joinpath("kafka-log4j.properties").read_text()
        (self.home / "log4j.properties").write_text(log4j)
        return config

    def _format_storage_once(self, config: Path) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = new_cluster_id()
        result = subprocess.run(
            ["java", "-cp", f"{self.jars_dir}/*", f"-Dlog4j.configuration=file:{self.home / 'log4j.properties'}",
             f"-Dkafka.logs.dir={self.logs_dir}", _STORAGE_TOOL, "format", "-t", cluster_id, "-c", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(
                f"formatting Kafka storage in {self.data_dir} failed: {result.stdout.strip()} "
                f"{result.stderr.strip()}"
            )
        log.info("stack.kafka.formatted", cluster_id=cluster_id, data_dir=str(self.data_dir))

    def _answers(self) -> bool:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        # Probe the socket first: kafka-python's own reconnect backoff would add seconds.
        if not port_in_use(self.settings.kafka_port):
            return False
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.address, request_timeout_ms=3000, client_id="cxstream-stack-probe"
            )
        except (KafkaError, OSError, ValueError):
            return False
        try:
            admin.list_topics()
            return True
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()


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
