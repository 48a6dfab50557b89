"""The model behind the election widgets of chapters 06 and 07: a seeded quorum replayed to any time.

``QuorumLab("raft")`` is a KRaft controller quorum (:class:`~kafkalab.raft.simulation.RaftCluster`)
that appends a record every half second; ``QuorumLab("zookeeper")`` is a ZooKeeper ensemble with a
client writing a znode every half second. Actions (crash, restart, cut off, heal a node at a time)
are kept in a list; ``run(at_ms)`` replays the whole seeded run up to that time and returns a
snapshot: each node's role, epoch, vote or leader, log position and what it has committed, plus the
election events so far. Replaying from the start every time is what makes moving back in time
exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("raft", "zookeeper")
RAFT_EVENTS = ("raft.become", "raft.vote", "raft.fetch_timeout", "raft.election_lost", "raft.truncate")
ZOOKEEPER_EVENTS = ("zk.looking", "zk.elected", "zk.new_epoch", "zk.established", "zk.trunc", "zk.leader_silent",
                    "zk.lost_quorum", "zk.resync", "node.crash", "node.restart", "net.partition", "net.heal")


@dataclass
class QuorumSnapshot:
    time_ms: int
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    events: list[str]
    committed: int  # records (Raft) or znode writes (ZooKeeper) committed so far


@dataclass
class QuorumLab:
    kind: str = "raft"
    nodes: int = 3
    seed: int = 1
    duration_ms: int = 60_000
    actions: list[tuple[int, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown quorum kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.nodes < 1:
            raise ValueError(f"a quorum needs at least one node, got {self.nodes}")

    def add(self, at_ms: int, action: str, node: int) -> None:
        if action not in ("crash", "restart", "cut", "heal"):
            raise ValueError(f"unknown action {action!r}; known: crash, restart, cut, heal")
        if not 1 <= node <= self.nodes:
            raise ValueError(f"no node {node}: nodes are 1..{self.nodes}")
        self.actions.append((at_ms, action, node))
        self.actions.sort()

    def run(self, at_ms: int) -> QuorumSnapshot:
        at_ms = max(0, min(at_ms, self.duration_ms))
        return self._run_raft(at_ms) if self.kind == "raft" else self._run_zookeeper(at_ms)

    # -- Raft --------------------------------------------------------------------------------------
    def _run_raft(self, at_ms: int) -> QuorumSnapshot:
        from kafkalab.raft.simulation import RaftCluster

        cluster = RaftCluster(voters=self.nodes, seed=self.seed)
        ids = list(cluster.voter_ids)

        def act(action: str, node: int) -> None:
            if action == "crash" and cluster.nodes[node].alive:
                cluster.crash(node)
            elif action == "restart" and not cluster.nodes[node].alive:
                cluster.restart(node)
            elif action == "cut":
                cluster.partition([node], [n for n in ids if n != node])
            elif action == "heal":
                cluster.heal()

        committed = 0
        self._drive(cluster.sim, at_ms, act, lambda: cluster.append(f"r{cluster.sim.now_ms // 500}"))
        rows = []
        for node_id in ids:
            node = cluster.nodes[node_id]
            client = node.client if node.alive else None
            log = node.durable.log
            tail = " ".join(f"{e.offset}:e{e.epoch}" for e in log.entries[-5:])
            rows.append({"node": node_id, "role": client.role if client else "down", "epoch": node.durable.election.epoch,
                         "voted for": _dash(node.durable.election.voted_id), "leader": _dash(node.durable.election.leader_id),
                         "log end": log.end_offset, "high watermark": _dash(client.high_watermark if client else -1),
                         "last entries (offset:epoch)": tail})
            if client is not None:
                committed = max(committed, sum(1 for e in client.committed_entries() if not e.is_control))
        return QuorumSnapshot(cluster.sim.now_ms, tuple(rows[0]), rows, _events(cluster.sim, RAFT_EVENTS), committed)

    # -- ZooKeeper ---------------------------------------------------------------------------------
    def _run_zookeeper(self, at_ms: int) -> QuorumSnapshot:
        from kafkalab.zookeeper.ensemble import ZooKeeperEnsemble
        from kafkalab.zookeeper.zab import show_zxid

        ensemble = ZooKeeperEnsemble(self.nodes, seed=self.seed, tick_ms=500)
        ids = list(ensemble.ids)
        client = ensemble.client("writer", session_timeout_ms=60_000)
        acknowledged = [0]

        def act(action: str, node: int) -> None:
            if action == "crash" and ensemble.servers[node].alive:
                ensemble.crash(node)
            elif action == "restart" and not ensemble.servers[node].alive:
                ensemble.restart(node)
            elif action == "cut":
                ensemble.partition([f"zk-{node}"], [f"zk-{n}" for n in ids if n != node])
            elif action == "heal":
                ensemble.heal()

        def write() -> None:
            if client.state == "CONNECTED":
                client.set_data("/", b"", lambda error, _r: acknowledged.__setitem__(0, acknowledged[0] + (not error)))

        self._drive(ensemble.sim, at_ms, act, write)
        rows = []
        for sid in ids:
            server = ensemble.server(sid)
            durable = ensemble.servers[sid].durable
            rows.append({"server": sid, "state": server.state if server else "down",
                         "leader": _dash(server.leader_id if server else -1),
                         "accepted epoch": durable.accepted_epoch, "current epoch": durable.current_epoch,
                         "last zxid": show_zxid(durable.last_zxid),
                         "applied": hex(server.tree.last_processed_zxid) if server else "—",
                         "serving": ("yes" if server.serving else "no") if server else "—"})
        return QuorumSnapshot(ensemble.sim.now_ms, tuple(rows[0]), rows, _events(ensemble.sim, ZOOKEEPER_EVENTS), acknowledged[0])

    # -- shared ------------------------------------------------------------------------------------
    def _drive(self, sim: Any, at_ms: int, act: Any, write: Any) -> None:
        pending = list(self.actions)
        next_write = 500
        while sim.now_ms < at_ms:
            step_to = min([at_ms, next_write] + [t for t, _a, _n in pending if t > sim.now_ms])
            sim.run(until_ms=step_to)
            while pending and pending[0][0] <= sim.now_ms:
                _t, action, node = pending.pop(0)
                act(action, node)
            if sim.now_ms >= next_write:
                write()
                next_write += 500
        while pending and pending[0][0] <= sim.now_ms:
            _t, action, node = pending.pop(0)
            act(action, node)


def _dash(value: int) -> Any:
    return "—" if value < 0 else value


def _events(sim: Any, kinds: tuple[str, ...]) -> list[str]:
    return [record.to_text().strip() for record in sim.trace if record.kind in kinds]
