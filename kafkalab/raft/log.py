"""The replicated log of a Raft node, with the epoch cache that truncation and fetch validation read.

An entry is ``(offset, epoch, record)``. Offsets are dense from 0; the epoch of an entry is the
leader epoch in which a leader appended it. The *epoch cache* (Kafka's LeaderEpochFileCache) is
derived from the entries: for each epoch, the offset where it starts. Two questions are asked of it:

* ``end_offset_for_epoch(epoch)`` — the largest epoch not after ``epoch`` and where it ends (the
  start of the next epoch, or the log end offset). A leader answers a follower's fetch with it when
  the follower's ``last_fetched_epoch`` does not match (``validate_offset_and_epoch``).
* ``truncate_to_end_offset(epoch, end_offset)`` — what a follower does with a diverging epoch.

A new leader's first entry in its epoch is a control record, ``LeaderChangeMessage``: it is what
lets the leader commit anything (see :func:`kafkalab.raft.rules.leader_high_watermark`).

Entries are durable once appended (KRaft flushes before it acknowledges: the leader before counting
its own end offset, a follower before its next fetch), so a crash keeps the log; a wipe loses it.

Kafka: org.apache.kafka.raft.ReplicatedLog (endOffsetForEpoch, validateOffsetAndEpoch,
truncateToEndOffset), KafkaMetadataLog, LeaderChangeMessage.json; KIP-595.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LeaderChangeMessage:
    """The control record a new leader appends at the start of its epoch."""

    leader_id: int
    voters: tuple[int, ...]


@dataclass(frozen=True)
class LogEntry:
    offset: int
    epoch: int
    record: Any

    @property
    def is_control(self) -> bool:
        return isinstance(self.record, LeaderChangeMessage)


@dataclass(frozen=True)
class OffsetAndEpoch:
    """Kafka's OffsetAndEpoch: compared by epoch first, then offset (how up to date a log is)."""

    offset: int
    epoch: int

    def key(self) -> tuple[int, int]:
        return (self.epoch, self.offset)


class RaftLog:
    """Entries in offset order; nothing below ``end_offset`` is ever rewritten except by truncation."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []
        self.truncations = 0  # how many truncations dropped entries (lets checkers cache safely)

    @property
    def end_offset(self) -> int:
        return len(self.entries)

    @property
    def last_fetched_epoch(self) -> int:
        """The epoch of the last entry (0 for an empty log)."""
        return self.entries[-1].epoch if self.entries else 0

    def end_offset_and_epoch(self) -> OffsetAndEpoch:
        return OffsetAndEpoch(self.end_offset, self.last_fetched_epoch)

    def epoch_starts(self) -> list[tuple[int, int]]:
        """The epoch cache: ``(epoch, start offset)`` for each epoch present, oldest first."""
        starts: list[tuple[int, int]] = []
        for entry in self.entries:
            if not starts or starts[-1][0] != entry.epoch:
                starts.append((entry.epoch, entry.offset))
        return starts

    def end_offset_for_epoch(self, epoch: int) -> OffsetAndEpoch:
        """The largest epoch not after ``epoch`` and the offset where it ends; (0, 0) if none."""
        found = OffsetAndEpoch(0, 0)
        starts = self.epoch_starts()
        for index, (known_epoch, _start) in enumerate(starts):
            if known_epoch > epoch:
                break
            end = starts[index + 1][1] if index + 1 < len(starts) else self.end_offset
            found = OffsetAndEpoch(end, known_epoch)
        return found

    def validate_offset_and_epoch(self, offset: int, epoch: int) -> OffsetAndEpoch | None:
        """None if a follower whose log ends at ``offset`` with ``epoch`` agrees with this log;
        otherwise where it must truncate to (the diverging epoch and its end offset)."""
        if offset == 0 and epoch == 0:
            return None
        end = self.end_offset_for_epoch(epoch)
        if end.epoch != epoch or end.offset < offset:
            return end
        return None

    def append_as_leader(self, records: list[Any], epoch: int) -> list[LogEntry]:
        if epoch < self.last_fetched_epoch:
            raise ValueError(f"cannot append in epoch {epoch}: the log already holds epoch {self.last_fetched_epoch}")
        new = [LogEntry(self.end_offset + index, epoch, record) for index, record in enumerate(records)]
        self.entries.extend(new)
        return new

    def append_as_follower(self, entries: tuple[LogEntry, ...] | list[LogEntry]) -> None:
        for entry in entries:
            if entry.offset != self.end_offset:
                raise ValueError(f"entry at offset {entry.offset} does not follow the log end offset {self.end_offset}")
            if entry.epoch < self.last_fetched_epoch:
                raise ValueError(f"entry at offset {entry.offset} has epoch {entry.epoch}, older than {self.last_fetched_epoch}")
            self.entries.append(entry)

    def truncate_to(self, offset: int) -> int:
        """Drop entries at ``offset`` and after; returns how many were dropped."""
        dropped = max(0, self.end_offset - offset)
        if dropped:
            del self.entries[offset:]
            self.truncations += 1
        return dropped

    def truncate_to_end_offset(self, diverging: OffsetAndEpoch) -> int:
        """ReplicatedLog.truncateToEndOffset: cut where the leader's ``diverging`` epoch ends, or
        where this log's own version of that epoch ends if sooner. Returns the new end offset."""
        local = self.end_offset_for_epoch(diverging.epoch)
        if local.epoch == diverging.epoch:
            offset = min(local.offset, diverging.offset)
        else:
            offset = local.offset
        self.truncate_to(offset)
        return offset

    def read(self, offset: int, max_entries: int) -> tuple[LogEntry, ...]:
        return tuple(self.entries[offset:offset + max_entries])

    def entry_at(self, offset: int) -> LogEntry | None:
        return self.entries[offset] if 0 <= offset < len(self.entries) else None
