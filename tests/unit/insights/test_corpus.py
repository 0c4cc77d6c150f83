"""The analyzer against the labelled corpus (tests/fixtures/comments/corpus.jsonl, docs/INSIGHTS.md).

Every line must come out exactly as annotated (label and driver set), except the lines marked
``known_miss`` (each says why), which must still be missed: a fix that makes one pass must take
its mark off, so the published figures stay true. The aggregate figures are asserted exactly:
they are the ones docs/INSIGHTS.md reports; a change of rules that moves them updates both.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cxstream.insights import analyze, label_of
from cxstream.insights.evaluation import Report, case_passes, evaluate, load_corpus
from cxstream.vocabulary import CHANNELS, DRIVERS

CORPUS = load_corpus(Path(__file__).resolve().parents[2] / "fixtures" / "comments" / "corpus.jsonl")


def _adapted(text: str) -> tuple[str, tuple[str, ...]]:
    insight = analyze(text)
    assert insight is not None
    return insight.label, insight.drivers


def _plain(text: str) -> tuple[str, tuple[str, ...]]:
    return label_of(SentimentIntensityAnalyzer().polarity_scores(text)["compound"]), ()


_PLAIN = SentimentIntensityAnalyzer()


def _plain_fast(text: str) -> tuple[str, tuple[str, ...]]:
    return label_of(_PLAIN.polarity_scores(text)["compound"]), ()


@pytest.mark.parametrize("case", [c for c in CORPUS if not c.get("known_miss")], ids=lambda c: c["text"][:48])
def test_corpus_line(case: dict[str, Any]) -> None:
    assert _adapted(case["text"]) == (case["label"], tuple(case["drivers"]))


@pytest.mark.parametrize("case", [c for c in CORPUS if c.get("known_miss")], ids=lambda c: c["text"][:48])
def test_known_miss_is_still_missed(case: dict[str, Any]) -> None:
    assert not case_passes(case, _adapted(case["text"])), "a known miss now passes: take its known_miss off"


def test_the_corpus_is_what_the_documentation_says() -> None:
    assert len(CORPUS) == 336 and len({c["text"] for c in CORPUS}) == 336
    assert Counter(c["split"] for c in CORPUS) == {"dev": 222, "holdout": 114}
    assert Counter(c["label"] for c in CORPUS) == {"negative": 181, "positive": 138, "neutral": 17}
    assert sum(1 for c in CORPUS if c.get("known_miss")) == 74
    assert Counter(c.get("lang", "en") for c in CORPUS) == {"en": 326, "es": 3, "vi": 2, "zh": 2, "tl": 2, "de": 1}
    assert len({c["service"] for c in CORPUS}) == 14
    for case in CORPUS:
        assert case["channel"] in CHANNELS
        assert case["label"] in ("negative", "neutral", "positive")
        assert case["drivers"] == [d for d in DRIVERS if d in case["drivers"]] and "other" not in case["drivers"]
        assert not case.get("known_miss") or isinstance(case["known_miss"], str) and case["known_miss"]


def _drivers(report: Report) -> dict[str, tuple[int, int, int]]:
    return {name: (c.tp, c.fp, c.fn) for name, c in report.drivers.items()}


def _labels(report: Report) -> dict[str, tuple[int, int, int]]:
    return {name: (c.tp, c.fp, c.fn) for name, c in report.labels.items()}


def test_figures_over_the_whole_corpus() -> None:
    adapted = evaluate(CORPUS, _adapted)
    plain = evaluate(CORPUS, _plain_fast, drivers=False)
    # (true positives, false positives, false negatives)
    assert (plain.correct_labels, adapted.correct_labels, adapted.exact, adapted.cases) == (154, 308, 262, 336)
    assert _labels(plain) == {"negative": (62, 12, 119), "neutral": (6, 130, 11), "positive": (86, 40, 52)}
    assert _labels(adapted) == {"negative": (161, 2, 20), "neutral": (15, 18, 2), "positive": (132, 8, 6)}
    assert _drivers(adapted) == {
        "effectiveness": (70, 8, 9), "ease": (69, 8, 6), "efficiency": (119, 7, 8),
        "transparency": (64, 3, 2), "humanity": (40, 0, 3), "employee": (66, 3, 11),
    }


def test_figures_on_the_holdout() -> None:
    """The 114 comments written with the others but never looked at while the rules were tuned."""
    holdout = [c for c in CORPUS if c["split"] == "holdout"]
    adapted = evaluate(holdout, _adapted)
    plain = evaluate(holdout, _plain_fast, drivers=False)
    assert (plain.correct_labels, adapted.correct_labels, adapted.exact) == (52, 96, 72)
    assert _drivers(adapted) == {
        "effectiveness": (17, 2, 5), "ease": (21, 6, 5), "efficiency": (39, 4, 4),
        "transparency": (25, 1, 1), "humanity": (16, 0, 2), "employee": (23, 1, 2),
    }


def test_plain_vader_is_the_library_itself() -> None:
    """The baseline is vaderSentiment as shipped, a fresh analyzer per comment or not."""
    for case in CORPUS[:20]:
        assert _plain(case["text"]) == _plain_fast(case["text"])
