"""A KRaft cluster's control plane on the simulator: quorum controllers and brokers as observers.

``KRaftCluster(controllers=3, brokers=3, seed=…)`` starts controller nodes ``controller-3001`` …
(``process.roles=controller``; node ids from 3000 as in Kafka's examples) and brokers
``broker-1`` … (``process.roles=broker``). A broker fetches ``__cluster_metadata`` as a Raft
observer and replays it into its MetadataImage, registers with the active controller, then
heartbeats every ``broker.heartbeat.interval.ms``; it is unfenced once it has caught up. This is the
control plane only (no produce or fetch of data): chapter 07 and the comparison with ZooKeeper mode
measure elections, failover and how fast metadata reaches every broker.

Invariants after every event: one active controller per epoch, and every broker's replayed
metadata is a prefix of the committed metadata log.

Kafka: kafka.server.ControllerServer, BrokerServer, BrokerLifecycleManager, KafkaRaftManager;
org.apache.kafka.image.MetadataImage (replayed by MetadataLoader); KIP-500, KIP-631.
"""

from __future__ import annotations

import itertools
from typing import Any

from kafkalab.broker.messages import CreatableTopic, CreateTopicsRequest, MetadataImage
from kafkalab.config import BrokerConfig
from kafkalab.raft.client import DurableState, RaftClient
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.quorum_controller import (
    RAFT_MESSAGES,
    BrokerHeartbeatRequest,
    BrokerHeartbeatResponse,
    BrokerRegistrationRequest,
    BrokerRegistrationResponse,
    CreateTopicsResponse,
    QuorumController,
)
from kafkalab.sim import LinkConfig, Network, Node, Simulator

CONTROLLER_ID_BASE = 3000


def node_name(node_id: int) -> str:
    return f"controller-{node_id}" if node_id > CONTROLLER_ID_BASE else f"broker-{node_id}"


def node_id_of(name: str) -> int:
    return int(name.rsplit("-", 1)[1])


class _Driven(Node):
    """Common driving: messages addressed by node id, one wake-up at the next deadline."""

    def _send_all(self, outbound: list[tuple[Any, Any]]) -> None:
        for destination, message in outbound:
            self.send(node_name(destination) if isinstance(destination, int) else destination, message)

    def _rearm(self, deadline: int | None) -> None:
        if self.alive:
            self.wake_at(deadline, self.tick)

    def tick(self) -> None:
        raise NotImplementedError


class ControllerServerNode(_Driven):
    def __init__(self, node_id: int, voters: tuple[int, ...], sim: Simulator, network: Network,
                 quorum: QuorumConfig, config: BrokerConfig) -> None:
        super().__init__(node_name(node_id), sim, network)
        self.raft_id = node_id
        self.voters = voters
        self.quorum = quorum
        self.config = config
        self.durable = DurableState()
        self.controller: QuorumController | None = None

    def _trace(self, kind: str, **detail: Any) -> None:
        self.sim.record(f"kraft.{kind}", self.node_id, **detail)

    def on_start(self) -> None:
        self.controller = QuorumController(self.raft_id, self.voters, self.quorum, self.config, self.durable,
                                           self.sim.rng(f"kraft-{self.raft_id}"), self.sim.now_ms, trace=self._trace)
        self._send_all(self.controller.take_outbox())
        self._rearm(self.controller.next_deadline_ms(self.sim.now_ms))

    def on_crash(self) -> None:
        self.controller = None

    def on_wipe(self) -> None:
        self.durable = DurableState()

    def on_message(self, src: str, message: Any) -> None:
        if self.controller is None:
            return
        sender: Any = node_id_of(src) if src.startswith(("controller-", "broker-")) else src
        self._send_all(self.controller.handle(sender, message, self.sim.now_ms))
        self._rearm(self.controller.next_deadline_ms(self.sim.now_ms))

    def tick(self) -> None:
        if self.controller is not None:
            self._send_all(self.controller.poll(self.sim.now_ms))
            self._rearm(self.controller.next_deadline_ms(self.sim.now_ms))


