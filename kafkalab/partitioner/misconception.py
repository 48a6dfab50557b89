"""The course notes' partition formula, ``abs(murmur2(key)) % (numPartitions - 1)``, and its two bugs.

Kafka never used that formula. It uses ``toPositive(murmur2(key)) % numPartitions``
(``BuiltInPartitioner.partitionForKey``). The notes' version breaks in two ways:

1. ``% (n - 1)`` can never produce ``n - 1``: the last partition gets no keyed records, and with a
   single partition it divides by zero.
2. ``Math.abs`` of Java's ``Integer.MIN_VALUE`` overflows and stays negative, so a negative
   partition would come out. Even where ``abs`` works, it maps a negative hash to a different
   number than ``toPositive`` does, so the partition differs from Kafka's.

Kafka: BuiltInPartitioner#partitionForKey, Utils#toPositive (whose Javadoc warns against Math.abs).
"""

from __future__ import annotations

from typing import Iterable

from kafkalab.partitioner.murmur2 import murmur2, partition_for_key, to_positive

INT_MIN = -(2**31)


def java_abs(number: int) -> int:
    """Java's ``Math.abs(int)``: overflows for ``Integer.MIN_VALUE``, which stays negative."""
    return INT_MIN if number == INT_MIN else abs(number)


def notes_formula_from_hash(hash_value: int, num_partitions: int) -> int:
    """The notes' formula applied to a hash, with Java's ``%`` (the sign follows the dividend)."""
    if num_partitions - 1 == 0:
        raise ZeroDivisionError("numPartitions - 1 is 0 for a topic with one partition: / by zero")
    dividend = java_abs(hash_value)
    divisor = num_partitions - 1
    remainder = abs(dividend) % divisor
    return -remainder if dividend < 0 else remainder


def notes_formula(key: bytes, num_partitions: int) -> int:
    """``Math.abs(Utils.murmur2(keyBytes)) % (numPartitions - 1)`` — as the course notes write it."""
    return notes_formula_from_hash(murmur2(key), num_partitions)


def partition_usage(keys: Iterable[bytes], num_partitions: int) -> dict[str, list[int]]:
    """How many of ``keys`` each partition receives, by Kafka's formula and by the notes' one."""
    kafka = [0] * num_partitions
    notes = [0] * num_partitions
    for key in keys:
        kafka[partition_for_key(key, num_partitions)] += 1
        notes[notes_formula(key, num_partitions)] += 1
    return {"kafka": kafka, "notes": notes}


def bug_last_partition_unused(num_partitions: int = 4, key_count: int = 1000) -> dict[str, object]:
    """Bug 1: with ``% (n - 1)`` the last partition never receives a keyed record."""
    keys = [f"key-{i}".encode() for i in range(key_count)]
    usage = partition_usage(keys, num_partitions)
    return {
        "num_partitions": num_partitions,
        "keys": key_count,
        "kafka_per_partition": usage["kafka"],
        "notes_per_partition": usage["notes"],
        "last_partition_under_notes": usage["notes"][-1],
    }


def bug_abs_of_min_value(num_partitions: int = 4) -> dict[str, int]:
    """Bug 2: ``Math.abs(Integer.MIN_VALUE)`` is negative, so the notes' formula yields a negative partition.

    A murmur2 result of exactly ``Integer.MIN_VALUE`` is one hash in 2^32: we show the arithmetic on
    the value itself rather than on a key (finding such a key would take billions of tries).
    """
    return {
        "hash": INT_MIN,
        "java_abs": java_abs(INT_MIN),
        "notes_partition": notes_formula_from_hash(INT_MIN, num_partitions),
        "to_positive": to_positive(INT_MIN),
        "kafka_partition": to_positive(INT_MIN) % num_partitions,
    }


def abs_versus_to_positive(keys: Iterable[bytes], num_partitions: int) -> list[dict[str, object]]:
    """Keys with a negative murmur2, where ``abs`` and ``toPositive`` send the key to different partitions."""
    rows = []
    for key in keys:
        hash_value = murmur2(key)
        if hash_value >= 0:
            continue
        with_abs = java_abs(hash_value) % num_partitions
        with_to_positive = to_positive(hash_value) % num_partitions
        rows.append(
            {
                "key": key,
                "murmur2": hash_value,
                "abs": java_abs(hash_value),
                "to_positive": to_positive(hash_value),
                "partition_with_abs": with_abs,
                "kafka_partition": with_to_positive,
                "differ": with_abs != with_to_positive,
            }
        )
    return rows
