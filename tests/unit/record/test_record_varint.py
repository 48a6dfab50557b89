"""Zigzag varints against the vectors of Kafka's ByteUtilsTest."""

import pytest
from hypothesis import given, settings, strategies as st

from kafkalab.record.varint import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    VarintError,
    decode_unsigned_varint,
    decode_varint,
    decode_varlong,
    encode_unsigned_varint,
    encode_varint,
    encode_varlong,
    size_of_varint,
    size_of_varlong,
)

# (value, bytes) pairs from apache/kafka clients/src/test/java/org/apache/kafka/common/utils/ByteUtilsTest.java
VARINT_VECTORS = [
    (0, "00"), (-1, "01"), (1, "02"), (63, "7e"), (-64, "7f"), (64, "8001"), (-65, "8101"),
    (8191, "fe7f"), (-8192, "ff7f"), (8192, "808001"), (-8193, "818001"),
    (1048575, "feff7f"), (-1048576, "ffff7f"), (1048576, "80808001"), (-1048577, "81808001"),
    (134217727, "feffff7f"), (-134217728, "ffffff7f"), (134217728, "8080808001"), (-134217729, "8180808001"),
    (INT32_MAX, "feffffff0f"), (INT32_MIN, "ffffffff0f"),
]  # fmt: skip
VARLONG_VECTORS = VARINT_VECTORS[:-2] + [
    (INT32_MAX, "feffffff0f"), (INT32_MIN, "ffffffff0f"),
    (INT64_MAX, "feffffffffffffffff01"), (INT64_MIN, "ffffffffffffffffff01"),
]  # fmt: skip


@pytest.mark.parametrize("value,hexed", VARINT_VECTORS)
def test_varint_vectors(value, hexed):
    raw = bytes.fromhex(hexed)
    assert encode_varint(value) == raw
    assert decode_varint(raw) == (value, len(raw))
    assert size_of_varint(value) == len(raw)


@pytest.mark.parametrize("value,hexed", VARLONG_VECTORS)
def test_varlong_vectors(value, hexed):
    raw = bytes.fromhex(hexed)
    assert encode_varlong(value) == raw
    assert decode_varlong(raw) == (value, len(raw))
    assert size_of_varlong(value) == len(raw)


def test_decode_at_offset_returns_next_offset():
    data = b"\xaa" + encode_varint(300) + encode_varlong(-5)
    value, pos = decode_varint(data, 1)
    assert value == 300
    assert decode_varlong(data, pos) == (-5, len(data))


def test_varint_too_long_is_rejected():
    # ByteUtilsTest.testInvalidVarint: the fifth byte still has its continuation bit set
    with pytest.raises(VarintError, match="too long"):
        decode_varint(bytes.fromhex("ffffffffff01"))


def test_varlong_too_long_is_rejected():
    with pytest.raises(VarintError, match="too long"):
        decode_varlong(bytes.fromhex("ffffffffffffffffffff01"))


@pytest.mark.parametrize("data", [b"", b"\x80", b"\xff\xff"])
def test_truncated_varint_is_rejected(data):
    with pytest.raises(VarintError, match="truncated"):
        decode_varint(data)
    with pytest.raises(VarintError, match="truncated"):
        decode_varlong(data)


def test_out_of_range_values_are_rejected():
    with pytest.raises(VarintError):
        encode_varint(INT32_MAX + 1)
    with pytest.raises(VarintError):
        encode_varlong(INT64_MIN - 1)
    with pytest.raises(VarintError):
        encode_unsigned_varint(-1)


def test_fifth_byte_high_bits_are_dropped_as_java_does():
    # Java's `b << 28` keeps only the low 4 bits of the fifth byte.
    assert decode_unsigned_varint(bytes.fromhex("ffffffff7f")) == (0xFFFFFFFF, 5)


@settings(derandomize=True, max_examples=300)
@given(st.integers(INT32_MIN, INT32_MAX))
def test_varint_round_trip(value):
    raw = encode_varint(value)
    assert decode_varint(raw) == (value, len(raw))
    assert size_of_varint(value) == len(raw) <= 5


@settings(derandomize=True, max_examples=300)
@given(st.integers(INT64_MIN, INT64_MAX))
def test_varlong_round_trip(value):
    raw = encode_varlong(value)
    assert decode_varlong(raw) == (value, len(raw))
    assert size_of_varlong(value) == len(raw) <= 10
