"""What the deduplicating views cost: FINAL against GROUP BY + argMax and LIMIT 1 BY, on unmerged data.

Run: .venv/bin/python -m benchmarks.clickhouse.bench_views [--server local|chdb] [--touchpoints N]
Migrates a scratch database (dropped at the end), loads N touchpoints in 20 inserts plus a 10%
replay, a day of 1-minute scores for 140 cells, stops merges so every duplicate stays on disk,
then times (best of 3, milliseconds) a full count and an A-11 style quarter aggregation through
each dedupe method, and the rolling score views.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from cxstream.config import Settings
from cxstream.sinks.migrate import migrate
from tests.support.clickhouse import CHDB, LOCAL, open_backend

BASE_S = 1_780_000_000  # 2026-05-28; eight seconds apart, N touchpoints span months

TOUCHPOINTS_SELECT = """
SELECT concat('tp-', toString(n)), toDateTime({base} + n * 8, 'UTC'), ({base} + n * 8) * 1000,
       concat('A', toString(n % 7)), concat('svc-', toString(n % 13)), concat('ch', toString(n % 18)),
       CAST('completed' AS Nullable(String)), CAST(n % 300 AS Nullable(Int32)), CAST(NULL AS Nullable(Int32)),
       CAST(n % 2 AS Nullable(UInt8)), toUInt64(n)
FROM (SELECT {first} + number * {step} AS n FROM system.numbers LIMIT {count})
"""

DEDUPE = {
    "FINAL (the views)": "SELECT * FROM {db}.touchpoints",
    "GROUP BY + argMax(tuple)": """
        SELECT touchpoint_id, tupleElement(l, 1) AS occurred_at, tupleElement(l, 3) AS agency,
               tupleElement(l, 4) AS service, tupleElement(l, 5) AS channel, tupleElement(l, 9) AS survey_offered
        FROM (SELECT touchpoint_id, argMax(tuple(occurred_at, occurred_at_ms, agency, service, channel, outcome,
                     wait_seconds, handle_seconds, survey_offered), _version) AS l
              FROM {db}.touchpoints_store GROUP BY touchpoint_id)""",
    "LIMIT 1 BY": "SELECT * FROM {db}.touchpoints_store ORDER BY _version DESC LIMIT 1 BY touchpoint_id",
}
QUARTER = (
    "SELECT agency, service, channel, count(), countIf(survey_offered = 1) FROM ({inner}) "
    "WHERE occurred_at >= toDateTime({lo}, 'UTC') AND occurred_at < toDateTime({hi}, 'UTC') "
    "GROUP BY agency, service, channel"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", choices=("local", "chdb"), default="local")
    parser.add_argument("--touchpoints", type=int, default=2_000_000)
    args = parser.parse_args()
    with open_backend(LOCAL if args.server == "local" else CHDB, Settings.load(), "cx_bench") as backend:
        db, run = backend.database, backend.client.execute
        migrate(backend.client, db)
        for table in ("touchpoints_store", "domain_scores_store"):
            backend.stop_merges(table)
        batch = args.touchpoints // 20
        for b in range(20):
            run(f"INSERT INTO {db}.touchpoints_store "
                + TOUCHPOINTS_SELECT.format(base=BASE_S, first=b * batch, step=1, count=batch))
        run(f"INSERT INTO {db}.touchpoints_store "
            + TOUCHPOINTS_SELECT.format(base=BASE_S, first=0, step=10, count=args.touchpoints // 10))
        now_minute = _scalar(run("SELECT toUnixTimestamp(toStartOfMinute(now()))"))
        for version in (1, 2):  # two states of each cell in two inserts
            run(f"""INSERT INTO {db}.domain_scores_store
                SELECT toDateTime({now_minute} - 60 * (n % 1440), 'UTC'), 60, concat('A', toString(intDiv(n, 1440) % 7)),
                       concat('svc-', toString(intDiv(n, 1440 * 7))), 'phone', 'trust', 10, 1, 2, 3, 2, 2, 3.2, 40., {version}
                FROM (SELECT number AS n FROM system.numbers LIMIT {1440 * 140})""")
        scores = _scalar(run(f"SELECT count() FROM {db}.domain_scores_store"))
        print(f"server {backend.name} {_scalar(run('SELECT version()'))}: touchpoints_store "
              f"{_scalar(run(f'SELECT count() FROM {db}.touchpoints_store'))} rows "
              f"({args.touchpoints} distinct), domain_scores_store {scores} rows; best of 3, ms")
        lo, hi = BASE_S + 30 * 86_400, BASE_S + 120 * 86_400
        for name, inner in DEDUPE.items():
            inner = inner.format(db=db)
            full = _best(run, f"SELECT count() FROM ({inner})")
            quarter = _best(run, QUARTER.format(inner=inner, lo=lo, hi=hi))
            print(f"  {name:<26} count {full:7.0f}   quarter aggregation {quarter:7.0f}")
        for view in ("domain_scores_5m", "domain_scores_15m", "domain_scores_1h", "domain_scores_24h",
                     "domain_scores_24h_all_channels"):
            took = _best(run, f"SELECT * FROM {db}.{view}")
            print(f"  {view:<32} {took:7.0f}")


def _best(run: Callable[[str], Any], query: str, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run(query)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def _scalar(rows: Any) -> Any:
    [(value,)] = rows
    return value


if __name__ == "__main__":
    main()
