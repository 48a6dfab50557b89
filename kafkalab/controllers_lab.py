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
  controller sends every broker UpdateMetadata for every partition, which each broker applies at
  :data:`BROKER_APPLY_COST_US` per partition; in KRaft the brokers already hold the metadata and only
  replay the new LeaderChange record;
* **leaders moved** (ZooKeeper mode) — the dead controller was a broker too, so the new one also
  elects leaders for the partitions it led and takes it out of every ISR: one fenced ZooKeeper write
  per changed partition, then LeaderAndIsr and UpdateMetadata that the brokers apply in turn. KRaft's
  controllers run apart from the brokers here (``process.roles=controller``), so no leader moves.

What is simulated and what is a model, said out loud: elections, sessions, watches, the reads, the
writes, the controller's requests to brokers and their queueing are simulated; the two per-partition
costs are figures measured on real clusters and used as constants (ZooKeeper writes cost only their
network round trips and ZAB's majority here: no fsync time is modelled). They come from Tencent Cloud's account of running Kafka with a million
partitions (about 37 s for a new controller to load 1 million partitions from ZooKeeper, and about
40 s more for the brokers to deserialize and apply the metadata it sends them). Change them and the
curves move; their shape — ZooKeeper mode growing linearly with the partition count, KRaft flat — does
not.

Kafka: kafka.controller.KafkaController#onControllerFailover (ZooKeeper mode),
org.apache.kafka.controller.QuorumController (KRaft); KIP-500 (the scalability motivation).
"""

from __future__ import annotations

import json
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
    leaders_moved: int = 0  # partitions the dead controller led (ZooKeeper mode: it was a broker too)
    leaders_moved_ms: int = -1  # when every surviving broker knew their new leaders (-1: none moved)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stored_results() -> dict[str, Any]:
    """The results ``benchmarks/bench_controller_failover.py`` wrote for 10^3 .. 10^6 partitions."""
    from importlib.resources import files

    return json.loads((files("kafkalab") / "data" / "controller_failover.json").read_text(encoding="utf-8"))


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

    cluster = ZkModeCluster(brokers=brokers, seed=seed, topics=topics_for(partitions), read_cost_us=read_cost_us,
                            apply_cost_us=apply_cost_us)
    cluster.sim.stop_tracing("net.")  # millions of messages at 10^6 partitions: keep only the moments read below
    first = cluster.wait_for_controller()
    controller = cluster.brokers[first]
    cluster.sim.run_until(lambda: controller.failover_done_ms >= 0 and bool(controller.live_brokers)
                          and not controller.writing_partition_states, 3_600_000)
    for _ in range(36_000):  # then until every broker applied it (settled() reads every partition: not after every event)
        if cluster.settled():
            break
        cluster.sim.advance(100)
    assert cluster.settled(), "the cluster should be steady before the crash"
    assert controller.context is not None
    moved = [key for key, state in controller.context.partition_states.items() if state.leader == first]
    crashed_at = cluster.sim.now_ms
    cluster.brokers[first].crash()
    second = cluster.wait_for_controller(120_000)
    new = cluster.brokers[second]
    if not cluster.sim.run_until(lambda: new.failover_done_ms >= 0, 3_600_000):
        raise AssertionError(f"the new controller did not finish loading {partitions} partitions")
    survivors = [b for b in cluster.brokers.values() if b.alive]

    def everything_applied() -> bool:  # the failover's UpdateMetadata, every partition, on every live broker
        return all(any(a.kind == "UpdateMetadata" and a.controller_epoch == new.controller_epoch and a.partitions == partitions
                       for a in b.node.applied) for b in survivors)
    if not cluster.sim.run_until(everything_applied, 3_600_000):
        raise AssertionError("the brokers did not apply the new controller's UpdateMetadata")
    detected = _first(cluster.sim, "kafka.zk.controller_watch", crashed_at)
    elected = _first(cluster.sim, "kafka.zk.became_controller", crashed_at)
    ready = new.failover_done_ms
    propagated = max(next(a.at_ms for a in b.node.applied if a.kind == "UpdateMetadata" and a.controller_epoch == new.controller_epoch
                          and a.partitions == partitions) for b in survivors)
    assert new.context is not None and len(new.context.partition_states) == partitions
    # The dead controller was a broker too: the new one elects leaders for what it led, writes each
    # partition's state to ZooKeeper, and then tells every broker.
    if not cluster.sim.run_until(lambda: not new.writing_partition_states and new.context is not None and
                                 all(new.context.partition_states[key].leader != first for key in moved), 3_600_000):
        raise AssertionError("the new controller did not move the dead controller's partitions")
    written = next(r for r in cluster.sim.trace if r.time_ms >= crashed_at and r.kind == "kafka.zk.partition_states_written")
    update = written.detail["update_metadata"]  # the UpdateMetadata that carried the new leaders

    def knows_new_leaders(broker: Any) -> int:
        return next((a.at_ms for a in broker.node.applied
                     if a.correlation_id == update and a.controller_epoch == new.controller_epoch), -1)
    if not cluster.sim.run_until(lambda: all(knows_new_leaders(b) >= 0 for b in survivors), 3_600_000):
        raise AssertionError("the surviving brokers never applied the new leaders")
    assert all(state.leader != first for b in survivors for state in b.node.metadata_cache.values()), \
        "a surviving broker still names the dead controller as a leader"
    moved_ms = max(knows_new_leaders(b) for b in survivors)
    return FailoverResult("ZooKeeper", partitions, detected - crashed_at, elected - crashed_at, ready - crashed_at,
                          propagated - crashed_at, new.context.reads, len(moved), moved_ms - crashed_at)


def kraft_failover(partitions: int, seed: int = 1, brokers: int = 3, controllers: int = 3) -> FailoverResult:
    """Crash the active controller of a KRaft cluster holding ``partitions`` partitions."""
    from kafkalab.raft.kraft_cluster import KRaftCluster

    cluster = KRaftCluster(controllers=controllers, brokers=brokers, seed=seed)
    cluster.sim.stop_tracing("net.")
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



@dataclass(frozen=True)
class CutOffResult:
    """The active controller is cut off from everyone for ``cut_ms``: who acts as controller when."""

    mode: str
    new_controller_ms: int  # after the cut, when another controller is active (-1: never)
    old_stops_ms: int  # when the cut-off one stops acting as controller (-1: not during the cut)
    overlap_ms: int  # how long two controllers both believed they were active
    writes_refused: bool  # whether the cut-off controller could still change anything durable


def cut_off_controller(mode: str, seed: int = 1, cut_ms: int = 30_000) -> CutOffResult:
    """The same fault in both modes: a network partition isolates the active controller."""
    if mode == "ZooKeeper":
        from kafkalab.zookeeper.kafka_zk_mode import ZkModeCluster

        zk = ZkModeCluster(brokers=3, seed=seed)
        old = zk.wait_for_controller()
        cut_at = zk.sim.now_ms
        zk.ensemble.network.partition([zk.brokers[old].zk.node_id], [f"zk-{sid}" for sid in zk.ensemble.ids])
        new_at = old_stops = -1
        zombie_write: list[str] = []
        while zk.sim.now_ms - cut_at < cut_ms:
            zk.sim.advance(100)
            believers = zk.controllers()
            if new_at < 0 and any(b != old for b in believers):
                new_at = zk.sim.now_ms - cut_at
                # The cut-off controller, still believing, changes a partition's leader.
                zk.brokers[old].update_leader_and_isr("orders", 0, old, 9, [old], zombie_write.append)
            if old_stops < 0 and old not in believers:
                old_stops = zk.sim.now_ms - cut_at
        overlap = (cut_ms - new_at if old_stops < 0 else max(0, old_stops - new_at)) if new_at >= 0 else 0
        zk.ensemble.heal()
        zk.sim.run_until(lambda: bool(zombie_write), 60_000)
        return CutOffResult(mode, new_at, old_stops, overlap, bool(zombie_write) and zombie_write[0] != "")
    from kafkalab.raft.kraft_cluster import KRaftCluster, node_name

    kraft = KRaftCluster(controllers=3, brokers=3, seed=seed)
    old = kraft.wait_ready()
    cut_at = kraft.sim.now_ms
    others = [node_name(c) for c in kraft.controller_ids if c != old] + [node_name(b) for b in kraft.broker_ids]
    kraft.network.partition([node_name(old)], others)
    new_at = old_stops = -1
    committed_before = kraft.controllers[old].controller.raft.high_watermark  # type: ignore[union-attr]
    while kraft.sim.now_ms - cut_at < cut_ms:
        kraft.sim.advance(100)
        old_controller = kraft.controllers[old].controller
        active = [c for c, n in kraft.controllers.items() if n.controller is not None and n.controller.is_active]
        if new_at < 0 and any(c != old for c in active):
            new_at = kraft.sim.now_ms - cut_at
        if old_stops < 0 and old not in active:
            old_stops = kraft.sim.now_ms - cut_at
    assert old_controller is not None
    overlap = max(0, old_stops - new_at) if new_at >= 0 and old_stops >= 0 else 0
    return CutOffResult(mode, new_at, old_stops, overlap, old_controller.raft.high_watermark == committed_before)
