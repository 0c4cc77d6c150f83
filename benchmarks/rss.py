"""Resident memory of a process, from /proc (Linux): current and peak (the kernel's high-water mark)."""

from __future__ import annotations

import os
from collections.abc import Callable


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


def with_children(pid: int) -> list[int]:
    """``pid`` and every process under it (the worker's sink runs as its child)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    # the command name may hold spaces and parentheses: the ppid follows the last ")"
                    parents[int(entry)] = int(stat.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # ended meanwhile
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        tree.extend(frontier)
    return tree


def tree_peak_rss_bytes(pid: int) -> int:
    """Sum of the peak resident sets of ``pid`` and its children (each one's own high-water mark)."""
    return sum(_alive_or_zero(peak_rss_bytes, each) for each in with_children(pid))


def tree_rss_bytes(pid: int) -> int:
    """Sum of the resident sets of ``pid`` and its children now."""
    return sum(_alive_or_zero(rss_bytes, each) for each in with_children(pid))


def _alive_or_zero(measure: Callable[[int], int], pid: int) -> int:
    try:
        return measure(pid)
    except (OSError, RuntimeError):
        return 0
