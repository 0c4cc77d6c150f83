"""The garbage collector's thresholds, as the worker and the sink set them at start."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from cxstream.collector import PYTHON_DEFAULT, tune_collector
from cxstream.config import Settings


@pytest.fixture(autouse=True)
def restore_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_young_threshold_is_raised_and_the_older_ones_kept() -> None:
    assert tune_collector(50_000) == (50_000, PYTHON_DEFAULT[1], PYTHON_DEFAULT[2])
    assert gc.get_threshold() == (50_000, 10, 10)


def test_zero_keeps_pythons_own_thresholds() -> None:
    gc.set_threshold(1234, 5, 5)
    assert tune_collector(0) == PYTHON_DEFAULT == gc.get_threshold()


def test_the_default_setting_and_its_environment_variable() -> None:
    assert Settings.load({}, environ={}).gc_young_threshold == 50_000
    assert Settings.load({}, environ={"CXSTREAM_GC_YOUNG_THRESHOLD": "0"}).gc_young_threshold == 0
    with pytest.raises(Exception, match="GC_YOUNG_THRESHOLD|gc_young_threshold"):
        Settings.load({}, environ={"CXSTREAM_GC_YOUNG_THRESHOLD": "-1"})


def test_the_worker_and_the_sink_tune_it_at_start() -> None:
    # Both entry points call tune_collector with the setting before they start consuming.
    import inspect

    from cxstream.sinks import process
    from cxstream.streams import worker

    assert "tune_collector(settings.gc_young_threshold)" in inspect.getsource(worker._run)
    assert "tune_collector(settings.gc_young_threshold)" in inspect.getsource(process.run)
