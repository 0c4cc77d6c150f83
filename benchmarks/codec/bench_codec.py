"""Codec benchmark: encode and decode per record with `avro`, fastavro (the project codec) and JSON.

Run: .venv/bin/python -m benchmarks.codec.bench_codec [--records N]
All contenders run in one process on the same records, in interleaved rounds; the table gives
the best round in microseconds per record and the ratio to the project codec's same operation. Two more
rows per type price design choices: fastavro building ``datetime`` objects for timestamp-millis
(the codec reads plain longs instead), and schema resolution (a message from another writer
version, here the current schema plus one optional field, as an evolved producer would send).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import platform
import random
import time
from collections.abc import Callable
from typing import Any

import avro.io
import avro.schema
import fastavro

from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.schemas.registry import SCHEMA_FILES, default_registry, load_definition, strip_logical_types
from cxstream.schemas.validation import check_feedback, check_touchpoint
from cxstream.vocabulary import CHANNELS, DOMAINS

NOW = 1_795_615_800_000


def make_records(count: int, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """``count`` Avro datums per type, deterministic for ``seed``."""
    rng = random.Random(seed)
    touchpoints = [
        Touchpoint(f"tp-{i:09d}", NOW - rng.randrange(86_400_000), rng.choice(["VA", "USDA", "Treasury"]),
                   rng.choice(["disability-claims", "farm-loans", "tax-refunds"]), rng.choice(CHANNELS),
                   "completed", rng.randrange(600), rng.randrange(1200), rng.random() < 0.5).to_avro()
        for i in range(count)
    ]
    feedback = [
        Feedback(f"fb-{i:09d}", NOW - rng.randrange(86_400_000),
                 {d: rng.randint(1, 5) for d in rng.sample(DOMAINS, rng.randint(2, 7))},
                 f"tp-{i:09d}", "Quick and clear." if rng.random() < 0.3 else None).to_avro()
        for i in range(count)
    ]
    return {"Touchpoint": touchpoints, "Feedback": feedback}


def timed(run: Callable[[], object]) -> float:
    """Seconds one call of ``run`` takes, with the garbage collector off (as ``timeit`` does).

    The lists of results would otherwise trigger collections whose cost depends on the heap,
    not on the contender.
    """
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        run()
        return time.perf_counter() - start
    finally:
        gc.enable()


def evolved(definition: dict[str, Any]) -> dict[str, Any]:
    """``definition`` plus one optional field: another writer version that resolves into it."""
    extra = {"name": "bench_extra", "type": ["null", "string"], "default": None, "doc": "Benchmark only."}
    return {**definition, "fields": [*definition["fields"], extra]}


def cases(name: str, data: list[dict[str, Any]], codec: Codec) -> list[tuple[str, Callable[[], object]]]:
    """(contender and operation, a run over every record) for one record type."""
    logical = load_definition(SCHEMA_FILES[name])
    definition = strip_logical_types(logical)
    avro_schema = avro.schema.parse(json.dumps(definition))
    writer, reader = avro.io.DatumWriter(avro_schema), avro.io.DatumReader(avro_schema, avro_schema)
    fast_schema = fastavro.parse_schema(definition)
    fast_logical = fastavro.parse_schema(logical)
    newer_registry = default_registry()
    newer_registry.register(evolved(logical), current=True)
    newer_framed = [Codec(newer_registry).encode(name, {**d, "bench_extra": None}) for d in data]
    resolving = Codec()
    resolving.registry.register(evolved(logical))  # a known writer, not the reader
    check: Callable[[dict[str, Any], int], object] = check_touchpoint if name == "Touchpoint" else check_feedback

    def avro_encode(datum: dict[str, Any]) -> bytes:
        buffer = io.BytesIO()
        writer.write(datum, avro.io.BinaryEncoder(buffer))
        return buffer.getvalue()

    def fast_encode(datum: dict[str, Any]) -> bytes:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, fast_schema, datum)
        return buffer.getvalue()

    avro_bodies = [avro_encode(d) for d in data]
    framed = [codec.encode(name, d) for d in data]
    json_texts = [json.dumps(d).encode() for d in data]
    return [
        ("avro (official library) encode", lambda: [avro_encode(d) for d in data]),
        ("avro (official library) decode",
         lambda: [reader.read(avro.io.BinaryDecoder(io.BytesIO(b))) for b in avro_bodies]),
        ("fastavro schemaless (raw) encode", lambda: [fast_encode(d) for d in data]),
        ("fastavro schemaless (raw) decode",
         lambda: [fastavro.schemaless_reader(io.BytesIO(b), fast_schema, None) for b in avro_bodies]),
        ("cxstream codec (fastavro + framing) encode", lambda: [codec.encode(name, d) for d in data]),
        ("cxstream codec (fastavro + framing) decode", lambda: [codec.decode(b) for b in framed]),
        ("json (stdlib) encode", lambda: [json.dumps(d).encode() for d in data]),
        ("json (stdlib) decode", lambda: [json.loads(t) for t in json_texts]),
        ("fastavro timestamps as datetime decode",
         lambda: [fastavro.schemaless_reader(io.BytesIO(b), fast_logical, None) for b in avro_bodies]),
        ("cxstream codec, other writer version decode", lambda: [resolving.decode(b) for b in newer_framed]),
        ("cxstream decode + validate", lambda: [check(codec.decode(b)[1], NOW) for b in framed]),
    ]


def bench(count: int, rounds: int) -> list[tuple[str, str, float]]:
    """(record type, contender and operation, microseconds per record, best of ``rounds``).

    Rounds are interleaved (every contender once, then again) so that a noisy neighbour on a
    shared machine slows all contenders alike rather than whichever happened to be running.
    """
    codec = Codec()
    results: list[tuple[str, str, float]] = []
    for name, data in make_records(count).items():
        runs = cases(name, data, codec)
        best = [float("inf")] * len(runs)
        for _ in range(rounds):
            for i, (_, run) in enumerate(runs):
                best[i] = min(best[i], timed(run))
        results.extend((name, label, seconds / count * 1e6) for (label, _), seconds in zip(runs, best, strict=True))
    return results


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    results = bench(args.records, args.rounds)
    print(f"# codec benchmark: {args.records} records per type, best of {args.rounds}, "
          f"Python {platform.python_version()}, fastavro {fastavro.__version__}, avro {_avro_version()}")
    print(f"{'record':<11} {'contender':<44} {'us/record':>10} {'vs cxstream':>12}")
    for name, contender, micros in results:
        op = contender.rsplit(" ", 1)[-1]
        baseline = next((m for n, c, m in results if n == name and c == f"cxstream codec (fastavro + framing) {op}"), None)
        ratio = f"{micros / baseline:.2f}x" if baseline and op in ("encode", "decode") else ""
        print(f"{name:<11} {contender:<44} {micros:>10.2f} {ratio:>12}")


def _avro_version() -> str:
    from importlib.metadata import version

    return version("avro")


if __name__ == "__main__":
    main()
