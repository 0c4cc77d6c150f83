"""Comment insights: cost per comment, and the corpus figures (plain VADER vs cxstream's adaptation).

Run: .venv/bin/python -m benchmarks.insights.bench_insights [--rounds 7] [--figures]

Timing: every comment of tests/fixtures/comments/corpus.jsonl analysed once per round with
``cxstream.insights.analyze`` (built before the first round: its one-off cost is printed apart),
each call timed alone with ``perf_counter_ns``; a round gives the median and p95 over the
corpus, and the table the range of those over the rounds (the development VM is shared: a single
round means little). The same for vaderSentiment's own ``polarity_scores`` (sentiment only, no
drivers), and for one comment of 2,000 characters, the longest the contract accepts.

``--figures`` prints accuracy and per-class / per-driver precision and recall as markdown
(docs/INSIGHTS.md), for the whole corpus and for the holdout.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cxstream.insights import analyze, label_of
from cxstream.insights.analyzer import _Analyzer
from cxstream.insights.evaluation import evaluate, load_corpus, markdown

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "comments" / "corpus.jsonl"


def _percentile(sorted_ns: list[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000


def time_round(fn: Callable[[str], Any], texts: list[str]) -> tuple[float, float]:
    """(median, p95) microseconds per call over ``texts``, each call timed alone."""
    took: list[int] = []
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for text in texts:
            start = clock()
            fn(text)
            took.append(clock() - start)
    finally:
        gc.enable()
    took.sort()
    return _percentile(took, 0.5), _percentile(took, 0.95)


def time_one(fn: Callable[[str], Any], text: str, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn(text)
    return (time.perf_counter() - start) / repeat * 1e6


def bench(rounds: int = 7, limit: int | None = None, long_repeat: int = 20) -> dict[str, Any]:
    cases = load_corpus(CORPUS)[:limit]
    texts = [c["text"] for c in cases]
    start = time.perf_counter()
    _Analyzer()  # what the first analyze() in a process pays (lexicon read, patterns compiled)
    build_ms = (time.perf_counter() - start) * 1000
    analyze("warm")
    library = SentimentIntensityAnalyzer()
    long_text = (" ".join(load_corpus(CORPUS)[i]["text"] for i in range(200)))[:2000]
    contenders: dict[str, Callable[[str], Any]] = {
        "cxstream.insights.analyze (sentiment + drivers)": analyze,
        "vaderSentiment polarity_scores (sentiment only)": library.polarity_scores,
    }
    rows: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():  # interleaved: both see the same machine noise
            rows[name].append(time_round(fn, texts))
    long_us = {name: time_one(fn, long_text, long_repeat if "cxstream" in name else max(1, long_repeat // 4))
               for name, fn in contenders.items()}
    return {"comments": len(texts), "rounds": rounds, "build_ms": build_ms, "rows": rows, "long_us": long_us,
            "mean_chars": statistics.mean(len(t) for t in texts)}


def figures() -> str:
    cases = load_corpus(CORPUS)
    library = SentimentIntensityAnalyzer()

    def plain(text: str) -> tuple[str, tuple[str, ...]]:
        return label_of(library.polarity_scores(text)["compound"]), ()

    def adapted(text: str) -> tuple[str, tuple[str, ...]]:
        insight = analyze(text)
        assert insight is not None
        return insight.label, insight.drivers

    out = []
    for title, subset in (("whole corpus", cases), ("holdout", [c for c in cases if c["split"] == "holdout"]),
                          ("English only", [c for c in cases if "lang" not in c])):
        out.append(markdown(evaluate(subset, plain, drivers=False), title=f"plain VADER, {title}", drivers=False))
        out.append(markdown(evaluate(subset, adapted), title=f"cxstream.insights, {title}"))
    return "\n\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--figures", action="store_true", help="print the corpus figures instead of timing")
    args = parser.parse_args()
    if args.figures:
        print(figures())
        return
    result = bench(args.rounds)
    print(f"{result['comments']} comments (mean {result['mean_chars']:.0f} characters), {result['rounds']} rounds, "
          f"Python {platform.python_version()}; first call builds the analyzer: {result['build_ms']:.0f} ms")
    print("| contender | median us/comment (range over rounds) | p95 us/comment (range) | one 2,000-character comment, us |")
    print("| --- | ---: | ---: | ---: |")
    for name, runs in result["rows"].items():
        medians = [m for m, _ in runs]
        p95s = [p for _, p in runs]
        print(f"| {name} | {min(medians):.0f}-{max(medians):.0f} | {min(p95s):.0f}-{max(p95s):.0f} | "
              f"{result['long_us'][name]:,.0f} |")


if __name__ == "__main__":
    main()
