"""The codec benchmark still runs (tiny sizes, no timing assertions): it cannot rot unnoticed."""

from benchmarks.codec.bench_codec import bench


def test_codec_benchmark_measures_every_contender_for_both_record_types() -> None:
    results = bench(count=50, rounds=1)
    contenders = {(name, contender) for name, contender, _ in results}
    for name in ("Touchpoint", "Feedback"):
        for contender in ("avro (official library)", "fastavro schemaless (raw)",
                          "cxstream codec (fastavro + framing)", "json (stdlib)"):
            assert (name, f"{contender} encode") in contenders
            assert (name, f"{contender} decode") in contenders
    assert all(micros > 0 for _, _, micros in results)
