"""KIP-392 end to end: consumers in three zones, reading from the replica in their own zone."""

from __future__ import annotations

import pytest

from kafkalab.broker.replica_selector import RACK_AWARE
from kafkalab.cluster import EmbeddedCluster
from kafkalab.rack_lab import zone_traffic


def test_fetching_from_the_closest_replica_removes_cross_zone_consumer_traffic():
    leaders_only, nearest = zone_traffic(False), zone_traffic(True)
    for run in (leaders_only, nearest):
        assert run.records_consumed == 300
    # One zone in three holds the leader: about two thirds of the bytes consumed cross a zone boundary.
    share = leaders_only.consumer_cross_zone / (leaders_only.consumer_cross_zone + leaders_only.consumer_same_zone)
    assert 0.5 < share < 0.85
    assert nearest.consumer_cross_zone == 0 and nearest.consumer_same_zone > 0
    # Replication and produce traffic do not change; reading from followers waits for their high watermark.
    assert nearest.replication_cross_zone == leaders_only.replication_cross_zone
    assert nearest.mean_latency_ms > leaders_only.mean_latency_ms


def cluster_in_zones(seed: int) -> EmbeddedCluster:
    cluster = EmbeddedCluster(seed=seed, brokers=3, racks=["az-a", "az-b", "az-c"],
                              broker_config={"replica.selector.class": RACK_AWARE})
    cluster.create_topic("orders", partitions=1, replication_factor=3, config={"min.insync.replicas": 2})
    return cluster


@pytest.mark.parametrize("seed", range(6))
def test_a_consumer_reads_everything_in_order_when_its_preferred_replica_dies(seed: int):
    cluster = cluster_in_zones(seed)
    leader = cluster.partitions_for("orders")[0]
    near = next(b for b in range(3) if b != leader)
    producer = cluster.producer({"acks": "all", "linger.ms": 0, "enable.idempotence": "true"})
    acked: list[int] = []
    sent = [0]

    def write() -> None:
        if sent[0] < 120:
            producer.send("orders", f"m{sent[0]:03d}", callback=lambda md, err: acked.append(md.offset) if err is None else None)
            sent[0] += 1
            producer.set_timer(25, write)

    consumer = cluster.consumer({"client.rack": cluster.racks[near], "auto.offset.reset": "earliest",
                                 "enable.auto.commit": "false"})
    consumer.assign([("orders", 0)])
    seen: list[int] = []

    def read() -> None:
        seen.extend(r.offset for r in consumer.poll(0))
        consumer.set_timer(20, read)

    producer.set_timer(0, write)
    consumer.set_timer(0, read)
    cluster.advance(1_000)
    assert cluster.trace.filter("consumer.preferred_read_replica"), "the leader never sent the consumer to its zone"
    cluster.crash_broker(near)
    cluster.advance(40_000)  # a fetch to the dead replica times out; the consumer goes back to the leader
    cluster.restart_broker(near)
    cluster.advance(20_000)
    assert cluster.trace.filter("consumer.preferred_read_replica_cleared")
    assert seen == sorted(set(seen)), "records came twice or out of order"
    assert set(acked) <= set(seen), f"acknowledged offsets never read: {sorted(set(acked) - set(seen))[:5]}"
    assert seen == list(range(len(seen)))  # no gaps


def test_a_consumer_without_client_rack_reads_from_the_leader_only():
    cluster = cluster_in_zones(1)
    for i in range(5):
        cluster.produce("orders", f"v{i}")
    consumer = cluster.consumer({"auto.offset.reset": "earliest"})
    consumer.assign([("orders", 0)])
    records = []
    while len(records) < 5:
        records += consumer.poll(500)
    assert not cluster.trace.filter("consumer.preferred_read_replica")
