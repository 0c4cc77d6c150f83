"""Federal fiscal quarters (the year starts on October 1)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cxstream.fiscal import fiscal_quarter_of, quarter_bounds


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 10, 1, tzinfo=UTC), (2027, 1)),
        (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), (2027, 1)),
        (datetime(2027, 1, 1, tzinfo=UTC), (2027, 2)),
        (datetime(2027, 3, 31, tzinfo=UTC), (2027, 2)),
        (datetime(2027, 4, 1, tzinfo=UTC), (2027, 3)),
        (datetime(2027, 7, 1, tzinfo=UTC), (2027, 4)),
        (datetime(2027, 9, 30, 23, 59, tzinfo=UTC), (2027, 4)),
        # 20:00 on Sep 30 in New York is already Oct 1 in UTC: quarters are judged in UTC.
        (datetime(2026, 9, 30, 20, 0, tzinfo=timezone(timedelta(hours=-4))), (2027, 1)),
    ],
)
def test_fiscal_quarter_of(moment: datetime, expected: tuple[int, int]) -> None:
    assert fiscal_quarter_of(moment) == expected


@pytest.mark.parametrize(
    ("fiscal_year", "quarter", "start", "end"),
    [
        (2027, 1, datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        (2027, 2, datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)),
        (2027, 3, datetime(2027, 4, 1, tzinfo=UTC), datetime(2027, 7, 1, tzinfo=UTC)),
        (2027, 4, datetime(2027, 7, 1, tzinfo=UTC), datetime(2027, 10, 1, tzinfo=UTC)),
    ],
)
def test_quarter_bounds(fiscal_year: int, quarter: int, start: datetime, end: datetime) -> None:
    assert quarter_bounds(fiscal_year, quarter) == (start, end)
    assert fiscal_quarter_of(start) == (fiscal_year, quarter)
    assert fiscal_quarter_of(end - timedelta(microseconds=1)) == (fiscal_year, quarter)


def test_naive_datetimes_and_bad_quarters_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        fiscal_quarter_of(datetime(2026, 10, 1))
    with pytest.raises(ValueError, match="quarter must be 1..4"):
        quarter_bounds(2027, 5)
