"""The model behind chapter 08's control-plane widget: a seeded cluster, in ZooKeeper mode or in
KRaft, replayed to any time with the faults a learner chose.

``ControlPlaneLab("KRaft")`` is three KRaft controllers and three brokers; ``ControlPlaneLab("ZooKeeper")``
three ZooKeeper servers and three ZooKeeper-mode brokers. Both hold one topic of six partitions and
start settled (time 0 is when every broker knows every leader). Actions are kept in a list —
crash, restart, cut off or heal the *active controller* or a broker, at a time — and ``run(at_ms)``
replays everything from the start to that time (the same seed gives the same run, so moving the
slider back is exact) and returns a snapshot:

* the controllers: ZooKeeper servers (state, last zxid) or KRaft controllers (role, epoch, high
  watermark), and who acts as the Kafka controller;
* the brokers: up, down or cut off, and the leader each would name for every partition;
* the tail of the metadata *log*: the ZooKeeper transactions the ensemble committed (in zxid order)
  or the records of ``__cluster_metadata`` (in offset order), each with the change it made;
* the control-plane events so far.

The faults are applied through :mod:`kafkalab.fault_script`'s rigs, so the widget and the
chapter's fault script drive the clusters the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kafkalab.fault_script import TOPIC, KRaftRig, Rig, ZooKeeperModeRig, make_rig

MODES = ("ZooKeeper", "KRaft")
ACTIONS = ("crash", "restart", "cut", "heal")
CONTROLLER = "controller"
PARTITIONS = 6
ZK_EVENTS = ("kafka.zk.became_controller", "kafka.zk.resigned", "kafka.zk.broker_change", "kafka.zk.elect_leaders",
             "kafka.zk.partition_states_written", "kafka.zk.stale_controller_epoch", "kafka.zk.session_expired",
             "zk.session_expired", "node.crash", "node.restart", "net.partition", "net.heal")
KRAFT_EVENTS = ("kraft.claim", "kraft.renounce", "kraft.fence", "kraft.unfence", "kraft.register", "kraft.fetch_timeout",
                "kraft.broker.unfenced", "node.crash", "node.restart", "net.partition", "net.heal")


@dataclass
class ControlPlaneSnapshot:
    mode: str
    time_ms: int  # since the cluster was first settled
    controllers: list[dict[str, Any]]
    brokers: list[dict[str, Any]]
    log: list[dict[str, Any]]  # the newest committed metadata changes, oldest first
    events: list[str]
    controller: str  # who acts as the Kafka controller now


@dataclass
class ControlPlaneLab:
    mode: str = "KRaft"
    seed: int = 1
    duration_ms: int = 60_000
    actions: list[tuple[int, str, str]] = field(default_factory=list)  # (time, action, target)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; known: {', '.join(MODES)}")

    @property
    def targets(self) -> tuple[str, ...]:
        return (CONTROLLER, "broker 1", "broker 2", "broker 3")

    def add(self, at_ms: int, action: str, target: str) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
        if target not in self.targets:
            raise ValueError(f"unknown target {target!r}; known: {', '.join(self.targets)}")
        self.actions.append((at_ms, action, target))
        self.actions.sort()

    def run(self, at_ms: int) -> ControlPlaneSnapshot:
        at_ms = max(0, min(at_ms, self.duration_ms))
        rig = make_rig(self.mode, self.seed, PARTITIONS)
        start = rig.sim.now_ms
        trace_from = len(rig.sim.trace)
        state = _FaultState()
        for when, action, target in self.actions:
            if when > at_ms:
                break
            rig.sim.run(until_ms=start + when)
            state.apply(rig, action, target)
        rig.sim.run(until_ms=start + at_ms)
        kinds = ZK_EVENTS if self.mode == "ZooKeeper" else KRAFT_EVENTS
        events = [f"{(r.time_ms - start) / 1000:7.3f} s  {r.to_text().split(maxsplit=2)[-1]}"
                  for r in list(rig.sim.trace)[trace_from:] if r.kind in kinds and not (r.node or "").startswith("kafka-")]
        if isinstance(rig, ZooKeeperModeRig):
            return _zookeeper_snapshot(rig, at_ms, state, events)
        assert isinstance(rig, KRaftRig)
        return _kraft_snapshot(rig, at_ms, state, events)


@dataclass
class _FaultState:
    """What the learner's actions did so far: which nodes are down or cut off."""

    crashed_controllers: list[Any] = field(default_factory=list)
    cut: set[str] = field(default_factory=set)

    def apply(self, rig: Rig, action: str, target: str) -> None:
        if action == "heal":
            rig.heal()
            self.cut.clear()
            return
        if target == CONTROLLER:
            self._on_controller(rig, action)
            return
        broker = int(target.split()[-1])
        alive = rig.cluster.brokers[broker].alive
        if action == "crash" and alive:
            rig.crash_broker(broker)
        elif action == "restart" and not alive:
            rig.restart_broker(broker)
        elif action == "cut":
            rig.isolate(broker)
            self.cut.add(target)

    def _on_controller(self, rig: Rig, action: str) -> None:
        if isinstance(rig, ZooKeeperModeRig):  # the controller is a broker
            controllers = rig.cluster.controllers()
            if action == "restart":
                for broker in list(self.crashed_controllers):
                    rig.restart_broker(broker)
                self.crashed_controllers.clear()
            elif controllers:
                if action == "crash":
                    self.crashed_controllers.append(controllers[0])
                    rig.crash_broker(controllers[0])
                else:
                    rig.isolate(controllers[0])
                    self.cut.add(f"broker {controllers[0]}")
            return
        assert isinstance(rig, KRaftRig)
        active = rig.cluster.active_controller()
        if action == "restart":
            for node_id in list(self.crashed_controllers):
                rig.cluster.restart_controller(node_id)
            self.crashed_controllers.clear()
        elif active is not None:
            if action == "crash":
                self.crashed_controllers.append(active)
                rig.cluster.crash_controller(active)
            else:
                rig.isolate_controller(active)
                self.cut.add(f"controller {active}")


