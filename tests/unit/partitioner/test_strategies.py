"""Null-key partitioning: round robin (≤2.3), sticky (KIP-480), uniform sticky (KIP-794)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from kafkalab.partitioner import UNKNOWN_PARTITION, LegacyRoundRobin, StickyPartitioner, UniformStickyPartitioner, choose_partition
from kafkalab.partitioner.strategies import partition_load_stats


def test_legacy_round_robin_cycles_through_available_partitions() -> None:
    rr = LegacyRoundRobin(random.Random(1))
    picks = [rr.partition("t", 4) for _ in range(8)]
    assert sorted(picks[:4]) == [0, 1, 2, 3] and picks[:4] == picks[4:]
    only = [rr.partition("t", 4, available=[1, 3]) for _ in range(4)]
    assert set(only) == {1, 3}


def test_sticky_changes_only_on_a_new_batch_and_never_to_the_same_partition() -> None:
    sticky = StickyPartitioner(random.Random(7))
    first = sticky.partition("t", 6, available=range(6))
    assert all(sticky.partition("t", 6, available=range(6)) == first for _ in range(10))
    sticky.on_new_batch("t", 6, first, available=range(6))
    second = sticky.partition("t", 6)
    assert second != first
    sticky.on_new_batch("t", 6, previous_partition=first)  # a stale notification: no change
    assert sticky.partition("t", 6) == second


def test_uniform_sticky_switches_exactly_after_batch_size_bytes() -> None:
    uniform = UniformStickyPartitioner(random.Random(3), batch_size=1000)
    start = uniform.partition("t", 8)
    assert not uniform.record_appended("t", 8, 999)
    assert uniform.partition("t", 8) == start
    assert uniform.record_appended("t", 8, 1)


def test_uniform_sticky_waits_for_a_full_batch_up_to_twice_batch_size() -> None:
    uniform = UniformStickyPartitioner(random.Random(3), batch_size=1000)
    uniform.partition("t", 8)
    assert not uniform.record_appended("t", 8, 1500, enable_switch=False)
    assert uniform.record_appended("t", 8, 500, enable_switch=False)


def test_uniform_sticky_spreads_evenly_with_equal_queues() -> None:
    uniform = UniformStickyPartitioner(random.Random(11), batch_size=100)
    counts: Counter[int] = Counter()
    for _ in range(20_000):
        counts[uniform.partition("t", 4)] += 1
        uniform.record_appended("t", 4, 100)
    assert set(counts) == {0, 1, 2, 3}
    assert max(counts.values()) / min(counts.values()) < 1.15


def test_adaptive_partitioning_prefers_short_queues() -> None:
    assert partition_load_stats([0, 3, 1], [0, 1, 2]).cumulative_frequency_table == [4, 5, 8]
    assert partition_load_stats([2, 2, 2], [0, 1, 2]) is None
    uniform = UniformStickyPartitioner(random.Random(5), batch_size=1)
    uniform.update_queue_sizes("t", [0, 9, 0], [0, 1, 2])
    picks = Counter(uniform.next_partition("t", 3) for _ in range(3000))
    assert picks[1] < picks[0] / 5 and picks[1] < picks[2] / 5


def test_choose_partition_follows_kafka_producer_order() -> None:
    assert choose_partition("t", b"k", 5, explicit_partition=4) == 4
    assert choose_partition("t", b"k", 5, custom_partitioner=lambda t, k, n: 2) == 2
    assert choose_partition("t", b"foo", 5) == choose_partition("t", b"foo", 5)
    assert choose_partition("t", None, 5) == UNKNOWN_PARTITION
    assert choose_partition("t", b"foo", 5, ignore_keys=True) == UNKNOWN_PARTITION
    with pytest.raises(ValueError, match="not in the range"):
        choose_partition("t", b"k", 5, explicit_partition=5)
