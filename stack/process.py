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
from cxstream.logs import get_logger

log = get_logger(__name__)


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
        if not _alive(pid):
            self.pid_file.unlink(missing_ok=True)  # stale: the process is gone
        return None

    def start(self, argv: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` in a session of its own, output to the log file; the caller may poll it."""
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
        return proc

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
    ready: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    process: ManagedProcess,
    child: subprocess.Popen[bytes],
) -> None:
    """Poll ``ready`` until it is true; fail with the log tail if the child exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        # Our own child: poll() is the authority on whether it exited (and reaps it).
        code = child.poll()
        if code is None and process.pid() is None:
            # Our child runs, yet the pid file check disagrees: keep the child and its pid file,
            # and leave the evidence in the log (seen once in CI, not reproduced since).
            log.warning("stack.process.unrecognised", name=process.name, pid=child.pid, proc=_describe(child.pid))
            process.pid_file.write_text(f"{child.pid}\n")
        if code is not None:
            process.pid_file.unlink(missing_ok=True)
            raise StackError(
                f"{what} exited during start-up (exit code {code}); last lines of "
                f"{process.log_file}:\n{process.log_tail()}"
            )
        time.sleep(0.5)
    raise StackError(
        f"{what} did not answer within {timeout:.0f}s (raise CXSTREAM_START_TIMEOUT if the machine "
        f"is slow); last lines of {process.log_file}:\n{process.log_tail()}"
    )


def _describe(pid: int) -> str:
    """What /proc says of a pid, for errors that must explain a mismatch."""
    parts = []
    for name in ("stat", "cmdline"):
        try:
            parts.append(f"{name}={Path(f'/proc/{pid}/{name}').read_bytes()[:200]!r}")
        except OSError as exc:
            parts.append(f"{name}: {exc}")
    return "; ".join(parts)


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
