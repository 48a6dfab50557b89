"""Checks for ex12_leader_election: the controller's choice of a new leader.

The rules on hand-made cases, then failovers on a cluster whose controller uses the learner's
function: clean elections keep every acknowledged record; with unclean election off, a partition
whose in-sync replicas are all gone stays offline instead of electing a stale replica.
"""

from __future__ import annotations

from types import ModuleType

from kafkalab.cluster import EmbeddedCluster
from kafkalab.cluster_lab import replica_story
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed, expect_equal, explained_by

EXERCISE = "ex12_leader_election"


@check(EXERCISE, points=3)
def elects_the_first_live_in_sync_replica_in_replica_order(impl: ModuleType) -> None:
    """the first replica (in replica order, not ISR order) that is in the ISR and not fenced"""
    cases = [
        (((1, 2, 3), (1, 2, 3), set(), False), 1),
        (((1, 2, 3), (3, 2), set(), False), 2),
        (((1, 2, 3), (1, 2, 3), {1}, False), 2),
        (((3, 1, 2), (1, 2), {3}, True), 1),
    ]
    for (replicas, isr, fenced, unclean), expected in cases:
        expect_equal(impl.choose_leader(replicas, isr, set(fenced), unclean), expected, "choose_leader",
                     input={"replicas": replicas, "isr": isr, "fenced": sorted(fenced), "unclean": unclean})


@check(EXERCISE, points=2)
def no_live_in_sync_replica_means_offline(impl: ModuleType) -> None:
    """with unclean election off, no live in-sync replica means no leader (-1), even if others are alive"""
    expect_equal(impl.choose_leader((1, 2, 3), (1,), {1}, False), -1, "choose_leader",
                 input={"replicas": (1, 2, 3), "isr": (1,), "fenced": [1], "unclean": False})
    expect_equal(impl.choose_leader((1, 2), (1, 2), {1, 2}, True), -1, "choose_leader", input="every replica fenced")


@check(EXERCISE, points=2)
def unclean_election_takes_a_live_replica(impl: ModuleType) -> None:
    """with unclean election on and no live in-sync replica, the first live replica leads"""
    expect_equal(impl.choose_leader((1, 2, 3), (1,), {1}, True), 2, "choose_leader",
                 input={"replicas": (1, 2, 3), "isr": (1,), "fenced": [1], "unclean": True})


@check(EXERCISE, points=3, timeout_s=60)
def failovers_with_your_election_keep_acknowledged_records(impl: ModuleType) -> None:
    """a cluster whose controller uses your choose_leader fails over from the ISR and loses nothing acknowledged"""
    seed = 4
    cluster = EmbeddedCluster(seed=seed, brokers=3, choose_leader=impl.choose_leader)
    cluster.create_topic("orders", partitions=1, replication_factor=3, config={"min.insync.replicas": 2})
    written = []
    for round_number in range(2):
        for i in range(3):
            value = f"r{round_number}-{i}"
            cluster.produce("orders", value)
            written.append(value.encode())
        old = cluster.partitions_for("orders")[0]
        cluster.crash_broker(old)
        cluster.advance(12_000)
        new = cluster.partitions_for("orders")[0]
        if new in (-1, old):
            raise CheckFailed(f"after broker {old} (the leader) died, the leader is {new}; an in-sync replica should lead (seed {seed})\n"
                              + replica_story(cluster, "orders"))
        cluster.restart_broker(old)
        cluster.advance(20_000)
    values = [r.value for r in cluster.fetch("orders", 0, 0)]
    with explained_by(lambda: replica_story(cluster, "orders")):
        expect_equal(values, written, "what the partition holds after two failovers", seed=seed)
    stale = EmbeddedCluster(seed=seed, brokers=2, choose_leader=impl.choose_leader)
    stale.create_topic("orders", partitions=1, replication_factor=2, config={"min.insync.replicas": 1})
    stale.produce("orders", "both")
    leader = stale.partitions_for("orders")[0]
    stale.crash_broker(1 - leader)
    stale.advance(12_000)
    stale.produce("orders", "only the leader")
    stale.crash_broker(leader)
    stale.restart_broker(1 - leader)
    stale.advance(15_000)
    with explained_by(lambda: replica_story(stale, "orders")):
        expect_equal(stale.partitions_for("orders")[0], -1, "leader once only an out-of-sync replica is alive (unclean election off)", seed=seed)
