"""Session-wide fixtures: settings, and the real local stack started once for integration tests.

The stack fixture starts Kafka and ClickHouse only when they are not already running and stops
exactly what it started when the session ends, whatever the tests' outcome. A stack that cannot
start fails the integration tests: it never skips them.

Tiers (docs/DEVELOPING.md): a test that uses the ``stack`` fixture, directly or through another
fixture, is marked ``integration`` here, so a file's folder and its marker cannot drift apart;
``make check`` runs ``-m "not integration"`` with CXSTREAM_TEST_TIER=check, under which asking
for the stack any other way fails the test instead of starting servers. Tests run unit first,
then integration, then the fault scenarios.

With pytest-xdist (``make test`` runs ``-n 2 --dist loadfile``: most integration time is spent
waiting on brokers, servers and worker processes, so two streams overlap those waits), the
controlling process starts the stack before the workers run and stops what it started after all
of them are done; a worker only finds it running.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.logs import configure as configure_logs
from cxstream.stack import Stack, StackStatus

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    configure_logs("warning", "console")


#: The order tiers run in: quick feedback first, the long fault scenarios last.
_TIER_ORDER = {"unit": 0, "integration": 1, "faults": 2, "cluster": 3}


def tier(item: pytest.Item) -> str:
    """The tier of a collected test, from its markers (after the marking below)."""
    if item.get_closest_marker("cluster"):
        return "cluster"
    if item.get_closest_marker("faults"):
        return "faults"
    return "integration" if item.get_closest_marker("integration") else "unit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses the stack as integration (and the local cluster as cluster too),
    then order the run by tier."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "local_cluster" in fixtures and not item.get_closest_marker("cluster"):
            item.add_marker(pytest.mark.cluster)
        if ("stack" in fixtures or "local_cluster" in fixtures) and not item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.integration)
    items.sort(key=lambda item: _TIER_ORDER[tier(item)])


def suite_settings() -> Settings:
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
def settings() -> Settings:
    return suite_settings()


def _xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _xdist_controller(config: pytest.Config) -> bool:
    return not _xdist_worker(config) and bool(getattr(config.option, "numprocesses", None))


def _stack_up(settings: Settings) -> StackStatus:
    """Start what is not running, one process at a time (a file lock in the state folder)."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.state_dir / "stack.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return Stack(settings).up()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist, the controller brings the stack up for all workers (and stops it at the end)."""
    if _xdist_controller(session.config) and os.environ.get("CXSTREAM_TEST_TIER") != "check":
        settings = suite_settings()
        session.config.stash[_STARTED] = (settings, _stack_up(settings).started)


_STARTED = pytest.StashKey[tuple[Settings, list[str]]]()


@pytest.fixture(scope="session")
def stack(settings: Settings, request: pytest.FixtureRequest) -> Iterator[StackStatus]:
    """The real Kafka broker and ClickHouse server, up for the whole session."""
    if os.environ.get("CXSTREAM_TEST_TIER") == "check":
        pytest.fail("this test needs Kafka and ClickHouse but is not marked integration: "
                    "mark it (or the parameter that needs the server) with pytest.mark.integration")
    status = _stack_up(settings)
    try:
        yield status
    finally:
        # An xdist worker never stops it: the others may still need it (the controller does).
        if status.started and not _xdist_worker(request.config):
            Stack(settings).down(status.started)


#: Each fault scenario's figures, from its teardown report (tests/faults/conftest.py puts them there).
_FAULT_FIGURES: list[dict[str, Any]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "teardown":
        _FAULT_FIGURES.extend(value for name, value in report.user_properties if name == "cxstream_fault_figures")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fault scenarios' table: events, faults injected and differences found (0 when exact)."""
    if not _FAULT_FIGURES:
        return
    terminalreporter.section("fault scenarios")
    width = max(len(f["scenario"]) for f in _FAULT_FIGURES)
    terminalreporter.write_line(f"{'scenario':<{width}}  {'events':>7}  {'differences':>11}  faults injected")
    for f in _FAULT_FIGURES:
        differences = "not reached" if f["differences"] is None else str(f["differences"])
        terminalreporter.write_line(f"{f['scenario']:<{width}}  {f['events']:>7}  {differences:>11}  {f['faults']}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run in which nothing passed is a failure, never a green build. Under xdist, the
    controller stops what it started."""
    started = session.config.stash.get(_STARTED, None)
    if started is not None and started[1]:
        Stack(started[0]).down(started[1])
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or exitstatus != 0:
        return
    passed = len(reporter.stats.get("passed", []))
    if passed == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter.write_line("cxstream: no test passed (all skipped or none collected): failing the run", red=True)
