"""Kafka cluster ids from the stack: valid for the storage tool every time."""

import base64

from cxstream.stack.kafka import new_cluster_id


def test_cluster_ids_are_16_bytes_of_urlsafe_base64_never_starting_with_a_dash() -> None:
    for _ in range(5000):  # about 1 in 64 raw ids starts with '-': 5000 draws hit that ~78 times
        cluster_id = new_cluster_id()
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
