"""Checks for ex15_raft_commit: when the KRaft leader may call an offset committed.

The rule on hand-made voter offsets first (the majority's offset, past the epoch's start, never
backwards), then quorums whose leader uses the learner's rule: they must commit with a voter down
(liveness), and lose nothing in Raft's Figure 8 (safety) — the feedback tells that story step by
step and draws every node's log at the moment a committed entry was lost.
"""

from __future__ import annotations

from types import ModuleType

from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed, expect_equal
from kafkalab.raft.scenarios import figure_eight, logs_picture
from kafkalab.raft.simulation import RaftCluster
from kafkalab.sim.simulator import InvariantViolation

EXERCISE = "ex15_raft_commit"


def _expect(impl: ModuleType, ends: dict[int, int], start: int, hw: int, expected: int) -> None:
    expect_equal(impl.leader_high_watermark(dict(ends), start, hw), expected, "leader_high_watermark",
                 input={"voter_end_offsets": ends, "epoch_start_offset": start, "high_watermark": hw})


@check(EXERCISE, points=3)
def the_offset_a_majority_has_reached(impl: ModuleType) -> None:
    """the largest end offset that a majority of voters (the leader included) have reached"""
    _expect(impl, {1: 10, 2: 8, 3: 4}, 2, -1, 8)
    _expect(impl, {1: 10, 2: 10, 3: 10}, 9, -1, 10)
    _expect(impl, {1: 10, 2: 7, 3: 7, 4: 3, 5: -1}, 5, -1, 7)
    _expect(impl, {1: 9, 2: 9, 3: 2, 4: 2}, 1, -1, 2)
    _expect(impl, {1: 4}, 3, -1, 4)


@check(EXERCISE, points=2)
def never_before_the_epoch_starts_never_backwards(impl: ModuleType) -> None:
    """nothing is committed until the majority's offset passes the start of the leader's epoch; the high watermark never goes back"""
    _expect(impl, {1: 10, 2: 8, 3: -1}, 9, -1, -1)
    _expect(impl, {1: 10, 2: 9, 3: 9}, 9, -1, -1)
    _expect(impl, {1: 10, 2: 5, 3: 5}, 2, 6, 6)


@check(EXERCISE, points=2, timeout_s=60)
def a_quorum_commits_with_a_voter_down(impl: ModuleType) -> None:
    """a 3-voter quorum whose leader uses your rule commits with one voter down"""
    seed = 5
    cluster = RaftCluster(voters=3, seed=seed, high_watermark_rule=impl.leader_high_watermark)
    try:
        leader = cluster.check_one_leader()
        cluster.crash(next(n for n in cluster.voter_ids if n != leader))
        offset = cluster.append("order-1")
        committed = offset is not None and cluster.wait_committed(offset, 5_000)
    except InvariantViolation as broken:
        raise CheckFailed(f"(seed {seed}) {broken}\n\nthe logs:\n{logs_picture(cluster)}") from None
    if not committed:
        raise CheckFailed(f"with voters 1-3 and one down, 'order-1' was never committed (seed {seed}): two of three "
                          f"voters hold it, which is a majority\n\nthe logs:\n{logs_picture(cluster)}")


@check(EXERCISE, points=3, timeout_s=90)
def figure_eight_loses_nothing(impl: ModuleType) -> None:
    """Raft's Figure 8 on five voters: an entry from an earlier epoch on a majority is not yet committed"""
    for seed in (1, 2):
        try:
            figure_eight(seed=seed, high_watermark_rule=impl.leader_high_watermark)
        except InvariantViolation as broken:
            replay = figure_eight(seed=seed, high_watermark_rule=impl.leader_high_watermark, check_invariants=False)
            raise CheckFailed(
                f"Figure 8 (seed {seed}): {str(broken).splitlines()[0]}\n\nwhat happened:\n{replay.story()}\n\n"
                f"every node's log at the end (| marks a node's high watermark):\n{logs_picture(replay.cluster)}\n\n"
                "Counting replicas of an entry from an earlier epoch is not enough: only an offset past the "
                "start of the leader's own epoch may be committed.") from None
        except AssertionError as stuck:
            raise CheckFailed(f"Figure 8 (seed {seed}): {stuck}") from None
