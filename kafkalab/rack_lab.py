"""Chapter 05's racks experiment: where replicas go, and what fetching from the closest replica saves.

Three availability zones (racks) with two brokers each; a topic with replication factor 3 gets one
replica in every zone (rack-aware placement). A producer in zone ``az-a`` writes steadily; a
consumer group has one member per zone. :func:`zone_traffic` counts the bytes that cross a zone
boundary — the traffic cloud providers bill — with consumers reading from leaders only, and with
``replica.selector.class=RackAwareReplicaSelector`` (KIP-392), where each consumer reads from the
replica in its own zone. It also measures what that costs: the end-to-end latency from send to
poll, since a follower serves only up to its own high watermark, one replication round trip behind.

Kafka: KIP-36 (rack-aware placement), KIP-392 (fetch from follower), KIP-881 (rack-aware assignors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kafkalab.broker.broker import record_bytes
from kafkalab.broker.messages import FetchResponse, ProduceRequest
from kafkalab.broker.replica_selector import RACK_AWARE
from kafkalab.cluster import EmbeddedCluster

ZONES = ("az-a", "az-b", "az-c")


@dataclass(frozen=True)
class ZoneTraffic:
    """Bytes of record data by purpose, split into same-zone and cross-zone, and consumer latency."""

    fetch_from_follower: bool
    records_consumed: int
    consumer_same_zone: int
    consumer_cross_zone: int
    replication_cross_zone: int
    produce_cross_zone: int
    mean_latency_ms: float

    @property
    def cross_zone_total(self) -> int:
        return self.consumer_cross_zone + self.replication_cross_zone + self.produce_cross_zone


def rack_cluster(seed: int = 1, fetch_from_follower: bool = False, cross_zone_latency_ms: int = 3) -> EmbeddedCluster:
    """Six brokers, two per zone; links inside a zone take 1 ms, across zones ``cross_zone_latency_ms``."""
    config: dict[str, Any] = {"replica.selector.class": RACK_AWARE} if fetch_from_follower else {}
    racks = [ZONES[b // 2] for b in range(6)]
    cluster = EmbeddedCluster(seed=seed, brokers=6, racks=racks, broker_config=config)
    for a in range(6):
        for b in range(6):
            if racks[a] != racks[b]:
                cluster.network.set_link(f"broker-{a}", f"broker-{b}", latency_ms=cross_zone_latency_ms)
    return cluster


def zone_of(cluster: EmbeddedCluster, node: str, client_zones: dict[str, str]) -> str | None:
    if node.startswith("broker-"):
        return cluster.racks[int(node.split("-")[1])]
    return client_zones.get(node)


def zone_traffic(fetch_from_follower: bool, seed: int = 1, records: int = 300, partitions: int = 6,
                 cross_zone_latency_ms: int = 3) -> ZoneTraffic:
    """Write ``records`` records (one every 20 ms) and consume them with one group member per zone."""
    cluster = rack_cluster(seed, fetch_from_follower, cross_zone_latency_ms)
    cluster.create_topic("clicks", partitions=partitions, replication_factor=3, config={"min.insync.replicas": 2})
    client_zones: dict[str, str] = {}
    counts = {"consumer_same": 0, "consumer_cross": 0, "replication_cross": 0, "produce_cross": 0}
    measuring = [False]

    def count(src: str, dst: str, message: Any) -> int:
        if not measuring[0]:
            return 0
        same = zone_of(cluster, src, client_zones) == zone_of(cluster, dst, client_zones)
        if isinstance(message, FetchResponse):
            size = sum(record_bytes(r) for p in message.partitions for r in p.records)
            if dst in client_zones:
                counts["consumer_same" if same else "consumer_cross"] += size
            elif not same:
                counts["replication_cross"] += size
        elif isinstance(message, ProduceRequest) and not same:
            counts["produce_cross"] += sum(record_bytes(r) for p in message.partitions for r in p.records.records)
        return 0  # no extra delay: this filter only counts

    cluster.network.add_filter(count)
    producer = cluster.producer({"acks": "all", "linger.ms": 0})
    client_zones[producer.node_id] = ZONES[0]
    consumers = []
    for zone in ZONES:
        consumer = cluster.consumer({"group.id": "dashboards", "client.rack": zone, "auto.offset.reset": "earliest"})
        client_zones[consumer.node_id] = zone
        consumer.subscribe(["clicks"])
        consumers.append(consumer)
    for node in (producer, *consumers):  # a client talks to brokers in other zones over slower links too
        for b, rack in cluster.racks.items():
            if rack != client_zones[node.node_id]:
                cluster.network.set_link(node.node_id, f"broker-{b}", latency_ms=cross_zone_latency_ms)
                cluster.network.set_link(f"broker-{b}", node.node_id, latency_ms=cross_zone_latency_ms)
    while any(not c.assignment() for c in consumers):  # let the group form before measuring
        for consumer in consumers:
            consumer.poll(100)
    measuring[0] = True
    latencies: list[int] = []
    sent = [0]

    def write() -> None:
        if sent[0] < records:
            producer.send("clicks", f"click-{sent[0]:04d}", key=f"user-{sent[0] % 37}")
            sent[0] += 1
            producer.set_timer(20, write)

    def read(consumer: Any) -> None:
        for record in consumer.poll(0):
            latencies.append(cluster.now_ms - record.timestamp)
        consumer.set_timer(10, read, consumer)

    producer.set_timer(0, write)
    for consumer in consumers:
        consumer.set_timer(0, read, consumer)
    cluster.sim.run_until(lambda: len(latencies) >= records, 60_000)
    measuring[0] = False
    return ZoneTraffic(fetch_from_follower, len(latencies), counts["consumer_same"], counts["consumer_cross"],
                       counts["replication_cross"], counts["produce_cross"],
                       round(sum(latencies) / max(len(latencies), 1), 1))


def placement_table(cluster: EmbeddedCluster, topic: str) -> list[dict[str, Any]]:
    """One row per partition: its replicas with their racks, and how many racks they cover."""
    rows = []
    for p in cluster.metadata([topic]).topics[0].partitions:
        racks = [cluster.racks[r] for r in p.replica_nodes]
        rows.append({"partition": p.partition_index, "leader": p.leader_id,
                     "replicas": " ".join(f"{r}({rack})" for r, rack in zip(p.replica_nodes, racks)),
                     "racks covered": len(set(racks))})
    return rows
