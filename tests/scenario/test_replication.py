"""Seeded scenarios: replication, the ISR, the high watermark, acks, failover and truncation."""

from __future__ import annotations

import pytest

from kafkalab.cluster import EmbeddedCluster
from kafkalab.cluster_lab import kip101_scenario, unclean_election
from kafkalab.errors import NotEnoughReplicasError


def replicas(cluster: EmbeddedCluster, topic: str = "orders", partition: int = 0) -> dict[int, tuple]:
    """broker id -> (leader, leader epoch, ISR, log end offset, high watermark) for live brokers."""
    out = {}
    for broker_id, node in cluster.brokers.items():
        state = node.broker.replica_manager.partitions.get((topic, partition))
        if node.alive and state is not None:
            out[broker_id] = (state.leader, state.leader_epoch, tuple(state.isr), state.log_end_offset, state.high_watermark)
    return out


def values(cluster: EmbeddedCluster, topic: str = "orders", partition: int = 0) -> list[bytes]:
    return [r.value for r in cluster.fetch(topic, partition, cluster.list_offsets(topic, partition, "earliest"))]


def replicated_cluster(seed: int = 1, min_isr: int = 2, **topic_config) -> EmbeddedCluster:
    cluster = EmbeddedCluster(seed=seed, brokers=3)
    cluster.create_topic("orders", partitions=1, replication_factor=3, config={"min.insync.replicas": min_isr, **topic_config})
    return cluster


def test_followers_replicate_and_the_high_watermark_follows_the_isr() -> None:
    cluster = replicated_cluster()
    for i in range(5):
        assert cluster.produce("orders", f"v{i}").offset == i  # acks=all: answered once replicated
    cluster.advance(1_000)
    assert {state[3:] for state in replicas(cluster).values()} == {(5, 5)}
    assert {tuple(sorted(state[2])) for state in replicas(cluster).values()} == {(0, 1, 2)}


def test_consumers_read_only_below_the_high_watermark() -> None:
    cluster = replicated_cluster()
    cluster.produce("orders", "replicated")
    cluster.advance(1_000)
    leader = cluster.partitions_for("orders")[0]
    for follower in (b for b in cluster.brokers if b != leader):
        cluster.network.partition([f"broker-{follower}"], [f"broker-{leader}"])
    cluster.produce("orders", "only on the leader", acks=1)  # acks=1: answered before any follower has it
    state = replicas(cluster)[leader]
    assert state[3] == 2 and state[4] == 1  # log end 2, high watermark 1
    assert values(cluster) == [b"replicated"]
    assert cluster.list_offsets("orders", 0, "latest") == 1


def test_a_crashed_leader_is_replaced_from_the_isr_and_nothing_acknowledged_is_lost() -> None:
    cluster = replicated_cluster()
    for i in range(5):
        cluster.produce("orders", f"v{i}")
    old_leader = cluster.partitions_for("orders")[0]
    cluster.crash_broker(old_leader)
    cluster.advance(12_000)  # broker.session.timeout.ms (9 s) passes: the controller fences it
    new_leader = cluster.partitions_for("orders")[0]
    assert new_leader not in (old_leader, -1)
    state = replicas(cluster)[new_leader]
    assert state[1] == 1 and old_leader not in state[2]  # a new leader epoch; the dead broker left the ISR
    cluster.produce("orders", "after failover")
    assert values(cluster) == [b"v0", b"v1", b"v2", b"v3", b"v4", b"after failover"]
    cluster.restart_broker(old_leader)
    cluster.advance(5_000)  # it catches up as a follower and rejoins the ISR
    isr, log_end, high_watermark = replicas(cluster)[old_leader][2:]
    assert (sorted(isr), log_end, high_watermark) == ([0, 1, 2], 6, 6)


