"""What a run stored in ClickHouse, compared with a generated dataset's ground truth."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cxstream.cli import main
from cxstream.fiscal import fiscal_quarter_of
from cxstream.insights import analyze
from cxstream.redaction import redact
from cxstream.schemas.records import A11V2, EnrichedFeedback, Feedback, Touchpoint
from cxstream.vocabulary import DRIVERS
from tests.support.a11_v2_expected import DataSet, expected_export
from tests.support.ground_truth import Dataset
from tests.support.worker import WorkerRun


def view_scores(run: WorkerRun) -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows = run.query(
        "SELECT toUInt64(toUnixTimestamp(window_start)) * 1000, agency, service, channel, domain, "
        "count_1, count_2, count_3, count_4, count_5 FROM {db}.domain_scores"
    )
    return {tuple(r[:5]): tuple(r[5:]) for r in rows}


def view_trust(run: WorkerRun) -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows = run.query(
        "SELECT toUInt64(toUnixTimestamp(window_start)) * 1000, agency, service, channel, trust_scale, "
        "count_0, count_1, count_2, count_3, count_4, count_5 FROM {db}.trust_scores"
    )
    return {tuple(r[:5]): tuple(r[5:]) for r in rows}


def view_drivers(run: WorkerRun) -> dict[tuple[Any, ...], tuple[int, ...]]:
    rows = run.query(
        "SELECT toUInt64(toUnixTimestamp(window_start)) * 1000, agency, service, channel, driver, "
        "offered, went_well, did_not_go_well FROM {db}.driver_scores"
    )
    return {tuple(r[:5]): tuple(r[5:]) for r in rows}


def _compare(name: str, actual: dict[Any, Any], expected: dict[Any, Any]) -> list[str]:
    problems = [f"{name} {k}: expected {v}, got {actual.get(k)}" for k, v in expected.items() if actual.get(k) != v]
    return problems + [f"{name} {k}: unexpected {v}" for k, v in actual.items() if k not in expected]


def view_differences(run: WorkerRun, dataset: Dataset) -> list[str]:
    """Every cell of cx.domain_scores, cx.trust_scores and cx.driver_scores that differs from the
    ground truth (empty when exact)."""
    try:
        return (_compare("domain", view_scores(run), dataset.expected)
                + _compare("trust", view_trust(run), dataset.expected_trust)
                + _compare("driver", view_drivers(run), dataset.expected_drivers))
    except Exception as error:  # noqa: BLE001 - the database may not exist yet
        return [f"cannot read yet: {error}"]


#: The current form's columns of cx.feedback, as docs/CONTRACT.md names them.
V2_COLUMNS = ("question_1", "trust_scale", "transaction_point", *(f"positive_{d}" for d in DRIVERS),
              *(f"negative_{d}" for d in DRIVERS))


def expected_v2_columns(answers: A11V2 | None) -> tuple[object, ...]:
    """Written out here, apart from the sink's code: 1 chosen, 0 offered not chosen, None not offered."""
    if answers is None:
        return (None,) * len(V2_COLUMNS)
    positive = tuple((1 if d in answers.went_well else 0) if d in answers.offered else None for d in DRIVERS)
    negative = tuple((1 if d in answers.did_not_go_well else 0) if d in answers.offered else None for d in DRIVERS)
    return (answers.trust, answers.trust_scale, answers.transaction_point, *positive, *negative)


def feedback_differences(run: WorkerRun, dataset: Dataset) -> list[str]:
    """Each stored feedback's attribution, v1 answers and current-form columns against the copy of
    its feedback_id received first."""
    columns = ", ".join(V2_COLUMNS)
    rows = run.query(f"SELECT feedback_id, agency, service, channel, satisfaction, trust, quality, ease, efficiency, "
                     f"equity, helpfulness, {columns} FROM {{db}}.feedback")
    problems = []
    for row in rows:
        fid, cell = row[0], tuple(row[1:4])
        if fid not in dataset.accepted:
            continue  # reported as unexpected by stored_differences
        feedback, want_cell = dataset.accepted[fid]
        domains = ("satisfaction", "trust", "quality", "ease", "efficiency", "equity", "helpfulness")
        want = (*want_cell, *(feedback.answers.get(d) for d in domains), *expected_v2_columns(feedback.a11_v2))
        if (*cell, *row[4:]) != want:
            problems.append(f"feedback {fid}: expected {want}, got {tuple(row[1:])}")
    return problems[:30]


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
    return problems or feedback_differences(run, dataset) or comment_differences(run, dataset)


