"""Creating cxstream's topics on any cluster: the contract's, the worker's own and its changelogs.

Every topic gets the configured partition count, replication factor and ``min.insync.replicas``
(CXSTREAM_PARTITIONS, CXSTREAM_TOPIC_REPLICATION_FACTOR, CXSTREAM_TOPIC_MIN_INSYNC_REPLICAS: 1 and
1 for the local one-broker stack; 3 and 2 in production, so an acknowledged write survives a
broker). Used by ``cxstream worker`` at start, ``cxstream topics ensure`` and ``cxstream stack up``.
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
                    [NewTopic(name=t, num_partitions=settings.partitions,
                              replication_factor=settings.topic_replication_factor,
                              topic_configs=topic_configs(settings, configs)) for t in missing]
                )
            except TopicAlreadyExistsError:  # another process created it in between: fine
                pass
            log.info("topics.created", topics=missing, partitions=settings.partitions,
                     replication_factor=settings.topic_replication_factor)
        counts = partition_counts(admin, topics)
    finally:
        admin.close()
    check_copartitioned(counts)
    return counts


def topic_configs(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Topic configs of a topic cxstream creates: its durability, and ``extra`` (e.g. compaction)."""
    return {"min.insync.replicas": str(settings.topic_min_insync_replicas), **(extra or {})}


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
