"""Where a record *without* a key goes: three generations of Kafka's answer.

* **Before 2.4 — round robin.** ``DefaultPartitioner`` kept a counter per topic (starting at a
  random value) and took ``toPositive(counter++) % available``: every record to the next partition.
  Many small batches, one per partition, so poor batching and higher latency.
* **2.4 to 3.2 — sticky (KIP-480).** Stick to one partition until its batch is sent
  (``onNewBatch``), then pick another available partition at random. Bigger batches; but a slow
  broker's partitions fill *more* while waiting, so they got *more* data (the skew KIP-794 fixes).
* **3.3+ — uniform sticky, built in (KIP-794).** ``BuiltInPartitioner`` switches partition after
  ``batch.size`` bytes were produced to the current one (up to twice that while the current batch
  is not full), and with ``partitioner.adaptive.partitioning.enable`` (default true) picks the next
  partition with probability weighted towards *shorter* queues.

All randomness comes from a ``random.Random`` the caller passes in (the simulator's), standing in
for Java's ``ThreadLocalRandom.nextInt()``.

Kafka: DefaultPartitioner (≤2.3), StickyPartitionCache / UniformStickyPartitioner (KIP-480),
BuiltInPartitioner and KafkaProducer#partition (KIP-794); config keys ``partitioner.class``,
``partitioner.ignore.keys``, ``partitioner.adaptive.partitioning.enable``,
``partitioner.availability.timeout.ms``, ``batch.size``.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import Callable, Sequence

from kafkalab.partitioner.murmur2 import partition_for_key, to_positive, to_signed_32


def java_next_int(rng: random.Random) -> int:
    """What Java's ``Random.nextInt()`` returns: any signed 32-bit int."""
    return to_signed_32(rng.getrandbits(32))


def random_partition(rng: random.Random) -> int:
    """``Utils.toPositive(ThreadLocalRandom.current().nextInt())``."""
    return to_positive(java_next_int(rng))


class LegacyRoundRobin:
    """Kafka ≤ 2.3 ``DefaultPartitioner`` for null keys: a per-topic counter over available partitions."""

    name = "round-robin (before 2.4)"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counters: dict[str, int] = {}

    def partition(self, topic: str, num_partitions: int, available: Sequence[int] | None = None) -> int:
        counter = self.counters.get(topic)
        if counter is None:
            counter = java_next_int(self.rng)  # Kafka started the counter at a random value
        self.counters[topic] = to_signed_32(counter + 1)
        candidates = list(available) if available else list(range(num_partitions))
        return candidates[to_positive(counter) % len(candidates)]

    def on_new_batch(self, topic: str, num_partitions: int, previous_partition: int) -> None:
        """Round robin does not care about batches."""


class StickyPartitioner:
    """KIP-480 (Kafka 2.4–3.2): keep one partition until a new batch starts, then switch at random."""

    name = "sticky (KIP-480, 2.4)"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sticky: dict[str, int] = {}

    def partition(self, topic: str, num_partitions: int, available: Sequence[int] | None = None) -> int:
        if topic not in self.sticky:
            return self._next_partition(topic, num_partitions, available, previous=None)
        return self.sticky[topic]

    def on_new_batch(self, topic: str, num_partitions: int, previous_partition: int, available: Sequence[int] | None = None) -> None:
        """The batch for ``previous_partition`` was full or sent: move on (``StickyPartitionCache.nextPartition``)."""
        if self.sticky.get(topic) in (None, previous_partition):
            self._next_partition(topic, num_partitions, available, previous=self.sticky.get(topic))

    def _next_partition(self, topic: str, num_partitions: int, available: Sequence[int] | None, previous: int | None) -> int:
        candidates = list(available) if available else []
        if not candidates:
            chosen = random_partition(self.rng) % num_partitions
        elif len(candidates) == 1:
            chosen = candidates[0]
        else:
            chosen = previous
            while chosen is None or chosen == previous:
                chosen = candidates[random_partition(self.rng) % len(candidates)]
        self.sticky[topic] = chosen
        return chosen


@dataclass
class PartitionLoadStats:
    """A cumulative frequency table built from queue sizes: shorter queues get wider slots."""

    cumulative_frequency_table: list[int]
    partition_ids: list[int]


