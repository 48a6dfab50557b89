"""KRaft's quorum controller: the controller's state machine on top of the Raft metadata log.

Every controller node is a Raft voter of ``__cluster_metadata``. The Raft leader is the *active*
controller: it turns requests (a broker registering, a heartbeat, CreateTopics) into metadata records
with chapter 05's :class:`~kafkalab.broker.controller.Controller` logic, appends them to the log and
answers once they are **committed** — so an answer can never be undone by a failover. The other
voters are *standby* controllers: they replay every committed record into the same state, so when
the active controller dies the next one already holds all the metadata and only has to win an
election. Brokers are Raft *observers*: they fetch the log, replay it into their MetadataImage, and
heartbeat to the active controller, which fences a broker silent for ``broker.session.timeout.ms``
(FenceBrokerRecord, then new leaders for what it led).

* Work happens one event at a time (QuorumController's single-threaded event queue): the driver
  calls ``handle`` / ``poll``; nothing else touches the state.
* A new active controller first replays its whole log (committing the previous leader's tail with
  its own LeaderChange record) before it writes anything; a controller that loses leadership throws
  away what it had written but not committed and rebuilds from the committed log (KRaft reverts its
  timeline data structures to the last committed offset).
* A registering broker starts fenced and is unfenced by a heartbeat once its metadata offset has
  reached its own registration record (KIP-631: a broker must catch up before it serves).

Kafka: org.apache.kafka.controller.QuorumController (claim/renounce, the event queue, replay),
ClusterControlManager (registerBroker, fencing), BrokerHeartbeatManager, ReplicationControlManager;
kafka.server.BrokerLifecycleManager; KIP-500, KIP-595, KIP-631.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable

from kafkalab.broker.controller import Controller
from kafkalab.broker.messages import (
    CreatableTopicResult,
    CreateTopicsRequest,
    FenceBrokerRecord,
    MetadataImage,
    PartitionChangeRecord,
    RegisterBrokerRecord,
)
from kafkalab.config import BrokerConfig
from kafkalab.jvm import JavaRandom
from kafkalab.raft.client import DurableState, RaftClient
from kafkalab.raft.config import QuorumConfig
from kafkalab.raft.log import Snapshot
from kafkalab.raft.messages import (
    BeginQuorumEpochRequest, BeginQuorumEpochResponse, EndQuorumEpochRequest, EndQuorumEpochResponse,
    FetchRequest, FetchResponse, FetchSnapshotRequest, FetchSnapshotResponse, VoteRequest, VoteResponse,
)
from kafkalab.raft.rules import LEADER

RAFT_MESSAGES = (VoteRequest, VoteResponse, BeginQuorumEpochRequest, BeginQuorumEpochResponse,
                 EndQuorumEpochRequest, EndQuorumEpochResponse, FetchRequest, FetchResponse,
                 FetchSnapshotRequest, FetchSnapshotResponse)


@dataclass(frozen=True)
class BrokerRegistrationRequest:
    broker_id: int
    incarnation: int
    rack: str | None = None
    correlation_id: int = 0


@dataclass(frozen=True)
class BrokerRegistrationResponse:
    error: str  # NONE, NOT_CONTROLLER
    broker_epoch: int  # the offset of the RegisterBrokerRecord
    leader_hint: int
    correlation_id: int = 0


@dataclass(frozen=True)
class BrokerHeartbeatRequest:
    broker_id: int
    broker_epoch: int
    current_metadata_offset: int
    correlation_id: int = 0


@dataclass(frozen=True)
class BrokerHeartbeatResponse:
    error: str
    is_fenced: bool
    leader_hint: int
    correlation_id: int = 0


@dataclass(frozen=True)
class CreateTopicsResponse:
    error: str
    results: tuple[CreatableTopicResult, ...]
    leader_hint: int
    correlation_id: int = 0


class QuorumController:
    """One controller node: a Raft voter plus the controller state machine (active or standby)."""

    def __init__(self, node_id: int, voters: tuple[int, ...], quorum: QuorumConfig, config: BrokerConfig,
                 durable: DurableState, rng: random.Random, now_ms: int, trace: Callable[..., None] | None = None) -> None:
        self.node_id = node_id
        self.config = config
        self._trace = trace or (lambda kind, **detail: None)
        self.raft = RaftClient(node_id, voters, quorum, durable, rng, now_ms, trace=self._trace)
        self.quorum = quorum
        self.last_snapshot_ms = now_ms
        self.placement_seed = rng.getrandbits(48)
        self.committed_state = self._fresh_controller()
        self.committed_offset = 0  # Raft offsets replayed into committed_state
        self.active: Controller | None = None  # the working state while active (committed + its own writes)
        self.active_epoch = -1
        self.waiting: list[tuple[int, Any, Any]] = []  # (offset that must commit, destination, response)
        self.outbox: list[tuple[Any, Any]] = []

    def _fresh_controller(self) -> Controller:
        controller = Controller(self.config, MetadataImage(), JavaRandom(self.placement_seed))
        controller.every_broker_heartbeats = True
        return controller

    # -- state ------------------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.active is not None

    def state(self) -> Controller:
        return self.active or self.committed_state

    def take_outbox(self) -> list[tuple[Any, Any]]:
        out = [(dst, msg) for dst, msg in self.raft.take_outbox()] + self.outbox
        self.outbox = []
        return out

    def next_deadline_ms(self, now_ms: int) -> int | None:
        deadlines = [d for d in (self.raft.next_deadline_ms(),) if d is not None]
        interval = self.quorum["metadata.log.max.snapshot.interval.ms"]
        if interval:
            deadlines.append(max(now_ms, self.last_snapshot_ms + interval))
        if self.active is not None:
            liveness = self.active.next_liveness_deadline(now_ms)
            if liveness is not None:
                deadlines.append(liveness)
        return min(deadlines) if deadlines else None

    # -- driving ----------------------------------------------------------------------------------
    def handle(self, src: Any, message: Any, now_ms: int) -> list[tuple[Any, Any]]:
        if isinstance(message, RAFT_MESSAGES):
            self.outbox += self.raft.handle(src, message, now_ms)
        elif isinstance(message, BrokerRegistrationRequest):
            self._on_registration(src, message, now_ms)
        elif isinstance(message, BrokerHeartbeatRequest):
            self._on_heartbeat(src, message, now_ms)
        elif isinstance(message, CreateTopicsRequest):
            self._on_create_topics(src, message, now_ms)
        else:
            raise TypeError(f"the quorum controller does not handle {type(message).__name__}")
        self._after(now_ms)
        return self.take_outbox()

    def poll(self, now_ms: int) -> list[tuple[Any, Any]]:
        self.outbox += self.raft.poll(now_ms)
        self._maybe_snapshot(now_ms)
        if self.active is not None:
            for broker_id in self.active.expired_brokers(now_ms):
                records = self.active.fence(broker_id)
                self._trace("fence", broker=broker_id, records=len(records))
                self._write(records, now_ms)
        self._after(now_ms)
        return self.take_outbox()

    def _after(self, now_ms: int) -> None:
        """Replay what committed, claim or renounce leadership, answer requests whose records committed."""
        if self.active is not None and (self.raft.role != LEADER or self.raft.epoch != self.active_epoch):
            self._renounce()
        self._replay_committed()
        if self.active is None and self.raft.role == LEADER and self.raft.high_watermark > self.raft.epoch_start_offset:
            self._claim(now_ms)
        ready = [w for w in self.waiting if w[0] < self.raft.high_watermark]
        for item in ready:
            self.waiting.remove(item)
            self.outbox.append((item[1], item[2]))

    def _replay_committed(self) -> None:
        log = self.raft.log
        if self.committed_offset < log.start_offset:
            # The entries it has not replayed are gone (a snapshot was installed, or it restarted
            # after its own log was cleaned): start from the snapshot (MetadataLoader#handleLoadSnapshot).
            assert log.snapshot is not None and log.snapshot.end_offset == log.start_offset
            self.committed_state = self._fresh_controller()
            self.committed_state.append(list(log.snapshot.records))
            self.committed_offset = log.start_offset
            self._trace("load_snapshot", end_offset=log.start_offset, records=len(log.snapshot.records))
        end = min(self.raft.high_watermark, log.end_offset)
        while self.committed_offset < end:
            entry = log.entry_at(self.committed_offset)
            assert entry is not None
            self.committed_offset += 1
            if entry.is_control:
                continue
            self.committed_state.append(list(entry.record))

    def _maybe_snapshot(self, now_ms: int) -> None:
        """KIP-876: snapshot the committed state every metadata.log.max.snapshot.interval.ms, if
        anything new was committed since the last one (Kafka also snapshots after
        metadata.log.max.record.bytes.between.snapshots bytes; the simulator's records have no size)."""
        interval = self.quorum["metadata.log.max.snapshot.interval.ms"]
        latest = self.raft.log.snapshot
        if not interval or now_ms < self.last_snapshot_ms + interval:
            return
        self.last_snapshot_ms = now_ms  # look again one interval from now, whatever happens here
        if self.committed_offset <= (latest.end_offset if latest is not None else 0):
            return
        last = self.raft.log.entry_at(self.committed_offset - 1)
        epoch = last.epoch if last is not None else latest.epoch  # type: ignore[union-attr]
        snapshot = Snapshot(self.committed_offset, epoch, tuple(self.committed_state.image.to_records()))
        self.raft.take_snapshot(snapshot, self.quorum["metadata.max.retention.ms"], now_ms)

    def _claim(self, now_ms: int) -> None:
        """QuorumController.claim: the whole log is committed and replayed; now write."""
        self.active = self._fresh_controller()
        self.active.append(list(self.committed_state.log))
        self.active.last_heartbeat_ms = {b: now_ms for b in self.active.image.brokers}
        self.active.incarnations = dict(self.committed_state.incarnations)
        self.active_epoch = self.raft.epoch
        self._trace("claim", epoch=self.raft.epoch, metadata_records=len(self.active.log))

    def _renounce(self) -> None:
        """QuorumController.renounce: drop the uncommitted writes and the requests waiting on them."""
        self._trace("renounce", epoch=self.active_epoch)
        self.active = None
        self.active_epoch = -1
        for _offset, destination, response in self.waiting:
            self.outbox.append((destination, _not_controller(response, self.raft.leader_id)))
        self.waiting = []

    def _write(self, records: list[Any], now_ms: int) -> int:
        """Append records (applied to the working state at once); returns the last Raft offset."""
        assert self.active is not None
        if not records:
            return self.raft.log.end_offset - 1
        self.active.append(list(records))
        offset = self.raft.append([tuple(records)], now_ms)
        self.outbox += self.raft.take_outbox()
        return offset

    # -- requests ---------------------------------------------------------------------------------
    def _on_registration(self, src: Any, request: BrokerRegistrationRequest, now_ms: int) -> None:
        if self.active is None:
            self.outbox.append((src, BrokerRegistrationResponse("NOT_CONTROLLER", -1, self.raft.leader_id, request.correlation_id)))
            return
        records: list[Any] = [RegisterBrokerRecord(request.broker_id, request.rack), FenceBrokerRecord(request.broker_id)]
        if request.broker_id in self.active.image.brokers:
            records = self.active.fence(request.broker_id) if request.broker_id not in self.active.image.fenced else []
            records = [RegisterBrokerRecord(request.broker_id, request.rack), *records]
        self.active.incarnations[request.broker_id] = request.incarnation
        self.active.last_heartbeat_ms[request.broker_id] = now_ms
        offset = self._write(records, now_ms)
        self._trace("register", broker=request.broker_id, broker_epoch=offset)
        self.waiting.append((offset, src, BrokerRegistrationResponse("NONE", offset, self.node_id, request.correlation_id)))

    def _on_heartbeat(self, src: Any, request: BrokerHeartbeatRequest, now_ms: int) -> None:
        if self.active is None:
            self.outbox.append((src, BrokerHeartbeatResponse("NOT_CONTROLLER", True, self.raft.leader_id, request.correlation_id)))
            return
        if request.broker_id not in self.active.image.brokers:
            self.outbox.append((src, BrokerHeartbeatResponse("STALE_BROKER_EPOCH", True, self.node_id, request.correlation_id)))
            return
        self.active.last_heartbeat_ms[request.broker_id] = now_ms
        records: list[Any] = []
        if request.broker_id in self.active.image.fenced and request.current_metadata_offset > request.broker_epoch:
            records = self.active.broker_heartbeat(request.broker_id, now_ms)  # caught up: unfence
            records += _rejoin_isrs(self.active, request.broker_id, records)
            self._trace("unfence", broker=request.broker_id)
        offset = self._write(records, now_ms) if records else -1
        # Answered after the UnfenceBrokerRecord (if any) commits, with what it decided.
        response = BrokerHeartbeatResponse("NONE", request.broker_id in self.active.image.fenced, self.node_id,
                                           request.correlation_id)
        if records:
            self.waiting.append((offset, src, response))
        else:
            self.outbox.append((src, response))

    def _on_create_topics(self, src: Any, request: CreateTopicsRequest, now_ms: int) -> None:
        if self.active is None:
            self.outbox.append((src, CreateTopicsResponse("NOT_CONTROLLER", (), self.raft.leader_id, request.correlation_id)))
            return
        results = []
        last = self.raft.log.end_offset - 1
        for topic in request.topics:
            result, records = self.active.create_topic(topic)
            results.append(result)
            if records:
                last = self._write(records, now_ms)
        self.waiting.append((last, src, CreateTopicsResponse("NONE", tuple(results), self.node_id, request.correlation_id)))


def _rejoin_isrs(controller: Controller, broker_id: int, pending: list[Any]) -> list[Any]:
    """An unfenced broker rejoins the ISR of the partitions it replicates that have a leader. In Kafka
    each *leader* does this with AlterPartition once the follower has caught up on its data; this
    control plane moves no data, so a returning replica counts as caught up at once (as chapter 08's
    ZooKeeper mode does too). Partitions the unfencing itself gives a new leader are left to it."""
    electing = {(r.topic, r.partition_id) for r in pending if isinstance(r, PartitionChangeRecord)}
    records: list[Any] = []
    for topic in sorted(controller.image.partitions):
        for partition in sorted(controller.image.partitions[topic].values(), key=lambda r: r.partition_id):
            if (broker_id in partition.replicas and broker_id not in partition.isr and partition.leader >= 0
                    and (topic, partition.partition_id) not in electing):
                records.append(PartitionChangeRecord(topic, partition.partition_id, isr=(*partition.isr, broker_id)))
    return records


def _not_controller(response: Any, leader: int) -> Any:
    """A waiting response turned into NOT_CONTROLLER: its records may never commit."""
    if isinstance(response, BrokerRegistrationResponse):
        return BrokerRegistrationResponse("NOT_CONTROLLER", -1, leader, response.correlation_id)
    if isinstance(response, BrokerHeartbeatResponse):
        return BrokerHeartbeatResponse("NOT_CONTROLLER", True, leader, response.correlation_id)
    return CreateTopicsResponse("NOT_CONTROLLER", (), leader, response.correlation_id)
