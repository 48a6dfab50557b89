"""Idempotent producers on the broker: producer ids, epochs, and sequence numbers per partition.

An idempotent producer stamps each batch with its producer id, epoch and the sequence number of
the batch's first record (per partition, counting records from 0). For each partition the broker
remembers, per producer, the metadata of the last five batches it appended. A batch that repeats
one of them is a *duplicate* (a retry of something already written): it is not appended again,
and the producer gets the original offset back. A batch whose first sequence is not the last
one + 1 is *out of order* (OUT_OF_ORDER_SEQUENCE_NUMBER): an earlier batch is missing, so the
producer must resend in order. A batch from an older epoch is fenced (INVALID_PRODUCER_EPOCH).

Five is why ``max.in.flight.requests.per.connection`` may be at most 5 with idempotence.

Kafka: org.apache.kafka.storage.internals.log.ProducerStateManager, ProducerAppendInfo
(checkProducerEpoch, checkSequence), ProducerStateEntry (NUM_BATCHES_TO_RETAIN = 5), KIP-98.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from kafkalab.errors import CoordinatorLoadInProgressError, InvalidProducerEpochError, OutOfOrderSequenceNumberError
from kafkalab.record import RecordBatch

NUM_BATCHES_TO_RETAIN = 5
INT_MAX = 2**31 - 1


def last_sequence(batch: RecordBatch) -> int:
    """The sequence of the batch's last record (sequences wrap around after Integer.MAX_VALUE)."""
    return (batch.base_sequence + batch.last_offset_delta) % (INT_MAX + 1)


@dataclass(frozen=True)
class BatchMetadata:
    first_sequence: int
    last_sequence: int
    first_offset: int
    last_offset: int


@dataclass
class ProducerStateEntry:
    producer_id: int
    producer_epoch: int
    batches: deque[BatchMetadata] = field(default_factory=lambda: deque(maxlen=NUM_BATCHES_TO_RETAIN))

    @property
    def last_sequence(self) -> int:
        return self.batches[-1].last_sequence if self.batches else -1


class ProducerStateManager:
    """One partition's memory of idempotent producers."""

    def __init__(self) -> None:
        self.producers: dict[int, ProducerStateEntry] = {}

    def check(self, batch: RecordBatch) -> BatchMetadata | None:
        """Validate a batch before appending: the duplicate it repeats (or None), or raise Kafka's error."""
        # BEGIN EXERCISE ex06_idempotence
        if batch.producer_id < 0:
            return None  # not an idempotent producer: nothing to check
        entry = self.producers.get(batch.producer_id)
        if entry is not None and batch.producer_epoch < entry.producer_epoch:
            raise InvalidProducerEpochError(
                f"epoch {batch.producer_epoch} of producer {batch.producer_id} is older than the current epoch {entry.producer_epoch}"
            )
        if entry is None or batch.producer_epoch > entry.producer_epoch:
            if batch.base_sequence != 0:
                raise OutOfOrderSequenceNumberError(
                    f"producer {batch.producer_id} (epoch {batch.producer_epoch}) is new here, so its first sequence must be 0, got {batch.base_sequence}"
                )
            return None
        for seen in entry.batches:
            if (seen.first_sequence, seen.last_sequence) == (batch.base_sequence, last_sequence(batch)):
                return seen
        expected = (entry.last_sequence + 1) % (INT_MAX + 1)
        if batch.base_sequence != expected:
            raise OutOfOrderSequenceNumberError(
                f"Out of order sequence number for producer {batch.producer_id}: {batch.base_sequence} (incoming seq. number), "
                f"{entry.last_sequence} (current end sequence number)"
            )
        return None
        # END EXERCISE

    def update(self, batch: RecordBatch, first_offset: int, last_offset: int) -> None:
        """Remember an appended batch (only the last five per producer are kept)."""
        if batch.producer_id < 0:
            return
        entry = self.producers.get(batch.producer_id)
        if entry is None or batch.producer_epoch > entry.producer_epoch:
            entry = self.producers[batch.producer_id] = ProducerStateEntry(batch.producer_id, batch.producer_epoch)
        entry.batches.append(BatchMetadata(batch.base_sequence, last_sequence(batch), first_offset, last_offset))


class ProducerIdManager:
    """Hands out producer ids. Kafka's brokers take blocks of 1000 ids from the controller (KIP-730).
    In the simulator each broker owns a fixed, disjoint range instead — the same uniqueness without
    the round trip (a simulated broker keeps its counter across crashes). A real process forgets its
    counter when it restarts, so the wire layer calls :meth:`use_controller_blocks` and feeds it the
    controller's blocks (RPCProducerIdManager)."""

    BLOCK = 1_000_000

    def __init__(self, broker_id: int) -> None:
        self.next_id = broker_id * self.BLOCK
        self.block_end: int | None = None  # with controller blocks: where the current block ends
        self.next_block: tuple[int, int] | None = None  # a block fetched ahead of need
        self.request_block: Callable[[], None] | None = None
        self.block_requested = False

    def use_controller_blocks(self, request_block: Callable[[], None]) -> None:
        """From now on, ids come from blocks the controller allocates; ``request_block`` asks for one,
        and the answer arrives through :meth:`add_block`."""
        self.request_block = request_block
        self.next_id = self.block_end = 0
        self._ask()

    def add_block(self, start: int, length: int) -> None:
        self.block_requested = False
        if self.block_end is not None and self.next_id >= self.block_end:
            self.next_id, self.block_end = start, start + length
        else:
            self.next_block = (start, length)

    def _ask(self) -> None:
        if not self.block_requested and self.request_block is not None:
            self.block_requested = True
            self.request_block()

    def generate(self) -> int:
        if self.block_end is not None:
            if self.next_id >= self.block_end and self.next_block is None:
                self._ask()  # may be answered at once (a combined node's own controller)
            if self.next_id >= self.block_end:
                if self.next_block is None:
                    raise CoordinatorLoadInProgressError("waiting for a block of producer ids from the controller (KIP-730); retry")
                (self.next_id, length), self.next_block = self.next_block, None
                self.block_end = self.next_id + length
            if self.next_block is None and self.block_end - self.next_id <= 100:  # prefetch when 90% of a block is used
                self._ask()
        producer_id = self.next_id
        self.next_id += 1
        return producer_id
