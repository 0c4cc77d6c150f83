"""Session-wide fixtures: settings, and the real local stack started once for integration tests.

The stack fixture starts Kafka and ClickHouse only when they are not already running and stops
exactly what it started when the session ends, whatever the tests' outcome. A stack that cannot
start fails the integration tests: it never skips them.
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


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings the suite runs with: CXSTREAM_* env vars, state under the repo by default."""
    overrides = {} if "CXSTREAM_STATE_DIR" in os.environ else {"state_dir": REPO / ".cxstream"}
    return Settings.load(overrides)


@pytest.fixture(scope="session")
def stack(settings: Settings) -> Iterator[StackStatus]:
    """The real Kafka broker and ClickHouse server, up for the whole session."""
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
