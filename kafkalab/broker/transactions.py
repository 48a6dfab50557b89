"""A partition's transactions as its leader tracks them: open transactions, markers, aborted ranges.

A transactional producer's records go into the log at once, like any others; what decides whether
a ``read_committed`` consumer may see them is the marker the transaction coordinator writes later:

* the **last stable offset** (LSO) is the first offset of the oldest transaction still open on
  this partition (or the high watermark if none is open). ``read_committed`` fetches stop there —
  records after it might still be aborted;
* a COMMIT marker makes a producer's open records visible; an ABORT marker adds the range to the
  **aborted transactions** list that fetch responses carry, so consumers can drop those records.

A marker is a *control record*: it takes an offset in the log like any record (that is why a
transactional topic's offsets have gaps as seen by consumers), with key = (version 0, type: 0 abort,
1 commit) and value = (version 0, coordinator epoch).

kafkalab's ``PartitionLog`` keeps records, not batch headers, so which producer wrote which offsets
(and which offsets are markers) lives here, next to the producer state — Kafka keeps the same
facts in the batch headers, ``ProducerStateManager`` and the ``.txnindex`` file.

Kafka: ProducerStateManager (ongoing transactions, firstUnstableOffset), TransactionIndex,
AbortedTxn, EndTransactionMarker, ControlRecordType, LogAppendInfo.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass, field, replace
from typing import Iterable

from kafkalab.log import StoredRecord

CONTROL_ABORT = 0
CONTROL_COMMIT = 1


def control_record_key(committed: bool) -> bytes:
    return struct.pack(">hh", 0, CONTROL_COMMIT if committed else CONTROL_ABORT)


def control_record_value(coordinator_epoch: int) -> bytes:
    return struct.pack(">hi", 0, coordinator_epoch)


def parse_control_key(key: bytes) -> bool:
    """True for a COMMIT marker, False for ABORT."""
    version, kind = struct.unpack(">hh", key[:4])
    if kind not in (CONTROL_ABORT, CONTROL_COMMIT):
        raise ValueError(f"unknown control record type {kind}")
    return kind == CONTROL_COMMIT


@dataclass(frozen=True)
class AbortedTransaction:
    """A producer's aborted range on this partition: from ``first_offset`` to its ABORT marker."""

    producer_id: int
    first_offset: int
    last_offset: int = -1  # the marker's offset (Kafka's AbortedTxn.lastOffset)


@dataclass
class PartitionTransactions:
    """Open transactions, markers and who wrote what, for one partition."""

    ongoing: dict[int, int] = field(default_factory=dict)  # producer id -> first offset of its open transaction
    aborted: list[AbortedTransaction] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)  # first offsets of appended ranges, sorted
    # (first, last, pid, transactional, control, producer epoch, base sequence) of every batch an idempotent
    # or transactional producer wrote: followers need it to rebuild the producer state
    _ranges: list[tuple[int, int, int, bool, bool, int, int]] = field(default_factory=list)

    def on_append(self, first_offset: int, last_offset: int, producer_id: int, transactional: bool,
                  producer_epoch: int = -1, base_sequence: int = -1) -> None:
        if producer_id < 0 and not transactional:
            return  # a plain producer's records need no bookkeeping here
        self._remember(first_offset, last_offset, producer_id, transactional, False, producer_epoch, base_sequence)
        if transactional and producer_id not in self.ongoing:
            self.ongoing[producer_id] = first_offset

    def on_marker(self, producer_id: int, committed: bool, marker_offset: int) -> None:
        self._remember(marker_offset, marker_offset, producer_id, True, True, -1, -1)
        first = self.ongoing.pop(producer_id, None)
        if first is not None and not committed:
            self.aborted.append(AbortedTransaction(producer_id, first, marker_offset))

    def _remember(self, first: int, last: int, producer_id: int, transactional: bool, control: bool,
                  producer_epoch: int, base_sequence: int) -> None:
        index = bisect.bisect_right(self._starts, first)
        self._starts.insert(index, first)
        self._ranges.insert(index, (first, last, producer_id, transactional, control, producer_epoch, base_sequence))

    def last_stable_offset(self, high_watermark: int) -> int:
        return min([high_watermark, *self.ongoing.values()])

    def aborted_between(self, fetch_offset: int, upper: int) -> tuple[AbortedTransaction, ...]:
        """Aborted transactions overlapping [fetch_offset, upper) — what a read_committed fetch needs."""
        return tuple(a for a in self.aborted if a.first_offset < upper and a.last_offset >= fetch_offset)

    def annotate(self, records: Iterable[StoredRecord]) -> list[StoredRecord]:
        """The records with their producer id, transactional and control flags filled in."""
        out = []
        for record in records:
            index = bisect.bisect_right(self._starts, record.offset) - 1
            if index >= 0:
                first, last, producer_id, transactional, control, epoch, base_sequence = self._ranges[index]
                if first <= record.offset <= last:
                    sequence = base_sequence + (record.offset - first) if base_sequence >= 0 else -1
                    record = replace(record, producer_id=producer_id, is_transactional=transactional, is_control=control,
                                     producer_epoch=epoch, sequence=sequence)
            out.append(record)
        return out
