"""Keys → partitions as Kafka's Java producer does it.

``partition_for_key(key, n) == to_positive(murmur2(key)) % n`` for keyed records; the strategies
module has the three generations of null-key partitioning; misconception.py shows what is wrong
with the course notes' formula.
"""

from kafkalab.partitioner.murmur2 import murmur2, partition_for_key, to_positive, to_signed_32
from kafkalab.partitioner.strategies import (
    UNKNOWN_PARTITION,
    LegacyRoundRobin,
    StickyPartitioner,
    UniformStickyPartitioner,
    choose_partition,
)

__all__ = [
    "UNKNOWN_PARTITION",
    "LegacyRoundRobin",
    "StickyPartitioner",
    "UniformStickyPartitioner",
    "choose_partition",
    "murmur2",
    "partition_for_key",
    "to_positive",
    "to_signed_32",
]
