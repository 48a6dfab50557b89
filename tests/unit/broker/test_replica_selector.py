"""KIP-392's replica selector (Kafka's ReplicaSelectorTest) and the broker's side of fetching from followers."""

import pytest

from kafkalab.broker.messages import FetchPartition, FetchRequest
from kafkalab.broker.replica_selector import (
    LEADER, RACK_AWARE, LeaderSelector, RackAwareReplicaSelector, ReplicaView, create_replica_selector,
)
from kafkalab.cluster import EmbeddedCluster
from kafkalab.config import BrokerConfig
from kafkalab.errors import ConfigError, NotLeaderOrFollowerError


REPLICAS = [ReplicaView(0, "rack-a", 4, 0), ReplicaView(1, "rack-a", 2, 5), ReplicaView(2, "rack-b", 3, 3), ReplicaView(3, "rack-b", 4, 2)]


def test_same_rack_selector_as_in_kafka():
    leader = REPLICAS[0]
    selector = RackAwareReplicaSelector()
    assert selector.select("rack-b", leader, REPLICAS).broker_id == 3  # the more caught-up one in rack-b
    assert selector.select("not-a-rack", leader, REPLICAS) == leader
    assert selector.select("rack-a", leader, REPLICAS) == leader  # the leader is in the consumer's rack
    assert selector.select("", leader, REPLICAS) == leader  # no client.rack: the leader


def test_ties_go_to_the_more_recently_caught_up_then_the_higher_id():
    leader = ReplicaView(0, "a", 9, 0)
    same_end = [leader, ReplicaView(1, "b", 5, 100), ReplicaView(2, "b", 5, 10)]
    assert RackAwareReplicaSelector().select("b", leader, same_end).broker_id == 2
    all_tied = [leader, ReplicaView(1, "b", 5, 10), ReplicaView(2, "b", 5, 10)]
    assert RackAwareReplicaSelector().select("b", leader, all_tied).broker_id == 2


def test_selector_classes_by_kafka_name():
    assert create_replica_selector(None) is None
    assert isinstance(create_replica_selector(RACK_AWARE), RackAwareReplicaSelector)
    assert isinstance(create_replica_selector(LEADER), LeaderSelector)
    with pytest.raises(ConfigError, match="replica.selector.class"):
        create_replica_selector("com.example.Nearest")
    with pytest.raises(ConfigError, match="replica.selector.class"):
        BrokerConfig({"replica.selector.class": "RackAware"})


def rack_cluster(selector: str | None = RACK_AWARE) -> EmbeddedCluster:
    config = {"replica.selector.class": selector} if selector else {}
    cluster = EmbeddedCluster(seed=2, brokers=3, racks=["a", "b", "c"], broker_config=config)
    cluster.create_topic("orders", partitions=1, replication_factor=3, config={"min.insync.replicas": 2})
    for i in range(4):
        cluster.produce("orders", f"v{i}")
    cluster.advance(1_000)  # the followers have fetched, and learned the high watermark
    return cluster


def fetch(cluster: EmbeddedCluster, broker: int, rack: str | None, offset: int = 0):
    answer = cluster.request(f"broker-{broker}", lambda cid: FetchRequest((FetchPartition("orders", 0, offset),), correlation_id=cid, rack_id=rack))
    return answer.partitions[0]


def test_the_leader_sends_a_consumer_to_the_replica_in_its_rack_and_the_follower_serves_it():
    cluster = rack_cluster()
    leader = cluster.partitions_for("orders")[0]
    follower = next(b for b in range(3) if b != leader)
    rack = cluster.racks[follower]
    answer = fetch(cluster, leader, rack)
    assert answer.preferred_read_replica == follower and answer.records == () and answer.high_watermark == 4
    served = fetch(cluster, follower, rack)
    assert [r.value for r in served.records] == [b"v0", b"v1", b"v2", b"v3"] and served.preferred_read_replica == -1
    assert fetch(cluster, leader, cluster.racks[leader]).preferred_read_replica == -1  # the leader is local
    assert [r.value for r in fetch(cluster, leader, "").records] == [b"v0", b"v1", b"v2", b"v3"]  # no rack: leader


def test_a_follower_refuses_old_fetches_and_serves_only_below_its_high_watermark():
    cluster = rack_cluster()
    leader = cluster.partitions_for("orders")[0]
    follower = next(b for b in range(3) if b != leader)
    assert fetch(cluster, follower, None).error_code == NotLeaderOrFollowerError.error_code  # before v11: leader only
    cluster.network.partition([f"broker-{b}" for b in range(3) if b != leader], [f"broker-{leader}"])
    cluster.produce("orders", "the followers do not have it", acks=1)
    assert [r.value for r in fetch(cluster, follower, "x").records][-1] == b"v3"


def test_without_a_selector_the_leader_serves_every_consumer():
    cluster = rack_cluster(selector=None)
    leader = cluster.partitions_for("orders")[0]
    for rack in ("a", "b", "c"):
        answer = fetch(cluster, leader, rack)
        assert answer.preferred_read_replica == -1 and len(answer.records) == 4


def test_an_out_of_sync_follower_is_never_preferred():
    cluster = rack_cluster()
    leader = cluster.partitions_for("orders")[0]
    lagging = next(b for b in range(3) if b != leader)
    cluster.network.partition([f"broker-{lagging}"], [f"broker-{leader}"])
    cluster.advance(50_000)  # out of the ISR after replica.lag.time.max.ms
    assert lagging not in cluster.metadata(["orders"]).topics[0].partitions[0].isr_nodes
    assert fetch(cluster, leader, cluster.racks[lagging]).preferred_read_replica == -1
