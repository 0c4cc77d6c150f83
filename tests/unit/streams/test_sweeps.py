"""Retention sweeps delete exactly what is past its horizon, in the sweeping partition only.

The stages are built without Faust here (their tables are plain dicts, which take the
``partition_items`` fallback path); the worker integration tests run the same sweeps on RocksDB."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from cxstream.streams.join import Attribution, StoredTouchpoint
from cxstream.streams.join_stage import EXPIRED_KEEP_MS, JoinStage, _stored_to_json
from cxstream.streams.partitioning import home_partition
from cxstream.streams.score_stage import ScoreStage, cell_key_text
from cxstream.streams.scoring import CellKey

NOW = 1_800_000_000_000
DAY = 86_400_000
PARTITIONS = 6


class _Table(dict):  # type: ignore[type-arg]
    """A dict with Faust's ``.data`` (itself): no per-partition databases, so keys are filtered."""

    @property
    def data(self) -> Any:
        return self


def _ids_in(partition: int, count: int) -> list[str]:
    ids = (f"id-{i}" for i in range(10_000))
    return [i for i in ids if home_partition(i.encode(), PARTITIONS) == partition][:count]


def _stored(stored_at: int) -> Any:
    return _stored_to_json(StoredTouchpoint(Attribution("VA", "claims", "phone"), occurred_at=NOW, stored_at=stored_at))


def test_join_sweep_forgets_old_touchpoints_and_expiry_records_of_its_partition_only() -> None:
    stage: Any = object.__new__(JoinStage)
    stage.settings = SimpleNamespace(touchpoint_retention_seconds=7 * 86_400)
    stage.topics = SimpleNamespace(partitions=PARTITIONS)
    old_here, new_here = _ids_in(2, 2)
    [old_elsewhere] = _ids_in(3, 1)
    stage.touchpoint_table = _Table({old_here: _stored(NOW - 8 * DAY), new_here: _stored(NOW - 6 * DAY),
                                     old_elsewhere: _stored(NOW - 8 * DAY)})
    stage.expired_table = _Table({"2:10": [NOW - EXPIRED_KEEP_MS - 1, []], "2:11": [NOW, []],
                                  "3:10": [NOW - EXPIRED_KEEP_MS - 1, []]})
    assert asyncio.run(stage.sweep(2, NOW)) == 2
    assert set(stage.touchpoint_table) == {new_here, old_elsewhere}
    assert set(stage.expired_table) == {"2:11", "3:10"}


def test_score_sweep_forgets_old_cells_and_dedupe_entries_of_its_partition_only() -> None:
    stage: Any = object.__new__(ScoreStage)
    stage.settings = SimpleNamespace(dedupe_horizon_seconds=7 * 86_400)
    stage.topics = SimpleNamespace(partitions=PARTITIONS)
    stage.horizon_ms = 2 * DAY
    old_cell = cell_key_text(CellKey(1, NOW - 3 * DAY, "VA", "claims", "phone"))
    new_cell = cell_key_text(CellKey(1, NOW - DAY, "VA", "claims", "phone"))
    old_cell_elsewhere = cell_key_text(CellKey(4, NOW - 3 * DAY, "VA", "claims", "phone"))
    stage.cell_table = _Table({old_cell: [0, {}], new_cell: [0, {}], old_cell_elsewhere: [0, {}]})
    old_seen, new_seen = _ids_in(1, 2)
    [old_seen_elsewhere] = _ids_in(4, 1)
    stage.seen_table = _Table({old_seen: [5, NOW - 8 * DAY], new_seen: [6, NOW - DAY],
                               old_seen_elsewhere: [7, NOW - 8 * DAY]})
    assert asyncio.run(stage.sweep(1, NOW)) == 2
    assert set(stage.cell_table) == {new_cell, old_cell_elsewhere}
    assert set(stage.seen_table) == {new_seen, old_seen_elsewhere}