def _stored_comment(feedback: Feedback) -> str | None:
    """What the pipeline must store of a comment: its redacted text."""
    return None if feedback.comment is None else redact(feedback.comment)


def comment_differences(run: WorkerRun, dataset: Dataset) -> list[str]:
    """Each stored comment (redacted) with its sentiment, label and drivers, and cx.comment_themes
    per minute, cell and driver, against what the first copy of each feedback_id implies."""
    problems = []
    rows = run.query("SELECT feedback_id, comment, comment_sentiment, comment_label, comment_drivers "
                     "FROM {db}.feedback")
    expected_themes: dict[tuple[Any, ...], list[int]] = {}
    for feedback, cell in dataset.accepted.values():
        insight = analyze(_stored_comment(feedback))
        for driver in insight.drivers if insight else ():
            counts = expected_themes.setdefault(
                (feedback.submitted_at // 60_000 * 60_000, *cell, driver), [0, 0, 0])
            counts[0] += 1
            counts[1] += insight is not None and insight.label == "negative"
            counts[2] += insight is not None and insight.label == "positive"
    for fid, comment, sentiment, label, drivers in rows:
        if fid not in dataset.accepted:
            continue
        want = _stored_comment(dataset.accepted[fid][0])
        insight = analyze(want)
        got_insight = None if sentiment is None else (label, tuple(drivers))
        want_insight = None if insight is None else (insight.label, insight.drivers)
        close = (sentiment is None) == (insight is None) and (
            insight is None or abs(sentiment - insight.sentiment) < 1e-5)  # stored as Float32
        if comment != want or got_insight != want_insight or not close:
            problems.append(f"comment of {fid}: expected {want!r} {want_insight}, got {comment!r} {got_insight}")
    actual_themes = {tuple(r[:5]): list(r[5:]) for r in run.query(
        "SELECT toUInt64(toUnixTimestamp(window_start)) * 1000, agency, service, channel, driver, "
        "mentions, negative_mentions, positive_mentions FROM {db}.comment_themes")}
    problems += _compare("themes", actual_themes, expected_themes)
    return problems[:30]


def export_differences(run: WorkerRun, dataset: Dataset, folder: Path) -> list[str]:
    """The current form's quarterly export of what the run stored (``cxstream report a11 --form v2``)
    against the files the dataset implies, byte for byte (tests/support/a11_v2_expected.py)."""
    touchpoints = [m for m in dataset.messages if isinstance(m, Touchpoint)]
    feedback = [EnrichedFeedback(fb.feedback_id, fb.touchpoint_id, fb.submitted_at, *cell, fb.touchpoint_id is not None,
                                 fb.answers, _stored_comment(fb), fb.a11_v2) for fb, cell in dataset.accepted.values()]
    expected_data = DataSet(touchpoints, feedback)
    quarters = {fiscal_quarter_of(datetime.fromtimestamp(fb.submitted_at / 1000, UTC)) for fb in feedback}
    problems = []
    s = run.settings
    for year, quarter in sorted(quarters):
        out = folder / f"export-{year}-q{quarter}-{uuid.uuid4().hex[:6]}"
        result = CliRunner().invoke(main, [
            "report", "a11", "--form", "v2", "--fiscal-year", str(year), "--quarter", str(quarter), "--out", str(out),
            "--clickhouse-host", s.clickhouse_host, "--clickhouse-port", str(s.clickhouse_port),
            "--clickhouse-database", s.clickhouse_database])
        if result.exit_code != 0:
            return [f"export FY{year} Q{quarter} failed: {result.output[-500:]}"]
        got = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.csv")}
        want = expected_export(expected_data, year, quarter)
        problems += [f"export FY{year} Q{quarter}: missing {name}" for name in sorted(set(want) - set(got))]
        problems += [f"export FY{year} Q{quarter}: unexpected {name}" for name in sorted(set(got) - set(want))]
        problems += [f"export FY{year} Q{quarter}: {name} differs" for name in sorted(set(want) & set(got))
                     if want[name] != got[name]]
        if len(want) < 2:
            problems.append(f"export FY{year} Q{quarter}: the dataset implies no response file (no v2 traffic?)")
    return problems
