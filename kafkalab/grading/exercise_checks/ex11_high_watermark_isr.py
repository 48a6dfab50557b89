"""Checks for ex11_high_watermark_isr: a leader replica's high watermark and ISR decisions.

Hand-built replicas first (a leader with followers at given log end offsets), then a replicated
cluster whose brokers all use the learner's Partition class: acks=all writes, a follower cut off
and healed, and seeded crash schedules that must not lose an acknowledged record.
"""

from __future__ import annotations

from types import ModuleType

from kafkalab.cluster import EmbeddedCluster
from kafkalab.cluster_lab import replica_logs_picture
from kafkalab.durability import Settings, loss_story
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed, expect_equal
from kafkalab.log import PartitionLog
from kafkalab.record import Record

EXERCISE = "ex11_high_watermark_isr"


def leader(impl: ModuleType, isr=(0, 1, 2), min_isr: int = 1, records: int = 10):
    log = PartitionLog("t", 0)
    for i in range(records):
        log.append([Record(None, f"v{i}".encode(), (), 0)], 0)
    partition = impl.Partition("t", 0, log, 0)
    partition.min_insync_replicas = min_isr
    partition.make_leader((0, 1, 2), tuple(isr), 0, 0, 0)
    return partition


@check(EXERCISE, points=3)
def high_watermark_is_the_smallest_isr_end(impl: ModuleType) -> None:
    """the high watermark is the smallest log end offset over the ISR, never goes back, and waits for min.insync.replicas"""
    p = leader(impl)
    p.update_follower_fetch(1, 7, 10)
    expect_equal(p.high_watermark, 0, "high watermark while follower 2 has not fetched", input="LEOs: leader 10, f1 7, f2 unknown")
    p.update_follower_fetch(2, 4, 20)
    expect_equal(p.high_watermark, 4, "high watermark", input="LEOs: leader 10, f1 7, f2 4")
    p.update_follower_fetch(2, 9, 30)
    expect_equal(p.high_watermark, 7, "high watermark", input="LEOs: leader 10, f1 7, f2 9")
    p.update_follower_fetch(1, 10, 40)
    expect_equal(p.high_watermark, 9, "high watermark", input="LEOs: leader 10, f1 10, f2 9")
    p.isr = (0, 1)
    p.followers[1].log_end_offset = 3  # a stale report must not move it back
    p.maybe_increment_high_watermark()
    expect_equal(p.high_watermark, 9, "high watermark after a smaller report (it never goes back)")
    lonely = leader(impl, isr=(0,), min_isr=2)
    lonely.maybe_increment_high_watermark()
    expect_equal(lonely.high_watermark, 0, "high watermark with ISR [0] and min.insync.replicas=2 (held)")


@check(EXERCISE, points=2)
def a_follower_rejoins_once_caught_up(impl: ModuleType) -> None:
    """a follower counts as in sync once it reaches the high watermark (and this epoch's start)"""
    p = leader(impl, isr=(0, 1))
    p.update_follower_fetch(1, 10, 5)
    expect_equal(p.high_watermark, 10, "high watermark with ISR [0, 1] both at 10")
    p.update_follower_fetch(2, 6, 6)
    expect_equal(p.follower_in_sync(2), False, "follower_in_sync(2)", input="follower 2 at 6, high watermark 10")
    p.update_follower_fetch(2, 10, 7)
    expect_equal(p.follower_in_sync(2), True, "follower_in_sync(2)", input="follower 2 at 10, high watermark 10")
    expect_equal(p.isr_to_expand(2), (0, 1, 2), "the ISR to ask for when follower 2 caught up")


@check(EXERCISE, points=2)
def a_lagging_follower_leaves_after_replica_lag_time_max_ms(impl: ModuleType) -> None:
    """followers that have not caught up within replica.lag.time.max.ms leave the ISR (the leader stays)"""
    p = leader(impl)
    p.update_follower_fetch(1, 10, 1_000)  # caught up at 1 s
    p.update_follower_fetch(2, 5, 1_000)   # behind since the start
    expect_equal(p.isr_to_shrink(20_000, 30_000), None, "ISR to shrink to at 20 s (lag limit 30 s)")
    expect_equal(p.isr_to_shrink(31_000, 30_000), (0, 1), "ISR to shrink to at 31 s", input="follower 2 never caught up")
    expect_equal(p.isr_to_shrink(40_000, 30_000), (0,), "ISR to shrink to at 40 s", input="follower 1 last caught up at 1 s")


@check(EXERCISE, points=3, timeout_s=60)
def a_cluster_of_your_replicas_keeps_acknowledged_writes(impl: ModuleType) -> None:
    """a 3-broker cluster built on your Partition: acks=all works, a cut-off follower leaves and rejoins the ISR, no acknowledged loss"""
    seed = 2
    cluster = EmbeddedCluster(seed=seed, brokers=3, partition_class=impl.Partition)
    cluster.create_topic("orders", partitions=1, replication_factor=3, config={"min.insync.replicas": 2})
    for i in range(5):
        expect_equal(cluster.produce("orders", f"v{i}").offset, i, "offset of an acks=all write", seed=seed)
    leader_id = cluster.partitions_for("orders")[0]
    slow = next(b for b in cluster.brokers if b != leader_id)
    cluster.network.partition([f"broker-{slow}"], [f"broker-{leader_id}"])
    cluster.advance(45_000)
    isr = cluster.controller.controller.image.partitions["orders"][0].isr
    if slow in isr:
        raise CheckFailed(f"broker {slow} was cut off for 45 s but is still in the ISR {list(isr)} (seed {seed})")
    cluster.network.heal()
    cluster.advance(40_000)
    isr = cluster.controller.controller.image.partitions["orders"][0].isr
    if slow not in isr:
        raise CheckFailed(f"broker {slow} caught up after the network healed but did not rejoin the ISR {list(isr)} (seed {seed})")
    for run_seed in (0, 1):  # the durability lab's fault schedules, on a cluster of the learner's replicas
        run = _durability_with(impl, run_seed)
        if run.acknowledged_lost:
            story = "\n".join("  " + line for line in loss_story(run)[-12:])
            raise CheckFailed(
                f"acks=all, RF=3, min.insync.replicas=2 lost acknowledged records {run.acknowledged_lost[:3]} (seed {run_seed})\n"
                f"broken invariant: every acknowledged record stays on some replica\n"
                f"what happened (the last events before the loss):\n{story}\n"
                + replica_logs_picture(run.cluster, "ledger", run.acknowledged_values)
            )


def _durability_with(impl: ModuleType, seed: int):
    import kafkalab.durability as durability

    original = durability.EmbeddedCluster

    class WithLearnersPartition(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("partition_class", impl.Partition)
            super().__init__(*args, **kwargs)

    durability.EmbeddedCluster = WithLearnersPartition
    try:
        return durability.durability_run(Settings(-1, 3, 2, False), seed, writes=25)
    finally:
        durability.EmbeddedCluster = original
