"""Hidden checks for ex02_partitioner: keys the public checks do not try."""

from __future__ import annotations

import random
from types import ModuleType

from kafkalab.grading.checks import check
from kafkalab.grading.feedback import expect_equal, first_failure
from kafkalab.partitioner import murmur2 as reference_murmur2
from kafkalab.partitioner import partition_for_key as reference_partition_for_key

EXERCISE = "ex02_partitioner"


@check(EXERCISE, points=2)
def murmur2_on_long_random_keys(impl: ModuleType) -> None:
    """murmur2 agrees with Kafka on long random keys (up to 4 KiB)"""
    rng = random.Random(20261125)
    keys = sorted((rng.randbytes(rng.randrange(9, 4096)) for _ in range(40)), key=len)
    first_failure(keys, lambda key: expect_equal(impl.murmur2(key), reference_murmur2(key), "murmur2", input=key[:16] + b"...", seed=20261125))


@check(EXERCISE, points=2)
def partition_for_key_for_small_partition_counts(impl: ModuleType) -> None:
    """partition_for_key is right for 1 to 7 partitions (no off-by-one in the modulus)"""
    keys = [f"user-{i}".encode() for i in range(50)]
    for count in range(1, 8):
        for key in keys:
            expect_equal(impl.partition_for_key(key, count), reference_partition_for_key(key, count),
                         f"partition_for_key(key, {count})", input=key)
