"""streams/state_tables.py: Faust's stores read and written directly, the same bytes Faust would
write, and one changelog record per key per confirmation round that restores the same state."""

from __future__ import annotations

import datetime
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import faust
import pytest
from faust.streams import _current_event
from faust.types import TP

from cxstream.streams.dispatch import CurrentRecord
from cxstream.streams.state_tables import ChangelogTable, encode


class _Producer:
    def __init__(self) -> None:
        self.records: list[tuple[str, bytes | None, bytes | None, int | None]] = []

    def produce(self, topic: str, key: bytes | None, value: bytes | None, partition: int | None = None,
                headers: Any = None) -> None:
        self.records.append((topic, key, value, partition))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[faust.App]:
    yield faust.App("cxstream-unit-tables", broker="kafka://127.0.0.1:1", store="rocksdb://",
                    datadir=str(tmp_path), web_enabled=False)


class _Record:
    """Stages run with the record being processed as Faust's current event."""

    def __init__(self, partition: int) -> None:
        self.current = CurrentRecord(SimpleNamespace(partition=partition, topic="t", offset=0))

    def __enter__(self) -> None:
        self.token = _current_event.set(weakref.ref(self.current))  # type: ignore[arg-type]

    def __exit__(self, *_: Any) -> None:
        _current_event.reset(self.token)


KEYS = ["tp-1", "Département d'État", "[\"VA\", \"Benefits\"]", "🙂"]
VALUES: list[Any] = [[1, "x", None, True, 2.5], {"cells": [[1, "web", 3, 1, 2, 3, 4, 5]], "firing": False},
                     ["Agence fédérale", 17], []]
#: Values that pin the encoder's options (a non-string dict key, a UTC datetime): they do not
#: come back as written, so only their bytes are compared.
OPTION_VALUES: list[Any] = [{1: "one"}, {"at": datetime.datetime(2026, 12, 4, 9, 30, tzinfo=datetime.timezone.utc)}]


def test_the_bytes_are_the_ones_faust_writes_to_its_store_and_its_changelog(app: faust.App) -> None:
    table: Any = app.Table("t", partitions=2)
    for key, value in zip(KEYS, VALUES, strict=True):
        assert encode(key) == table.data._encode_key(key)
        assert encode(value) == table.data._encode_value(value)
        assert encode(key) == table.changelog_topic.prepare_key(key, table.key_serializer)[0]
        assert encode(value) == table.changelog_topic.prepare_value(value, table.value_serializer)[0]
    for value in OPTION_VALUES:
        assert encode(value) == table.data._encode_value(value)


def test_reads_and_writes_go_to_the_record_s_partition_and_changelog_records_wait_for_the_round(app: faust.App) -> None:
    producer = _Producer()
    table = ChangelogTable(app.Table("t", partitions=2), producer)  # type: ignore[arg-type]
    with _Record(1):
        table["a"] = [1]
        table["a"] = [2]  # twice in a round: one record, the last value
        table["b"] = [3]
        assert table["a"] == [2] and table.get("b") == [3] and "a" in table and "zz" not in table
        assert table.get("zz", "none") == "none"
        with pytest.raises(KeyError):
            table["zz"]
        with pytest.raises(KeyError):
            del table["zz"]
        assert table.pop("b") == [3] and "b" not in table
    with _Record(0):
        assert "a" not in table  # another partition's database
        table["a"] = [0]
    assert producer.records == []  # nothing is sent before the round
    assert table.send_changelog() == 3
    topic = "cxstream-unit-tables-t-changelog"
    assert sorted(producer.records, key=lambda r: (r[3], r[1])) == [
        (topic, b'"a"', b"[0]", 0), (topic, b'"a"', b"[2]", 1), (topic, b'"b"', None, 1)]
    assert table.send_changelog() == 0  # sent once
    # Faust's own table reads the same store.
    with _Record(1):
        faust_table: Any = app.tables["t"]
        assert faust_table["a"] == [2]


def test_a_table_used_outside_a_record_s_processing_says_so(app: faust.App) -> None:
    table = ChangelogTable(app.Table("t", partitions=2), _Producer())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="table t: read or written outside a record's processing"):
        table["a"] = [1]


