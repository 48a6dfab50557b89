"""MurmurHash3 (32-bit), to show why the hash function is part of a topic's contract.

Other systems hash keys with murmur3 (``mmh3``). If a producer switched from Kafka's murmur2 to
murmur3 under a running topic, existing keys would land in new partitions and per-key order would
break — exactly like changing the partition count. ``mmh3`` is used when installed; a pure-Python
fallback gives identical results (kept for the browser edition).

Kafka: none — Kafka's Java client uses murmur2 (Utils#murmur2). librdkafka's default is CRC32
(``partitioner=consistent_random``); set ``partitioner=murmur2_random`` to match Java.
"""

from __future__ import annotations

from typing import Callable, Iterable

try:  # the C accelerator is optional
    import mmh3 as _mmh3
except ImportError:  # pragma: no cover - exercised by forcing the fallback in tests
    _mmh3 = None

MASK_32 = 0xFFFFFFFF


def _rotl32(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & MASK_32


def murmur3_32_pure(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit, signed like ``mmh3.hash``."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & MASK_32
    length = len(data)
    whole = length - length % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = _rotl32((k * c1) & MASK_32, 15)
        h ^= (k * c2) & MASK_32
        h = (_rotl32(h, 13) * 5 + 0xE6546B64) & MASK_32
    k = 0
    tail = length % 4
    if tail == 3:
        k ^= data[whole + 2] << 16
    if tail >= 2:
        k ^= data[whole + 1] << 8
    if tail >= 1:
        k ^= data[whole]
        k = _rotl32((k * c1) & MASK_32, 15)
        h ^= (k * c2) & MASK_32
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK_32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK_32
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit (signed), with the C ``mmh3`` when available."""
    if _mmh3 is not None:
        return _mmh3.hash(data, seed, signed=True)
    return murmur3_32_pure(data, seed)


IMPLEMENTATION = "mmh3" if _mmh3 is not None else "pure"

HashFunction = Callable[[bytes], int]


def moved_keys(keys: Iterable[bytes], old: tuple[HashFunction, int], new: tuple[HashFunction, int]) -> dict[str, object]:
    """How many keys change partition between (hash, partition count) ``old`` and ``new``."""
    keys = list(keys)
    moved = [key for key in keys if (old[0](key) & 0x7FFFFFFF) % old[1] != (new[0](key) & 0x7FFFFFFF) % new[1]]
    return {"keys": len(keys), "moved": len(moved), "fraction_moved": len(moved) / len(keys) if keys else 0.0, "examples": moved[:5]}
