"""A KRaft quorum under faults, in MIT 6.5840's vocabulary (initial election, re-election, no leader
without a majority, agreement under an unreliable network) plus Kafka's own cases: pre-vote,
check quorum, a restarted leader resigning, observers, graceful resignation, Figure 8, and Figure 7
(followers whose logs diverge come to hold the new leader's)."""

from __future__ import annotations

import pytest

from kafkalab.raft.rules import LEADER, RESIGNED
from kafkalab.raft.log import OffsetAndEpoch, end_offset_for_epoch
from kafkalab.raft.scenarios import figure_eight, figure_seven, logs_picture, minority_leaders, split_vote, voters_agree
from kafkalab.raft.simulation import RaftCluster
from kafkalab.sim.simulator import InvariantViolation


@pytest.mark.parametrize("voters", [1, 3, 5])
def test_initial_election(voters: int) -> None:
    cluster = RaftCluster(voters=voters, seed=11)
    leader = cluster.check_one_leader(5_000)
    epoch = cluster.client(leader).epoch
    cluster.run(10_000)  # no faults: the leader stays, nobody starts another election
    assert cluster.leader() == leader and cluster.client(leader).epoch == epoch
    assert all(cluster.client(n).leader_id == leader for n in cluster.voter_ids)


def test_reelection_after_the_leader_crashes_and_the_old_leader_rejoins_as_follower() -> None:
    cluster = RaftCluster(voters=3, seed=5)
    first = cluster.check_one_leader()
    cluster.crash(first)
    second = cluster.check_one_leader()
    assert second != first and cluster.client(second).epoch > 1
    cluster.restart(first)
    assert cluster.client(first).role == RESIGNED  # it led its last epoch: it may not lead it again
    cluster.run(5_000)
    assert cluster.leader() == second
    assert cluster.client(first).leader_id == second


def test_no_leader_without_a_majority_then_one_when_it_returns() -> None:
    cluster = RaftCluster(voters=5, seed=3)
    leader = cluster.check_one_leader()
    others = [n for n in cluster.voter_ids if n != leader]
    for node in others[:3]:
        cluster.disconnect(node)
    cluster.run(5_000)  # check quorum: the leader notices it lost the majority and resigns
    assert cluster.client(leader).role != LEADER
    cluster.check_no_leader(10_000)
    for node in others[:3]:
        cluster.reconnect(node)
    cluster.check_one_leader(10_000)


def test_agreement_under_an_unreliable_network() -> None:
    cluster = RaftCluster(voters=5, seed=8)
    cluster.set_unreliable(drop_rate=0.1, jitter_ms=30, reorder=True)
    written = []
    for index in range(40):
        cluster.check_one_leader(20_000)
        offset = cluster.append(f"v{index}")
        if offset is not None and cluster.wait_committed(offset, 5_000, value=f"v{index}"):
            written.append(f"v{index}")
        cluster.run(50)
    cluster.network.set_default(drop_rate=0.0, jitter_ms=0, reorder=False)
    leader = cluster.check_one_leader(20_000)
    cluster.append("last")
    cluster.run(3_000)
    assert len(written) >= 30
    for node in cluster.voter_ids:
        values = cluster.values_committed_on(node)
        assert [v for v in values if v in written] == written, (node, logs_picture(cluster))
    assert cluster.client(leader).high_watermark == cluster.client(leader).log.end_offset


def test_pre_vote_keeps_a_rejoining_voter_from_disrupting_the_leader() -> None:
    for pre_vote, disrupted in ((True, False), (False, True)):
        cluster = RaftCluster(voters=3, seed=4, pre_vote=pre_vote)
        leader = cluster.check_one_leader()
        epoch = cluster.client(leader).epoch
        loner = next(n for n in cluster.voter_ids if n != leader)
        cluster.disconnect(loner)
        cluster.run(10_000)  # it times out again and again while cut off
        cluster.reconnect(loner)
        cluster.run(5_000)
        new_epoch = cluster.client(cluster.check_one_leader()).epoch
        assert (new_epoch > epoch) == disrupted, (pre_vote, epoch, new_epoch)


def test_graceful_resignation_hands_over_quickly() -> None:
    cluster = RaftCluster(voters=3, seed=2)
    leader = cluster.check_one_leader()
    cluster.nodes[leader].client.resign(cluster.sim.now_ms)
    cluster.nodes[leader]._after(cluster.nodes[leader].client.take_outbox())
    start = cluster.sim.now_ms
    new = cluster.check_one_leader()
    assert new != leader and cluster.sim.now_ms - start < 1_000  # EndQuorumEpoch: no fetch timeout to wait


