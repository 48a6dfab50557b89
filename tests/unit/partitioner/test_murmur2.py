"""murmur2 and partition_for_key against Kafka's own test vectors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.partitioner import murmur2, partition_for_key, to_positive

# apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2
KAFKA_MURMUR2_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}

# dpkp/kafka-python test/test_partitioner.py, test_murmur2_java_compatibility: "compare with output
# from Kafka's org.apache.kafka.clients.producer.Partitioner", 1000 partitions.
JAVA_PARTITIONS_OF_1000 = {b"": 681, b"a": 524, b"ab": 434, b"abc": 107, b"123456789": 566, b"\x00 ": 742}


@pytest.mark.parametrize("key,expected", KAFKA_MURMUR2_VECTORS.items())
def test_murmur2_matches_kafka_utils_test(key: bytes, expected: int) -> None:
    assert murmur2(key) == expected


@pytest.mark.parametrize("key,expected", JAVA_PARTITIONS_OF_1000.items())
def test_partition_for_key_matches_the_java_client(key: bytes, expected: int) -> None:
    assert partition_for_key(key, 1000) == expected


def test_to_positive_is_not_abs() -> None:
    assert to_positive(-5) == 2147483643 != abs(-5)
    assert to_positive(-(2**31)) == 0
    assert to_positive(2**31 - 1) == 2**31 - 1


def test_bad_inputs_are_named() -> None:
    with pytest.raises(TypeError, match="serialize it first"):
        partition_for_key("text", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        partition_for_key(b"k", 0)


@settings(derandomize=True, max_examples=300)
@given(key=st.binary(max_size=64), partitions=st.integers(min_value=1, max_value=10_000))
def test_murmur2_is_a_java_int_and_partitions_are_in_range(key: bytes, partitions: int) -> None:
    assert -(2**31) <= murmur2(key) < 2**31
    assert 0 <= partition_for_key(key, partitions) < partitions
    assert partition_for_key(key, partitions) == partition_for_key(bytearray(key), partitions)
