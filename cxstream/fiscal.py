"""US federal fiscal quarters: the fiscal year starts on October 1 (FY2027 Q1 = Oct-Dec 2026)."""

from __future__ import annotations

from datetime import UTC, datetime


def fiscal_quarter_of(moment: datetime) -> tuple[int, int]:
    """(fiscal_year, quarter) of an aware datetime, judged in UTC."""
    if moment.tzinfo is None:
        raise ValueError("fiscal_quarter_of needs an aware datetime (with a UTC offset)")
    utc = moment.astimezone(UTC)
    fiscal_year = utc.year + 1 if utc.month >= 10 else utc.year
    quarter = ((utc.month - 10) % 12) // 3 + 1
    return fiscal_year, quarter


def quarter_bounds(fiscal_year: int, quarter: int) -> tuple[datetime, datetime]:
    """[start, end) of a fiscal quarter in UTC."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1..4, got {quarter}")
    if not 1900 < fiscal_year < 10000:
        raise ValueError(f"fiscal year {fiscal_year} is out of range")
    start_month = (10 + 3 * (quarter - 1) - 1) % 12 + 1
    start_year = fiscal_year - 1 if quarter == 1 else fiscal_year
    end_month = start_month + 3
    end_year = start_year
    if end_month > 12:
        end_month -= 12
        end_year += 1
    return (datetime(start_year, start_month, 1, tzinfo=UTC), datetime(end_year, end_month, 1, tzinfo=UTC))
