"""Serializers write Kafka's bytes; wrong deserializers fail (or mislead) as Kafka's do."""

from __future__ import annotations

import uuid

import pytest

from kafkalab.serialization import (
    DoubleSerializer,
    IntegerDeserializer,
    IntegerSerializer,
    JsonDeserializer,
    JsonSerializer,
    LongSerializer,
    SchemaJsonDeserializer,
    SchemaJsonSerializer,
    SchemaRegistry,
    SerializationError,
    ShortSerializer,
    StringDeserializer,
    StringSerializer,
    UUIDDeserializer,
    UUIDSerializer,
    VoidSerializer,
    try_deserialize,
)


def test_fixed_width_numbers_are_big_endian_like_java() -> None:
    assert IntegerSerializer().serialize("t", 1) == b"\x00\x00\x00\x01"
    assert IntegerSerializer().serialize("t", -1) == b"\xff\xff\xff\xff"
    assert ShortSerializer().serialize("t", 258) == b"\x01\x02"
    assert LongSerializer().serialize("t", 1) == b"\x00" * 7 + b"\x01"
    assert DoubleSerializer().serialize("t", 1.0) == b"\x3f\xf0" + b"\x00" * 6
    assert IntegerDeserializer().deserialize("t", b"\x00\x00\x01\x00") == 256


def test_null_passes_through_every_serde() -> None:
    for serde in (IntegerSerializer(), StringSerializer(), JsonSerializer(), UUIDSerializer()):
        assert serde.serialize("t", None) is None
    assert StringDeserializer().deserialize("t", None) is None


def test_wrong_deserializer_errors_with_kafkas_message() -> None:
    with pytest.raises(SerializationError, match="Size of data received by IntegerDeserializer is not 4"):
        IntegerDeserializer().deserialize("t", b"abc")
    assert try_deserialize(StringDeserializer(), IntegerSerializer().serialize("t", 1094861636)).value == "ABCD"
    with pytest.raises(SerializationError, match="cannot fit"):
        IntegerSerializer().serialize("t", 2**31)


def test_strings_uuids_json_and_void() -> None:
    assert StringSerializer().serialize("t", "héllo") == "héllo".encode()
    assert StringSerializer("utf-16-be").serialize("t", "A") == b"\x00A"
    some_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert UUIDDeserializer().deserialize("t", UUIDSerializer().serialize("t", some_id)) == some_id
    assert JsonDeserializer().deserialize("t", JsonSerializer().serialize("t", {"b": 1, "a": [1, 2]})) == {"a": [1, 2], "b": 1}
    with pytest.raises(SerializationError):
        VoidSerializer().serialize("t", b"x")
    with pytest.raises(SerializationError, match="not JSON"):
        JsonDeserializer().deserialize("t", b"\x00\x01")


def test_schema_wire_format_has_magic_byte_and_schema_id() -> None:
    registry = SchemaRegistry()
    data = SchemaJsonSerializer(registry, {"id": "int"}).serialize("orders", {"id": 7})
    assert data[:5] == b"\x00\x00\x00\x00\x01"
    assert SchemaJsonDeserializer(registry).deserialize("orders", data) == {"id": 7}
    with pytest.raises(SerializationError, match="Unknown magic byte"):
        SchemaJsonDeserializer(registry).deserialize("orders", JsonSerializer().serialize("orders", {"id": 7}))
    with pytest.raises(SerializationError, match="missing"):
        SchemaJsonSerializer(registry, {"id": "int"}).serialize("orders", {"name": "x"})
