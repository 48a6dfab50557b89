"""ZooKeeper mode against KRaft: the same fault (the active controller's process dies) in both, and
what it costs as the number of partitions grows.

For each mode the experiment crashes the controller and reads four moments from the trace:

* **detected** — the others notice: in ZooKeeper mode when the dead broker's session expires
  (``zookeeper.session.timeout.ms``, 18 s) and ``/controller`` disappears; in KRaft when a standby's
  fetch times out (``controller.quorum.fetch.timeout.ms``, 2 s);
* **elected** — a new controller is chosen (the ``/controller`` race; a Raft election);
* **ready** — the new controller holds the metadata and can act: in ZooKeeper mode after reading
  every broker, topic and partition state back from ZooKeeper (simulated, one read each, with each
  ZooKeeper server answering one read at a time at :data:`ZK_READ_COST_US`); in KRaft at once, since
  a standby has replayed the whole log all along (its LeaderChange record committed);
* **propagated** — every broker holds the new controller's view: in ZooKeeper mode the new
  controller sends every broker UpdateMetadata for every partition (modelled: each broker applies
  each partition at :data:`BROKER_APPLY_COST_US`, in parallel across brokers); in KRaft the brokers
  already hold the metadata and only replay the new LeaderChange record (simulated).

What is simulated and what is a model, said out loud: elections, sessions, watches, the reads and
their queueing are simulated; the two per-partition costs are figures measured on real clusters
and used as constants. They come from Tencent Cloud's account of running Kafka with a million
partitions (about 37 s for a new controller to load 1 million partitions from ZooKeeper, and about
40 s more for the brokers to deserialize and apply the metadata it sends them). Change them and the
curves move; their shape — ZooKeeper mode growing linearly with the partition count, KRaft flat — does
not.

Kafka: kafka.controller.KafkaController#onControllerFailover (ZooKeeper mode),
org.apache.kafka.controller.QuorumController (KRaft); KIP-500 (the scalability motivation).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ZK_READ_COST_US = 37  # per partition-state read: ~37 s for 1,000,000 partitions (Tencent Cloud)
BROKER_APPLY_COST_US = 40  # per partition in UpdateMetadata, per broker: ~40 s for 1,000,000 (Tencent Cloud)
PARTITIONS_PER_TOPIC = 1000


@dataclass(frozen=True)
class FailoverResult:
    mode: str
    partitions: int
    detected_ms: int
    elected_ms: int
    ready_ms: int
    propagated_ms: int
    metadata_reads: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def topics_for(partitions: int) -> dict[str, int]:
    """``partitions`` spread over topics of up to 1,000 partitions (t0000, t0001, …)."""
    topics: dict[str, int] = {}
    left = partitions
    index = 0
    while left > 0:
        count = min(PARTITIONS_PER_TOPIC, left)
        topics[f"t{index:04d}"] = count
        left -= count
        index += 1
    return topics


def _first(sim: Any, kind: str, since_ms: int, node: str | None = None) -> int:
    for record in sim.trace:
        if record.time_ms >= since_ms and record.kind == kind and (node is None or record.node == node):
            return record.time_ms
    raise AssertionError(f"no {kind} after t={since_ms} ms in the trace")


def zookeeper_mode_failover(partitions: int, seed: int = 1, brokers: int = 3,
                            read_cost_us: int = ZK_READ_COST_US, apply_cost_us: int = BROKER_APPLY_COST_US) -> FailoverResult:
    """Crash the controller of a ZooKeeper-mode cluster holding ``partitions`` partitions."""
    from kafkalab.zookeeper.kafka_zk_mode import ZkModeCluster

    cluster = ZkModeCluster(brokers=brokers, seed=seed, topics=topics_for(partitions), read_cost_us=read_cost_us)
    first = cluster.wait_for_controller()
    cluster.sim.run_until(lambda: cluster.brokers[first].failover_done_ms >= 0, 600_000)
    crashed_at = cluster.sim.now_ms
    cluster.brokers[first].crash()
    second = cluster.wait_for_controller(120_000)
    new = cluster.brokers[second]
    if not cluster.sim.run_until(lambda: new.failover_done_ms >= 0, 3_600_000):
        raise AssertionError(f"the new controller did not finish loading {partitions} partitions")
    detected = _first(cluster.sim, "kafka.zk.controller_watch", crashed_at)
    elected = _first(cluster.sim, "kafka.zk.became_controller", crashed_at)
    ready = new.failover_done_ms
    propagated = ready + (partitions * apply_cost_us + 999) // 1000  # modelled: UpdateMetadata applied by every broker
    assert new.context is not None and len(new.context.partition_states) == partitions
    return FailoverResult("ZooKeeper", partitions, detected - crashed_at, elected - crashed_at, ready - crashed_at,
                          propagated - crashed_at, new.context.reads)


def kraft_failover(partitions: int, seed: int = 1, brokers: int = 3, controllers: int = 3) -> FailoverResult:
    """Crash the active controller of a KRaft cluster holding ``partitions`` partitions."""
    from kafkalab.raft.kraft_cluster import KRaftCluster

    cluster = KRaftCluster(controllers=controllers, brokers=brokers, seed=seed)
    cluster.wait_ready(60_000)
    for name, count in topics_for(partitions).items():
        cluster.create_topic(name, count, min(3, brokers), timeout_ms=120_000)
    committed = cluster.committed_metadata_offset()
    cluster.wait_until(lambda: all(b.metadata_offset >= committed for b in cluster.brokers.values()), 120_000, "brokers catching up")
    first = cluster.active_controller()
    assert first is not None
    crashed_at = cluster.sim.now_ms
    cluster.crash_controller(first)
    cluster.wait_until(lambda: cluster.active_controller() not in (None, first), 60_000, "a new active controller")
    second = cluster.active_controller()
    assert second is not None
    new = cluster.controllers[second].controller
    assert new is not None
    marker = new.raft.epoch_start_offset  # the new leader's LeaderChange record
    cluster.wait_until(lambda: all(b.metadata_offset > marker for b in cluster.brokers.values()), 60_000,
                       "brokers replaying the new leader's record")
    detected = _first(cluster.sim, "kraft.fetch_timeout", crashed_at)  # the first standby to notice
    elected = _first(cluster.sim, "kraft.claim", crashed_at)  # leader, with its epoch's record committed
    ready = elected
    propagated = max(b.replayed_at[marker] for b in cluster.brokers.values())
    image = new.state().image
    assert sum(len(parts) for parts in image.partitions.values()) == partitions
    return FailoverResult("KRaft", partitions, detected - crashed_at, elected - crashed_at, ready - crashed_at,
                          propagated - crashed_at, 0)

