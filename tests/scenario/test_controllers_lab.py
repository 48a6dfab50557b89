"""The ZooKeeper-mode vs KRaft failover experiment, at small sizes: the shapes chapter 08 plots."""

from __future__ import annotations

from kafkalab.controllers_lab import (
    BROKER_APPLY_COST_US, ZK_READ_COST_US, cut_off_controller, kraft_failover, stored_results, topics_for,
    zookeeper_mode_failover,
)


def test_topics_for_spreads_partitions_over_topics_of_a_thousand() -> None:
    assert topics_for(2_500) == {"t0000": 1000, "t0001": 1000, "t0002": 500}
    assert sum(topics_for(10).values()) == 10


def test_zookeeper_mode_reads_every_partition_back_and_grows_with_the_count() -> None:
    small, large = zookeeper_mode_failover(200), zookeeper_mode_failover(4_000)
    extra_topics = len(topics_for(4_000)) - len(topics_for(200))
    assert large.metadata_reads - small.metadata_reads == 3_800 + extra_topics  # one read per partition state, one per topic
    assert 18_000 <= small.detected_ms <= 21_000  # zookeeper.session.timeout.ms, checked on the leader's ticks
    load_ms = large.ready_ms - large.elected_ms
    assert load_ms >= 4_000 * ZK_READ_COST_US // 1000  # the reads queue at the ZooKeeper server
    # UpdateMetadata for every partition, applied by each broker at BROKER_APPLY_COST_US per partition,
    # after one more listing of /brokers/ids and a network hop.
    apply_ms = 4_000 * BROKER_APPLY_COST_US // 1000
    assert apply_ms <= large.propagated_ms - large.ready_ms <= apply_ms + 20
    # It was a broker too: a third of the partitions need new leaders, and every ISR loses it.
    assert large.leaders_moved == 1_332 and large.leaders_moved_ms > large.propagated_ms + apply_ms


def test_zookeeper_mode_moves_the_dead_controllers_partitions_kraft_moves_none() -> None:
    zk, kraft = zookeeper_mode_failover(300), kraft_failover(300)
    assert zk.leaders_moved == 100 and zk.leaders_moved_ms > zk.propagated_ms
    assert kraft.leaders_moved == 0 and kraft.leaders_moved_ms == -1  # the controllers are not brokers here


def test_kraft_failover_does_not_depend_on_the_partition_count() -> None:
    small, large = kraft_failover(200), kraft_failover(4_000)
    assert small.metadata_reads == large.metadata_reads == 0
    assert small.detected_ms <= 2_000 and large.detected_ms <= 2_000  # controller.quorum.fetch.timeout.ms
    assert abs(large.ready_ms - small.ready_ms) <= 1_000 and large.ready_ms < 5_000


def test_a_cut_off_controller_zombie_in_zookeeper_mode_resigns_in_kraft() -> None:
    zk = cut_off_controller("ZooKeeper")
    assert 18_000 <= zk.new_controller_ms <= 22_000 and zk.old_stops_ms == -1 and zk.overlap_ms > 0
    kraft = cut_off_controller("KRaft")
    assert kraft.new_controller_ms <= 4_000 and 0 <= kraft.old_stops_ms <= 3_100  # 1.5 × the fetch timeout
    # The cut-off leader resigns 1.5 × the fetch timeout after its last fetch from a majority; the
    # others elect after one fetch timeout and an election: an overlap of about a second at most,
    # during which the old leader can commit nothing.
    assert kraft.overlap_ms <= 1_500 and kraft.writes_refused


def test_the_stored_results_cover_a_thousand_to_a_million_partitions() -> None:
    stored = stored_results()
    counts = sorted({row["partitions"] for row in stored["results"]})
    assert counts == [1_000, 10_000, 100_000, 1_000_000]
    ready = {(row["mode"], row["partitions"]): row["ready_ms"] for row in stored["results"]}
    assert ready[("ZooKeeper", 1_000_000)] > ready[("ZooKeeper", 1_000)] + 30_000  # grows with the partitions
    assert abs(ready[("KRaft", 1_000_000)] - ready[("KRaft", 1_000)]) < 2_000  # flat
    rows = {(row["mode"], row["partitions"]): row for row in stored["results"]}
    zk = rows[("ZooKeeper", 1_000_000)]
    assert zk["leaders_moved"] == 333_000 and zk["leaders_moved_ms"] > zk["propagated_ms"] > zk["ready_ms"]
    assert rows[("KRaft", 1_000_000)]["leaders_moved"] == 0
