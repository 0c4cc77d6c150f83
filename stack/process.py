"""Background server processes owned through pid files: start, find, wait for, stop.

A pid file alone can lie (a stale file, a reused pid), so a process counts as ours only while
its command line still carries the marker it was started with.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cxstream.errors import StackError


@dataclass(frozen=True)
class ManagedProcess:
    """A server process identified by its pid file and a marker in its command line."""

    name: str
    pid_file: Path
    marker: str
    log_file: Path

    def pid(self) -> int | None:
        """The pid of our live process, or None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if _cmdline_has(pid, self.marker):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def start(self, argv: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> int:
        """Start ``argv`` detached from this process (own session), output to the log file."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        return proc.pid

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop our process: SIGTERM, then SIGKILL after ``timeout``. True if one was running."""
        pid = self.pid()
        if pid is None:
            return False
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the process log, to show why a start failed."""
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log written)"
        return "\n".join(text.splitlines()[-lines:])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def require_free_ports(component: str, ports: dict[str, int]) -> None:
    """Fail fast, naming the setting to change, when a port the component needs is taken."""
    for setting, port in ports.items():
        if port_in_use(port):
            raise StackError(
                f"{component} cannot start: port {port} on 127.0.0.1 is already in use by another "
                f"process; stop that process or choose another port with {setting}"
            )


def wait_until(
    ready: Callable[[], bool], *, timeout: float, what: str, process: ManagedProcess
) -> None:
    """Poll ``ready`` until it is true; fail with the log tail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if process.pid() is None:
            raise StackError(
                f"{what} exited during start-up; last lines of {process.log_file}:\n{process.log_tail()}"
            )
        time.sleep(0.5)
    raise StackError(
        f"{what} did not answer within {timeout:.0f}s (raise CXSTREAM_START_TIMEOUT if the machine "
        f"is slow); last lines of {process.log_file}:\n{process.log_tail()}"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not alive for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    if state == "Z":
        _reap(pid)
        return False
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _cmdline_has(pid: int, marker: str) -> bool:
    if not _alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, PermissionError):
        return False
    return marker in cmdline
