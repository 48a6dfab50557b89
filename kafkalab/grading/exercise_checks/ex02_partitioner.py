"""Checks for ex02_partitioner: Kafka's murmur2, toPositive and partitionForKey.

Vectors: Kafka's own UtilsTest.testMurmur2, and the Java client's partitions for 1000 partitions
(as pinned by kafka-python's test_partitioner.py). The last check plugs the learner's
``partition_for_key`` into an embedded cluster as its partitioner.
"""

from __future__ import annotations

from types import ModuleType

from kafkalab.cluster import EmbeddedCluster
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import expect_equal, first_failure
from kafkalab.partitioner import murmur2 as reference_murmur2
from kafkalab.partitioner import partition_for_key as reference_partition_for_key

EXERCISE = "ex02_partitioner"

# apache/kafka UtilsTest.testMurmur2, shortest first.
KAFKA_VECTORS = sorted(
    {
        b"21": -973932308,
        b"abc": 479470107,
        b"foobar": -790332482,
        b"a-little-bit-long-string": -985981536,
        b"a-little-bit-longer-string": -1486304829,
        b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    }.items(),
    key=lambda item: len(item[0]),
)
JAVA_PARTITIONS_OF_1000 = [(b"", 681), (b"a", 524), (b"ab", 434), (b"abc", 107), (b"\x00 ", 742), (b"123456789", 566)]
TAIL_KEYS = [bytes(range(200, 200 + n)) for n in range(0, 9)] + [b"\xff" * n for n in range(1, 6)] + [b"\x80\x00\x7f", "ключ".encode()]


@check(EXERCISE, points=2)
def murmur2_matches_kafkas_vectors(impl: ModuleType) -> None:
    """murmur2 returns Kafka's values (UtilsTest.testMurmur2), as a signed Java int"""
    first_failure(KAFKA_VECTORS, lambda item: expect_equal(impl.murmur2(item[0]), item[1], "murmur2", input=item[0]))


@check(EXERCISE, points=2)
def murmur2_handles_every_tail_length(impl: ModuleType) -> None:
    """murmur2 handles 0–8 byte keys (every tail length) and bytes ≥ 0x80"""
    first_failure(TAIL_KEYS, lambda key: expect_equal(impl.murmur2(key), reference_murmur2(key), "murmur2", input=key))


@check(EXERCISE, points=1)
def to_positive_clears_the_sign_bit(impl: ModuleType) -> None:
    """to_positive clears the sign bit (it is not abs)"""
    for number in [0, 1, 2**31 - 1, -1, -5, -(2**31), -973932308]:
        expect_equal(impl.to_positive(number), number & 0x7FFFFFFF, "to_positive", input=number)


@check(EXERCISE, points=2)
def partition_for_key_matches_the_java_client(impl: ModuleType) -> None:
    """partition_for_key gives the Java client's partition (1000 partitions)"""
    first_failure(
        JAVA_PARTITIONS_OF_1000,
        lambda item: expect_equal(impl.partition_for_key(item[0], 1000), item[1], "partition_for_key(key, 1000)", input=item[0]),
    )


@check(EXERCISE, points=1)
def every_partition_can_be_chosen(impl: ModuleType) -> None:
    """partition_for_key uses all n partitions, 1 ≤ n ≤ 8 (no n - 1)"""
    keys = [f"key-{i}".encode() for i in range(300)]
    for n in range(1, 9):
        for key in keys:
            expect_equal(impl.partition_for_key(key, n), reference_partition_for_key(key, n), f"partition_for_key(key, {n})", input=key)


@check(EXERCISE, points=2, timeout_s=20)
def a_cluster_using_your_partitioner_keeps_keys_together(impl: ModuleType) -> None:
    """an embedded cluster using your partitioner puts each key in Kafka's partition, in order"""
    seed = 2
    cluster = EmbeddedCluster(seed=seed, brokers=2, partitioner=impl.partition_for_key)
    cluster.create_topic("payments", partitions=6)
    sent: dict[bytes, list[bytes]] = {}
    for i in range(60):
        key = f"customer-{i % 9}".encode()
        value = f"payment-{i}".encode()
        result = cluster.produce("payments", value, key=key)
        expect_equal(result.partition, reference_partition_for_key(key, 6), "partition of a produced record", input=key, seed=seed)
        sent.setdefault(key, []).append(value)
    for key, values in sent.items():
        partition = reference_partition_for_key(key, 6)
        read = [r.value for r in cluster.fetch("payments", partition, 0) if r.key == key]
        expect_equal(read, values, f"records of key {key!r} read back from partition {partition}", seed=seed)
