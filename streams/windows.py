"""Event-time windows: 1-minute tumbling windows aligned to UTC, and rolling spans built from them."""

from __future__ import annotations

from typing import Final

#: Width of the scoring windows (the contract's 1-minute tumbling windows).
WINDOW_SECONDS: Final[int] = 60
WINDOW_MS: Final[int] = WINDOW_SECONDS * 1000
#: Rolling views, in seconds, each an exact sum of 1-minute windows.
ROLLING_SPANS: Final[dict[str, int]] = {"5m": 300, "15m": 900, "1h": 3600, "24h": 86400}


def window_start_ms(timestamp_ms: int, window_ms: int = WINDOW_MS) -> int:
    """Start (UTC epoch ms) of the tumbling window holding ``timestamp_ms``; the epoch is UTC-aligned."""
    return timestamp_ms - timestamp_ms % window_ms  # Python's % floors, so pre-1970 times work too


def rolling_window_starts(last_window_start_ms: int, span_seconds: int) -> list[int]:
    """Starts of the 1-minute windows making up a rolling span that ends with the given window."""
    if span_seconds % WINDOW_SECONDS:
        raise ValueError(f"a rolling span must be a whole number of minutes, got {span_seconds}s")
    if last_window_start_ms % WINDOW_MS:
        raise ValueError(f"{last_window_start_ms} is not the start of a 1-minute window")
    count = span_seconds // WINDOW_SECONDS
    return [last_window_start_ms - i * WINDOW_MS for i in range(count - 1, -1, -1)]