class KRaftBrokerNode(_Driven):
    """A broker's control plane: a metadata-log observer plus registration and heartbeats."""

    def __init__(self, broker_id: int, voters: tuple[int, ...], sim: Simulator, network: Network,
                 quorum: QuorumConfig, config: BrokerConfig) -> None:
        super().__init__(node_name(broker_id), sim, network)
        self.broker_id = broker_id
        self.voters = voters
        self.quorum = quorum
        self.config = config
        self.durable = DurableState()
        self.raft: RaftClient | None = None
        self.image = MetadataImage()
        self.metadata_offset = 0  # Raft offsets replayed
        self.broker_epoch = -1
        self.is_fenced = True
        self.controller_guess = voters[0]
        self.next_lifecycle_ms = 0
        self.incarnation = 0
        self.correlation = itertools.count(1)
        self.replayed_at: dict[int, int] = {}  # Raft offset -> when this broker replayed it

    def on_start(self) -> None:
        self.raft = RaftClient(self.broker_id, self.voters, self.quorum, self.durable, self.sim.rng(f"kraft-broker-{self.broker_id}"),
                               self.sim.now_ms)
        self.image = MetadataImage()
        self.metadata_offset = 0
        self.broker_epoch = -1
        self.is_fenced = True
        self.next_lifecycle_ms = self.sim.now_ms
        self.tick()

    def on_crash(self) -> None:
        self.raft = None

    def on_wipe(self) -> None:
        self.durable = DurableState()  # a new disk: the metadata log starts again from nothing

    def on_restart(self) -> None:
        self.incarnation += 1

    def on_message(self, src: str, message: Any) -> None:
        if self.raft is None:
            return
        if isinstance(message, RAFT_MESSAGES):
            self._send_all(self.raft.handle(node_id_of(src), message, self.sim.now_ms))
            self._replay()
        elif isinstance(message, BrokerRegistrationResponse):
            if message.error == "NONE":
                self.broker_epoch = message.broker_epoch
                self.sim.record("kraft.broker.registered", self.node_id, broker_epoch=message.broker_epoch)
                self.next_lifecycle_ms = self.sim.now_ms
            else:
                self._follow_hint(message.leader_hint)
        elif isinstance(message, BrokerHeartbeatResponse):
            if message.error == "NONE":
                if self.is_fenced and not message.is_fenced:
                    self.sim.record("kraft.broker.unfenced", self.node_id)
                self.is_fenced = message.is_fenced
            elif message.error == "STALE_BROKER_EPOCH":
                self.broker_epoch = -1
            else:
                self._follow_hint(message.leader_hint)
        self._rearm(self._deadline())

    def _follow_hint(self, leader: int) -> None:
        if leader in self.voters:
            self.controller_guess = leader
        else:
            self.controller_guess = self.voters[(self.voters.index(self.controller_guess) + 1) % len(self.voters)]
        self.next_lifecycle_ms = min(self.next_lifecycle_ms, self.sim.now_ms + self.quorum["controller.quorum.retry.backoff.ms"])

    def _replay(self) -> None:
        assert self.raft is not None
        log = self.raft.log
        end = min(self.raft.high_watermark, log.end_offset)
        caught_up_before = self._caught_up()
        if self.metadata_offset < log.start_offset and log.snapshot is not None:
            # What it had not replayed was replaced by a snapshot (FetchSnapshot): load it, then go on.
            self.image = MetadataImage()
            for record in log.snapshot.records:
                self.image.apply(record)
            self.metadata_offset = log.start_offset
            self.sim.record("kraft.broker.load_snapshot", self.node_id, end_offset=log.start_offset)
        while self.metadata_offset < end:
            entry = log.entry_at(self.metadata_offset)
            assert entry is not None
            self.replayed_at[self.metadata_offset] = self.sim.now_ms
            self.metadata_offset += 1
            if not entry.is_control:
                for record in entry.record:
                    self.image.apply(record)
        if self.is_fenced and self._caught_up() and not caught_up_before:
            # BrokerLifecycleManager: caught up with its own registration, it asks to be unfenced at
            # once rather than at the next heartbeat interval.
            self.next_lifecycle_ms = self.sim.now_ms

    def _caught_up(self) -> bool:
        return self.broker_epoch >= 0 and self.metadata_offset > self.broker_epoch

    def _deadline(self) -> int | None:
        assert self.raft is not None
        raft = self.raft.next_deadline_ms()
        return min(d for d in (raft, self.next_lifecycle_ms) if d is not None)

    def tick(self) -> None:
        if self.raft is None:
            return
        self._send_all(self.raft.poll(self.sim.now_ms))
        self._replay()
        if self.sim.now_ms >= self.next_lifecycle_ms:
            if self.raft.leader_id in self.voters:
                self.controller_guess = self.raft.leader_id
            target = node_name(self.controller_guess)
            if self.broker_epoch < 0:
                self.send(target, BrokerRegistrationRequest(self.broker_id, self.incarnation, None, next(self.correlation)))
                self.next_lifecycle_ms = self.sim.now_ms + 1000
            else:
                self.send(target, BrokerHeartbeatRequest(self.broker_id, self.broker_epoch, self.metadata_offset, next(self.correlation)))
                self.next_lifecycle_ms = self.sim.now_ms + self.config["broker.heartbeat.interval.ms"]
        self._rearm(self._deadline())