def partition_load_stats(queue_sizes: Sequence[int], partition_ids: Sequence[int]) -> PartitionLoadStats | None:
    """``BuiltInPartitioner.updatePartitionLoadStats``: invert queue sizes and take running sums.

    Queue sizes 0 3 1 → inverted against max+1 = 4 → 4 1 3 → running sum 4 5 8: a random number in
    [0, 8) lands on partition 0 for 0–3, partition 1 for 4, partition 2 for 5–7. Equal queues (or
    fewer than two partitions) need no table: None means "uniform".
    """
    # BEGIN EXERCISE ex04_sticky_partitioner
    if len(queue_sizes) != len(partition_ids):
        raise ValueError("queue_sizes and partition_ids must have the same length")
    if len(queue_sizes) < 2 or len(set(queue_sizes)) == 1:
        return None
    max_plus_one = max(queue_sizes) + 1
    table: list[int] = []
    running = 0
    for size in queue_sizes:
        running += max_plus_one - size
        table.append(running)
    return PartitionLoadStats(table, list(partition_ids))
    # END EXERCISE


class UniformStickyPartitioner:
    """Kafka 3.3+ ``BuiltInPartitioner`` (KIP-794): switch after ``batch.size`` bytes, weighted by queue sizes."""

    name = "uniform sticky (KIP-794, 3.3+)"

    def __init__(self, rng: random.Random, batch_size: int = 16384, adaptive: bool = True) -> None:
        if batch_size < 1:
            raise ValueError(f"batch.size must be positive, got {batch_size}")
        self.rng = rng
        self.sticky_batch_size = batch_size
        self.adaptive = adaptive
        self.sticky: dict[str, int] = {}
        self.produced_bytes: dict[str, int] = {}
        self.load_stats: dict[str, PartitionLoadStats | None] = {}

    def update_queue_sizes(self, topic: str, queue_sizes: Sequence[int], partition_ids: Sequence[int]) -> None:
        """What the accumulator reports: bytes (or batches) waiting per partition."""
        self.load_stats[topic] = partition_load_stats(queue_sizes, partition_ids) if self.adaptive else None

    def partition(self, topic: str, num_partitions: int, available: Sequence[int] | None = None) -> int:
        """The current sticky partition (``peekCurrentPartitionInfo``)."""
        if topic not in self.sticky:
            self.sticky[topic] = self.next_partition(topic, num_partitions, available)
            self.produced_bytes[topic] = 0
        return self.sticky[topic]

    def next_partition(self, topic: str, num_partitions: int, available: Sequence[int] | None = None) -> int:
        """``BuiltInPartitioner.nextPartition``: uniform over available partitions, or weighted."""
        # BEGIN EXERCISE ex04_sticky_partitioner
        draw = random_partition(self.rng)
        stats = self.load_stats.get(topic)
        if stats is None:
            if available:
                return list(available)[draw % len(available)]
            return draw % num_partitions
        table = stats.cumulative_frequency_table
        weighted = draw % table[-1]
        return stats.partition_ids[bisect.bisect_right(table, weighted)]
        # END EXERCISE

    def record_appended(self, topic: str, num_partitions: int, appended_bytes: int, enable_switch: bool = True,
                        available: Sequence[int] | None = None) -> bool:
        """``updatePartitionInfo``: count bytes; switch after batch.size (2×batch.size if the batch isn't full).

        ``enable_switch`` is the accumulator's "all batches for this partition are full". Returns
        True when the partitioner switched.
        """
        # BEGIN EXERCISE ex04_sticky_partitioner
        produced = self.produced_bytes.get(topic, 0) + appended_bytes
        self.produced_bytes[topic] = produced
        if (produced >= self.sticky_batch_size and enable_switch) or produced >= 2 * self.sticky_batch_size:
            self.sticky[topic] = self.next_partition(topic, num_partitions, available)
            self.produced_bytes[topic] = 0
            return True
        return False
        # END EXERCISE


UNKNOWN_PARTITION = -1

CustomPartitioner = Callable[[str, "bytes | None", int], int]


def choose_partition(
    topic: str,
    key: bytes | None,
    num_partitions: int,
    *,
    explicit_partition: int | None = None,
    custom_partitioner: CustomPartitioner | None = None,
    ignore_keys: bool = False,
) -> int:
    """``KafkaProducer.partition``: explicit > custom ``partitioner.class`` > key hash > built-in sticky.

    Returns ``UNKNOWN_PARTITION`` (-1) when the built-in sticky partitioner must decide (null key, or
    ``partitioner.ignore.keys=true``); the record accumulator then asks it.
    """
    if explicit_partition is not None:
        if not 0 <= explicit_partition < num_partitions:
            raise ValueError(f"partition {explicit_partition} is not in the range [0...{num_partitions - 1}] of topic {topic!r}")
        return explicit_partition
    if custom_partitioner is not None:
        chosen = custom_partitioner(topic, key, num_partitions)
        if chosen < 0:
            raise ValueError(f"the custom partitioner returned {chosen}: partitions must be >= 0")
        return chosen
    if key is not None and not ignore_keys:
        return partition_for_key(key, num_partitions)
    return UNKNOWN_PARTITION
