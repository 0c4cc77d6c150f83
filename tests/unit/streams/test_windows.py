"""1-minute UTC-aligned windows and rolling spans."""

from datetime import UTC, datetime

import pytest

from cxstream.streams.windows import WINDOW_MS, rolling_window_starts, window_start_ms


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).astimezone(UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("moment", "window"),
    [
        ("2026-11-25T14:03:07.250+00:00", "2026-11-25T14:03:00+00:00"),
        ("2026-11-25T14:03:00.000+00:00", "2026-11-25T14:03:00+00:00"),   # a boundary opens its window
        ("2026-11-25T14:03:59.999+00:00", "2026-11-25T14:03:00+00:00"),
        ("2026-11-25T09:03:30-05:00", "2026-11-25T14:03:00+00:00"),       # offsets are UTC-normalised
        ("1969-12-31T23:59:30+00:00", "1969-12-31T23:59:00+00:00"),       # floors before the epoch
    ],
)
def test_window_start_is_the_utc_minute(moment: str, window: str) -> None:
    assert window_start_ms(_ms(moment)) == _ms(window)


def test_rolling_15_minutes_is_fifteen_consecutive_windows_ending_with_the_last() -> None:
    last = _ms("2026-11-25T14:03:00+00:00")
    starts = rolling_window_starts(last, 900)
    assert len(starts) == 15
    assert starts[-1] == last
    assert starts[0] == _ms("2026-11-25T13:49:00+00:00")
    assert all(b - a == WINDOW_MS for a, b in zip(starts, starts[1:], strict=False))


def test_rolling_span_must_be_whole_minutes_and_end_on_a_window() -> None:
    with pytest.raises(ValueError, match="whole number of minutes"):
        rolling_window_starts(0, 90)
    with pytest.raises(ValueError, match="not the start"):
        rolling_window_starts(1, 60)
