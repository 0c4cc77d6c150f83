"""What any consumer of the score topics keeps: per cell and measure, the highest version."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def latest_by_version(scores: Iterable[Any], measure: str) -> dict[tuple[Any, ...], Any]:
    """The latest of ``scores`` per (window_start, agency, service, channel, <measure>)."""
    latest: dict[tuple[Any, ...], Any] = {}
    for score in scores:
        key = (score.window_start, score.agency, score.service, score.channel, getattr(score, measure))
        if key not in latest or score.version > latest[key].version:
            latest[key] = score
    return latest
