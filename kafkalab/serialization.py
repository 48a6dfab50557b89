"""Serializers and deserializers: Kafka only ever moves bytes.

A producer turns keys and values into bytes with ``key.serializer`` / ``value.serializer``; a
consumer turns them back with the matching deserializers. The broker never looks inside. The
built-ins here write exactly the bytes Kafka's do (``IntegerSerializer``: 4 bytes, big-endian), and
fail with Kafka's messages when the bytes do not fit (an IntegerDeserializer given 3 bytes).
``None`` (null) passes through unchanged, as in Kafka: a null value is a tombstone, not ``b""``.

Because the format lives only in the clients, changing it under a running topic breaks every
consumer still using the old deserializer. Use a new topic, or a schema registry with compatible
evolution — the Confluent wire format (magic byte 0, 4-byte schema id, payload) is shown here
with a tiny in-memory registry.

Kafka: org.apache.kafka.common.serialization.{Serializer, Deserializer, StringSerializer,
IntegerSerializer, LongSerializer, ShortSerializer, DoubleSerializer, UUIDSerializer,
ByteArraySerializer, VoidSerializer}; org.apache.kafka.common.errors.SerializationException.
"""

from __future__ import annotations

import json
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from kafkalab.errors import KafkaError


class SerializationError(KafkaError):
    """Kafka's SerializationException: bytes that a (de)serializer cannot handle."""

    error_name = "SERIALIZATION_EXCEPTION"


class Serializer(Protocol):
    def serialize(self, topic: str, data: Any) -> bytes | None: ...


class Deserializer(Protocol):
    def deserialize(self, topic: str, data: bytes | None) -> Any: ...


class ByteArraySerializer:
    """Bytes in, the same bytes out."""

    def serialize(self, topic: str, data: bytes | None) -> bytes | None:
        if data is not None and not isinstance(data, (bytes, bytearray)):
            raise SerializationError(f"ByteArraySerializer needs bytes, got {type(data).__name__}")
        return None if data is None else bytes(data)


class ByteArrayDeserializer:
    def deserialize(self, topic: str, data: bytes | None) -> bytes | None:
        return data


@dataclass(frozen=True)
class StringSerializer:
    """A string as its encoded bytes (UTF-8 unless told otherwise)."""

    encoding: str = "utf-8"

    def serialize(self, topic: str, data: str | None) -> bytes | None:
        if data is None:
            return None
        if not isinstance(data, str):
            raise SerializationError(f"StringSerializer needs a str, got {type(data).__name__}")
        return data.encode(self.encoding)


@dataclass(frozen=True)
class StringDeserializer:
    encoding: str = "utf-8"
    errors: str = "replace"  # Java's new String(bytes, UTF_8) replaces bad sequences with U+FFFD

    def deserialize(self, topic: str, data: bytes | None) -> str | None:
        return None if data is None else data.decode(self.encoding, self.errors)


class _FixedWidth:
    """A number in a fixed number of big-endian bytes (Java's ByteBuffer order). Both directions."""

    class_name = ""
    fmt = ""
    python_type: type = int

    @property
    def size(self) -> int:
        return struct.calcsize(self.fmt)

    def serialize(self, topic: str, data: Any) -> bytes | None:
        if data is None:
            return None
        if not isinstance(data, self.python_type) or isinstance(data, bool):
            raise SerializationError(f"{self.class_name}Serializer needs a {self.python_type.__name__}, got {type(data).__name__}")
        try:
            return struct.pack(self.fmt, data)
        except struct.error as too_big:
            raise SerializationError(f"{self.class_name}Serializer cannot fit {data!r} in {self.size} bytes") from too_big

    def deserialize(self, topic: str, data: bytes | None) -> Any:
        if data is None:
            return None
        if len(data) != self.size:
            raise SerializationError(f"Size of data received by {self.class_name}Deserializer is not {self.size}")
        return struct.unpack(self.fmt, data)[0]


class IntegerSerializer(_FixedWidth):
    """A Java int: 4 bytes, big-endian, two's complement."""

    class_name, fmt, python_type = "Integer", ">i", int


class ShortSerializer(_FixedWidth):
    """A Java short: 2 bytes, big-endian."""

    class_name, fmt, python_type = "Short", ">h", int


class LongSerializer(_FixedWidth):
    """A Java long: 8 bytes, big-endian."""

    class_name, fmt, python_type = "Long", ">q", int


class DoubleSerializer(_FixedWidth):
    """A Java double: 8 bytes of IEEE-754, big-endian."""

    class_name, fmt, python_type = "Double", ">d", float


# The same object reads what it writes; Kafka names the two directions separately.
IntegerDeserializer = IntegerSerializer
ShortDeserializer = ShortSerializer
LongDeserializer = LongSerializer
DoubleDeserializer = DoubleSerializer


