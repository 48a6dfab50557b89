"""The Raft log's epoch cache, fetch validation and truncation (ReplicatedLog's contract)."""

from __future__ import annotations

import pytest

from kafkalab.raft.log import LogMatchingError, OffsetAndEpoch, RaftLog, diverging_epoch, truncation_offset


def log_with(epochs: list[int]) -> RaftLog:
    log = RaftLog()
    for epoch in epochs:
        log.append_as_leader([f"e{epoch}"], epoch)
    return log


def test_epoch_cache_and_end_offset_for_epoch() -> None:
    log = log_with([1, 1, 3, 3, 3, 5])
    assert log.epoch_starts() == [(1, 0), (3, 2), (5, 5)]
    assert log.end_offset_for_epoch(1) == OffsetAndEpoch(2, 1)
    assert log.end_offset_for_epoch(2) == OffsetAndEpoch(2, 1)  # the largest epoch not after 2 is 1
    assert log.end_offset_for_epoch(3) == OffsetAndEpoch(5, 3)
    assert log.end_offset_for_epoch(9) == OffsetAndEpoch(6, 5)
    assert log.end_offset_for_epoch(0) == OffsetAndEpoch(0, 0)


def test_validate_offset_and_epoch_finds_divergence() -> None:
    leader = log_with([1, 1, 3, 3])
    assert leader.validate_offset_and_epoch(0, 0) is None
    assert leader.validate_offset_and_epoch(2, 1) is None
    assert leader.validate_offset_and_epoch(4, 3) is None
    # a follower with three entries of epoch 1 (the third never committed) must cut back to 2
    assert leader.validate_offset_and_epoch(3, 1) == OffsetAndEpoch(2, 1)
    # a follower with an epoch the leader never saw goes back to the epoch before it
    assert leader.validate_offset_and_epoch(3, 2) == OffsetAndEpoch(2, 1)
    # the same offset, another epoch: offsets alone would call this log a prefix of the leader's
    assert leader.validate_offset_and_epoch(2, 2) == OffsetAndEpoch(2, 1)


def test_the_log_asks_the_rules_it_is_given() -> None:
    log = log_with([1, 1, 3, 3])
    calls = []

    def never_diverges(epoch_starts: list[tuple[int, int]], end: int, offset: int, epoch: int) -> OffsetAndEpoch | None:
        calls.append((epoch_starts, end, offset, epoch))
        return None

    assert log.validate_offset_and_epoch(2, 2, never_diverges) is None
    assert calls == [([(1, 0), (3, 2)], 4, 2, 2)]
    assert log.validate_offset_and_epoch(2, 2) == diverging_epoch([(1, 0), (3, 2)], 4, 2, 2) == OffsetAndEpoch(2, 1)
    assert log.truncate_to_end_offset(OffsetAndEpoch(3, 1), lambda starts, end, diverging: 3) == 3
    assert [entry.epoch for entry in log.entries] == [1, 1, 3]
    assert truncation_offset(log.epoch_starts(), log.end_offset, OffsetAndEpoch(3, 1)) == 2


def test_truncate_to_end_offset_takes_the_sooner_end() -> None:
    follower = log_with([1, 1, 1, 2])
    assert follower.truncate_to_end_offset(OffsetAndEpoch(2, 1)) == 2
    assert [entry.epoch for entry in follower.entries] == [1, 1]
    other = log_with([1, 2, 2])
    # the leader says epoch 1 ends at 3, but this log's epoch 1 ends at 1: cut at 1
    assert other.truncate_to_end_offset(OffsetAndEpoch(3, 1)) == 1
    assert other.truncations == 1


def test_appends_keep_offsets_dense_and_epochs_ordered() -> None:
    log = log_with([2])
    with pytest.raises(ValueError, match="epoch 1"):
        log.append_as_leader(["old"], 1)
    follower = RaftLog()
    with pytest.raises(ValueError, match="does not follow"):
        follower.append_as_follower(log.read(0, 10)[0:1] and [log.entries[0].__class__(5, 2, "x")])
    follower.append_as_follower(log.read(0, 10))
    assert follower.end_offset == 1 and follower.last_fetched_epoch == 2
    # an AssertionError too, so a simulation stops on it as on a broken invariant
    with pytest.raises(AssertionError, match="epoch 1, older than the epoch 2"):
        follower.append_as_follower([log.entries[0].__class__(1, 1, "y")])
    assert issubclass(LogMatchingError, ValueError)
