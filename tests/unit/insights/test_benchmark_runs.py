"""The insights benchmark still runs (tiny sizes, no timing assertions): it cannot rot unnoticed."""

from benchmarks.insights.bench_insights import bench, figures


def test_insights_benchmark_times_both_contenders() -> None:
    result = bench(rounds=1, limit=10, long_repeat=1)
    assert result["comments"] == 10 and len(result["rows"]) == 2
    assert all(median > 0 and p95 >= median for runs in result["rows"].values() for median, p95 in runs)
    assert all(us > 0 for us in result["long_us"].values())


def test_insights_figures_print_both_readers() -> None:
    text = figures()
    assert "plain VADER, whole corpus" in text and "cxstream.insights, holdout" in text
