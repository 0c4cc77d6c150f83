"""Session-wide fixtures: settings, and the real local stack started once for integration tests.

The stack fixture starts Kafka and ClickHouse only when they are not already running and stops
exactly what it started when the session ends, whatever the tests' outcome. A stack that cannot
start fails the integration tests: it never skips them.

Tiers (docs/DEVELOPING.md): a test that uses the ``stack`` fixture, directly or through another
fixture, is marked ``integration`` here, so a file's folder and its marker cannot drift apart;
``make check`` runs ``-m "not integration"`` with CXSTREAM_TEST_TIER=check, under which asking
for the stack any other way fails the test instead of starting servers. Tests run unit first,
then integration, then the fault scenarios.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.logs import configure as configure_logs
from cxstream.stack import Stack, StackStatus

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    configure_logs("warning", "console")


#: The order tiers run in: quick feedback first, the long fault scenarios last.
_TIER_ORDER = {"unit": 0, "integration": 1, "faults": 2}


def tier(item: pytest.Item) -> str:
    """The tier of a collected test, from its markers (after the marking below)."""
    if item.get_closest_marker("faults"):
        return "faults"
    return "integration" if item.get_closest_marker("integration") else "unit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses the stack as integration, then order the run by tier."""
    for item in items:
        if "stack" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.integration)
    items.sort(key=lambda item: _TIER_ORDER[tier(item)])


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings the suite runs with: CXSTREAM_* env vars, state under the repo by default, and
    2 partitions unless CXSTREAM_PARTITIONS says otherwise: every behaviour that partitions affect
    (co-partitioning, re-keying, per-partition state, rebalances) shows with two, and a worker
    opens a third of the RocksDB databases it would with six, so each start and rebalance is
    faster. Tests that need more ask for them."""
    overrides: dict[str, object] = {}
    if "CXSTREAM_STATE_DIR" not in os.environ:
        overrides["state_dir"] = REPO / ".cxstream"
    if "CXSTREAM_PARTITIONS" not in os.environ:
        overrides["partitions"] = 2
    return Settings.load(overrides)


@pytest.fixture(scope="session")
def stack(settings: Settings) -> Iterator[StackStatus]:
    """The real Kafka broker and ClickHouse server, up for the whole session."""
    if os.environ.get("CXSTREAM_TEST_TIER") == "check":
        pytest.fail("this test needs Kafka and ClickHouse but is not marked integration: "
                    "mark it (or the parameter that needs the server) with pytest.mark.integration")
    local = Stack(settings)
    status = local.up()
    try:
        yield status
    finally:
        if status.started:
            local.down(status.started)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run in which nothing passed is a failure, never a green build."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or exitstatus != 0:
        return
    passed = len(reporter.stats.get("passed", []))
    if passed == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter.write_line("cxstream: no test passed (all skipped or none collected): failing the run", red=True)
