"""Window math against hand-computed values: counts, mean, pct_positive, Wilson, sums."""

import pytest

from cxstream.scores import AnswerCounts, sum_counts, wilson_interval


@pytest.mark.parametrize(
    ("answers", "counts", "responses", "mean", "pct_positive"),
    [
        ([], (0, 0, 0, 0, 0), 0, 0.0, 0.0),                      # empty window
        ([4], (0, 0, 0, 1, 0), 1, 4.0, 100.0),                   # single positive answer
        ([3], (0, 0, 1, 0, 0), 1, 3.0, 0.0),                     # single neutral answer
        ([1, 5], (1, 0, 0, 0, 1), 2, 3.0, 50.0),
        ([1, 2, 3, 4, 5], (1, 1, 1, 1, 1), 5, 3.0, 40.0),
        ([5, 5, 4, 2], (0, 1, 0, 1, 2), 4, 4.0, 75.0),           # (2+4+10)/4 = 4.0; 3 of 4 positive
        ([4, 4, 3], (0, 0, 1, 2, 0), 3, 11 / 3, 200 / 3),
    ],
)
def test_counts_mean_and_pct_positive(
    answers: list[int], counts: tuple[int, ...], responses: int, mean: float, pct_positive: float
) -> None:
    cell = AnswerCounts.of(answers)
    assert cell.as_tuple() == counts
    assert cell.responses == responses
    assert cell.mean == pytest.approx(mean)
    assert cell.pct_positive == pytest.approx(pct_positive)


@pytest.mark.parametrize("answer", [0, 6, -1])
def test_answers_outside_one_to_five_are_refused(answer: int) -> None:
    with pytest.raises(ValueError, match="outside 1..5"):
        AnswerCounts.of([answer])


def test_rolling_sum_is_the_sum_of_counts_not_the_average_of_means() -> None:
    minute_1 = AnswerCounts.of([5] * 9 + [1])   # mean 4.6, 90% positive, n=10
    minute_2 = AnswerCounts.of([1])              # mean 1.0, 0% positive, n=1
    total = sum_counts([minute_1, minute_2])
    assert total.as_tuple() == (2, 0, 0, 0, 9)
    assert total.mean == pytest.approx(47 / 11)          # not (4.6 + 1.0) / 2
    assert total.pct_positive == pytest.approx(900 / 11)  # not (90 + 0) / 2


def test_add_one_answer_equals_counting_it() -> None:
    assert AnswerCounts.of([2, 4]).add(4) == AnswerCounts.of([2, 4, 4])


@pytest.mark.parametrize(
    ("positives", "n", "low", "high"),
    [
        # Hand-computed Wilson 95% intervals (z = 1.959964).
        (0, 10, 0.0, 27.753),
        (10, 10, 72.247, 100.0),
        (5, 10, 23.659, 76.341),
        (81, 100, 72.221, 87.485),
    ],
)
def test_wilson_interval_matches_hand_computed_values(positives: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson_interval(positives, n)
    assert lo == pytest.approx(low, abs=1e-3)
    assert hi == pytest.approx(high, abs=1e-3)


def test_wilson_interval_of_no_responses_is_the_whole_range() -> None:
    assert AnswerCounts().wilson_interval() == (0.0, 100.0)


def test_wilson_interval_narrows_as_responses_grow() -> None:
    narrow = wilson_interval(800, 1000)
    wide = wilson_interval(8, 10)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]
