"""The ceiling: what Python can read at all. A plain aiokafka consumer that decodes every input
message with fastavro (skipping the 10-byte single-object header) and does nothing else.

Run by the harness as a process of its own (so its memory is measured alone):
``python -m benchmarks.ceiling --bootstrap H:P --topics A,B --group G --expect N``; prints one
JSON line: messages, first and last message wall times, peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import time

from aiokafka import AIOKafkaConsumer
from fastavro import schemaless_reader

from benchmarks.rss import peak_rss_bytes
from cxstream.schemas.registry import default_registry


async def consume(bootstrap: str, topics: list[str], group: str, expect: int, timeout_s: float) -> dict[str, float]:
    """Read and decode until ``expect`` messages were decoded; their first and last wall times."""
    registry = default_registry()
    wire = {name: registry.current(name).wire for name in ("Touchpoint", "Feedback")}
    by_topic = {t: wire["Touchpoint" if "touchpoints" in t else "Feedback"] for t in topics}
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False, max_partition_fetch_bytes=4 * 1024 * 1024,
                                fetch_max_bytes=16 * 1024 * 1024)
    await consumer.start()
    decoded, first, last = 0, 0.0, 0.0
    deadline = time.monotonic() + timeout_s
    try:
        while decoded < expect and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for tp, messages in batches.items():
                schema = by_topic[tp.topic]
                if not first and messages:
                    first = time.time()
                for message in messages:
                    body = io.BytesIO(message.value)
                    body.seek(10)
                    schemaless_reader(body, schema, None)
                    decoded += 1
            if batches:
                last = time.time()
    finally:
        await consumer.stop()
    return {"messages": decoded, "first": first, "last": last}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topics", required=True, help="comma-separated input topics")
    parser.add_argument("--group", required=True)
    parser.add_argument("--expect", type=int, required=True, help="messages to read before stopping")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    result = asyncio.run(consume(args.bootstrap, args.topics.split(","), args.group, args.expect, args.timeout))
    print(json.dumps({**result, "peak_rss": peak_rss_bytes()}), flush=True)


if __name__ == "__main__":
    main()