def _leaders(leader_of: Any) -> str:
    return " ".join("—" if leader < 0 else str(leader) for leader in (leader_of(p) for p in range(PARTITIONS)))


def _zookeeper_snapshot(rig: ZooKeeperModeRig, at_ms: int, state: _FaultState, events: list[str]) -> ControlPlaneSnapshot:
    from kafkalab.zookeeper.zab import show_zxid

    cluster = rig.cluster
    ensemble = cluster.ensemble
    controllers = []
    for sid in ensemble.ids:
        server = ensemble.server(sid)
        controllers.append({"node": f"zk-{sid}", "state": server.state if server else "down",
                            "last zxid": show_zxid(ensemble.servers[sid].durable.last_zxid)})
    believers = cluster.controllers()
    brokers = []
    for broker_id, broker in cluster.brokers.items():
        status = "down" if not broker.alive else ("cut off" if f"broker {broker_id}" in state.cut else "up")
        role = f"controller (epoch {broker.controller_epoch})" if broker.alive and broker.is_controller else "broker"
        brokers.append({"broker": broker_id, "status": status, "role": role,
                        f"leaders of {TOPIC} 0..{PARTITIONS - 1}": _leaders(lambda p, b=broker: b.node.leader_of(TOPIC, p))
                        if broker.alive else "—"})
    leader_sid = ensemble.leader()
    log: list[dict[str, Any]] = []
    if leader_sid is not None:
        server = ensemble.server(leader_sid)
        assert server is not None
        committed = [entry for entry in ensemble.servers[leader_sid].durable.history if entry[0] <= server.committed_zxid]
        log = [{"position": show_zxid(zxid), "change": _describe_txn(txn)} for zxid, txn, _o, _r in committed
               if _describe_txn(txn)][-10:]
    who = ", ".join(f"broker {b}" for b in believers) or "nobody"
    return ControlPlaneSnapshot("ZooKeeper", at_ms, controllers, brokers, log, events[-12:], who)


def _describe_txn(txn: Any) -> str:
    from kafkalab.zookeeper.data_tree import CloseSessionTxn, CreateTxn, DeleteTxn, MultiTxn, SetDataTxn

    if isinstance(txn, MultiTxn):
        return " + ".join(part for part in (_describe_txn(t) for t in txn.txns) if part)
    if isinstance(txn, CreateTxn):
        return f"create {txn.path}" + (" (ephemeral)" if txn.ephemeral_owner else "")
    if isinstance(txn, SetDataTxn):
        if "/partitions/" in txn.path:
            return f"set {txn.path.removeprefix('/brokers/topics/')} = {txn.data.decode()}"
        return f"set {txn.path}" + (f" = {txn.data.decode()}" if txn.path == "/controller_epoch" else "")
    if isinstance(txn, DeleteTxn):
        return f"delete {txn.path}"
    if isinstance(txn, CloseSessionTxn):
        return f"session {txn.session_id:#x} closed (its ephemeral znodes go)"
    return ""  # session creations and no-ops: not metadata


def _kraft_snapshot(rig: KRaftRig, at_ms: int, state: _FaultState, events: list[str]) -> ControlPlaneSnapshot:
    from kafkalab.raft.kraft_cluster import node_name

    cluster = rig.cluster
    controllers = []
    best = None
    for node_id, node in cluster.controllers.items():
        qc = node.controller
        status = "down" if not node.alive or qc is None else qc.raft.role
        if node.alive and f"controller {node_id}" in state.cut:
            status += " (cut off)"
        controllers.append({"node": node_name(node_id), "state": status,
                            "epoch": qc.raft.epoch if qc else "—", "high watermark": qc.raft.high_watermark if qc else "—",
                            "active": "yes" if qc is not None and qc.is_active else ""})
        if qc is not None and node.alive and (best is None or qc.raft.high_watermark > best.raft.high_watermark):
            best = qc
    brokers = []
    for broker_id, node in cluster.brokers.items():
        status = "down" if not node.alive else ("cut off" if f"broker {broker_id}" in state.cut else "up")
        partitions = node.image.partitions.get(TOPIC, {})
        brokers.append({"broker": broker_id, "status": status,
                        "role": "broker (fenced)" if node.alive and node.is_fenced else "broker",
                        f"leaders of {TOPIC} 0..{PARTITIONS - 1}": _leaders(
                            lambda p, parts=partitions: parts[p].leader if p in parts else -1) if node.alive else "—",
                        "metadata offset": node.metadata_offset if node.alive else "—"})
    log: list[dict[str, Any]] = []
    if best is not None:
        for entry in best.raft.committed_entries()[-10:]:
            change = (f"LeaderChange(leader={entry.record.leader_id})" if entry.is_control
                      else "; ".join(describe_record(r) for r in entry.record))
            log.append({"position": f"offset {entry.offset} (epoch {entry.epoch})", "change": change})
    active = cluster.active_controller()
    return ControlPlaneSnapshot("KRaft", at_ms, controllers, brokers, log, events[-12:],
                                f"controller {active}" if active is not None else "nobody")


def describe_record(record: Any) -> str:
    """A metadata record as Kafka's metadata shell would name it, with the fields that matter here."""
    name = type(record).__name__
    fields = {k: v for k, v in vars(record).items() if v is not None and v is not False and k != "rack"}
    return f"{name}({', '.join(f'{k}={v}' for k, v in fields.items())})"
