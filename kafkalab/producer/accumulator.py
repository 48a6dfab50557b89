"""The RecordAccumulator: per-partition queues of batches between ``send()`` and the sender.

``send()`` only appends to the accumulator; a separate sender loop asks it which brokers have
batches *ready* and *drains* them into requests. A partition's first batch is ready when

* it is full (or more batches wait behind it), or
* it has waited ``linger.ms`` (``retry.backoff.ms`` for a retry), or
* memory is exhausted (appends are waiting), or the producer is flushing or closing.

Memory is bounded by ``buffer.memory``: a new batch reserves ``max(batch.size, record size)``
bytes and returns them when it completes. When none are left, ``append`` raises
:class:`BufferExhaustedError`; the producer then waits up to ``max.block.ms``. (This is sans-IO:
the accumulator never blocks or reads a clock; ``now_ms`` comes in with every call.)

``drain`` visits each ready broker's partitions round-robin — starting where the last drain
stopped, so no partition starves — and takes one batch per partition until ``max.request.size``.

Kafka: org.apache.kafka.clients.producer.internals.RecordAccumulator (append, ready, drain,
reenqueue, expiredBatches), BufferPool, BuiltInPartitioner; keys ``batch.size``, ``linger.ms``,
``buffer.memory``, ``max.request.size``, ``retry.backoff.ms``, ``delivery.timeout.ms``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from kafkalab.errors import KafkaError
from kafkalab.producer.batch import Callback, ProducerBatch, record_size_upper_bound
from kafkalab.record import RECORD_BATCH_OVERHEAD, CompressionType, Record


class BufferExhaustedError(KafkaError):
    """No room in buffer.memory for a new batch; the producer blocks up to max.block.ms."""

    error_name = "BUFFER_EXHAUSTED"


class ProducerClosedError(RuntimeError):
    """Kafka's IllegalStateException for a send after close()."""


@dataclass
class ReadyCheck:
    """What ``ready`` found: brokers with sendable batches, and when to look again."""

    ready_nodes: set[int] = field(default_factory=set)
    next_ready_check_delay_ms: int = 2**63 - 1
    unknown_leader_topics: set[str] = field(default_factory=set)


