"""The notes' formula is wrong in two ways; murmur3 is not a drop-in replacement for murmur2."""

from __future__ import annotations

import os

import pytest

from kafkalab.partitioner import murmur2, partition_for_key
from kafkalab.partitioner import murmur3 as murmur3_module
from kafkalab.partitioner.misconception import (
    abs_versus_to_positive,
    bug_abs_of_min_value,
    bug_last_partition_unused,
    notes_formula,
)
from kafkalab.partitioner.murmur3 import moved_keys, murmur3_32, murmur3_32_pure


def test_the_notes_formula_never_uses_the_last_partition() -> None:
    result = bug_last_partition_unused(num_partitions=4, key_count=2000)
    assert result["last_partition_under_notes"] == 0
    assert all(count > 0 for count in result["kafka_per_partition"])


def test_the_notes_formula_divides_by_zero_for_one_partition() -> None:
    with pytest.raises(ZeroDivisionError):
        notes_formula(b"k", 1)
    assert partition_for_key(b"k", 1) == 0


def test_abs_of_int_min_gives_a_negative_partition() -> None:
    result = bug_abs_of_min_value(4)
    assert result["java_abs"] < 0 and result["notes_partition"] <= 0 and result["kafka_partition"] == 0


def test_abs_and_to_positive_disagree_for_negative_hashes() -> None:
    rows = abs_versus_to_positive([f"user-{i}".encode() for i in range(200)], 6)
    assert rows and all(row["murmur2"] < 0 for row in rows)
    assert any(row["differ"] for row in rows)


def test_murmur3_known_values_and_both_paths_agree() -> None:
    assert murmur3_32_pure(b"") == 0
    assert murmur3_32_pure(b"foo") == -156908512  # mmh3.hash("foo")
    for size in range(40):
        data = os.urandom(size)
        assert murmur3_32(data, size) == murmur3_32_pure(data, size)
    assert murmur3_module.IMPLEMENTATION in {"mmh3", "pure"}


def test_swapping_the_hash_or_the_partition_count_moves_most_keys() -> None:
    keys = [f"order-{i}".encode() for i in range(1000)]
    assert moved_keys(keys, (murmur2, 6), (murmur2, 6))["moved"] == 0
    assert moved_keys(keys, (murmur2, 6), (murmur3_32, 6))["fraction_moved"] > 0.7
    assert moved_keys(keys, (murmur2, 6), (murmur2, 8))["fraction_moved"] > 0.5
