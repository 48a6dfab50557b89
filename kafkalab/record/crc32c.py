"""CRC-32C (Castagnoli): the checksum that guards every v2 record batch.

Message format v2 switched from CRC-32 to CRC-32C because modern CPUs compute it in hardware.
The batch's ``crc`` field covers the bytes from ``attributes`` to the end of the batch, so a
broker can rewrite ``base_offset`` and ``partition_leader_epoch`` (which come before it) without
recomputing the checksum.

The algorithm is the reflected CRC with polynomial 0x1EDC6F41 (0x82F63B78 reflected), initial
value and final XOR 0xFFFFFFFF. Its standard check value is ``crc32c(b"123456789") == 0xE3069283``.
``crc32c(b, crc32c(a)) == crc32c(a + b)``, so a checksum can be computed in pieces.

:func:`crc32c` uses the ``crc32c`` C extension when it is importable (``IMPLEMENTATION ==
"crc32c"``), otherwise the table-driven :func:`crc32c_pure` (``IMPLEMENTATION == "pure"``); both
return identical results.

Kafka: org.apache.kafka.common.utils.Crc32C, DefaultRecordBatch.computeChecksum; KIP-98.
"""

from __future__ import annotations

from typing import Callable

__all__ = ["crc32c", "crc32c_pure", "IMPLEMENTATION"]

_POLY_REFLECTED = 0x82F63B78


def _make_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _POLY_REFLECTED if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_TABLE = _make_table()


def crc32c_pure(data: bytes, crc: int = 0) -> int:
    """CRC-32C of ``data``, continuing from ``crc``; one table lookup per byte (pure Python)."""
    table = _TABLE
    c = crc ^ 0xFFFFFFFF
    for b in bytes(data):
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _load_accelerated() -> tuple[Callable[[bytes, int], int], str]:
    try:
        import crc32c as _c  # the PyPI package, not this module

        fn = _c.crc32c

        def accelerated(data: bytes, crc: int = 0) -> int:
            return fn(bytes(data), crc)

        return accelerated, "crc32c"
    except Exception:  # ImportError, or an incompatible build
        return crc32c_pure, "pure"


_impl, IMPLEMENTATION = _load_accelerated()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C of ``data`` (continuing from ``crc``), as Kafka's Crc32C computes it."""
    return _impl(data, crc)