def test_observers_replicate_but_do_not_vote_or_count() -> None:
    cluster = RaftCluster(voters=3, seed=6, observers=2)
    leader = cluster.check_one_leader()
    offset = cluster.append("hello")
    assert cluster.wait_committed(offset)
    cluster.run(2_000)
    for observer in cluster.observer_ids:
        assert cluster.values_committed_on(observer) == ["hello"]
    assert set(cluster.client(leader).voter_end_offsets) == set(cluster.voter_ids)


def test_figure_eight_is_safe_with_kafkas_commit_rule() -> None:
    play = figure_eight(seed=1)
    assert "not committed yet" in play.story()
    assert "a" not in [entry.record for entry in play.cluster.committed.values()]


def test_figure_eight_loses_a_committed_entry_when_old_epochs_are_counted() -> None:
    def counts_old_entries(ends: dict[int, int], start: int, hw: int) -> int:
        offsets = sorted(ends.values(), reverse=True)
        return max(offsets[len(offsets) // 2], hw)

    with pytest.raises(InvariantViolation, match="committed as 'a'"):
        figure_eight(seed=1, high_watermark_rule=counts_old_entries)


def test_a_voter_that_votes_twice_makes_two_leaders() -> None:
    split_vote(seed=1)  # Kafka's rule: one leader

    def votes_twice(voter, request) -> bool:
        return voter.role not in ("leader", "follower", "resigned")

    with pytest.raises(InvariantViolation, match="two leaders in epoch 1"):
        split_vote(seed=1, vote_rule=votes_twice)


def test_figure_seven_every_follower_ends_with_the_new_leaders_log() -> None:
    scene = figure_seven(seed=1)
    cluster = scene.cluster
    leader_log = cluster.log_of(scene.leader)
    assert all(cluster.log_of(node) == leader_log for node in cluster.voter_ids), logs_picture(cluster)
    # nodes 4 and 5 cut back to offset 3 (where their epoch 2 ended) and dropped their epoch-3 entries
    truncations = {(record.node, record.detail["to_offset"]) for record in cluster.sim.trace if record.kind == "raft.truncate"}
    assert {("controller-4", 3), ("controller-5", 3)} <= truncations
    assert [entry.record for entry in leader_log[-2:]] == ["e", "f"]
    assert not any(entry.record == "x" for entry in leader_log)


def test_log_matching_catches_a_leader_that_compares_offsets_only() -> None:
    def offsets_only(epoch_starts: list[tuple[int, int]], log_end_offset: int, fetch_offset: int,
                     last_fetched_epoch: int) -> OffsetAndEpoch | None:
        end = end_offset_for_epoch(epoch_starts, log_end_offset, last_fetched_epoch)
        return end if end.offset < fetch_offset else None

    with pytest.raises(InvariantViolation, match="log matching.*differ below offset 5"):
        figure_seven(seed=1, diverging_epoch_rule=offsets_only)


def test_a_follower_that_keeps_its_own_entries_of_a_foreign_epoch_never_agrees() -> None:
    with pytest.raises(AssertionError, match=r"the logs of nodes \[4, 5\] still differ"):
        figure_seven(seed=1, truncation_rule=lambda epoch_starts, log_end_offset, diverging: diverging.offset, timeout_ms=2_000)


@pytest.mark.parametrize("seed", [31, 37])
def test_minority_leaders_on_an_unreliable_network_then_agreement(seed: int) -> None:
    cluster = RaftCluster(voters=5, seed=seed)
    cluster.set_unreliable(drop_rate=0.1, jitter_ms=20, reorder=True)
    minority_leaders(cluster, seed, rounds=12)
    truncated = [r for r in cluster.sim.trace if r.kind == "raft.truncate" and r.detail["to_offset"] < r.detail["from_offset"]]
    assert len(truncated) >= 3  # the scenario does make logs diverge
    cluster.heal()
    cluster.network.set_default(drop_rate=0.0, jitter_ms=0, reorder=False)
    for node in cluster.voter_ids:
        if not cluster.nodes[node].alive:
            cluster.restart(node)
    cluster.check_one_leader(30_000)
    cluster.append("after the storm")
    assert cluster.run_until(lambda: voters_agree(cluster), 20_000), logs_picture(cluster)
