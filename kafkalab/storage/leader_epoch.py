"""The leader epoch cache of one partition, kept in ``leader-epoch-checkpoint``.

Each entry says "leader epoch E started writing at offset S". A follower that comes back asks the
leader where its last epoch ended (OffsetsForLeaderEpoch) and truncates to there (KIP-101), so the
cache must survive restarts: it is rewritten whenever it changes (an epoch is added when the first
batch of a new epoch is appended; entries go when the log is truncated or its start moves)::

    0        ← version
    2        ← entries
    0 0      ← epoch 0 from offset 0
    3 1200   ← epoch 3 from offset 1200

Kafka: org.apache.kafka.storage.internals.epoch.LeaderEpochFileCache (assign, truncateFromEnd,
truncateFromStart, endOffsetFor, latestEpoch), LeaderEpochCheckpointFile; KIP-101, KIP-279.
"""

from __future__ import annotations

import bisect
from pathlib import Path

from kafkalab.storage.files import read_leader_epoch_checkpoint, write_leader_epoch_checkpoint

UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1


class LeaderEpochCache:
    """(epoch, start offset) entries, oldest first, persisted to ``leader-epoch-checkpoint``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[tuple[int, int]] = read_leader_epoch_checkpoint(path)

    @property
    def latest_epoch(self) -> int:
        return self.entries[-1][0] if self.entries else UNDEFINED_EPOCH

    def assign(self, epoch: int, start_offset: int) -> bool:
        """Record that ``epoch`` begins at ``start_offset`` if it is newer than the latest (assign)."""
        if epoch < 0 or epoch <= self.latest_epoch:
            return False
        # A newer epoch starting at or before an older entry's start replaces it (as Kafka's assign does).
        self.entries = [(e, s) for e, s in self.entries if s < start_offset]
        self.entries.append((epoch, start_offset))
        self._write()
        return True

    def truncate_from_end(self, end_offset: int) -> None:
        """Forget epochs that start at or after ``end_offset`` (the log was truncated there)."""
        kept = [(e, s) for e, s in self.entries if s < end_offset]
        if kept != self.entries:
            self.entries = kept
            self._write()

    def truncate_from_start(self, start_offset: int) -> None:
        """The log now starts at ``start_offset``: drop older epochs, keeping the one covering it."""
        index = bisect.bisect_right([s for _, s in self.entries], start_offset) - 1
        if index < 0:
            return
        epoch, start = self.entries[index]
        kept = [(epoch, max(start, start_offset))] + self.entries[index + 1:]
        if kept != self.entries:
            self.entries = kept
            self._write()

    def clear(self) -> None:
        if self.entries:
            self.entries = []
            self._write()

    def end_offset_for(self, epoch: int, log_end_offset: int) -> tuple[int, int]:
        """(epoch, end offset) as OffsetsForLeaderEpoch answers: where ``epoch`` (or the largest one below it) ended."""
        if epoch == UNDEFINED_EPOCH or not self.entries or epoch > self.latest_epoch:
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if epoch == self.latest_epoch:
            return epoch, log_end_offset
        index = bisect.bisect_right([e for e, _ in self.entries], epoch) - 1  # the floor entry
        higher_start = self.entries[index + 1][1]
        if index < 0:  # older than every known epoch
            return epoch, higher_start
        return self.entries[index][0], higher_start

    def _write(self) -> None:
        write_leader_epoch_checkpoint(self.path, self.entries, sync=False)
