"""Zigzag varints: how a record batch stores small numbers in few bytes.

A varint writes an integer seven bits at a time, least significant group first; the top bit of
each byte says "another byte follows". Signed numbers are first *zigzag* mapped so that small
negative numbers stay short: 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, ... ``(n << 1) ^ (n >> 31)``.

    value      zigzag   bytes
    0          0        00
    -1         1        01
    1          2        02
    63         126      7e
    -64        127      7f
    64         128      80 01
    300        600      d8 04

A *varint* holds a 32-bit signed int (at most 5 bytes), a *varlong* a 64-bit one (at most 10).
Every length, delta and count inside a v2 record uses them; the batch header does not.

Decoding follows ``ByteUtils.readVarint``: a varint whose fifth byte still has its top bit set is
rejected as too long, and bits beyond 32 (64 for varlong) in the last byte are dropped, as Java's
``int`` shift drops them. Running out of bytes raises :class:`VarintError`.

Kafka: org.apache.kafka.common.utils.ByteUtils (writeVarint, readVarint, writeVarlong,
readVarlong, sizeOfVarint, sizeOfVarlong, writeUnsignedVarint); KIP-98 (message format v2).
"""

from __future__ import annotations

__all__ = [
    "VarintError",
    "zigzag_encode",
    "zigzag_decode",
    "encode_unsigned_varint",
    "decode_unsigned_varint",
    "encode_varint",
    "decode_varint",
    "encode_varlong",
    "decode_varlong",
    "size_of_unsigned_varint",
    "size_of_varint",
    "size_of_varlong",
    "INT32_MIN",
    "INT32_MAX",
    "INT64_MIN",
    "INT64_MAX",
]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_MAX_VARINT_BYTES = 5
_MAX_VARLONG_BYTES = 10


class VarintError(ValueError):
    """A varint is truncated, too long, or a value does not fit its type."""


def _check_range(value: int, bits: int) -> None:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"varint value must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise VarintError(f"{value} does not fit in a signed {bits}-bit integer [{low}, {high}]")


def zigzag_encode(value: int, bits: int = 32) -> int:
    """Map a signed int to an unsigned one so small magnitudes stay small: (n << 1) ^ (n >> bits-1)."""
    _check_range(value, bits)
    return ((value << 1) ^ (value >> (bits - 1))) & ((1 << bits) - 1)


def zigzag_decode(value: int) -> int:
    """Inverse of :func:`zigzag_encode`: (n >>> 1) ^ -(n & 1)."""
    return (value >> 1) ^ -(value & 1)


def encode_unsigned_varint(value: int) -> bytes:
    """Write a non-negative int seven bits per byte, low group first (ByteUtils.writeUnsignedVarint)."""
    if value < 0:
        raise VarintError(f"unsigned varint cannot hold negative value {value}")
    out = bytearray()
    while value & ~0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _decode_unsigned(data: bytes, offset: int, max_bytes: int, kind: str) -> tuple[int, int]:
    value = 0
    shift = 0
    pos = offset
    for i in range(max_bytes):
        if pos >= len(data):
            raise VarintError(
                f"truncated {kind} at offset {offset}: input ended after {i} byte(s) "
                "and the last byte read had its continuation bit set"
                if i
                else f"truncated {kind} at offset {offset}: no bytes left to read"
            )
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
    raise VarintError(
        f"{kind} at offset {offset} is too long: byte {max_bytes} still has its continuation "
        f"bit set (a {kind} is at most {max_bytes} bytes)"
    )


def decode_unsigned_varint(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Read an unsigned 32-bit varint at ``offset``; return (value, offset after it)."""
    value, pos = _decode_unsigned(data, offset, _MAX_VARINT_BYTES, "varint")
    return value & 0xFFFFFFFF, pos


def encode_varint(value: int) -> bytes:
    """Zigzag-encode a signed 32-bit int as 1-5 bytes (ByteUtils.writeVarint)."""
    return encode_unsigned_varint(zigzag_encode(value, 32))


def decode_varint(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Read a zigzag varint at ``offset``; return (value, offset after it) (ByteUtils.readVarint)."""
    raw, pos = decode_unsigned_varint(data, offset)
    return zigzag_decode(raw), pos


def encode_varlong(value: int) -> bytes:
    """Zigzag-encode a signed 64-bit int as 1-10 bytes (ByteUtils.writeVarlong)."""
    return encode_unsigned_varint(zigzag_encode(value, 64))


def decode_varlong(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Read a zigzag varlong at ``offset``; return (value, offset after it) (ByteUtils.readVarlong)."""
    raw, pos = _decode_unsigned(data, offset, _MAX_VARLONG_BYTES, "varlong")
    return zigzag_decode(raw & 0xFFFFFFFFFFFFFFFF), pos


def size_of_unsigned_varint(value: int) -> int:
    """Bytes needed for an unsigned varint (ByteUtils.sizeOfUnsignedVarint)."""
    return max(1, (value.bit_length() + 6) // 7)


def size_of_varint(value: int) -> int:
    """Bytes :func:`encode_varint` writes for ``value`` (ByteUtils.sizeOfVarint)."""
    return size_of_unsigned_varint(zigzag_encode(value, 32))


def size_of_varlong(value: int) -> int:
    """Bytes :func:`encode_varlong` writes for ``value`` (ByteUtils.sizeOfVarlong)."""
    return size_of_unsigned_varint(zigzag_encode(value, 64))
