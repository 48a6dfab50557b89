"""Checks for ex13_epoch_truncation: where a leader epoch ended (the answer to OffsetsForLeaderEpoch).

Epoch caches by hand (as LeaderEpochFileCacheTest does), then KIP-101's data-loss scenario and a
divergence on a cluster whose replicas answer with the learner's function.
"""

from __future__ import annotations

from types import ModuleType

from kafkalab.cluster import EmbeddedCluster
from kafkalab.cluster_lab import kip101_scenario, replica_story
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import expect_equal, explained_by, first_failure

EXERCISE = "ex13_epoch_truncation"
CACHE = [(0, 0), (1, 5), (3, 9)]  # epoch 0 from offset 0, epoch 1 from 5, epoch 3 from 9 (epoch 2 never wrote)


@check(EXERCISE, points=4)
def end_offsets_from_the_epoch_cache(impl: ModuleType) -> None:
    """each epoch ends where the next known one starts; the latest at the log end offset; unknown old epochs: (-1, -1)"""
    cases = [(0, (0, 5)), (1, (1, 9)), (2, (1, 9)), (3, (3, 12)), (7, (3, 12)), (-1, (-1, -1))]
    first_failure(cases, lambda case: expect_equal(impl.epoch_end_offset(list(CACHE), case[0], 12), case[1],
                                                   f"epoch_end_offset(cache, {case[0]}, log_end_offset=12)", input=CACHE))
    expect_equal(impl.epoch_end_offset([], 4, 12), (-1, -1), "epoch_end_offset([], 4, 12)", input="an empty cache")
    expect_equal(impl.epoch_end_offset([(2, 3)], 1, 8), (-1, -1), "epoch_end_offset([(2, 3)], 1, 8)", input="an epoch older than any known")


def _with_learner(impl: ModuleType):
    import kafkalab.broker.partition as partition

    class Swap:
        def __enter__(self):
            self.original = partition.epoch_end_offset
            partition.epoch_end_offset = impl.epoch_end_offset

        def __exit__(self, *exc):
            partition.epoch_end_offset = self.original

    return Swap()


@check(EXERCISE, points=3, timeout_s=30)
def kip101_scenario_keeps_the_acknowledged_record(impl: ModuleType) -> None:
    """KIP-101's scenario: the restarted follower asks the leader where its epoch ended and keeps m2"""
    impl.epoch_end_offset([(0, 0)], 0, 1)  # inside the brokers an exception would only be an error code
    with _with_learner(impl):
        values, _ = kip101_scenario("leader-epoch")
    expect_equal(values, [b"m1", b"m2"], "what the partition holds after the old leader died", seed=5)


@check(EXERCISE, points=3, timeout_s=30)
def a_diverged_follower_drops_what_the_new_leader_lacks(impl: ModuleType) -> None:
    """an old leader with a record no one else got rejoins as follower and truncates it, so the replicas agree"""
    impl.epoch_end_offset([(0, 0)], 0, 1)
    seed = 6
    with _with_learner(impl):
        cluster = EmbeddedCluster(seed=seed, brokers=2)
        cluster.create_topic("orders", partitions=1, replication_factor=2, config={"min.insync.replicas": 1})
        cluster.produce("orders", "shared")
        leader = cluster.partitions_for("orders")[0]
        follower = 1 - leader
        cluster.network.partition([f"broker-{follower}"], [f"broker-{leader}"])
        cluster.produce("orders", "lost-with-acks-1", acks=1)  # only the old leader has it
        cluster.crash_broker(leader)
        cluster.network.heal()
        cluster.advance(12_000)  # the follower (still in the ISR) leads epoch 1
        cluster.produce("orders", "new-leader")
        cluster.restart_broker(leader)
        cluster.advance(5_000)
        logs = {b: [r.value for r in cluster.brokers[b].broker.logs[("orders", 0)].read(0)] for b in (0, 1)}
    with explained_by(lambda: replica_story(cluster, "orders")):
        expect_equal(logs[leader], logs[follower], "the old leader's log compared with the new leader's", seed=seed)
        expect_equal(logs[follower], [b"shared", b"new-leader"], "the new leader's log", seed=seed)
