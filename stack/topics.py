"""The contract's topics, created with the configured partition count.

``cx.touchpoints.v1`` and ``cx.feedback.v1`` are co-partitioned (the join relies on it), so they
must have the same partition count; a mismatch is an error, never silently "fixed".
"""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from cxstream.config import Settings
from cxstream.errors import StackError
from cxstream.kafka_clients import admin_client
from cxstream.logs import get_logger
from cxstream.vocabulary import CONTRACT_TOPICS, INPUT_TOPICS

log = get_logger(__name__)


def ensure_topics(settings: Settings, topics: tuple[str, ...] = CONTRACT_TOPICS, *, prefixed: bool = False,
                  configs: dict[str, str] | None = None) -> dict[str, int]:
    """Create missing topics (with the configured prefix unless ``prefixed``); return their
    partition counts. Idempotent. ``configs`` are topic configs for the ones it creates."""
    topics = topics if prefixed else tuple(settings.topic(t) for t in topics)
    admin = admin_client(settings, "cxstream-topics")
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                admin.create_topics(
                    [NewTopic(name=t, num_partitions=settings.partitions, replication_factor=1,
                              topic_configs=dict(configs or {})) for t in missing]
                )
            except TopicAlreadyExistsError:  # another process created it in between: fine
                pass
            log.info("stack.topics.created", topics=missing, partitions=settings.partitions)
        counts = partition_counts(admin, topics)
    finally:
        admin.close()
    check_copartitioned(counts)
    return counts


def partition_counts(admin: KafkaAdminClient, topics: tuple[str, ...]) -> dict[str, int]:
    """Partition count of each topic, from the cluster's metadata."""
    described = admin.describe_topics(list(topics))
    # kafka-python 3 names the field "name" (older releases said "topic").
    return {d.get("name") or d["topic"]: len(d["partitions"]) for d in described}


def check_copartitioned(counts: dict[str, int]) -> None:
    """Fail when the input topics have different partition counts."""
    inputs = {t: n for t, n in counts.items() if any(t.endswith(i) for i in INPUT_TOPICS)}
    if len(set(inputs.values())) > 1:
        detail = ", ".join(f"{t} has {n}" for t, n in inputs.items())
        raise StackError(
            f"the input topics must be co-partitioned but {detail} partitions; recreate one of them "
            f"with the other's count (the join of feedback to touchpoints needs it)"
        )
