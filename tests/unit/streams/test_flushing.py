"""Which keys a tick publishes."""

from cxstream.streams.flushing import DirtyKeys


def test_first_tick_of_a_partition_publishes_everything_then_only_changes() -> None:
    dirty = DirtyKeys()
    dirty.mark(0, "a")
    assert dirty.take(0, lambda: ["a", "b", "c"]) == {"a", "b", "c"}
    assert dirty.take(0, lambda: ["a", "b", "c"]) == set()
    dirty.mark(0, "b")
    dirty.mark(1, "z")
    assert dirty.take(0, lambda: ["a", "b", "c"]) == {"b"}


def test_a_reassigned_partition_publishes_everything_again() -> None:
    dirty = DirtyKeys()
    dirty.take(3, lambda: ["x"])
    dirty.forget_partitions({3})
    assert dirty.take(3, lambda: ["x", "y"]) == {"x", "y"}
