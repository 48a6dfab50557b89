"""Kafka's classic (non-flexible) primitive encodings, for the coordinators' record formats.

int16/int32/int64 are big-endian; a string is an int16 length and UTF-8 bytes (-1: null); bytes
are an int32 length and the data (-1: null); an array is an int32 count and its elements.

Kafka: org.apache.kafka.common.protocol.types.Type (INT16, STRING, NULLABLE_STRING, BYTES).
"""

from __future__ import annotations

import struct


class Writer:
    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def int16(self, value: int) -> "Writer":
        self._parts.append(struct.pack(">h", value))
        return self

    def int32(self, value: int) -> "Writer":
        self._parts.append(struct.pack(">i", value))
        return self

    def int64(self, value: int) -> "Writer":
        self._parts.append(struct.pack(">q", value))
        return self

    def string(self, value: str) -> "Writer":
        data = value.encode("utf-8")
        if len(data) > 32767:
            raise ValueError(f"a Kafka string holds at most 32767 bytes, got {len(data)}")
        return self.int16(len(data)).raw(data)

    def nullable_string(self, value: str | None) -> "Writer":
        return self.int16(-1) if value is None else self.string(value)

    def bytes_(self, value: bytes | None) -> "Writer":
        return self.int32(-1) if value is None else self.int32(len(value)).raw(value)

    def raw(self, data: bytes) -> "Writer":
        self._parts.append(data)
        return self

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


class Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def _take(self, size: int) -> bytes:
        if self._position + size > len(self._data):
            raise ValueError(f"truncated data: wanted {size} bytes at position {self._position} of {len(self._data)}")
        chunk = self._data[self._position:self._position + size]
        self._position += size
        return chunk

    def int16(self) -> int:
        return struct.unpack(">h", self._take(2))[0]

    def int32(self) -> int:
        return struct.unpack(">i", self._take(4))[0]

    def int64(self) -> int:
        return struct.unpack(">q", self._take(8))[0]

    def string(self) -> str:
        value = self.nullable_string()
        if value is None:
            raise ValueError(f"null string at position {self._position - 2} where a string is required")
        return value

    def nullable_string(self) -> str | None:
        length = self.int16()
        return None if length < 0 else self._take(length).decode("utf-8")

    def bytes_(self) -> bytes:
        length = self.int32()
        return b"" if length < 0 else self._take(length)

    def nullable_bytes(self) -> bytes | None:
        length = self.int32()
        return None if length < 0 else self._take(length)

    @property
    def remaining(self) -> int:
        return len(self._data) - self._position