class UUIDSerializer:
    """A UUID as its 36-character string form, UTF-8 (Kafka's UUIDSerializer)."""

    def serialize(self, topic: str, data: uuid.UUID | None) -> bytes | None:
        return None if data is None else str(data).encode("utf-8")


class UUIDDeserializer:
    def deserialize(self, topic: str, data: bytes | None) -> uuid.UUID | None:
        if data is None:
            return None
        try:
            return uuid.UUID(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as bad:
            raise SerializationError(f"Error parsing data into UUID: {data!r}") from bad


class VoidSerializer:
    """Only null is allowed (Kafka's VoidSerializer), e.g. for topics whose key is always null."""

    def serialize(self, topic: str, data: None) -> None:
        if data is not None:
            raise SerializationError("VoidSerializer can only serialize null")
        return None


class JsonSerializer:
    """A JSON document as UTF-8 text (as Kafka Connect's JsonConverter with schemas.enable=false)."""

    def serialize(self, topic: str, data: Any) -> bytes | None:
        if data is None:
            return None
        try:
            return json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")
        except TypeError as bad:
            raise SerializationError(f"cannot serialize to JSON: {bad}") from bad


class JsonDeserializer:
    def deserialize(self, topic: str, data: bytes | None) -> Any:
        if data is None:
            return None
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as bad:
            raise SerializationError(f"bytes are not JSON: {bad}") from bad


MAGIC_BYTE = 0


@dataclass
class SchemaRegistry:
    """A tiny in-memory schema registry: schema ids for (subject, schema) pairs."""

    schemas: dict[int, dict[str, Any]] = field(default_factory=dict)
    subjects: dict[str, list[int]] = field(default_factory=dict)

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        for schema_id, known in self.schemas.items():
            if known == schema:
                self.subjects.setdefault(subject, [])
                if schema_id not in self.subjects[subject]:
                    self.subjects[subject].append(schema_id)
                return schema_id
        schema_id = len(self.schemas) + 1
        self.schemas[schema_id] = schema
        self.subjects.setdefault(subject, []).append(schema_id)
        return schema_id

    def schema(self, schema_id: int) -> dict[str, Any]:
        if schema_id not in self.schemas:
            raise SerializationError(f"Schema {schema_id} not found")
        return self.schemas[schema_id]


@dataclass
class SchemaJsonSerializer:
    """JSON with the Confluent wire format header: magic byte 0, then the 4-byte schema id.

    The "schema" is a dict of required field names to JSON types (``{"id": "int", "name": "str"}``):
    enough to show why a consumer needs the schema id and what a missing magic byte looks like.
    """

    registry: SchemaRegistry
    schema: dict[str, str]

    def serialize(self, topic: str, data: dict[str, Any] | None) -> bytes | None:
        if data is None:
            return None
        _validate(self.schema, data)
        schema_id = self.registry.register(f"{topic}-value", self.schema)
        return bytes([MAGIC_BYTE]) + struct.pack(">i", schema_id) + JsonSerializer().serialize(topic, data)


@dataclass
class SchemaJsonDeserializer:
    registry: SchemaRegistry

    def deserialize(self, topic: str, data: bytes | None) -> dict[str, Any] | None:
        if data is None:
            return None
        if len(data) < 5 or data[0] != MAGIC_BYTE:
            raise SerializationError("Unknown magic byte!")
        (schema_id,) = struct.unpack(">i", data[1:5])
        schema = self.registry.schema(schema_id)
        value = JsonDeserializer().deserialize(topic, data[5:])
        _validate(schema, value)
        return value


_JSON_TYPES = {"int": int, "str": str, "float": (int, float), "bool": bool, "list": list, "dict": dict}


def _validate(schema: dict[str, str], value: Any) -> None:
    if not isinstance(value, dict):
        raise SerializationError(f"expected an object with fields {sorted(schema)}, got {type(value).__name__}")
    for name, type_name in schema.items():
        if name not in value:
            raise SerializationError(f"field {name!r} is missing (schema needs {sorted(schema)})")
        if not isinstance(value[name], _JSON_TYPES[type_name]) or (type_name == "int" and isinstance(value[name], bool)):
            raise SerializationError(f"field {name!r} should be {type_name}, got {type(value[name]).__name__}")


@dataclass(frozen=True)
class DeserializeResult:
    """What happened when a deserializer met some bytes: a value, or the error it raised."""

    value: Any = None
    error: str | None = None


def try_deserialize(deserializer: Deserializer, data: bytes | None, topic: str = "demo") -> DeserializeResult:
    """Run a deserializer and keep its error instead of raising (for side-by-side tables)."""
    try:
        return DeserializeResult(value=deserializer.deserialize(topic, data))
    except SerializationError as failed:
        return DeserializeResult(error=str(failed))