class RecordAccumulator:
    """Per-partition deques of ProducerBatch, a memory budget, and ready/drain for the sender."""

    def __init__(
        self,
        batch_size: int = 16384,
        linger_ms: int = 5,
        buffer_memory: int = 33554432,
        retry_backoff_ms: int = 100,
        delivery_timeout_ms: int = 120000,
        compression: CompressionType = CompressionType.NONE,
    ) -> None:
        self.batch_size = batch_size
        self.linger_ms = linger_ms
        self.buffer_memory = buffer_memory
        self.retry_backoff_ms = retry_backoff_ms
        self.delivery_timeout_ms = delivery_timeout_ms
        self.compression = compression
        self.batches: dict[tuple[str, int], deque[ProducerBatch]] = {}
        self.available_memory = buffer_memory
        self.waiting_for_memory = 0  # appends that found no memory (makes batches sendable)
        self.flushes_in_progress = 0
        self.closed = False
        self._drain_index: dict[int, int] = {}

    # -- append ------------------------------------------------------------------------------
    def append(self, topic: str, partition: int, record: Record, callback: Callback | None, now_ms: int) -> tuple[ProducerBatch, bool]:
        """Add a record to its partition's last batch, or to a new one. Returns (batch, new batch created)."""
        if self.closed:
            raise ProducerClosedError("Cannot perform operation after producer has been closed")
        queue = self.batches.setdefault((topic, partition), deque())
        if queue and queue[-1].try_append(record, callback, now_ms):
            return queue[-1], False
        needed = max(self.batch_size, RECORD_BATCH_OVERHEAD + record_size_upper_bound(record.key, record.value, record.headers))
        if needed > self.available_memory:
            self.waiting_for_memory += 1
            raise BufferExhaustedError(f"{needed} bytes needed for a new batch, {self.available_memory} of buffer.memory={self.buffer_memory} free")
        self.available_memory -= needed
        batch = ProducerBatch(topic, partition, now_ms, needed, self.compression)
        appended = batch.try_append(record, callback, now_ms)
        assert appended, "an empty batch always takes its first record"
        queue.append(batch)
        return batch, True

    def memory_freed(self) -> None:
        """A blocked append may retry now."""
        self.waiting_for_memory = 0

    # -- ready ---------------------------------------------------------------------------------
    def ready(self, leaders: dict[tuple[str, int], int], now_ms: int) -> ReadyCheck:
        """Which brokers have a sendable first batch (RecordAccumulator.ready)."""
        # BEGIN EXERCISE ex05_accumulator
        check = ReadyCheck()
        exhausted = self.waiting_for_memory > 0
        for (topic, partition), queue in self.batches.items():
            if not queue:
                continue
            leader = leaders.get((topic, partition))
            if leader is None or leader < 0:
                check.unknown_leader_topics.add(topic)
                continue
            batch = queue[0]
            backing_off = batch.retry and batch.waited_ms(now_ms) < self.retry_backoff_ms
            wait_limit = self.retry_backoff_ms if batch.retry else self.linger_ms
            waited = batch.waited_ms(now_ms)
            full = len(queue) > 1 or batch.is_full()
            expired = waited >= wait_limit
            sendable = full or expired or exhausted or self.closed or self.flushes_in_progress > 0
            if sendable and not backing_off:
                check.ready_nodes.add(leader)
            else:
                check.next_ready_check_delay_ms = min(check.next_ready_check_delay_ms, max(wait_limit - waited, 0))
        return check
        # END EXERCISE

    # -- drain ---------------------------------------------------------------------------------
    def drain(
        self, leaders: dict[tuple[str, int], int], ready_nodes: set[int], max_request_size: int, now_ms: int,
        hold: Callable[[ProducerBatch], bool] | None = None,
    ) -> dict[int, list[ProducerBatch]]:
        """For each ready broker, one batch per partition it leads, until ``max.request.size``.

        ``hold(batch)`` keeps a partition's first batch back this time (the idempotent producer's
        rule: a retried batch goes only when it is the lowest sequence in flight).
        """
        # BEGIN EXERCISE ex05_accumulator
        drained: dict[int, list[ProducerBatch]] = {}
        for node in sorted(ready_nodes):
            partitions = sorted(key for key, leader in leaders.items() if leader == node and self.batches.get(key))
            if not partitions:
                continue
            start = self._drain_index.get(node, 0) % len(partitions)
            taken: list[ProducerBatch] = []
            size = 0
            for step in range(len(partitions)):
                key = partitions[(start + step) % len(partitions)]
                queue = self.batches[key]
                batch = queue[0]
                if batch.retry and batch.waited_ms(now_ms) < self.retry_backoff_ms:
                    continue
                if hold is not None and hold(batch):
                    continue
                if taken and size + batch.estimated_size > max_request_size:
                    break  # the rest waits for the next request
                queue.popleft()
                batch.attempts += 1
                batch.last_attempt_ms = now_ms
                taken.append(batch)
                size += batch.estimated_size
                self._drain_index[node] = (start + step + 1) % len(partitions)
            if taken:
                drained[node] = taken
        return drained
        # END EXERCISE

    # -- after the broker answered ------------------------------------------------------------
    def reenqueue(self, batch: ProducerBatch, now_ms: int) -> None:
        """Put a batch to retry back at the front of its queue, marked as a retry.

        With sequence numbers (idempotence) it goes in sequence order among other retried batches,
        so they are resent in the order the broker expects (RecordAccumulator.insertInSequenceOrder).
        """
        batch.retry = True
        batch.last_attempt_ms = now_ms
        queue = self.batches.setdefault((batch.topic, batch.partition), deque())
        position = 0
        if batch.base_sequence >= 0:
            while position < len(queue) and 0 <= queue[position].base_sequence < batch.base_sequence:
                position += 1
        queue.insert(position, batch)

    def deallocate(self, batch: ProducerBatch) -> None:
        """The batch completed (success or final failure): give its memory back."""
        self.available_memory += batch.capacity
        assert self.available_memory <= self.buffer_memory, "more memory returned than was taken"
        self.memory_freed()

    def expired_batches(self, now_ms: int) -> list[ProducerBatch]:
        """Batches older than delivery.timeout.ms still waiting in the accumulator (they fail)."""
        expired = []
        for queue in self.batches.values():
            while queue and now_ms - queue[0].created_ms >= self.delivery_timeout_ms:
                expired.append(queue.popleft())
        return expired

    def has_undrained(self) -> bool:
        return any(self.batches.values())

    def begin_flush(self) -> None:
        self.flushes_in_progress += 1

    def end_flush(self) -> None:
        self.flushes_in_progress -= 1

    def close(self) -> None:
        self.closed = True
