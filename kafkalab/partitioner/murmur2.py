"""Keys to partitions: Kafka's murmur2 hash, toPositive, and partitionForKey.

A record with a key goes to ``toPositive(murmur2(key)) % numPartitions``. Three details matter:

* murmur2 works on Java ``int`` arithmetic: every multiplication wraps at 32 bits and ``>>>`` is an
  unsigned shift. Python integers never overflow, so we mask with ``0xFFFFFFFF`` after each step and
  turn the final value into Java's *signed* 32-bit result.
* ``toPositive`` clears the sign bit (``n & 0x7fffffff``). It is not ``abs``: ``abs(-5) == 5`` but
  ``toPositive(-5) == 2147483643``, and ``Math.abs(Integer.MIN_VALUE)`` is still negative in Java.
* The modulus is the partition count ``n`` — every partition, 0..n-1, can be chosen.

Kafka: org.apache.kafka.common.utils.Utils#murmur2 and #toPositive;
org.apache.kafka.clients.producer.internals.BuiltInPartitioner#partitionForKey.
"""

from __future__ import annotations

MASK_32 = 0xFFFFFFFF
SEED = 0x9747B28C
M = 0x5BD1E995
R = 24


def to_signed_32(n: int) -> int:
    """Read the low 32 bits of ``n`` as a Java ``int`` (two's complement)."""
    n &= MASK_32
    return n - (1 << 32) if n & 0x80000000 else n


def murmur2(data: bytes) -> int:
    """Kafka's ``Utils.murmur2``: the 32-bit MurmurHash2 of ``data``, as Java's signed ``int``."""
    # BEGIN EXERCISE ex02_partitioner
    length = len(data)
    h = (SEED ^ length) & MASK_32
    whole_words = length // 4
    for i in range(whole_words):
        # Four bytes, little-endian, make one 32-bit word k.
        k = data[4 * i] | (data[4 * i + 1] << 8) | (data[4 * i + 2] << 16) | (data[4 * i + 3] << 24)
        k = (k * M) & MASK_32
        k ^= k >> R  # Java's k >>> r: k is already unsigned here
        k = (k * M) & MASK_32
        h = (h * M) & MASK_32
        h ^= k
    # The last 1-3 bytes (Java's switch falls through from case 3 to case 1).
    tail = length % 4
    tail_start = length - tail
    if tail == 3:
        h ^= data[tail_start + 2] << 16
    if tail >= 2:
        h ^= data[tail_start + 1] << 8
    if tail >= 1:
        h ^= data[tail_start]
        h = (h * M) & MASK_32
    h ^= h >> 13
    h = (h * M) & MASK_32
    h ^= h >> 15
    return to_signed_32(h)
    # END EXERCISE


def to_positive(number: int) -> int:
    """Kafka's ``Utils.toPositive``: clear the sign bit of a 32-bit int (not ``abs``!)."""
    # BEGIN EXERCISE ex02_partitioner
    return number & 0x7FFFFFFF
    # END EXERCISE


def partition_for_key(key: bytes, num_partitions: int) -> int:
    """Kafka's ``BuiltInPartitioner.partitionForKey``: ``toPositive(murmur2(key)) % num_partitions``."""
    # BEGIN EXERCISE ex02_partitioner
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"a key must be bytes, got {type(key).__name__} {key!r}: serialize it first "
            "(e.g. key.encode('utf-8') or kafkalab.serialization.StringSerializer)"
        )
    if num_partitions < 1:
        raise ValueError(f"num_partitions must be at least 1, got {num_partitions}")
    return to_positive(murmur2(bytes(key))) % num_partitions
    # END EXERCISE
