"""The BI user of the local 18.16 server reads the cx views and can change nothing.

The user comes from the stack's users.xml; the stack fixture writes it when it starts the server
and refreshes it on a server that already runs. It may read the configured database only, so
this module migrates that database (idempotent; the views may be empty) and reads it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from clickhouse_driver import Client
from clickhouse_driver.errors import ServerException

from cxstream.config import Settings
from cxstream.schemas.records import (
    Alert,
    DeadLetter,
    DomainScore,
    DriverScore,
    EnrichedFeedback,
    Touchpoint,
    TrustScore,
)
from cxstream.sinks import tables
from cxstream.sinks.migrate import migrate
from cxstream.stack import StackStatus
from tests.support.clickhouse import local_client, unique_database

pytestmark = pytest.mark.integration

READONLY = 164  # "Cannot ... in readonly mode"
DATABASE_ACCESS_DENIED = 291

VIEWS = [
    "touchpoints", "feedback", "domain_scores", "dead_letters", "alerts", "open_alerts",
    *(f"domain_scores_{span}{suffix}" for span in ("5m", "15m", "1h", "24h") for suffix in ("", "_all_channels")),
    "trust_scores", "driver_scores",
    *(f"{kind}_scores_{span}{suffix}" for kind in ("trust", "driver") for span in ("15m", "1h", "24h")
      for suffix in ("", "_all_channels")),
    "comment_themes",
    *(f"comment_themes_{span}{suffix}" for span in ("15m", "1h", "24h") for suffix in ("", "_all_channels")),
]


#: A name only this module's rows carry (the database is the shared one the BI user may read).
MARK = f"bi-test-{uuid.uuid4().hex[:8]}"


def _marked_rows(admin: Client, db: str) -> None:
    """One row in every store table, each carrying MARK, in the current minute."""
    now = int(time.time() * 1000)
    window = now - now % 60_000
    tables.insert(admin, db, tables.TOUCHPOINTS, [tables.touchpoint_row(
        Touchpoint(f"{MARK}-tp", now, MARK, "claims", "phone"), version=1)])
    tables.insert(admin, db, tables.FEEDBACK, [tables.feedback_row(EnrichedFeedback(
        f"{MARK}-fb", None, now, MARK, "claims", "phone", False, {"trust": 1},
        "Three hours on hold and nobody called back."), version=1)])
    tables.insert(admin, db, tables.SCORES, [tables.score_row(DomainScore(
        window, 60, MARK, "claims", "phone", "trust", 1, 1, 0, 0, 0, 0, 1.0, 0.0, version=1))])
    tables.insert(admin, db, tables.DEAD_LETTERS, [tables.dead_letter_row(DeadLetter(
        MARK, 0, 0, None, "invalid", "test", now, b"x"))])
    tables.insert(admin, db, tables.ALERTS, [tables.alert_row(Alert(
        MARK, "claims", "trust", "firing", 0.0, 40, 60.0, 30, window + 60_000, now), version=1)])
    tables.insert(admin, db, tables.TRUST_SCORES, [tables.trust_score_row(TrustScore(
        window, 60, MARK, "claims", "phone", "thumbs", 1, 1, 0, 1, 0, 0, 0, 0, 100.0, 1))])
    tables.insert(admin, db, tables.DRIVER_SCORES, [tables.driver_score_row(DriverScore(
        window, 60, MARK, "claims", "phone", "ease", 1, 1, 0, 100.0, 0.0, 1))])


#: The column of each view that carries MARK.
_MARKED_BY = {"dead_letters": "source_topic"}


@pytest.fixture(scope="module")
def bi(stack: StackStatus, settings: Settings) -> Iterator[Client]:
    admin = local_client(settings)
    try:
        migrate(admin, settings.clickhouse_database)
        _marked_rows(admin, settings.clickhouse_database)
    finally:
        admin.disconnect()
    client = local_client(settings, user=settings.clickhouse_bi_user, password=settings.clickhouse_bi_password)
    yield client
    client.disconnect()


def _refused(client: Client, query: str, params: object = None) -> ServerException:
    with pytest.raises(ServerException) as caught:
        client.execute(query, params)
    return caught.value


@pytest.mark.parametrize("view", VIEWS)
def test_bi_user_reads_every_view(bi: Client, settings: Settings, view: str) -> None:
    column = _MARKED_BY.get(view, "agency")
    [(count,)] = bi.execute(f"SELECT count() FROM {settings.clickhouse_database}.{view} WHERE {column} = %(mark)s",
                            {"mark": MARK})
    assert count == 1


def test_bi_user_cannot_insert(bi: Client, settings: Settings) -> None:
    db = settings.clickhouse_database
    error = _refused(bi, tables.insert_statement(db, tables.DEAD_LETTERS),
                     [("t", 0, 0, "r", "d", 0, 0, None, b"")])
    assert error.code == READONLY and "Cannot insert" in error.message
    error = _refused(bi, f"INSERT INTO {db}.view_settings SELECT 'min_responses', 0, 0")
    assert error.code == READONLY and "Cannot insert" in error.message


def test_bi_user_cannot_create_alter_or_drop(bi: Client, settings: Settings) -> None:
    db = settings.clickhouse_database
    refused = {
        "create table": f"CREATE TABLE {db}.bi_was_here (a UInt8) ENGINE = Memory",
        "create view": f"CREATE VIEW {db}.bi_was_here AS SELECT 1",
        "create database": "CREATE DATABASE bi_was_here",
        "alter": f"ALTER TABLE {db}.view_settings ADD COLUMN bi_was_here UInt8",
        "alter delete": f"ALTER TABLE {db}.view_settings DELETE WHERE 1",
        "drop view": f"DROP TABLE {db}.touchpoints",
        "drop table": f"DROP TABLE {db}.view_settings",
        "truncate": f"TRUNCATE TABLE {db}.view_settings",
        "optimize": f"OPTIMIZE TABLE {db}.view_settings FINAL",
        "lift readonly": "SET readonly = 0",
    }
    codes = {what: _refused(bi, query).code for what, query in refused.items()}
    assert codes == {what: READONLY for what in refused}


def test_bi_user_cannot_read_another_database(bi: Client, settings: Settings) -> None:
    other = unique_database("cx_test_bi_other")
    admin = local_client(settings)
    try:
        admin.execute(f"CREATE DATABASE {other}")
        admin.execute(f"CREATE TABLE {other}.secret (a UInt8) ENGINE = Memory")
        error = _refused(bi, f"SELECT count() FROM {other}.secret")
        assert error.code == DATABASE_ACCESS_DENIED
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {other}")
        admin.disconnect()


def test_nothing_the_bi_user_tried_left_a_trace(bi: Client, settings: Settings) -> None:
    admin = local_client(settings)
    try:
        names = {name for (name,) in admin.execute(
            "SELECT name FROM system.tables WHERE database = %(db)s", {"db": settings.clickhouse_database}
        )}
        columns = {name for (name,) in admin.execute(
            "SELECT name FROM system.columns WHERE database = %(db)s AND table = 'view_settings'",
            {"db": settings.clickhouse_database},
        )}
        databases = {name for (name,) in admin.execute("SELECT name FROM system.databases")}
    finally:
        admin.disconnect()
    assert "bi_was_here" not in names | columns | databases
    assert {"touchpoints", "view_settings"} <= names
