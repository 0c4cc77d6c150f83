"""Answer counts and what is derived from them: responses, mean, pct_positive, Wilson interval.

Counts are the only thing ever added up (across minutes, partitions, channels); means and
percentages are derived from summed counts, never averaged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from cxstream.vocabulary import FAVOURABLE_TRUST, MAX_ANSWER, MIN_ANSWER, POSITIVE_ANSWER

#: z for a two-sided 95% interval.
Z_95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class AnswerCounts:
    """How many answers of 1, 2, 3, 4 and 5 one cell (window, agency, service, channel, domain) has."""

    count_1: int = 0
    count_2: int = 0
    count_3: int = 0
    count_4: int = 0
    count_5: int = 0

    @classmethod
    def of(cls, answers: Iterable[int]) -> AnswerCounts:
        """Counts of a sequence of answers (each 1..5)."""
        tally = [0] * (MAX_ANSWER - MIN_ANSWER + 1)
        for answer in answers:
            if not MIN_ANSWER <= answer <= MAX_ANSWER:
                raise ValueError(f"answer {answer} is outside {MIN_ANSWER}..{MAX_ANSWER}")
            tally[answer - MIN_ANSWER] += 1
        return cls(*tally)

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.count_1, self.count_2, self.count_3, self.count_4, self.count_5)

    def add(self, answer: int) -> AnswerCounts:
        """These counts with one more answer."""
        if not MIN_ANSWER <= answer <= MAX_ANSWER:
            raise ValueError(f"answer {answer} is outside {MIN_ANSWER}..{MAX_ANSWER}")
        tally = list(self.as_tuple())
        tally[answer - MIN_ANSWER] += 1
        return AnswerCounts(*tally)

    def __add__(self, other: AnswerCounts) -> AnswerCounts:
        return AnswerCounts(self.count_1 + other.count_1, self.count_2 + other.count_2, self.count_3 + other.count_3,
                            self.count_4 + other.count_4, self.count_5 + other.count_5)

    @property
    def responses(self) -> int:
        return sum(self.as_tuple())

    @property
    def positives(self) -> int:
        return sum(self.as_tuple()[POSITIVE_ANSWER - MIN_ANSWER :])

    @property
    def mean(self) -> float:
        """Answer-weighted mean (A-11's 'point scale' before rounding); 0.0 with no responses."""
        n = self.responses
        if n == 0:
            return 0.0
        return sum(value * count for value, count in zip(range(MIN_ANSWER, MAX_ANSWER + 1), self.as_tuple(), strict=True)) / n

    @property
    def pct_positive(self) -> float:
        """100 × answers of 4 or 5 / responses; 0.0 with no responses."""
        n = self.responses
        return 0.0 if n == 0 else 100.0 * self.positives / n

    def wilson_interval(self, z: float = Z_95) -> tuple[float, float]:
        """Wilson score interval of pct_positive, in percent; (0, 100) with no responses."""
        return wilson_interval(self.positives, self.responses, z)


def wilson_interval(positives: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion positives/n, in percent (0..100)."""
    if n <= 0:
        return (0.0, 100.0)
    if not 0 <= positives <= n:
        raise ValueError(f"positives {positives} must be within 0..{n}")
    p = positives / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = (z / (1 + z2 / n)) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (max(0.0, 100.0 * (centre - half)), min(100.0, 100.0 * (centre + half)))


def sum_counts(cells: Iterable[AnswerCounts]) -> AnswerCounts:
    """The counts of several cells together (rolling windows, channel totals)."""
    # Column sums, one object at the end: the rolling alerts sum ~100 cells per domain per update.
    c1 = c2 = c3 = c4 = c5 = 0
    for cell in cells:
        c1 += cell.count_1
        c2 += cell.count_2
        c3 += cell.count_3
        c4 += cell.count_4
        c5 += cell.count_5
    return AnswerCounts(c1, c2, c3, c4, c5)


# --- the current A-11 form (FY2024 on) ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TrustCounts:
    """How many trust answers of each value one cell has, on one scale: thumbs answers are 0 (down)
    and 1 (up), five-point answers 1..5; ``counts[v]`` is the number of answers ``v`` (0..5).

    Each scale is counted on its own: a thumbs up and a 5 are both favourable, but they are never
    added into one mean."""

    counts: tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0)

    def add(self, value: int) -> TrustCounts:
        if not 0 <= value <= 5:
            raise ValueError(f"trust answer {value} is outside 0..5")
        tally = list(self.counts)
        tally[value] += 1
        return TrustCounts(tuple(tally))  # type: ignore[arg-type]

    def __add__(self, other: TrustCounts) -> TrustCounts:
        return TrustCounts(tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)))  # type: ignore[arg-type]

    @property
    def responses(self) -> int:
        return sum(self.counts)

    def favourable(self, scale: str) -> int:
        """Thumbs up, or 4-5 on the five-point scale."""
        return sum(self.counts[v] for v in FAVOURABLE_TRUST[scale])

    def pct_favourable(self, scale: str) -> float:
        """100 × favourable / responses; 0.0 with no responses."""
        n = self.responses
        return 0.0 if n == 0 else 100.0 * self.favourable(scale) / n

    def as_answer_counts(self, scale: str) -> AnswerCounts:
        """The same answers where 4-5 means favourable (for the rolling alert rule, which reads
        pct_positive): thumbs down as 1, thumbs up as 5; five-point answers as they are."""
        if scale == "thumbs":
            return AnswerCounts(self.counts[0], 0, 0, 0, self.counts[1])
        return AnswerCounts(*self.counts[1:])


@dataclass(frozen=True, slots=True)
class DriverCounts:
    """One driver in one cell: respondents offered it, and how many chose it under "went well" and
    under "didn't go so well". Percentages are over ``offered``: a driver not offered is not a zero."""

    offered: int = 0
    went_well: int = 0
    did_not_go_well: int = 0

    def __add__(self, other: DriverCounts) -> DriverCounts:
        return DriverCounts(self.offered + other.offered, self.went_well + other.went_well,
                            self.did_not_go_well + other.did_not_go_well)

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.offered, self.went_well, self.did_not_go_well)

    @property
    def pct_went_well(self) -> float:
        return 0.0 if self.offered == 0 else 100.0 * self.went_well / self.offered

    @property
    def pct_did_not_go_well(self) -> float:
        return 0.0 if self.offered == 0 else 100.0 * self.did_not_go_well / self.offered
