"""A KRaft quorum on the simulator: voters as nodes, faults by name, invariants after every event.

``RaftCluster(voters=3, seed=…)`` builds the nodes; a scenario speaks in intent, as MIT 6.5840's
Raft tests do: ``check_one_leader()``, ``crash(node)``, ``restart(node)``, ``disconnect(node)``,
``partition([1, 2], [3])``, ``append(value)``, ``wait_committed(offset)``. Every event is followed
by the invariants of Kafka's RaftEventSimulationTest:

* **single leader per epoch** — no two nodes ever lead the same epoch (election safety);
* **monotonic epoch** — a node's durable epoch never goes back;
* **monotonic high watermark** — a running node's high watermark never goes back;
* **log matching** — Raft's Log Matching property: two logs that hold an entry with the same offset
  and epoch hold the same record there and are identical before it (checked as: every copy of that
  entry has the same record and the same epoch just before it, which by induction is the whole prefix);
* **committed data is never lost** — an entry below any node's high watermark is the same entry on
  every node whose high watermark covers it, forever (this is where a wrong vote or commit rule
  shows up, with the trace of how).

The driver is thin: ``RaftNode`` hands messages and wake-ups to its ``RaftClient`` and sends what
comes back; crash keeps the durable state (log, quorum-state), wipe loses it. ``durable=`` starts
nodes from given disks (a scenario's divergent logs, as in the Raft paper's Figure 7).

Kafka: org.apache.kafka.raft.RaftEventSimulationTest (Cluster, MessageRouter, the invariants
SingleLeader, MonotonicEpoch, MonotonicHighWatermark, ConsistentCommittedData); Raft paper §5.3
(Log Matching); MIT 6.5840 Lab 3.
"""

from __future__ import annotations

from typing import Any, Callable

from kafkalab.raft.client import DurableState, HighWatermarkRule, NotLeaderError, RaftClient, VoteRule
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.log import DivergingEpochRule, LogEntry, RaftLog, TruncationRule
from kafkalab.raft.rules import LEADER
from kafkalab.sim import LinkConfig, Network, Node, Simulator
from kafkalab.sim.simulator import InvariantViolation


def node_name(node_id: int) -> str:
    return f"controller-{node_id}"


class RaftNode(Node):
    """One quorum member on the simulator: a thin driver around :class:`RaftClient`."""

    def __init__(self, node_id: int, voters: tuple[int, ...], sim: Simulator, network: Network, config: QuorumConfig,
                 vote_rule: VoteRule | None = None, high_watermark_rule: HighWatermarkRule | None = None,
                 diverging_epoch_rule: DivergingEpochRule | None = None, truncation_rule: TruncationRule | None = None) -> None:
        super().__init__(node_name(node_id), sim, network)
        self.raft_id = node_id
        self.voters = voters
        self.config = config
        self.durable = DurableState()
        self.vote_rule = vote_rule
        self.high_watermark_rule = high_watermark_rule
        self.diverging_epoch_rule = diverging_epoch_rule
        self.truncation_rule = truncation_rule
        self.client: RaftClient | None = None
        self.on_commit: Callable[[RaftNode], None] | None = None

    def _trace(self, kind: str, **detail: Any) -> None:
        self.sim.record(f"raft.{kind}", self.node_id, **detail)

    def on_start(self) -> None:
        self.client = RaftClient(self.raft_id, self.voters, self.config, self.durable, self.sim.rng(f"raft-{self.raft_id}"),
                                 self.sim.now_ms, vote_rule=self.vote_rule, high_watermark_rule=self.high_watermark_rule,
                                 diverging_epoch_rule=self.diverging_epoch_rule, truncation_rule=self.truncation_rule,
                                 trace=self._trace)
        self._after(self.client.take_outbox())

    def on_message(self, src: str, message: Any) -> None:
        assert self.client is not None
        sender = int(src.rsplit("-", 1)[1])
        client = self.client
        self._after(self._safely(lambda: client.handle(sender, message, self.sim.now_ms)))

    def _safely(self, step: Callable[[], list[tuple[int, Any]]]) -> list[tuple[int, Any]]:
        """The client's own safety checks (an epoch going back, truncating committed entries) stop
        the run like an invariant does: with the seed, the time and the last trace lines."""
        try:
            return step()
        except AssertionError as broken:
            raise InvariantViolation("raft safety check", self.sim.seed, self.sim.now_ms, str(broken), self.sim.trace.tail(20)) from None

    def on_crash(self) -> None:
        self.client = None  # volatile state (role, high watermark, votes received) dies with the process

    def on_wipe(self) -> None:
        self.durable = DurableState()

    def _poll(self) -> None:
        client = self.client
        if client is not None:
            self._after(self._safely(lambda: client.poll(self.sim.now_ms)))

    def _after(self, outbound: list[tuple[int, Any]]) -> None:
        for destination, message in outbound:
            self.send(node_name(destination), message)
        if self.client is None or not self.alive:
            return
        if self.on_commit is not None:
            self.on_commit(self)
        self.wake_at(self.client.next_deadline_ms(), self._poll)

    def append(self, records: list[Any]) -> int:
        """Append as the leader (raises NotLeaderError elsewhere)."""
        if self.client is None:
            raise NotLeaderError(self.raft_id, -1, self.durable.election.epoch)
        offset = self.client.append(records, self.sim.now_ms)
        self._after(self.client.take_outbox())
        return offset


