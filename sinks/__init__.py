"""ClickHouse: migrations, the batched writer, and the queries behind views and reports."""
