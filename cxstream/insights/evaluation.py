"""Scoring an analyzer against a labelled corpus (tests/fixtures/comments/corpus.jsonl).

Used by the quick-tier tests (floors) and by benchmarks/insights/ (the report in
docs/INSIGHTS.md); a case is one corpus line: ``text``, ``label``, ``drivers``, and optionally
``split``, ``lang`` and ``known_miss``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxstream.insights.analyzer import LABELS
from cxstream.vocabulary import DRIVERS

#: The drivers the analyzer can name (``other`` never: see cxstream.insights.taxonomy).
SCORED_DRIVERS: tuple[str, ...] = tuple(d for d in DRIVERS if d != "other")

Case = Mapping[str, Any]


def load_corpus(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Counts:
    """true positives, false positives, false negatives of one class or driver."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    cases: int = 0
    correct_labels: int = 0
    exact: int = 0  # label and the whole driver set right
    labels: dict[str, Counts] = field(default_factory=lambda: {name: Counts() for name in LABELS})
    drivers: dict[str, Counts] = field(default_factory=lambda: {name: Counts() for name in SCORED_DRIVERS})
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)  # (expected, predicted) -> n

    @property
    def accuracy(self) -> float:
        return self.correct_labels / self.cases if self.cases else 0.0

    def driver_totals(self) -> Counts:
        total = Counts()
        for c in self.drivers.values():
            total.tp, total.fp, total.fn = total.tp + c.tp, total.fp + c.fp, total.fn + c.fn
        return total


Prediction = tuple[str, Sequence[str]]


def evaluate(cases: Iterable[Case], predict: Callable[[str], Prediction], *, drivers: bool = True) -> Report:
    report = Report()
    for case in cases:
        label, found = predict(case["text"])
        report.cases += 1
        expected = case["label"]
        report.confusion[(expected, label)] = report.confusion.get((expected, label), 0) + 1
        if label == expected:
            report.correct_labels += 1
            report.labels[label].tp += 1
        else:
            report.labels[label].fp += 1
            report.labels[expected].fn += 1
        if drivers:
            want, got = set(case["drivers"]), set(found)
            for name in SCORED_DRIVERS:
                counts = report.drivers[name]
                counts.tp += name in want and name in got
                counts.fp += name in got and name not in want
                counts.fn += name in want and name not in got
            report.exact += label == expected and want == got
    return report


def case_passes(case: Case, prediction: Prediction) -> bool:
    """A corpus line is right when both the label and the exact driver set are."""
    label, found = prediction
    return label == case["label"] and list(found) == list(case["drivers"])


def _row(name: str, c: Counts) -> str:
    return f"| {name} | {c.precision:.2f} ({c.tp}/{c.tp + c.fp}) | {c.recall:.2f} ({c.tp}/{c.tp + c.fn}) | {c.f1:.2f} |"


def markdown(report: Report, *, title: str, drivers: bool = True) -> str:
    lines = [f"**{title}**: {report.cases} comments, accuracy {report.correct_labels}/{report.cases} "
             f"({report.accuracy:.1%})" + (f", all right (label and every driver) {report.exact}" if drivers else ""), "",
             "| class | precision | recall | F1 |", "| --- | ---: | ---: | ---: |"]
    for name, c in report.labels.items():
        lines.append(_row(name, c))
    if drivers:
        lines += ["", "| driver | precision | recall | F1 |", "| --- | ---: | ---: | ---: |"]
        for name, c in [*report.drivers.items(), ("all drivers", report.driver_totals())]:
            lines.append(_row(name, c))
    return "\n".join(lines)
