"""What a run stored in ClickHouse, compared with a generated dataset's ground truth."""

from __future__ import annotations

from typing import Any

from cxstream.schemas.records import Feedback, Touchpoint
from tests.support.ground_truth import Dataset
from tests.support.worker import WorkerRun


def view_scores(run: WorkerRun) -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows = run.query(
        "SELECT toUInt64(toUnixTimestamp(window_start)) * 1000, agency, service, channel, domain, "
        "count_1, count_2, count_3, count_4, count_5 FROM {db}.domain_scores"
    )
    return {tuple(r[:5]): tuple(r[5:]) for r in rows}


def view_differences(run: WorkerRun, dataset: Dataset) -> list[str]:
    """Every cell of cx.domain_scores that differs from the ground truth (empty when exact)."""
    try:
        actual = view_scores(run)
    except Exception as error:  # noqa: BLE001 - the database may not exist yet
        return [f"cannot read yet: {error}"]
    problems = [f"{k}: expected {v}, got {actual.get(k)}" for k, v in dataset.expected.items() if actual.get(k) != v]
    return problems + [f"{k}: unexpected {v}" for k, v in actual.items() if k not in dataset.expected]


def expected_feedback_ids(dataset: Dataset) -> set[str]:
    return {m.feedback_id for m in dataset.messages if isinstance(m, Feedback)}


def expected_touchpoint_ids(dataset: Dataset) -> set[str]:
    return {m.touchpoint_id for m in dataset.messages if isinstance(m, Touchpoint)}


def stored_differences(run: WorkerRun, dataset: Dataset) -> list[str]:
    """Scores cell by cell, then feedback and touchpoints row by row (each once, none missing)."""
    problems = view_differences(run, dataset)
    if problems:
        return problems
    feedback = [r[0] for r in run.query("SELECT feedback_id FROM {db}.feedback")]
    touchpoints = [r[0] for r in run.query("SELECT touchpoint_id FROM {db}.touchpoints")]
    for name, rows, want in (("feedback", feedback, expected_feedback_ids(dataset)),
                             ("touchpoints", touchpoints, expected_touchpoint_ids(dataset))):
        if len(rows) != len(set(rows)):
            problems.append(f"{name}: {len(rows) - len(set(rows))} ids shown more than once")
        problems += [f"{name}: missing {i}" for i in sorted(want - set(rows))[:20]]
        problems += [f"{name}: unexpected {i}" for i in sorted(set(rows) - want)[:20]]
    return problems
