"""The read-only BI user's SQL (ClickHouse 20.5+; the local 18.16 server has it in users.xml)."""

from __future__ import annotations

import hashlib
from importlib import resources

from cxstream.config import Settings
from cxstream.sinks.migrate import check_database_name, check_identifier


def bi_user_sql(settings: Settings) -> str:
    """sinks/bi_user.sql with database, user and password hash filled in."""
    database = check_database_name(settings.clickhouse_database)
    user = check_identifier(settings.clickhouse_bi_user, "clickhouse_bi_user")
    template = resources.files("cxstream.sinks").joinpath("bi_user.sql").read_text()
    password_sha256 = hashlib.sha256(settings.clickhouse_bi_password.encode()).hexdigest()
    return (
        template.replace("{db}", database).replace("{user}", user).replace("{password_sha256}", password_sha256)
    )