class AdminNode(Node):
    def __init__(self, sim: Simulator, network: Network) -> None:
        super().__init__("admin", sim, network)
        self.responses: dict[int, Any] = {}

    def on_message(self, src: str, message: Any) -> None:
        self.responses[message.correlation_id] = message


class KRaftCluster:
    """Controllers (Raft voters) and brokers (observers) of one KRaft cluster, on one simulator."""

    def __init__(self, controllers: int = 3, brokers: int = 3, seed: int = 0, *, config: dict[str, Any] | None = None,
                 quorum_config: dict[str, Any] | None = None, link: LinkConfig | None = None) -> None:
        self.sim = Simulator(seed)
        self.network = Network(self.sim, link or LinkConfig(latency_ms=1, jitter_ms=1))
        self.config = BrokerConfig(config)
        self.quorum = QuorumConfig(quorum_config)
        self.controller_ids = tuple(CONTROLLER_ID_BASE + i for i in range(1, controllers + 1))
        self.broker_ids = tuple(range(1, brokers + 1))
        self.controllers = {i: ControllerServerNode(i, self.controller_ids, self.sim, self.network, self.quorum, self.config)
                            for i in self.controller_ids}
        self.brokers = {i: KRaftBrokerNode(i, self.controller_ids, self.sim, self.network, self.quorum, self.config)
                        for i in self.broker_ids}
        self.admin = AdminNode(self.sim, self.network)
        self._correlation = itertools.count(1)
        self.active_by_epoch: dict[int, int] = {}
        self.sim.add_invariant("one active controller per epoch", self._check_one_active_per_epoch)
        self.sim.add_invariant("brokers replay a prefix of the committed metadata", self._check_brokers_replay_committed)
        for node in list(self.controllers.values()) + list(self.brokers.values()):
            node.start()

    # -- looking ----------------------------------------------------------------------------------
    def active_controller(self) -> int | None:
        best: tuple[int, int] | None = None
        for node_id, node in self.controllers.items():
            qc = node.controller
            if node.alive and qc is not None and qc.is_active:
                if best is None or qc.raft.epoch > best[0]:
                    best = (qc.raft.epoch, node_id)
        return best[1] if best else None

    def unfenced_brokers(self) -> list[int]:
        return [b for b, node in self.brokers.items() if node.alive and node.raft is not None and not node.is_fenced]

    def wait_until(self, predicate: Any, timeout_ms: int = 30_000, what: str = "the condition") -> None:
        if not self.sim.run_until(predicate, timeout_ms):
            raise AssertionError(f"{what} did not happen within {timeout_ms} ms (seed {self.sim.seed})")

    def wait_ready(self, timeout_ms: int = 30_000) -> int:
        """Run until a controller is active and every running broker is registered, unfenced and has
        replayed everything committed (its own unfencing included)."""
        running = [b for b, node in self.brokers.items() if node.alive]
        self.wait_until(lambda: self.active_controller() is not None and sorted(self.unfenced_brokers()) == running
                        and all(self.brokers[b].metadata_offset >= self.committed_metadata_offset() for b in running),
                        timeout_ms, "an active controller with every broker unfenced and caught up")
        return self.active_controller()  # type: ignore[return-value]

    # -- doing ------------------------------------------------------------------------------------
    def create_topic(self, name: str, partitions: int, replication_factor: int, timeout_ms: int = 30_000) -> CreateTopicsResponse:
        deadline = self.sim.now_ms + timeout_ms
        target = self.active_controller() or self.controller_ids[0]
        while self.sim.now_ms < deadline:
            correlation = next(self._correlation)
            self.admin.send(node_name(target), CreateTopicsRequest((CreatableTopic(name, partitions, replication_factor),), correlation))
            self.sim.run_until(lambda: correlation in self.admin.responses, 3_000)
            response = self.admin.responses.pop(correlation, None)
            if response is not None and response.error == "NONE":
                return response
            hint = response.leader_hint if response is not None else -1
            target = hint if hint in self.controller_ids else self.controller_ids[(self.controller_ids.index(target) + 1) % len(self.controller_ids)]
            self.sim.advance(100)
        raise AssertionError(f"CreateTopics {name!r} got no answer from an active controller within {timeout_ms} ms")

    def crash_controller(self, node_id: int) -> None:
        self.controllers[node_id].crash()

    def restart_controller(self, node_id: int) -> None:
        self.controllers[node_id].restart()

    def crash_broker(self, broker_id: int) -> None:
        self.brokers[broker_id].crash()

    def restart_broker(self, broker_id: int) -> None:
        self.brokers[broker_id].restart()

    def wipe_broker(self, broker_id: int) -> None:
        """Crash a broker and lose its disk; restarted, it fetches the metadata log from the start
        (or the controllers' snapshot, when the start has been deleted)."""
        self.brokers[broker_id].wipe()

    def committed_metadata_offset(self) -> int:
        active = self.active_controller()
        return self.controllers[active].controller.raft.high_watermark if active is not None else -1  # type: ignore[union-attr]

    # -- invariants -------------------------------------------------------------------------------
    def _check_one_active_per_epoch(self, _sim: Simulator) -> None:
        for node_id, node in self.controllers.items():
            qc = node.controller
            if node.alive and qc is not None and qc.is_active:
                previous = self.active_by_epoch.setdefault(qc.active_epoch, node_id)
                assert previous == node_id, f"controllers {previous} and {node_id} both active in epoch {qc.active_epoch}"

    def _check_brokers_replay_committed(self, _sim: Simulator) -> None:
        reference = None
        for node in self.controllers.values():
            qc = node.controller
            if node.alive and qc is not None and (reference is None or qc.raft.high_watermark > reference.raft.high_watermark):
                reference = qc
        if reference is None:
            return
        reference_log = reference.raft.log
        for broker in self.brokers.values():
            if broker.raft is None or not broker.alive:
                continue
            upto = min(broker.metadata_offset, max(reference.raft.high_watermark, 0))
            replayed, committed = broker.raft.log.entry_at(upto - 1), reference_log.entry_at(upto - 1)
            if replayed is not None and committed is not None and replayed != committed:  # (either may be in a snapshot now)
                raise AssertionError(f"broker {broker.broker_id} replayed offset {upto - 1} as {replayed!r}; "
                                     f"the committed log has {committed!r}")
