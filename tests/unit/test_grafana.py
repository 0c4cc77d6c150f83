"""Grafana for compose users: the provisioned data source reaches the BI user, the dashboard is valid
JSON wired to it, reads only the BI views, and every panel query runs on current ClickHouse (chdb,
the migrations applied) with Grafana's macros expanded. No Docker, no Grafana needed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cxstream.config import Settings
from cxstream.sinks.migrate import load_migrations, migrate
from cxstream.vocabulary import DOMAINS
from tests.support.clickhouse import ChdbClient, unique_database

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "stack" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "cxstream.json"
PLUGIN = "grafana-clickhouse-datasource"


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def datasource() -> dict[str, Any]:
    [source] = _yaml(GRAFANA / "provisioning" / "datasources" / "clickhouse.yaml")["datasources"]
    assert isinstance(source, dict)
    return source


def _targets(dashboard: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield panel, target


def _variables(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboard["templating"]["list"]}


def test_the_data_source_reads_as_the_bi_user_from_the_compose_clickhouse(datasource: dict[str, Any]) -> None:
    compose = _yaml(REPO / "docker-compose.yml")
    grafana = compose["services"]["grafana"]
    assert datasource["type"] == PLUGIN and PLUGIN in grafana["environment"]["GF_INSTALL_PLUGINS"]
    settings = Settings()
    json_data = datasource["jsonData"]
    assert (json_data["host"], json_data["port"], json_data["protocol"]) == ("clickhouse", 9000, "native")
    assert json_data["username"] == settings.clickhouse_bi_user, "bi-user creates this user (cxstream db bi-user)"
    assert json_data["defaultDatabase"] == settings.clickhouse_database
    # The password is the one the bi-user service set, handed to Grafana through its environment.
    assert datasource["secureJsonData"]["password"] == "$CXSTREAM_CLICKHOUSE_BI_PASSWORD"
    assert grafana["environment"]["CXSTREAM_CLICKHOUSE_BI_PASSWORD"] == \
        compose["x-cxstream-env"]["CXSTREAM_CLICKHOUSE_BI_PASSWORD"]
    assert compose["services"]["bi-user"]["command"][-1].endswith("cxstream db bi-user")


def test_compose_mounts_the_provisioning_and_the_dashboards_where_grafana_reads_them() -> None:
    grafana = _yaml(REPO / "docker-compose.yml")["services"]["grafana"]
    mounts = dict(m.rsplit(":", 1)[0].split(":", 1) for m in grafana["volumes"] if m.startswith("./"))
    assert mounts["./stack/grafana/provisioning"] == "/etc/grafana/provisioning"
    [provider] = _yaml(GRAFANA / "provisioning" / "dashboards" / "cxstream.yaml")["providers"]
    assert mounts["./stack/grafana/dashboards"] == provider["options"]["path"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/{DASHBOARD.name}"


def test_every_panel_queries_the_provisioned_data_source_with_raw_sql(dashboard: dict[str, Any],
                                                                     datasource: dict[str, Any]) -> None:
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel, target in _targets(dashboard):
        assert target["datasource"] == {"type": PLUGIN, "uid": datasource["uid"]}, panel["title"]
        assert target["editorType"] == "sql" and target["rawSql"].strip(), panel["title"]
        expected = "timeSeries" if panel["type"] == "timeseries" else "table"
        assert target["queryType"] == expected, panel["title"]
    assert _variables(dashboard)["db"]["query"] == Settings().clickhouse_database
    assert _variables(dashboard)["domain"]["query"].split(",") == list(DOMAINS)


def test_panels_read_only_the_views_bi_users_may_rely_on(dashboard: dict[str, Any]) -> None:
    views = {name for m in load_migrations() for name in re.findall(r"CREATE VIEW IF NOT EXISTS \{db\}\.(\w+)", m.sql)}
    for panel, target in _targets(dashboard):
        used = set(re.findall(r"\$\{db\}\.(\w+)", target["rawSql"]))
        assert used, f"{panel['title']}: name objects as ${{db}}.<view>"
        assert used <= views, f"{panel['title']} reads {used - views}, which are not views of the migrations"


def _expand(sql: str, database: str, domain: str) -> str:
    """Grafana's variables and the ClickHouse plugin's macros, as the plugin expands them."""
    sql = sql.replace("${db}", database).replace("${domain}", domain)
    sql = re.sub(r"\$__timeFilter\((\w+)\)", r"\1 >= toDateTime(1795000000) AND \1 <= toDateTime(1795600000)", sql)
    sql = re.sub(r"\$__timeInterval\((\w+)\)", r"toStartOfInterval(\1, INTERVAL 60 second)", sql)
    assert "$" not in sql, f"an unexpanded variable or macro is left in:\n{sql}"
    return sql


def test_every_panel_query_runs_on_current_clickhouse_over_the_migrated_views(dashboard: dict[str, Any]) -> None:
    client = ChdbClient()
    database = unique_database("cx_grafana")
    try:
        migrate(client, database)
        for _panel, target in _targets(dashboard):
            for domain in ("satisfaction", "helpfulness"):
                client.execute(_expand(target["rawSql"], database, domain))  # raises on an unknown column
    finally:
        client.execute(f"DROP DATABASE IF EXISTS {database}")
        client.close()
