"""One fault script, replayed under ZooKeeper mode and under KRaft: what each mode does, and when.

The script has three faults, each on a fresh, settled cluster of three brokers holding one topic
(replication factor 3), so that one fault's aftermath does not colour the next:

1. **controller crash** — the process of the active controller dies (in ZooKeeper mode that is one
   of the brokers; in KRaft a controller node, since controllers run apart from brokers here);
2. **broker crash** — a broker that leads partitions (not the controller) dies, then restarts;
3. **broker cut off** — a network partition isolates a leading broker for ``cut_ms``, then heals.

For each, four moments after the fault (milliseconds, simulated time):

* **detected** — the control plane knows: ``/controller`` or ``/brokers/ids/<id>`` vanished when the
  ZooKeeper session expired (``zookeeper.session.timeout.ms`` = 18 s); a standby's Raft fetch timed out
  (``controller.quorum.fetch.timeout.ms`` = 2 s) or the active controller fenced a broker silent for
  ``broker.session.timeout.ms`` (9 s);
* **decided** — the new controller holds the metadata, or the new leaders are durable (written to
  ZooKeeper; committed to ``__cluster_metadata``);
* **everyone knows** — every running broker (the cut-off one excepted) would send clients to the new
  leaders: it applied UpdateMetadata (pushed by the controller) or replayed the records (pulled);
* **back** — after the restart or the heal, the broker is serving again with current metadata
  (ZooKeeper mode: registered and sent everything; KRaft: caught up and unfenced).

Everything here is simulated with the course's models (:mod:`kafkalab.zookeeper.kafka_zk_mode`,
:mod:`kafkalab.raft.kraft_cluster`): control plane only — no records are produced, so a returning
replica counts as caught up at once. Kafka: KafkaController (onBrokerFailure, onBrokerStartup),
QuorumController (fencing by BrokerHeartbeatManager); KIP-500, KIP-631.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable

TOPIC = "orders"
FAULTS = ("controller crash", "broker crash", "broker cut off")


@dataclass(frozen=True)
class FaultTimeline:
    mode: str
    fault: str
    target: str  # which node the fault hit
    detected_ms: int
    decided_ms: int
    everyone_knows_ms: int
    back_ms: int  # after restart or heal (-1: not part of this fault)
    leaders_moved: int  # partitions whose leader changed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Rig:
    """What the script needs from a cluster, whatever its mode."""

    mode = ""
    sim: Any
    cluster: Any

    def controller_name(self) -> str: ...
    def leaders(self) -> dict[int, int]: ...  # partition -> leader, as the controller decided (committed)
    def crash_controller(self) -> None: ...
    def controller_crash_moments(self, old: str) -> tuple[Callable[[], bool], Callable[[], bool]]: ...
    def isolate(self, broker_id: int) -> None: ...
    def heal(self) -> None: ...
    def knows_dead(self, broker_id: int) -> bool: ...
    def decided_without(self, broker_id: int) -> bool: ...
    def everyone_knows(self, excluding: int = -1) -> bool: ...
    def back(self, broker_id: int) -> bool: ...

    def crash_broker(self, broker_id: int) -> None:
        self.cluster.crash_broker(broker_id)

    def restart_broker(self, broker_id: int) -> None:
        self.cluster.restart_broker(broker_id)

    def wait(self, predicate: Callable[[], bool], what: str, timeout_ms: int = 120_000) -> int:
        if not self.sim.run_until(predicate, timeout_ms):
            raise AssertionError(f"{self.mode}: {what} did not happen within {timeout_ms} ms (seed {self.sim.seed})")
        return self.sim.now_ms


class ZooKeeperModeRig(Rig):
    mode = "ZooKeeper"

    def __init__(self, seed: int, partitions: int) -> None:
        from kafkalab.zookeeper.kafka_zk_mode import LEADER_IMBALANCE_CHECK_INTERVAL_MS, ZkModeCluster

        self.cluster = ZkModeCluster(brokers=3, seed=seed, topics={TOPIC: partitions})
        self.sim = self.cluster.sim
        self.cluster.wait_for_controller()
        # Past the first preferred-leader check, so leadership is spread as the replica lists say.
        self.sim.advance(LEADER_IMBALANCE_CHECK_INTERVAL_MS)
        self.wait(self.cluster.settled, "a settled cluster")

    def _controller(self) -> Any:
        controllers = self.cluster.controllers()
        return self.cluster.brokers[controllers[0]] if len(controllers) == 1 else None

    def controller_name(self) -> str:
        return f"broker {self.cluster.controllers()[0]}"

    def controller_id(self) -> int:
        return self.cluster.controllers()[0]

    def leaders(self) -> dict[int, int]:
        return {p: state.leader for (_t, p), state in self.cluster.partition_states().items()}

    def crash_controller(self) -> None:
        self.cluster.crash_broker(self.controller_id())

    def controller_crash_moments(self, old: str) -> tuple[Callable[[], bool], Callable[[], bool]]:
        old_id = int(old.split()[-1])

        def detected() -> bool:  # someone's watch on /controller fired: the znode is gone
            return any(b.alive and b.active_controller_id != old_id for b in self.cluster.brokers.values())

        def decided() -> bool:  # a new controller has read everything back
            controller = self._controller()
            return controller is not None and controller.broker_id != old_id and controller.failover_done_ms >= 0
        return detected, decided

    def isolate(self, broker_id: int) -> None:
        self.cluster.isolate_broker(broker_id)

    def heal(self) -> None:
        self.cluster.heal()

    def knows_dead(self, broker_id: int) -> bool:
        controller = self._controller()
        return controller is not None and controller.failover_done_ms >= 0 and broker_id not in controller.live_brokers

    def decided_without(self, broker_id: int) -> bool:
        states = self.cluster.partition_states()
        return bool(states) and all(s.leader != broker_id and broker_id not in s.isr for s in states.values())

    def everyone_knows(self, excluding: int = -1) -> bool:
        controller = self._controller()
        if controller is None or controller.writing_partition_states or controller.context is None:
            return False
        truth = controller.context.partition_states
        return all(b.node.metadata_cache == truth for i, b in self.cluster.brokers.items() if b.alive and i != excluding)

    def back(self, broker_id: int) -> bool:
        return self.cluster.settled() and broker_id in (self._controller().live_brokers if self._controller() else ())


class KRaftRig(Rig):
    mode = "KRaft"

    def __init__(self, seed: int, partitions: int) -> None:
        from kafkalab.raft.kraft_cluster import KRaftCluster

        self.cluster = KRaftCluster(controllers=3, brokers=3, seed=seed)
        self.sim = self.cluster.sim
        self.cluster.wait_ready(60_000)
        self.cluster.create_topic(TOPIC, partitions, 3)
        self.wait(self.everyone_knows, "every broker replaying the topic")

    def _active(self) -> Any:
        active = self.cluster.active_controller()
        return self.cluster.controllers[active].controller if active is not None else None

    def controller_name(self) -> str:
        return f"controller {self.cluster.active_controller()}"

    def leaders(self) -> dict[int, int]:
        active = self._active()
        if active is None:
            return {}
        return {p: record.leader for p, record in active.committed_state.image.partitions.get(TOPIC, {}).items()}

    def crash_controller(self) -> None:
        active = self.cluster.active_controller()
        assert active is not None
        self.cluster.crash_controller(active)

    def controller_crash_moments(self, old: str) -> tuple[Callable[[], bool], Callable[[], bool]]:
        old_id = int(old.split()[-1])
        standbys = [n for c, n in self.cluster.controllers.items() if c != old_id]

        def detected() -> bool:  # a standby stopped following the dead leader
            return any(n.controller is not None and n.controller.raft.leader_id != old_id for n in standbys)

        def decided() -> bool:  # a standby won and claimed: it already held every record
            return self.cluster.active_controller() not in (None, old_id)
        return detected, decided

    def isolate(self, broker_id: int) -> None:
        from kafkalab.raft.kraft_cluster import node_name

        others = [node_name(c) for c in self.cluster.controller_ids] + [node_name(b) for b in self.cluster.broker_ids if b != broker_id]
        self.cluster.network.partition([node_name(broker_id)], others)

    def isolate_controller(self, node_id: int) -> None:
        from kafkalab.raft.kraft_cluster import node_name

        others = [node_name(c) for c in self.cluster.controller_ids if c != node_id] + [node_name(b) for b in self.cluster.broker_ids]
        self.cluster.network.partition([node_name(node_id)], others)

    def heal(self) -> None:
        self.cluster.network.heal()

    def knows_dead(self, broker_id: int) -> bool:
        active = self._active()
        return active is not None and broker_id in active.state().image.fenced

    def decided_without(self, broker_id: int) -> bool:
        active = self._active()
        if active is None or broker_id not in active.committed_state.image.fenced:
            return False
        partitions = active.committed_state.image.partitions.get(TOPIC, {})
        return all(r.leader != broker_id and broker_id not in r.isr for r in partitions.values())

    def everyone_knows(self, excluding: int = -1) -> bool:
        active = self._active()
        if active is None:
            return False
        truth = active.committed_state.image.partitions.get(TOPIC)
        return truth is not None and all(
            node.image.partitions.get(TOPIC) == truth for b, node in self.cluster.brokers.items()
            if node.alive and node.raft is not None and b != excluding)

    def back(self, broker_id: int) -> bool:
        return broker_id in self.cluster.unfenced_brokers() and self.everyone_knows()


def make_rig(mode: str, seed: int, partitions: int) -> Rig:
    if mode == "ZooKeeper":
        return ZooKeeperModeRig(seed, partitions)
    if mode == "KRaft":
        return KRaftRig(seed, partitions)
    raise ValueError(f"unknown mode {mode!r}: choose 'ZooKeeper' or 'KRaft'")


def _leading_broker(rig: Rig, avoid: str) -> int:
    """The broker leading the most partitions, other than the controller (ZooKeeper mode)."""
    counts: dict[int, int] = {}
    for leader in rig.leaders().values():
        if f"broker {leader}" != avoid:
            counts[leader] = counts.get(leader, 0) + 1
    return max(sorted(counts), key=lambda b: counts[b])


def _moved(before: dict[int, int], after: dict[int, int]) -> int:
    return sum(1 for p, leader in before.items() if after.get(p) != leader)


def run_fault(mode: str, fault: str, seed: int = 1, partitions: int = 12, cut_ms: int = 30_000) -> FaultTimeline:
    """One fault of the script on a fresh ``mode`` cluster; the moments are ms after the fault."""
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}: choose one of {', '.join(FAULTS)}")
    rig = make_rig(mode, seed, partitions)
    controller = rig.controller_name()
    before = rig.leaders()
    start = rig.sim.now_ms
    back = -1
    if fault == "controller crash":
        target = controller
        detected_now, decided_now = rig.controller_crash_moments(controller)
        rig.crash_controller()
        detected = rig.wait(detected_now, "noticing the controller's death")
        decided = rig.wait(decided_now, "a new controller holding the metadata")
        everyone = rig.wait(lambda: rig.everyone_knows() and all(f"broker {l}" != controller for l in rig.leaders().values()),
                            "every broker knowing the new leaders")
    else:
        victim = _leading_broker(rig, controller)
        target = f"broker {victim}"
        if fault == "broker crash":
            rig.crash_broker(victim)
        else:
            rig.isolate(victim)
        detected = rig.wait(lambda: rig.knows_dead(victim), f"the controller noticing broker {victim}")
        decided = rig.wait(lambda: rig.decided_without(victim), f"new leaders for broker {victim}'s partitions")
        everyone = rig.wait(lambda: rig.everyone_knows(excluding=victim), "every broker knowing the new leaders")
        if fault == "broker cut off":
            rig.sim.advance(max(0, start + cut_ms - rig.sim.now_ms))
        healed_at = rig.sim.now_ms
        if fault == "broker crash":
            rig.restart_broker(victim)
        else:
            rig.heal()
        back = rig.wait(lambda: rig.back(victim), f"broker {victim} back with current metadata") - healed_at
    return FaultTimeline(rig.mode, fault, target, detected - start, decided - start, everyone - start, back,
                         _moved(before, rig.leaders()))


def run_fault_script(seed: int = 1, partitions: int = 12, cut_ms: int = 30_000) -> list[FaultTimeline]:
    """The whole script under both modes: ZooKeeper mode's row, then KRaft's, for each fault."""
    return [run_fault(mode, fault, seed, partitions, cut_ms) for fault in FAULTS for mode in ("ZooKeeper", "KRaft")]
