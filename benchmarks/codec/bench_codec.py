"""Codec benchmark: encode and decode per record with `avro`, fastavro (the project codec) and JSON.

Run: .venv/bin/python -m benchmarks.codec.bench_codec [--records N]
All contenders run in one process, one after another, on the same records; the table gives the
best of several rounds in microseconds per record and the ratio to the project codec.
"""

from __future__ import annotations

import argparse
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
from cxstream.schemas.registry import load_definition, strip_logical_types
from cxstream.schemas.validation import check_feedback, check_touchpoint
from cxstream.vocabulary import CHANNELS, DOMAINS

NOW = 1_795_615_800_000


def make_records(count: int, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
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


def best_of(rounds: int, run: Callable[[], None], count: int) -> float:
    """Microseconds per record, best of ``rounds``."""
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return min(timings) / count * 1e6


def bench(count: int, rounds: int) -> list[tuple[str, str, float]]:
    codec = Codec()
    results: list[tuple[str, str, float]] = []
    records = make_records(count)
    checks = {"Touchpoint": check_touchpoint, "Feedback": check_feedback}
    for name, data in records.items():
        definition = strip_logical_types(load_definition(f"{name.lower()}.avsc"))
        avro_schema = avro.schema.parse(json.dumps(definition))
        writer, reader = avro.io.DatumWriter(avro_schema), avro.io.DatumReader(avro_schema, avro_schema)
        fast_schema = fastavro.parse_schema(definition)

        def avro_encode(datum: dict[str, Any]) -> bytes:
            buffer = io.BytesIO()
            writer.write(datum, avro.io.BinaryEncoder(buffer))
            return buffer.getvalue()

        avro_bodies = [avro_encode(d) for d in data]
        framed = [codec.encode(name, d) for d in data]
        json_texts = [json.dumps(d).encode() for d in data]
        contenders: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {
            "avro (official library)": (
                lambda: [avro_encode(d) for d in data],
                lambda: [reader.read(avro.io.BinaryDecoder(io.BytesIO(b))) for b in avro_bodies],
            ),
            "fastavro schemaless (raw)": (
                lambda: [fastavro.schemaless_writer(io.BytesIO(), fast_schema, d) for d in data],
                lambda: [fastavro.schemaless_reader(io.BytesIO(b), fast_schema, None) for b in avro_bodies],
            ),
            "cxstream codec (fastavro + framing)": (
                lambda: [codec.encode(name, d) for d in data],
                lambda: [codec.decode(b) for b in framed],
            ),
            "json (stdlib)": (
                lambda: [json.dumps(d).encode() for d in data],
                lambda: [json.loads(t) for t in json_texts],
            ),
        }
        for contender, (encode, decode) in contenders.items():
            results.append((name, f"{contender} encode", best_of(rounds, encode, count)))
            results.append((name, f"{contender} decode", best_of(rounds, decode, count)))
        check = checks[name]
        results.append((name, "cxstream decode + validate", best_of(
            rounds, lambda: [check(codec.decode(b)[1], NOW) for b in framed], count)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = bench(args.records, args.rounds)
    print(f"# codec benchmark: {args.records} records per type, best of {args.rounds}, "
          f"Python {platform.python_version()}, fastavro {fastavro.__version__}")
    print(f"{'record':<11} {'contender':<44} {'us/record':>10} {'vs cxstream':>12}")
    for name, contender, micros in results:
        op = contender.rsplit(" ", 1)[-1]
        baseline = next((m for n, c, m in results if n == name and c == f"cxstream codec (fastavro + framing) {op}"), None)
        ratio = f"{micros / baseline:.2f}x" if baseline and op in ("encode", "decode") else ""
        print(f"{name:<11} {contender:<44} {micros:>10.2f} {ratio:>12}")


if __name__ == "__main__":
    main()
