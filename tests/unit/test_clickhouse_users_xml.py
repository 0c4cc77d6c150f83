"""The local server's users.xml: the pipeline's user, and a BI user that may only read cx."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.errors import StackError
from cxstream.stack.clickhouse import ClickHouseServer


def _users(tmp_path: Path, **overrides: str) -> ET.Element:
    settings = Settings.load({"state_dir": tmp_path, **overrides}, environ={})
    return ET.fromstring(ClickHouseServer(settings)._users_xml())


def test_bi_user_is_readonly_loopback_and_limited_to_the_cx_database(tmp_path: Path) -> None:
    root = _users(tmp_path, clickhouse_bi_password="a<b&c")

    bi = root.find("users/bi")
    assert bi is not None
    assert bi.findtext("profile") == "readonly"
    assert root.findtext("profiles/readonly/readonly") == "1"
    assert [e.text for e in bi.findall("allow_databases/database")] == ["cx"]
    assert [e.text for e in bi.findall("networks/ip")] == ["127.0.0.1", "::1"]
    assert bi.findtext("password") == "a<b&c"  # escaped in the file, intact once parsed


def test_bi_user_and_database_names_follow_the_settings(tmp_path: Path) -> None:
    root = _users(tmp_path, clickhouse_bi_user="grafana", clickhouse_database="cx_staging")

    assert root.find("users/bi") is None
    assert [e.text for e in root.findall("users/grafana/allow_databases/database")] == ["cx_staging"]


def test_a_bi_user_name_that_is_not_an_identifier_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="CXSTREAM_CLICKHOUSE_BI_USER"):
        _users(tmp_path, clickhouse_bi_user="bi><evil")