def test_what_the_changelog_gets_restores_the_same_state_through_faust_s_recovery(app: faust.App, tmp_path: Path) -> None:
    producer = _Producer()
    table = ChangelogTable(app.Table("t", partitions=2), producer)  # type: ignore[arg-type]
    with _Record(1):
        for i, (key, value) in enumerate(zip(KEYS, VALUES, strict=True)):
            table[key] = value
            if i == 0:
                table.send_changelog()  # an earlier round
        table[KEYS[0]] = ["changed"]
        del table[KEYS[1]]
    table.send_changelog()

    restored_app = faust.App("cxstream-unit-tables", broker="kafka://127.0.0.1:1", store="rocksdb://",
                             datadir=str(tmp_path / "restored"), web_enabled=False)
    restored: Any = restored_app.Table("t", partitions=2)
    assert all(partition is not None for *_, partition in producer.records)  # a changelog record names its partition
    events = [SimpleNamespace(message=SimpleNamespace(key=key, value=value, partition=partition, offset=offset,
                                                      tp=TP(topic, cast(int, partition))))
              for offset, (topic, key, value, partition) in enumerate(producer.records)]
    restored.data.apply_changelog_batch(events, to_key=lambda k: k, to_value=lambda v: v)
    with _Record(1):
        assert restored[KEYS[0]] == ["changed"]
        assert KEYS[1] not in restored
        for key, value in zip(KEYS[2:], VALUES[2:], strict=True):
            assert restored[key] == value


def test_writes_are_kept_until_the_round_but_a_partition_walk_sees_them(app: faust.App) -> None:
    from cxstream.streams.partition_keys import partition_items, partition_keys

    producer = _Producer()
    table = ChangelogTable(app.Table("t", partitions=2), producer)  # type: ignore[arg-type]
    with _Record(1):
        table["a"] = [1]
        table["a"] = [2]
        assert table["a"] == [2]
        assert table.data._db_for_partition(1).get(encode("a")) is None  # not stored yet
        table["b"] = [3]
        del table["b"]
        assert "b" not in table
        assert partition_keys(table, 1, lambda _key: 1) == ["a"]  # stored for the walk

        async def items() -> list[tuple[str, Any]]:
            return [pair async for pair in partition_items(table, 1, lambda _key: 1)]

        import asyncio
        assert asyncio.run(items()) == [("a", [2])]
        assert table.data._db_for_partition(1).get(encode("a")) == b"[2]"
    assert producer.records == []  # the changelog still waits for the round
    table.send_changelog()
    topic = "cxstream-unit-tables-t-changelog"
    assert sorted(producer.records, key=lambda r: r[1] or b"") == [(topic, b'"a"', b"[2]", 1), (topic, b'"b"', None, 1)]


def test_a_cached_view_s_values_are_converted_once_a_round_to_the_json_it_would_have_written(app: faust.App) -> None:
    from cxstream.streams.table_views import CachedTableView

    producer = _Producer()
    table = ChangelogTable(app.Table("t", partitions=2), producer)  # type: ignore[arg-type]
    conversions: list[dict[str, int]] = []

    def to_json(value: dict[str, int]) -> list[Any]:
        conversions.append(dict(value))
        return [[k, v] for k, v in sorted(value.items())]

    view = CachedTableView(table, to_json, lambda raw: {k: v for k, v in raw})
    with _Record(1):
        cell = view.get("cell") or {}
        for n in range(5):  # a key changed and written back on every record
            cell[f"d{n}"] = n
            view["cell"] = cell
        assert conversions == []  # nothing converted before the round
        assert table["cell"] == [["d0", 0], ["d1", 1], ["d2", 2], ["d3", 3], ["d4", 4]]  # a read of the table converts
        view.forget()  # a read past the view's cache gets the value last written
        assert view["cell"] == {"d0": 0, "d1": 1, "d2": 2, "d3": 3, "d4": 4}
        view["other"] = {"x": 1}
        del view["other"]
    conversions.clear()
    assert table.send_changelog() == 2
    assert len(conversions) == 1  # once for five writes
    topic = "cxstream-unit-tables-t-changelog"
    assert sorted(producer.records, key=lambda r: r[1] or b"") == [
        (topic, b'"cell"', encode([["d0", 0], ["d1", 1], ["d2", 2], ["d3", 3], ["d4", 4]]), 1),
        (topic, b'"other"', None, 1)]
    assert table.data._db_for_partition(1).get(encode("cell")) == encode([[k, v] for k, v in sorted(cell.items())])
    # A partition walk stores (and converts) what was written since the round.
    from cxstream.streams.partition_keys import partition_keys
    with _Record(1):
        cell["d5"] = 5
        view["cell"] = cell
        assert partition_keys(table, 1, lambda _key: 1) == ["cell"]
        assert table.data._db_for_partition(1).get(encode("cell")) == encode([[k, v] for k, v in sorted(cell.items())])
