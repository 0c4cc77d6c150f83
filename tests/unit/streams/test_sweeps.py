"""Retention sweeps delete exactly what is past its horizon, in the sweeping partition only.

The stages are built as the in-process pipeline builds them (tests/support/pipeline.py: plain dict
tables, which take the ``partition_items`` fallback path); the worker integration tests run the
same sweeps on RocksDB."""

from __future__ import annotations

import asyncio
from typing import Any

from cxstream.streams.join import Attribution, StoredTouchpoint
from cxstream.streams.join_stage import EXPIRED_KEEP_MS, JoinStage, _stored_to_json
from cxstream.streams.partitioning import home_partition
from cxstream.streams.score_stage import LATE_MARGIN_MS, ScoreStage, cell_key_text
from cxstream.streams.scoring import CellKey
from tests.support.pipeline import Clock, Pipeline, pipeline_settings

NOW = 1_800_000_000_000
DAY = 86_400_000
PARTITIONS = 6


def _pipeline(**settings: Any) -> Pipeline:
    return Pipeline(pipeline_settings(partitions=PARTITIONS, **settings), Clock(NOW))


def _ids_in(partition: int, count: int) -> list[str]:
    ids = (f"id-{i}" for i in range(10_000))
    return [i for i in ids if home_partition(i.encode(), PARTITIONS) == partition][:count]


def _stored(stored_at: int) -> Any:
    return _stored_to_json(StoredTouchpoint(Attribution("VA", "claims", "phone"), occurred_at=NOW, stored_at=stored_at))


def test_join_sweep_forgets_old_touchpoints_and_expiry_records_of_its_partition_only() -> None:
    pipe = _pipeline(touchpoint_retention_seconds=7 * 86_400)
    stage = pipe.stage("join")
    assert isinstance(stage, JoinStage)
    old_here, new_here = _ids_in(2, 2)
    [old_elsewhere] = _ids_in(3, 1)
    stage.touchpoint_table.update({old_here: _stored(NOW - 8 * DAY), new_here: _stored(NOW - 6 * DAY),
                                   old_elsewhere: _stored(NOW - 8 * DAY)})
    stage.expired_table.update({"2:10": [NOW - EXPIRED_KEEP_MS - 1, []], "2:11": [NOW, []],
                                "3:10": [NOW - EXPIRED_KEEP_MS - 1, []]})
    assert asyncio.run(stage.sweep(2, NOW)) == 2
    assert set(stage.touchpoint_table) == {new_here, old_elsewhere}
    assert set(stage.expired_table) == {"2:11", "3:10"}


def test_score_sweep_forgets_old_cells_and_dedupe_entries_of_its_partition_only() -> None:
    pipe = _pipeline(dedupe_horizon_seconds=7 * 86_400, window_retention_seconds=2 * 86_400, join_wait_seconds=600)
    stage = pipe.stage("score")
    assert isinstance(stage, ScoreStage)
    kept_for = 2 * DAY + 600_000 + LATE_MARGIN_MS  # retention + join wait + margin
    old_cell = cell_key_text(CellKey(1, NOW - kept_for - 60_000, "VA", "claims", "phone"))
    new_cell = cell_key_text(CellKey(1, NOW - kept_for + 60_000, "VA", "claims", "phone"))
    old_cell_elsewhere = cell_key_text(CellKey(4, NOW - 3 * DAY, "VA", "claims", "phone"))
    stage.cell_table.update({old_cell: [0, {}], new_cell: [0, {}], old_cell_elsewhere: [0, {}]})
    old_seen, new_seen = _ids_in(1, 2)
    [old_seen_elsewhere] = _ids_in(4, 1)
    stage.seen_table.update({old_seen: ["t:0:5", NOW - 8 * DAY, 5], new_seen: ["t:0:6", NOW - DAY, 6],
                             old_seen_elsewhere: ["t:0:7", NOW - 8 * DAY, 7]})
    assert asyncio.run(stage.sweep(1, NOW)) == 2
    assert set(stage.cell_table) == {new_cell, old_cell_elsewhere}
    assert set(stage.seen_table) == {new_seen, old_seen_elsewhere}
