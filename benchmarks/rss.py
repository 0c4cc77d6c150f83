"""Resident memory of a process, from /proc (Linux): current and peak (the kernel's high-water mark)."""

from __future__ import annotations

import os


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {field} line")


def peak_rss_bytes(pid: int | None = None) -> int:
    """The largest resident set the process has had (VmHWM)."""
    return _status_kib(pid or os.getpid(), "VmHWM") * 1024


def rss_bytes(pid: int | None = None) -> int:
    """The resident set now (VmRSS)."""
    return _status_kib(pid or os.getpid(), "VmRSS") * 1024
