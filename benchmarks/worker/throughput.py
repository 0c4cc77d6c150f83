"""Throughput of one `cxstream worker` on this machine, end to end through the three stages.

Run: .venv/bin/python -m benchmarks.worker.throughput [--touchpoints N]
Loads a seeded dataset into fresh (prefixed) topics first, then starts one worker and times it
from its partition assignment to the moment every feedback has come out of stage B (the storage
feed) and the scores topic has stopped growing. Reports input events per second.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer

from cxstream.config import Settings
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Touchpoint
from cxstream.topics import ensure_topics
from cxstream.vocabulary import CONTRACT_TOPICS, TOPIC_FEEDBACK, TOPIC_FEEDBACK_ENRICHED, TOPIC_TOUCHPOINTS
from tests.support.ground_truth import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--touchpoints", type=int, default=20_000)
    args = parser.parse_args()
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    settings = Settings.load({"topic_prefix": prefix, "worker_id": "bench"})
    ensure_topics(settings, CONTRACT_TOPICS)
    dataset = generate(seed=1, agency_prefix="B", touchpoints=args.touchpoints, now_ms=int(time.time() * 1000))
    codec = Codec()
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=50, batch_size=512 * 1024)
    feedback_ids = set()
    for message in dataset.messages:
        if isinstance(message, Touchpoint):
            producer.send(settings.topic(TOPIC_TOUCHPOINTS), key=message.touchpoint_id.encode(),
                          value=codec.encode("Touchpoint", message.to_avro()))
        else:
            feedback_ids.add(message.feedback_id)
            producer.send(settings.topic(TOPIC_FEEDBACK), key=message.kafka_key,
                          value=codec.encode("Feedback", message.to_avro()))
    producer.flush()
    events = len(dataset.messages)
    print(f"loaded {events} input events ({len(feedback_ids)} distinct feedback) into {prefix}*")

    env = dict(os.environ, CXSTREAM_TOPIC_PREFIX=prefix, CXSTREAM_WORKER_ID="bench", CXSTREAM_LOG_FORMAT="json",
               CXSTREAM_STATE_DIR=tempfile.mkdtemp(prefix="cxbench-"))
    log_path = Path(env["CXSTREAM_STATE_DIR"]) / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "cxstream.cli", "worker"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        assigned = re.compile(r"partitions['\"]: \[\d")
        while not assigned.search(log_path.read_text(errors="replace")):
            time.sleep(0.2)
        started = time.monotonic()
        consumer = KafkaConsumer(settings.topic(TOPIC_FEEDBACK_ENRICHED), bootstrap_servers=settings.bootstrap_servers,
                                 auto_offset_reset="earliest", enable_auto_commit=False)
        seen: set[bytes] = set()
        while len(seen) < len(feedback_ids) and time.monotonic() - started < 900:
            for batch in consumer.poll(timeout_ms=500).values():
                seen.update(m.key for m in batch)
        elapsed = time.monotonic() - started
        consumer.close()
        print(f"one worker: {events} events in {elapsed:.1f}s = {events / elapsed:,.0f} events/s "
              f"({len(seen)}/{len(feedback_ids)} feedback through stage B)", flush=True)
    finally:
        stopping = time.monotonic()
        worker.terminate()
        try:
            worker.wait(timeout=120)
            print(f"worker stopped {time.monotonic() - stopping:.1f}s after SIGTERM")
        except subprocess.TimeoutExpired:
            worker.kill()
            print("worker did not stop within 120s of SIGTERM: killed")


if __name__ == "__main__":
    main()
