"""Checks for ex14_raft_vote: whom a KRaft voter votes for.

The rule on hand-made voters first (one vote per epoch, never for a log that is behind, never while
a leader is known, pre-votes), then quorums whose every voter uses the learner's rule: an initial
election, a re-election after the leader crashes, the split-vote scenario (two candidates, one voter
between them) and random faults — with the invariant "one leader per epoch" after every event.
"""

from __future__ import annotations

from types import ModuleType

from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed, expect_equal
from kafkalab.raft.messages import VoteRequest
from kafkalab.raft.rules import VoterState
from kafkalab.raft.scenarios import logs_picture, random_faults, split_vote
from kafkalab.raft.simulation import RaftCluster
from kafkalab.sim.simulator import InvariantViolation

EXERCISE = "ex14_raft_vote"


def _voter(role: str = "unattached", voted: int = -1, leader: int = -1, last_epoch: int = 2, end: int = 10,
           fetched: bool = False) -> VoterState:
    return VoterState(node_id=3, epoch=5, role=role, voted_id=voted, leader_id=leader, last_epoch=last_epoch,
                      end_offset=end, fetched_from_leader=fetched)


def _ask(candidate: int = 1, last_epoch: int = 2, end: int = 10, pre_vote: bool = False) -> VoteRequest:
    return VoteRequest(candidate_epoch=5, candidate_id=candidate, last_offset_epoch=last_epoch, last_offset=end, pre_vote=pre_vote)


def _expect_vote(impl: ModuleType, voter: VoterState, request: VoteRequest, expected: bool) -> None:
    expect_equal(bool(impl.can_grant_vote(voter, request)), expected, "can_grant_vote", input={"voter": voter, "request": request})


@check(EXERCISE, points=2)
def compares_logs_epoch_first(impl: ModuleType) -> None:
    """a log is at least as up to date when its last epoch is larger, or equal with an end offset at least as large"""
    cases = [((3, 1, 2, 100), True), ((2, 99, 2, 100), False), ((2, 100, 2, 100), True), ((1, 500, 2, 3), False)]
    for args, expected in cases:
        expect_equal(bool(impl.is_log_up_to_date(*args)), expected, "is_log_up_to_date",
                     input=dict(zip(("candidate_last_epoch", "candidate_end_offset", "voter_last_epoch", "voter_end_offset"), args)))


@check(EXERCISE, points=3)
def one_vote_per_epoch_and_only_for_a_log_as_up_to_date(impl: ModuleType) -> None:
    """one vote per epoch (the same candidate may ask again), none for a log that is behind, none while a leader is known"""
    _expect_vote(impl, _voter(), _ask(1), True)
    _expect_vote(impl, _voter(voted=1), _ask(2), False)
    _expect_vote(impl, _voter(voted=1), _ask(1), True)
    _expect_vote(impl, _voter(), _ask(last_epoch=1, end=50), False)
    _expect_vote(impl, _voter(), _ask(end=9), False)
    _expect_vote(impl, _voter(role="candidate", voted=3), _ask(), False)
    for role in ("leader", "follower", "resigned"):
        _expect_vote(impl, _voter(role=role, leader=2), _ask(), False)


@check(EXERCISE, points=1)
def pre_votes_promise_nothing(impl: ModuleType) -> None:
    """a pre-vote (KIP-996) is granted for an up-to-date log unless the voter leads or still hears from its leader"""
    _expect_vote(impl, _voter(voted=2), _ask(1, pre_vote=True), True)
    _expect_vote(impl, _voter(role="follower", leader=2), _ask(pre_vote=True), True)
    _expect_vote(impl, _voter(role="follower", leader=2, fetched=True), _ask(pre_vote=True), False)
    _expect_vote(impl, _voter(role="leader", leader=3), _ask(pre_vote=True), False)
    _expect_vote(impl, _voter(), _ask(end=3, pre_vote=True), False)


def _run(what: str, seed: int, scenario, picture=None) -> None:  # type: ignore[no-untyped-def]
    try:
        scenario()
    except InvariantViolation as broken:
        story = f"\n\nthe logs at that moment:\n{picture()}" if picture is not None else ""
        raise CheckFailed(f"{what} (seed {seed}): {broken}{story}") from None
    except AssertionError as stuck:
        raise CheckFailed(f"{what} (seed {seed}): {stuck}") from None


@check(EXERCISE, points=4, timeout_s=90)
def quorums_voting_your_way_elect_exactly_one_leader_per_epoch(impl: ModuleType) -> None:
    """quorums whose voters use your rule elect a leader, re-elect after a crash, never elect two in one epoch"""
    for voters in (3, 5):
        cluster = RaftCluster(voters=voters, seed=7, vote_rule=impl.can_grant_vote)

        def elect_twice() -> None:
            leader = cluster.check_one_leader(10_000)
            cluster.crash(leader)
            cluster.check_one_leader(15_000)

        _run(f"{voters} voters: an election, then another after the leader crashed", 7, elect_twice, lambda: logs_picture(cluster))
    for seed in (1, 2, 3):
        _run("two candidates in the same epoch asked the voter between them", seed,
             lambda: split_vote(seed=seed, vote_rule=impl.can_grant_vote))
    for seed in (11, 12):
        storm = RaftCluster(voters=5, seed=seed, vote_rule=impl.can_grant_vote)
        _run("random crashes, restarts and partitions", seed, lambda: random_faults(storm, seed, steps=40), lambda: logs_picture(storm))