class CommittedDataLost(AssertionError):
    """An entry once committed is gone or different on a node that considers it committed."""


class RaftCluster:
    """Voters (and optionally observers) of one quorum on a seeded simulator."""

    def __init__(
        self,
        voters: int = 3,
        seed: int = 0,
        *,
        observers: int = 0,
        config: dict[str, Any] | None = None,
        pre_vote: bool = True,
        fetch_max_entries: int = 1_000_000,
        link: LinkConfig | None = None,
        vote_rule: VoteRule | None = None,
        high_watermark_rule: HighWatermarkRule | None = None,
        diverging_epoch_rule: DivergingEpochRule | None = None,
        truncation_rule: TruncationRule | None = None,
        durable: dict[int, DurableState] | None = None,
        check_invariants: bool = True,
    ) -> None:
        if voters < 1:
            raise ValueError(f"a quorum needs at least one voter, got {voters}")
        self.sim = Simulator(seed)
        self.network = Network(self.sim, link or LinkConfig(latency_ms=1, jitter_ms=2))
        self.config = QuorumConfig(config, pre_vote=pre_vote, fetch_max_entries=fetch_max_entries)
        self.voter_ids = tuple(range(1, voters + 1))
        self.observer_ids = tuple(range(voters + 1, voters + 1 + observers))
        self.nodes: dict[int, RaftNode] = {}
        for node_id in self.voter_ids + self.observer_ids:
            self.nodes[node_id] = RaftNode(node_id, self.voter_ids, self.sim, self.network, self.config,
                                           vote_rule=vote_rule, high_watermark_rule=high_watermark_rule,
                                           diverging_epoch_rule=diverging_epoch_rule, truncation_rule=truncation_rule)
            if durable is not None and node_id in durable:
                self.nodes[node_id].durable = durable[node_id]  # its disk as the scenario left it
        self.leaders_by_epoch: dict[int, int] = {}
        self.committed: dict[int, LogEntry] = {}
        self._epochs_seen: dict[int, tuple[DurableState, int]] = {}
        self._checked: dict[int, tuple[RaftLog, int, int]] = {}  # node -> (log, truncations, offsets checked)
        self._high_watermarks_seen: dict[int, tuple[int, int]] = {}  # node -> (incarnation, high watermark)
        # (offset, epoch) -> (the first node seen holding it, its record, the epoch of the entry before it)
        self._entries_seen: dict[tuple[int, int], tuple[int, Any, int]] = {}
        self._matched: dict[int, tuple[RaftLog, int, int]] = {}  # node -> (log, truncations, offsets checked)
        if check_invariants:
            self.sim.add_invariant("single leader per epoch", self._check_single_leader)
            self.sim.add_invariant("monotonic epoch", self._check_monotonic_epoch)
            self.sim.add_invariant("monotonic high watermark", self._check_monotonic_high_watermark)
            self.sim.add_invariant("log matching", self._check_log_matching)
            self.sim.add_invariant("committed data is never lost", self._check_committed_data)
        for node in self.nodes.values():
            node.start()

    # -- looking -------------------------------------------------------------------------------
    def client(self, node_id: int) -> RaftClient | None:
        return self.nodes[node_id].client

    def leader(self) -> int | None:
        """The running leader with the highest epoch, if any."""
        best: tuple[int, int] | None = None
        for node_id, node in self.nodes.items():
            client = node.client
            if node.alive and client is not None and client.role == LEADER:
                if best is None or client.epoch > best[0]:
                    best = (client.epoch, node_id)
        return best[1] if best else None

    def describe(self) -> list[dict[str, Any]]:
        rows = []
        for node_id, node in self.nodes.items():
            if node.client is not None and node.alive:
                rows.append(node.client.describe())
            else:
                election = node.durable.election
                rows.append({"node": node_id, "role": "down", "epoch": election.epoch, "leader": election.leader_id,
                             "voted": election.voted_id, "end_offset": node.durable.log.end_offset, "high_watermark": -1})
        return rows

    def log_of(self, node_id: int) -> list[LogEntry]:
        return list(self.nodes[node_id].durable.log.entries)

    def values_committed_on(self, node_id: int) -> list[Any]:
        """The data records (no control records) below the node's high watermark."""
        client = self.client(node_id)
        if client is None:
            return []
        return [entry.record for entry in client.committed_entries() if not entry.is_control]

    # -- doing ---------------------------------------------------------------------------------
    def run(self, ms: int) -> None:
        self.sim.advance(ms)

    def run_until(self, predicate: Callable[[], bool], timeout_ms: int) -> bool:
        return self.sim.run_until(predicate, timeout_ms)

    def check_one_leader(self, timeout_ms: int = 10_000) -> int:
        """Run until exactly one running node leads (as MIT's checkOneLeader); its id."""
        if not self.run_until(lambda: self.leader() is not None, timeout_ms):
            raise AssertionError(f"no leader elected within {timeout_ms} ms (seed {self.sim.seed}):\n"
                                 + "\n".join(str(row) for row in self.describe()))
        return self.leader()  # type: ignore[return-value]

    def check_no_leader(self, for_ms: int) -> None:
        """Run ``for_ms`` and fail if any running, reachable-by-a-majority node leads meanwhile."""
        deadline = self.sim.now_ms + for_ms
        while self.sim.now_ms < deadline:
            self.sim.run(until_ms=min(deadline, self.sim.now_ms + 100))
            leader = self.leader()
            if leader is not None and self._reaches_majority(leader):
                raise AssertionError(f"node {leader} leads epoch {self.client(leader).epoch} without a majority "  # type: ignore[union-attr]
                                     f"(seed {self.sim.seed})")

    def _reaches_majority(self, node_id: int) -> bool:
        reachable = sum(1 for other in self.voter_ids
                        if other == node_id or (self.nodes[other].alive
                                                and self.network.can_reach(node_name(node_id), node_name(other))))
        return reachable >= len(self.voter_ids) // 2 + 1

    def append(self, value: Any) -> int | None:
        """Append ``value`` at the current leader; the offset, or None if there is no leader."""
        leader = self.leader()
        if leader is None:
            return None
        return self.nodes[leader].append([value])

    def wait_committed(self, offset: int, timeout_ms: int = 10_000, on: int | None = None, value: Any = None) -> bool:
        """Run until ``offset`` is below the high watermark of ``on`` (default: the current leader),
        holding ``value`` if one is given (a new leader may have committed something else there)."""
        def done() -> bool:
            node_id = on if on is not None else self.leader()
            client = self.client(node_id) if node_id is not None else None
            if client is None or not self.nodes[node_id].alive or client.high_watermark <= offset:  # type: ignore[index]
                return False
            entry = client.log.entry_at(offset)
            return value is None or (entry is not None and entry.record == value)
        return self.run_until(done, timeout_ms)

    def crash(self, node_id: int) -> None:
        self.nodes[node_id].crash()

    def wipe(self, node_id: int) -> None:
        self.nodes[node_id].wipe()

    def restart(self, node_id: int) -> None:
        self.nodes[node_id].restart()

    def disconnect(self, node_id: int) -> None:
        self.network.disconnect(node_name(node_id))

    def reconnect(self, node_id: int) -> None:
        self.network.reconnect(node_name(node_id))

    def partition(self, side_a: list[int], side_b: list[int]) -> None:
        self.network.partition([node_name(n) for n in side_a], [node_name(n) for n in side_b])

    def heal(self) -> None:
        self.network.heal()

    def set_unreliable(self, drop_rate: float = 0.1, jitter_ms: int = 20, reorder: bool = True) -> None:
        """Lose, delay and reorder messages on every link (MIT's setunreliable)."""
        self.network.set_default(drop_rate=drop_rate, jitter_ms=jitter_ms, reorder=reorder)

    # -- invariants ------------------------------------------------------------------------------
    def _check_single_leader(self, _sim: Simulator) -> None:
        for node_id, node in self.nodes.items():
            client = node.client
            if node.alive and client is not None and client.role == LEADER:
                previous = self.leaders_by_epoch.setdefault(client.epoch, node_id)
                assert previous == node_id, (f"two leaders in epoch {client.epoch}: node {previous} and node {node_id}")

    def _check_monotonic_epoch(self, _sim: Simulator) -> None:
        for node_id, node in self.nodes.items():
            epoch = node.durable.election.epoch
            durable, previous = self._epochs_seen.get(node_id, (node.durable, 0))
            if durable is node.durable:  # a wiped node starts again from epoch 0
                assert epoch >= previous, f"node {node_id}'s epoch went back from {previous} to {epoch}"
            self._epochs_seen[node_id] = (node.durable, epoch)

    def _check_monotonic_high_watermark(self, _sim: Simulator) -> None:
        for node_id, node in self.nodes.items():
            client = node.client
            if not node.alive or client is None:
                continue
            incarnation, previous = self._high_watermarks_seen.get(node_id, (node.incarnation, -1))
            if incarnation == node.incarnation:
                assert client.high_watermark >= previous, (
                    f"node {node_id}'s high watermark went back from {previous} to {client.high_watermark}")
            self._high_watermarks_seen[node_id] = (node.incarnation, client.high_watermark)

    def _check_log_matching(self, _sim: Simulator) -> None:
        for node_id, node in self.nodes.items():
            log = node.durable.log  # a crashed node's disk too: it will serve these entries again
            start = log.start_offset
            cached = self._matched.get(node_id)
            if cached is not None and cached[0] is log and cached[1] == log.truncations:
                start = max(start, min(cached[2], log.end_offset))
            self._matched[node_id] = (log, log.truncations, log.end_offset)
            for offset in range(start, log.end_offset):
                entry = log.entry_at(offset)
                assert entry is not None
                before = log.entry_at(offset - 1)
                if before is not None:
                    previous_epoch = before.epoch
                elif offset > 0 and log.snapshot is not None:
                    previous_epoch = log.snapshot.epoch  # the first entry after a snapshot follows its last entry
                else:
                    previous_epoch = 0
                first_node, record, first_previous = self._entries_seen.setdefault(
                    (offset, entry.epoch), (node_id, entry.record, previous_epoch))
                if record != entry.record:
                    raise AssertionError(
                        f"nodes {first_node} and {node_id} both hold an entry of epoch {entry.epoch} at offset {offset}, but "
                        f"node {first_node}'s is {record!r} and node {node_id}'s is {entry.record!r}: one leader per "
                        f"epoch appends one entry per offset, so one of them came from somewhere else")
                if first_previous != previous_epoch:
                    raise AssertionError(
                        f"nodes {first_node} and {node_id} both hold offset {offset} of epoch {entry.epoch} ({entry.record!r}), "
                        f"but the entry before it is of epoch {first_previous} on node {first_node} and of epoch "
                        f"{previous_epoch} on node {node_id}: their logs differ below offset {offset}, so a follower kept "
                        f"entries that do not match its leader's log and appended the leader's after them")

    def _check_committed_data(self, _sim: Simulator) -> None:
        for node_id, node in self.nodes.items():
            client = node.client
            if not node.alive or client is None or client.high_watermark <= 0:
                continue
            log = node.durable.log
            start = log.start_offset
            cached = self._checked.get(node_id)
            if cached is not None and cached[0] is log and cached[1] == log.truncations:
                start = max(start, cached[2])
            end = min(client.high_watermark, log.end_offset)
            self._checked[node_id] = (log, log.truncations, max(start, end))
            for offset in range(start, end):
                entry = log.entry_at(offset)
                assert entry is not None
                known = self.committed.setdefault(offset, entry)
                if known != entry:
                    raise CommittedDataLost(
                        f"offset {offset} was committed as {_show(known)}, but node {node_id} (high watermark "
                        f"{client.high_watermark}) now holds {_show(entry)} there: a committed entry was lost")


def _show(entry: LogEntry) -> str:
    return f"{entry.record!r} (epoch {entry.epoch})"
