"""The JVM behaviours that Kafka's results depend on, bit for bit: ``String.hashCode``,
``HashMap`` iteration order and ``java.util.Random``.

Which coordinator owns a group (``String.hashCode``), which member a sticky assignor serves first
(``HashMap`` order) and where a topic's replicas land (``Random``) all come from these; porting
them lets kafkalab check itself against the exact values in Kafka's own tests.

Kafka's StripedReplicaPlacer draws its starting offsets and shuffles from a ``java.util.Random``;
its tests use ``MockRandom`` (a different generator behind the same ``next(bits)``). Porting both
lets kafkalab check its placement against the exact lists in StripedReplicaPlacerTest.

Kafka/JDK: java.lang.String#hashCode, java.util.HashMap#hash, java.util.Random (48-bit linear congruential generator), java.util.Collections#shuffle,
org.apache.kafka.server.util.MockRandom.
"""

from __future__ import annotations

from typing import Callable, MutableSequence, Sequence, TypeVar

_MULTIPLIER = 0x5DEECE66D
_ADDEND = 0xB
_MASK_48 = (1 << 48) - 1
_MASK_64 = (1 << 64) - 1

T = TypeVar("T")
K = TypeVar("K")


def _to_int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def java_string_hash(text: str) -> int:
    """java.lang.String#hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, as a signed int32."""
    value = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        value = (31 * value + int.from_bytes(data[i:i + 2], "big")) & 0xFFFFFFFF
    return _to_int32(value)


def java_hashmap_order(keys: Sequence[K], hash_code: Callable[[K], int] = java_string_hash) -> list[K]:
    """The iteration order of a java.util.HashMap filled with ``keys`` in this order (String keys
    unless ``hash_code`` says how the key type hashes).

    Buckets in index order (``(h ^ h >>> 16) & (capacity - 1)``), and insertion order inside a
    bucket; the table starts at 16 and doubles when it is more than 3/4 full.
    """
    capacity = 16
    while len(keys) > capacity * 3 // 4:
        capacity *= 2

    def bucket(key: K) -> int:
        h = hash_code(key) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    indexed = sorted(enumerate(keys), key=lambda item: (bucket(item[1]), item[0]))
    return [key for _, key in indexed]


class JavaRandom:
    """``new java.util.Random(seed)``: the same seed gives the same numbers as on a JVM."""

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ _MULTIPLIER) & _MASK_48

    def next(self, bits: int) -> int:
        """Random#next: the top ``bits`` bits of the next 48-bit state, as a signed int."""
        self._seed = (self._seed * _MULTIPLIER + _ADDEND) & _MASK_48
        return _to_int32(self._seed >> (48 - bits))

    def next_int(self, bound: int) -> int:
        """Random#nextInt(bound): uniform in [0, bound), rejecting the values that would bias it."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        r = self.next(31)
        m = bound - 1
        if bound & m == 0:  # a power of two: take the high bits
            return _to_int32((bound * r) >> 31)
        u = r
        r = u % bound
        while _to_int32(u - r + m) < 0:  # Java's int overflow marks a biased draw
            u = self.next(31)
            r = u % bound
        return r

    def shuffle(self, items: MutableSequence[T]) -> None:
        """Collections#shuffle(list, random): swap each position, from the last down, with an earlier one."""
        for i in range(len(items), 1, -1):
            j = self.next_int(i)
            items[i - 1], items[j] = items[j], items[i - 1]


class MockRandom(JavaRandom):
    """Kafka's test generator (server-common MockRandom): a 64-bit LCG, seed 17 by default."""

    def __init__(self, state: int = 17) -> None:
        self._state = state & _MASK_64

    def next(self, bits: int) -> int:
        self._state = (self._state * 2862933555777941757 + 3037000493) & _MASK_64
        return _to_int32(self._state >> (64 - bits))