def test_acks_all_is_refused_while_the_isr_is_below_min_insync_replicas() -> None:
    cluster = replicated_cluster(min_isr=2)
    cluster.produce("orders", "fine")
    leader = cluster.partitions_for("orders")[0]
    for broker_id in (b for b in cluster.brokers if b != leader):
        cluster.crash_broker(broker_id)
    cluster.advance(12_000)
    assert replicas(cluster)[leader][2] == (leader,)
    with pytest.raises(NotEnoughReplicasError, match="min.isr requirement of 2"):
        cluster.produce("orders", "refused")
    assert cluster.produce("orders", "acks=1 still works", acks=1).offset == 1


def test_a_slow_follower_leaves_the_isr_after_replica_lag_time_max_ms() -> None:
    cluster = replicated_cluster(min_isr=1)
    cluster.produce("orders", "x")
    leader = cluster.partitions_for("orders")[0]
    slow = next(b for b in cluster.brokers if b != leader)
    cluster.network.partition([f"broker-{slow}"], [f"broker-{leader}"])  # it still heartbeats to the controller
    cluster.advance(50_000)
    assert slow not in replicas(cluster)[leader][2]
    assert any(r.detail.get("why", "").startswith("followers behind") for r in cluster.trace.filter("broker.isr.alter_requested"))
    cluster.network.heal()
    cluster.advance(35_000)  # its lost fetch times out (replica.socket.timeout.ms), it fetches again and rejoins
    assert slow in replicas(cluster)[leader][2]


def test_clean_election_waits_and_unclean_election_loses_acknowledged_data() -> None:
    """The only in-sync replica dies after an acknowledged write the other replica never got."""
    clean, _ = unclean_election(unclean=False)
    assert clean is None  # offline: no in-sync replica is alive
    dirty, cluster = unclean_election(unclean=True)
    assert cluster.partitions_for("orders")[0] >= 0
    assert dirty == [b"both have it"]  # the acknowledged second record is gone


def test_truncation_by_leader_epoch_keeps_what_truncation_to_the_high_watermark_loses() -> None:
    """KIP-101's first scenario: a follower restarts and truncates to its (stale) high watermark; before it
    fetches again the leader dies and it becomes leader — an acknowledged record is gone. With leader
    epochs it asks the leader where its epoch ended instead, and truncates nothing it should keep."""
    results = {}
    for mode in ("leader-epoch", "high-watermark"):
        values_after, cluster = kip101_scenario(mode)
        [before] = cluster.trace.filter("lab.follower_before_restart")
        assert (before.detail["log_end_offset"], before.detail["high_watermark"]) == (2, 1)  # it learns the HW one fetch later
        assert cluster.partitions_for("orders")[0] == int(before.node.split("-")[1])  # the follower, still in the ISR, was elected
        results[mode] = values_after
    assert results == {"leader-epoch": [b"m1", b"m2"], "high-watermark": [b"m1"]}


def test_a_restarted_broker_is_fenced_and_leaves_the_isr_until_it_has_caught_up() -> None:
    """KRaft: a new broker process registers anew and is fenced first (KIP-903), so a replica that lost
    its disk can never be elected from the ISR with an empty log."""
    cluster = replicated_cluster(min_isr=2)
    for i in range(3):
        cluster.produce("orders", f"v{i}")
    leader = cluster.partitions_for("orders")[0]
    follower = next(b for b in cluster.brokers if b != leader)
    cluster.wipe_broker(follower)
    cluster.network.partition([f"broker-{follower}"], [f"broker-{leader}"])  # it cannot catch up
    cluster.restart_broker(follower)
    cluster.advance(100)
    assert follower not in replicas(cluster)[leader][2]  # out of the ISR at once, long before the session timeout
    cluster.crash_broker(leader)
    cluster.advance(12_000)
    assert values(cluster) == [b"v0", b"v1", b"v2"]  # the third replica, in sync, was elected


