"""The local ClickHouse server: Debian's package when missing, a config of our own, start, stop.

Debian ships ClickHouse 18.16, an old release; the project's DDL keeps to what both it and modern
ClickHouse accept (see sinks/ and docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from importlib import resources
from pathlib import Path
from string import Template
from xml.sax.saxutils import escape

from cxstream.config import Settings, env_var
from cxstream.errors import StackError
from cxstream.logs import get_logger
from cxstream.stack.process import ManagedProcess, require_free_ports, wait_until

log = get_logger(__name__)

_PACKAGES = ("clickhouse-server", "clickhouse-client")
_SEARCH_DIRS = ("/usr/bin", "/usr/sbin", "/usr/local/bin")
#: User and database names go into users.xml as element names and values.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def find_server_binary() -> str | None:
    """Path of clickhouse-server, also where /usr/sbin is not on PATH."""
    found = shutil.which("clickhouse-server")
    if found:
        return found
    for folder in _SEARCH_DIRS:
        candidate = Path(folder) / "clickhouse-server"
        if candidate.exists():
            return str(candidate)
    return None


class ClickHouseServer:
    """One ClickHouse server on 127.0.0.1, its files under ``<state_dir>/clickhouse``.

    The local cluster's replicas (stack/clickhouse_cluster.py) are servers of this kind too: each
    gets settings pointing at its own ports, a ``home`` of its own, an ``extra_config`` (ZooKeeper,
    macros, the cluster's servers) added to config.xml, and ``port_setting``, the setting to name
    when one of its ports is taken.
    """

    name = "clickhouse"

    def __init__(self, settings: Settings, *, home: Path | None = None, extra_config: str = "",
                 name: str = "clickhouse", port_setting: str | None = None) -> None:
        self.settings = settings
        self.name = name
        self.home = home or settings.state_dir.resolve() / "clickhouse"
        self.extra_config = extra_config
        self.port_setting = port_setting
        self.data_dir = self.home / "data"
        self.logs_dir = self.home / "logs"
        self.config_file = self.home / "config.xml"
        self.process = ManagedProcess(
            name=name,
            pid_file=self.home / "clickhouse.pid",
            marker=f"--config-file={self.config_file}",
            log_file=self.logs_dir / "stdout.log",
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.settings.clickhouse_port}"

    def describe(self) -> str:
        return (
            f"ClickHouse at {self.address} (native), http://127.0.0.1:{self.settings.clickhouse_http_port} "
            f"(HTTP), logs in {self.logs_dir}"
        )

    def version(self) -> str | None:
        """The running server's version, or None when it does not answer."""
        return self._http_query("SELECT version()")

    # --- install --------------------------------------------------------------------------
    def ensure_installed(self) -> str:
        """Path of clickhouse-server, installing Debian's package with apt-get when missing."""
        binary = find_server_binary()
        if binary:
            return binary
        if shutil.which("apt-get") is None:
            raise StackError(
                "ClickHouse is not installed and apt-get is not available: install clickhouse-server "
                "yourself so that it is on PATH, then run this again"
            )
        if os.geteuid() != 0:
            raise StackError(
                "ClickHouse is not installed: run `sudo apt-get install clickhouse-server clickhouse-client`, "
                "then run this again"
            )
        log.info("stack.clickhouse.installing", packages=list(_PACKAGES))
        if not self._apt_install():
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
            if not self._apt_install():
                raise StackError(
                    f"apt-get could not install {' '.join(_PACKAGES)}; see {self.home / 'apt.log'}"
                )
        binary = find_server_binary()
        if binary is None:
            raise StackError("apt-get installed ClickHouse but clickhouse-server was not found on PATH")
        return binary

    def _apt_install(self) -> bool:
        self.home.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        with open(self.home / "apt.log", "ab") as apt_log:
            result = subprocess.run(
                ["apt-get", "install", "-y", "-q", *_PACKAGES],
                stdout=apt_log, stderr=subprocess.STDOUT, env=env, check=False,
            )
        return result.returncode == 0

    # --- lifecycle --------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.process.pid() is not None

    def start(self) -> bool:
        """Start the server unless ours already runs; True if this call started it.

        A server of ours that already runs gets the current users.xml (it reloads that file by
        itself, within seconds), so a user added since it started, such as the BI user, exists.
        """
        if self.is_running():
            self._refresh_users()
            return False
        require_free_ports(
            "ClickHouse",
            {f"{self.port_setting} (native)" if self.port_setting else env_var("clickhouse_port"):
                self.settings.clickhouse_port,
             f"{self.port_setting} (HTTP)" if self.port_setting else env_var("clickhouse_http_port"):
                self.settings.clickhouse_http_port,
             **self._extra_ports()},
        )
        binary = self.ensure_installed()
        self._write_config()
        child = self.process.start([binary, f"--config-file={self.config_file}"], cwd=self.home)
        log.info("stack.clickhouse.starting", pid=child.pid, address=self.address, server=self.name)
        wait_until(
            lambda: self.version() is not None,
            timeout=self.settings.start_timeout,
            what=f"ClickHouse ({self.name})",
            process=self.process,
            child=child,
        )
        log.info("stack.clickhouse.started", pid=child.pid, version=self.version(), address=self.address,
                 server=self.name)
        return True

    def _extra_ports(self) -> dict[str, int]:
        """More ports this server listens on, by the setting to change (none for the single server)."""
        return {}

    def stop(self) -> bool:
        stopped = self.process.stop(timeout=30)
        if stopped:
            log.info("stack.clickhouse.stopped", server=self.name)
        return stopped

    # --- internals --------------------------------------------------------------------------
    def _write_config(self) -> None:
        for folder in (self.data_dir, self.logs_dir, self.data_dir / "tmp", self.data_dir / "user_files"):
            folder.mkdir(parents=True, exist_ok=True)
        users_config = self.home / "users.xml"
        users_config.write_text(self._users_xml())
        users_config.chmod(0o600)
        config = Template(resources.files("cxstream.stack").joinpath("clickhouse-config.xml").read_text())
        self.config_file.write_text(
            config.substitute(
                logs_dir=self.logs_dir,
                data_dir=self.data_dir,
                users_config=users_config,
                http_port=self.settings.clickhouse_http_port,
                tcp_port=self.settings.clickhouse_port,
                extra_config=self.extra_config,
            )
        )

    def _users_xml(self) -> str:
        """users.xml: the pipeline's user and the read-only BI user (see clickhouse-users.xml)."""
        for name in ("clickhouse_bi_user", "clickhouse_database"):
            value = getattr(self.settings, name)
            if not _IDENTIFIER.match(value):
                raise StackError(f"{env_var(name)} must be a plain identifier (letters, digits, _), got {value!r}")
        users = Template(resources.files("cxstream.stack").joinpath("clickhouse-users.xml").read_text())
        return users.substitute(
            default_password=escape(self.settings.clickhouse_password),
            bi_user=self.settings.clickhouse_bi_user,
            bi_password=escape(self.settings.clickhouse_bi_password),
            database=self.settings.clickhouse_database,
        )

    def _refresh_users(self) -> None:
        """Rewrite users.xml of the running server if it changed; wait until the BI user can log in."""
        users_config = self.home / "users.xml"
        wanted = self._users_xml()
        if users_config.exists() and users_config.read_text() == wanted:
            return
        users_config.write_text(wanted)
        users_config.chmod(0o600)
        log.info("stack.clickhouse.users_updated", path=str(users_config))
        deadline = time.monotonic() + self.settings.start_timeout
        bi = (self.settings.clickhouse_bi_user, self.settings.clickhouse_bi_password)
        while self._http_query("SELECT 1", credentials=bi) is None:
            if time.monotonic() > deadline:
                raise StackError(
                    f"ClickHouse did not reload {users_config} within {self.settings.start_timeout}s: restart it "
                    "with `cxstream stack down` then `cxstream stack up`"
                )
            time.sleep(0.2)

    def _http_query(self, sql: str, credentials: tuple[str, str] | None = None) -> str | None:
        user, password = credentials or (self.settings.clickhouse_user, self.settings.clickhouse_password)
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.settings.clickhouse_http_port}/",
            data=sql.encode(),
            headers={"X-ClickHouse-User": user, "X-ClickHouse-Key": password},
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.read().decode().strip()
        except (urllib.error.URLError, OSError):
            return None
