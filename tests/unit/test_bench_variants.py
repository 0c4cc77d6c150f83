"""How `make bench` reads a contender's name: settings (+), another checkout (@), workers (*N)."""

from __future__ import annotations

import pytest

from benchmarks.bench import variant_settings, variant_workers


def test_settings_and_workers_combine() -> None:
    assert variant_settings("cxstream*3+EVENT_LOOP=asyncio") == {"CXSTREAM_EVENT_LOOP": "asyncio"}
    assert variant_workers("cxstream*3+EVENT_LOOP=asyncio") == 3
    assert variant_settings("cxstream*2") == {}
    assert variant_workers("cxstream+PRODUCER=faust") == 1


def test_another_checkout_runs_from_its_folder() -> None:
    assert variant_settings("cxstream@/tmp/older") == {"PYTHONPATH": "/tmp/older"}


@pytest.mark.parametrize("name", ["cxstream*0", "cxstream*33"])
def test_a_worker_count_out_of_range_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="between 1 and 32"):
        variant_workers(name)


def test_a_setting_without_a_value_is_refused() -> None:
    with pytest.raises(ValueError, match="NAME=VALUE"):
        variant_settings("cxstream*2+EVENT_LOOP")
