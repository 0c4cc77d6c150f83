"""Every table's RocksDB databases are sized from the settings, not Faust's 2 GiB-cache defaults."""

from __future__ import annotations

from pathlib import Path

from cxstream.config import Settings
from cxstream.streams.worker import build


def test_every_table_gets_the_configured_memory_bounds(tmp_path: Path) -> None:
    settings = Settings.load({"state_dir": tmp_path, "sink_enabled": False},
                             environ={"CXSTREAM_STATE_WRITE_BUFFER_MB": "4", "CXSTREAM_STATE_BLOCK_CACHE_MB": "32"})
    app = build(settings)
    assert {table.name for table in app.tables.values()} == {
        "join-touchpoints", "join-pending", "join-expired", "score-seen", "score-cellsets", "merge-cellsets",
        "alert-states"}
    for table in app.tables.values():
        options = table.data.rocksdb_options  # the store Faust opens each partition's database with
        assert options.write_buffer_size == 4 * 1024 * 1024, table.name
        assert options.max_write_buffer_number == 2, table.name
        assert options.block_cache_size == 32 * 1024 * 1024, table.name
