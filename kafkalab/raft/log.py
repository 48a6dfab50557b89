"""The replicated log of a Raft node, with the epoch cache that truncation and fetch validation read.

An entry is ``(offset, epoch, record)``. Offsets are dense from 0; the epoch of an entry is the
leader epoch in which a leader appended it. The *epoch cache* (Kafka's LeaderEpochFileCache) is
derived from the entries: for each epoch, the offset where it starts. Two questions are asked of it:

* ``end_offset_for_epoch(epoch)`` — the largest epoch not after ``epoch`` and where it ends (the
  start of the next epoch, or the log end offset). A leader answers a follower's fetch with it when
  the follower's ``last_fetched_epoch`` does not match (``validate_offset_and_epoch``).
* ``truncate_to_end_offset(epoch, end_offset)`` — what a follower does with a diverging epoch.

**Log agreement** (exercise ex17) rests on these two answers, written as pure functions of the epoch
cache: :func:`diverging_epoch` (the leader's: does a follower's fetch position agree with my log?)
and :func:`truncation_offset` (the follower's: where to cut, given the leader's diverging epoch).
Together they keep Raft's *Log Matching* property — two logs holding an entry with the same offset
and epoch are identical up to it — without Raft's AppendEntries consistency check: one fetch round
trip per diverging epoch, not per entry. ``RaftLog``'s methods call them, and the client can be given
a learner's versions instead.

A new leader's first entry in its epoch is a control record, ``LeaderChangeMessage``: it is what
lets the leader commit anything (see :func:`kafkalab.raft.rules.leader_high_watermark`).

Entries are durable once appended (KRaft flushes before it acknowledges: the leader before counting
its own end offset, a follower before its next fetch), so a crash keeps the log; a wipe loses it.

**Snapshots (KIP-630).** The log would grow forever; instead a node now and then writes a
*snapshot*: its state machine's state at a committed offset, as records (``Snapshot``). Entries
before the latest snapshot may then be deleted (``delete_before_snapshot``, once older than
``metadata.max.retention.ms``): the log then starts at ``start_offset``. A replica that needs what
was deleted is sent the snapshot instead (``needs_snapshot``; FetchSnapshot) and installs it
(``install_snapshot``): its log then starts where the snapshot ends.

Kafka: org.apache.kafka.raft.ReplicatedLog (endOffsetForEpoch, validateOffsetAndEpoch,
truncateToEndOffset, deleteBeforeSnapshot, truncateToLatestSnapshot), KafkaMetadataLog,
KafkaRaftClient#handleFetchRequest / #handleFetchResponse, LeaderChangeMessage.json; KIP-595, KIP-630;
Raft paper §5.3 (Log Matching, Figure 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


class LogMatchingError(ValueError, AssertionError):
    """Entries that do not continue this log (a gap, or an epoch older than its last): the leader
    sent them because it took a diverging log for a prefix of its own. A ValueError to a caller, and
    an AssertionError too, so that a simulation stops on it as on any broken safety property."""


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
    append_time_ms: int = 0  # when the leader appended it (what metadata.max.retention.ms measures)

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


EpochStarts = list[tuple[int, int]]  # the epoch cache: (epoch, start offset), oldest first
DivergingEpochRule = Callable[[EpochStarts, int, int, int], OffsetAndEpoch | None]
TruncationRule = Callable[[EpochStarts, int, OffsetAndEpoch], int]


def end_offset_for_epoch(epoch_starts: EpochStarts, log_end_offset: int, epoch: int) -> OffsetAndEpoch:
    """ReplicatedLog#endOffsetForEpoch: the largest epoch in ``epoch_starts`` not after ``epoch`` and
    the offset where it ends (where the next epoch starts, or ``log_end_offset`` for the last one);
    OffsetAndEpoch(0, 0) when every epoch of the log is after ``epoch``."""
    # BEGIN EXERCISE ex17_raft_log_agreement
    found = OffsetAndEpoch(0, 0)
    for index, (known_epoch, _start) in enumerate(epoch_starts):
        if known_epoch > epoch:
            break
        end = epoch_starts[index + 1][1] if index + 1 < len(epoch_starts) else log_end_offset
        found = OffsetAndEpoch(end, known_epoch)
    return found
    # END EXERCISE


def diverging_epoch(epoch_starts: EpochStarts, log_end_offset: int, fetch_offset: int,
                    last_fetched_epoch: int) -> OffsetAndEpoch | None:
    """The leader's side, ReplicatedLog#validateOffsetAndEpoch as KafkaRaftClient#handleFetchRequest
    asks it: None when a follower whose log ends at ``fetch_offset`` with an entry of
    ``last_fetched_epoch`` agrees with this log (the leader's); otherwise the diverging epoch — this
    log's largest epoch not after ``last_fetched_epoch`` — and the offset where it ends here, which
    the FetchResponse carries back (KIP-595's DivergingEpoch)."""
    # BEGIN EXERCISE ex17_raft_log_agreement
    end = end_offset_for_epoch(epoch_starts, log_end_offset, last_fetched_epoch)
    # Agreement needs both: this log has the follower's last epoch, and that epoch runs here at
    # least as far as the follower's log does. Equal offsets alone prove nothing.
    if end.epoch != last_fetched_epoch or end.offset < fetch_offset:
        return end
    return None
    # END EXERCISE


def truncation_offset(epoch_starts: EpochStarts, log_end_offset: int, diverging: OffsetAndEpoch) -> int:
    """The follower's side, ReplicatedLog#truncateToEndOffset as KafkaRaftClient#handleFetchResponse
    calls it: the offset to truncate this log (the follower's) to, given the leader's ``diverging``
    epoch and where it ends on the leader. Keep what both logs have of that epoch: up to where the
    leader's version ends, or where this log's own version ends if sooner; a log without that epoch
    keeps only up to where its largest earlier epoch ends."""
    # BEGIN EXERCISE ex17_raft_log_agreement
    local = end_offset_for_epoch(epoch_starts, log_end_offset, diverging.epoch)
    if local.epoch == diverging.epoch:
        return min(local.offset, diverging.offset)
    # This log's entries from local.offset on belong to an epoch the leader never wrote there.
    return local.offset
    # END EXERCISE


@dataclass(frozen=True)
class Snapshot:
    """A KIP-630 snapshot: the state machine's records as of ``end_offset`` (exclusive), whose last
    entry had ``epoch``; ``(end_offset, epoch)`` is its id, as in Kafka's snapshot file names."""

    end_offset: int
    epoch: int
    records: tuple[Any, ...]

    @property
    def snapshot_id(self) -> OffsetAndEpoch:
        return OffsetAndEpoch(self.end_offset, self.epoch)


class RaftLog:
    """Entries in offset order from ``start_offset``; nothing below ``end_offset`` is ever rewritten
    except by truncation, and nothing below ``start_offset`` is kept except as the latest snapshot."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []  # entries[i] has offset start_offset + i
        self.start_offset = 0
        self.snapshot: Snapshot | None = None  # the latest snapshot this node holds
        self.truncations = 0  # how many truncations dropped entries (lets checkers cache safely)

    @property
    def end_offset(self) -> int:
        return self.start_offset + len(self.entries)

    @property
    def last_fetched_epoch(self) -> int:
        """The epoch of the last entry (the snapshot's if every entry was deleted; 0 for an empty log)."""
        if self.entries:
            return self.entries[-1].epoch
        return self.snapshot.epoch if self.snapshot is not None and self.start_offset > 0 else 0

    def end_offset_and_epoch(self) -> OffsetAndEpoch:
        return OffsetAndEpoch(self.end_offset, self.last_fetched_epoch)

    def epoch_starts(self) -> list[tuple[int, int]]:
        """The epoch cache: ``(epoch, start offset)`` for each epoch present, oldest first. Once a
        prefix is deleted, the snapshot's epoch is kept as starting at ``start_offset`` (Kafka's
        LeaderEpochFileCache#truncateFromStart keeps the epoch that was current there)."""
        starts: list[tuple[int, int]] = []
        if self.start_offset > 0 and self.snapshot is not None:
            starts.append((self.snapshot.epoch, self.start_offset))
        for entry in self.entries:
            if not starts or starts[-1][0] != entry.epoch:
                starts.append((entry.epoch, entry.offset))
        return starts

    def end_offset_for_epoch(self, epoch: int) -> OffsetAndEpoch:
        """The largest epoch not after ``epoch`` and the offset where it ends; (0, 0) if none."""
        return end_offset_for_epoch(self.epoch_starts(), self.end_offset, epoch)

    def validate_offset_and_epoch(self, offset: int, epoch: int,
                                  rule: DivergingEpochRule = diverging_epoch) -> OffsetAndEpoch | None:
        """None if a follower whose log ends at ``offset`` with ``epoch`` agrees with this log;
        otherwise where it must truncate to (the diverging epoch and its end offset). ``rule`` is
        :func:`diverging_epoch` unless a learner's version is plugged in."""
        return rule(self.epoch_starts(), self.end_offset, offset, epoch)

    def append_as_leader(self, records: list[Any], epoch: int, now_ms: int = 0) -> list[LogEntry]:
        if epoch < self.last_fetched_epoch:
            raise ValueError(f"cannot append in epoch {epoch}: the log already holds epoch {self.last_fetched_epoch}")
        new = [LogEntry(self.end_offset + index, epoch, record, now_ms) for index, record in enumerate(records)]
        self.entries.extend(new)
        return new

    def append_as_follower(self, entries: tuple[LogEntry, ...] | list[LogEntry]) -> None:
        for entry in entries:
            if entry.offset != self.end_offset:
                raise LogMatchingError(f"entry at offset {entry.offset} does not follow the log end offset {self.end_offset}")
            if entry.epoch < self.last_fetched_epoch:
                raise LogMatchingError(f"entry at offset {entry.offset} has epoch {entry.epoch}, older than the epoch "
                                       f"{self.last_fetched_epoch} of the entry before it")
            self.entries.append(entry)

    def truncate_to(self, offset: int) -> int:
        """Drop entries at ``offset`` and after; returns how many were dropped."""
        if offset < self.start_offset:
            raise AssertionError(f"truncating to {offset}, below the log start offset {self.start_offset}: "
                                 f"only committed entries are deleted, and committed entries are never truncated")
        dropped = max(0, self.end_offset - offset)
        if dropped:
            del self.entries[offset - self.start_offset:]
            self.truncations += 1
        return dropped

    def truncate_to_end_offset(self, diverging: OffsetAndEpoch, rule: TruncationRule = truncation_offset) -> int:
        """ReplicatedLog.truncateToEndOffset: cut where the leader's ``diverging`` epoch ends, or
        where this log's own version of that epoch ends if sooner (``rule``: :func:`truncation_offset`
        unless a learner's version is plugged in). Returns the offset truncated to."""
        offset = rule(self.epoch_starts(), self.end_offset, diverging)
        self.truncate_to(offset)
        return offset

    def read(self, offset: int, max_entries: int) -> tuple[LogEntry, ...]:
        start = max(offset, self.start_offset) - self.start_offset
        return tuple(self.entries[start:start + max_entries])

    def entry_at(self, offset: int) -> LogEntry | None:
        index = offset - self.start_offset
        return self.entries[index] if 0 <= index < len(self.entries) else None

    def entries_between(self, start: int, end: int) -> list[LogEntry]:
        """The entries kept with ``start <= offset < end``."""
        low = max(start, self.start_offset) - self.start_offset
        return self.entries[low:max(low, end - self.start_offset)]

    # -- snapshots (KIP-630) ------------------------------------------------------------------------
    def take_snapshot(self, snapshot: Snapshot) -> None:
        """Keep a snapshot the state machine wrote of its committed state (newer ones replace older)."""
        if self.snapshot is None or snapshot.end_offset > self.snapshot.end_offset:
            self.snapshot = snapshot

    def delete_before_snapshot(self, now_ms: int, retention_ms: int) -> int:
        """Delete the entries the latest snapshot covers once they are older than ``retention_ms``
        (``metadata.max.retention.ms``); returns how many were deleted."""
        if self.snapshot is None:
            return 0
        count = 0
        while (count < len(self.entries) and self.start_offset + count < self.snapshot.end_offset
               and self.entries[count].append_time_ms <= now_ms - retention_ms):
            count += 1
        if count:
            del self.entries[:count]
            self.start_offset += count
        return count

    def needs_snapshot(self, fetch_offset: int, last_fetched_epoch: int) -> bool:
        """KafkaMetadataLog#validateOffsetAndEpoch's first test: what this replica asks for was
        deleted (or does not match where the log now starts), so only the snapshot can help it."""
        if self.start_offset == 0 or self.snapshot is None:
            return False
        return (fetch_offset < self.start_offset
                or (fetch_offset == self.start_offset and last_fetched_epoch != self.snapshot.epoch)
                or last_fetched_epoch < self.snapshot.epoch)

    def install_snapshot(self, snapshot: Snapshot) -> None:
        """ReplicatedLog#truncateToLatestSnapshot after FetchSnapshot: the log restarts where the
        snapshot ends (every entry it held is either in the snapshot or was never committed)."""
        self.snapshot = snapshot
        self.entries = []
        self.start_offset = snapshot.end_offset
        self.truncations += 1
