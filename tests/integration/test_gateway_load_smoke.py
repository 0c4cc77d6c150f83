"""The gateway load test runs (tiny and bounded): it exits non-zero if a rate limit broke or Kafka
holds a different number of records than the gateway answered 200 for. Timings are not checked
here (they belong in BENCHMARKS.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cxstream.stack import StackStatus

pytestmark = pytest.mark.integration


def test_load_test_holds_the_rate_limit_and_loses_nothing(stack: StackStatus) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.gateway.load", "--rates", "50", "--seconds", "2", "--concurrency", "4",
         "--flooders", "2", "--legit-rate", "20", "--limit", "5"],
        capture_output=True, timeout=300, check=False)

    output = result.stdout.decode()
    assert result.returncode == 0, output + result.stderr.decode()[-2000:]
    assert ": held" in output and ": equal" in output, output
