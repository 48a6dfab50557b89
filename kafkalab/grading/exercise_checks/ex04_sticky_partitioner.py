"""Checks for ex04_sticky_partitioner: KIP-794's switching rule and adaptive weighting, then a
producer on the embedded cluster that uses the learner's partitioner for records without keys."""

from __future__ import annotations

import random
from types import ModuleType

from kafkalab.cluster import EmbeddedCluster
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed, expect_equal
from kafkalab.partitioner.strategies import UniformStickyPartitioner as Reference
from kafkalab.partitioner.strategies import partition_load_stats as reference_load_stats

EXERCISE = "ex04_sticky_partitioner"


@check(EXERCISE, points=2)
def switches_after_batch_size_bytes(impl: ModuleType) -> None:
    """record_appended switches partition once batch.size bytes went to the current one"""
    partitioner = impl.UniformStickyPartitioner(random.Random(1), batch_size=1000)
    first = partitioner.partition("t", 8)
    expect_equal(partitioner.record_appended("t", 8, 999), False, "record_appended after 999 of 1000 bytes (switched?)")
    expect_equal(partitioner.partition("t", 8), first, "the sticky partition before batch.size is reached")
    expect_equal(partitioner.record_appended("t", 8, 1), True, "record_appended at exactly batch.size (switched?)")
    expect_equal(partitioner.record_appended("t", 8, 500), False, "record_appended on the new partition after 500 bytes (the count restarts)")


@check(EXERCISE, points=2)
def waits_up_to_twice_batch_size_for_a_full_batch(impl: ModuleType) -> None:
    """without enable_switch (batch not full) it switches only at 2 × batch.size"""
    partitioner = impl.UniformStickyPartitioner(random.Random(1), batch_size=1000)
    partitioner.partition("t", 8)
    expect_equal(partitioner.record_appended("t", 8, 1500, enable_switch=False), False, "switch after 1500 bytes with the batch not full")
    expect_equal(partitioner.record_appended("t", 8, 499, enable_switch=False), False, "switch after 1999 bytes with the batch not full")
    expect_equal(partitioner.record_appended("t", 8, 1, enable_switch=False), True, "switch at 2000 bytes = 2 × batch.size")


@check(EXERCISE, points=2)
def builds_kafkas_cumulative_frequency_table(impl: ModuleType) -> None:
    """partition_load_stats inverts queue sizes into Kafka's cumulative frequency table"""
    for sizes in ([0, 3, 1], [5, 0], [1, 2, 3, 4], [7, 7, 7], [4]):
        ids = list(range(len(sizes)))
        got, expected = impl.partition_load_stats(sizes, ids), reference_load_stats(sizes, ids)
        got_table = None if got is None else got.cumulative_frequency_table
        expected_table = None if expected is None else expected.cumulative_frequency_table
        expect_equal(got_table, expected_table, "cumulative frequency table (None when queues are equal or < 2 partitions)", input=sizes)


@check(EXERCISE, points=2)
def next_partition_follows_the_table(impl: ModuleType) -> None:
    """next_partition draws uniformly, or weighted by the table, exactly as BuiltInPartitioner does"""
    for seed in range(3):
        mine, reference = impl.UniformStickyPartitioner(random.Random(seed), 100), Reference(random.Random(seed), 100)
        for partitioner in (mine, reference):
            partitioner.update_queue_sizes("t", [0, 9, 2, 0], [0, 1, 2, 3])
        got = [mine.next_partition("t", 4) for _ in range(50)]
        expected = [reference.next_partition("t", 4) for _ in range(50)]
        expect_equal(got, expected, "the first 50 weighted choices", seed=seed)
    mine, reference = impl.UniformStickyPartitioner(random.Random(9), 100), Reference(random.Random(9), 100)
    expect_equal([mine.next_partition("t", 5) for _ in range(30)], [reference.next_partition("t", 5) for _ in range(30)],
                 "the first 30 uniform choices (no queue sizes known)", seed=9)


@check(EXERCISE, points=2, timeout_s=20)
def a_producer_with_your_partitioner(impl: ModuleType) -> None:
    """a producer using your partitioner sends null-key records in batch.size runs, as Kafka's does"""
    seed = 5

    def run(partitioner_class: type) -> list[int]:
        cluster = EmbeddedCluster(seed=seed, brokers=2)
        cluster.create_topic("clicks", partitions=4)
        producer = cluster.producer({"batch.size": 1024, "linger.ms": 0}, partitioner_class=partitioner_class)
        futures = [producer.send("clicks", b"x" * 200) for _ in range(60)]
        producer.flush()
        failed = [f.exception for f in futures if f.exception]
        if failed:
            raise CheckFailed(f"sends failed: {failed[0]} (seed {seed})")
        return [f.metadata.partition for f in futures]

    expect_equal(run(impl.UniformStickyPartitioner), run(Reference), "partition of each of 60 null-key records", seed=seed)