def test_preferred_leader_election_spreads_leadership_again() -> None:
    cluster = EmbeddedCluster(seed=7, brokers=3)
    cluster.create_topic("orders", partitions=3, replication_factor=3, config={"min.insync.replicas": 2})
    preferred = {p.partition_index: p.replica_nodes[0] for p in cluster.metadata(["orders"]).topics[0].partitions}
    assert cluster.partitions_for("orders") == preferred and sorted(preferred.values()) == [0, 1, 2]  # striped
    victim = preferred[0]
    cluster.crash_broker(victim)
    cluster.advance(12_000)
    cluster.restart_broker(victim)
    cluster.advance(10_000)  # back in every ISR, but leading nothing
    assert victim not in cluster.partitions_for("orders").values()
    assert cluster.elect_preferred_leaders() == ["orders-0"]
    assert cluster.partitions_for("orders") == preferred
    assert cluster.produce("orders", "still writable", partition=0).offset == 0


def test_kip101_divergence_truncating_to_the_high_watermark_leaves_replicas_disagreeing() -> None:
    from kafkalab.cluster_lab import kip101_divergence_scenario

    logs, cluster = kip101_divergence_scenario("high-watermark")
    leader = cluster.partitions_for("orders")[0]
    old_leader = 1 - leader
    assert logs[leader] == [b"m1", b"m3"] and logs[old_leader] == [b"m1", b"m2"]  # offset 1 differs, for good
    assert old_leader in cluster.metadata(["orders"]).topics[0].partitions[0].isr_nodes  # and it is "in sync"
    lost = cluster.trace.filter("broker.replica.truncated")
    assert [e.detail["why"] for e in lost] == ["a power failure lost what the OS had not flushed"]


def test_kip101_divergence_leader_epochs_bring_the_replicas_back_in_line() -> None:
    from kafkalab.cluster_lab import kip101_divergence_scenario

    logs, cluster = kip101_divergence_scenario("leader-epoch")
    assert set(map(tuple, logs.values())) == {(b"m1", b"m3")}
    assert any("KIP-101" in e.detail["why"] for e in cluster.trace.filter("broker.replica.truncated"))


def test_a_power_failure_trims_the_log_the_epoch_cache_and_the_high_watermark() -> None:
    cluster = replicated_cluster()
    for i in range(4):
        cluster.produce("orders", f"v{i}")
    cluster.advance(1_000)
    follower = next(b for b in cluster.brokers if b != cluster.partitions_for("orders")[0])
    cluster.power_failure(follower, {("orders", 0): 2})
    state = cluster.brokers[follower].broker.replica_manager.partitions[("orders", 0)]
    assert (state.log_end_offset, state.high_watermark) == (2, 2)
    cluster.restart_broker(follower)
    cluster.advance(5_000)
    assert replicas(cluster)[follower][3:] == (4, 4)  # it fetched the lost records again


@pytest.mark.parametrize("enabled", [True, False])
def test_the_controller_hands_leadership_back_to_preferred_replicas_on_its_own(enabled: bool) -> None:
    cluster = EmbeddedCluster(seed=7, brokers=3, broker_config={"auto.leader.rebalance.enable": enabled})
    cluster.create_topic("orders", partitions=3, replication_factor=3, config={"min.insync.replicas": 2})
    preferred = cluster.partitions_for("orders")
    victim = preferred[0]
    cluster.crash_broker(victim)
    cluster.advance(12_000)
    cluster.restart_broker(victim)
    cluster.advance(60_000)
    assert victim not in cluster.partitions_for("orders").values()  # not yet: the check runs every 300 s
    cluster.advance(300_000)  # leader.imbalance.check.interval.seconds
    rebalanced = cluster.trace.filter("controller.auto_rebalance")
    if enabled:
        assert cluster.partitions_for("orders") == preferred and rebalanced
        assert cluster.produce("orders", "after the rebalance", partition=0).offset == 0
    else:
        assert victim not in cluster.partitions_for("orders").values() and not rebalanced
