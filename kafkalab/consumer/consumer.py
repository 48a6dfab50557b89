"""KafkaConsumer on the simulator: a pull consumer in a group, one event at a time.

The consumer *pulls*: nothing arrives unless it asks. Each ``poll()``

1. keeps the consumer in its group (ConsumerCoordinator.poll): finds the coordinator
   (FindCoordinator), joins when a rebalance is needed (JoinGroup → SyncGroup), applies a new
   assignment (calling the rebalance listener), and — with ``enable.auto.commit`` — commits the
   positions of the records that *earlier* polls returned, once ``auto.commit.interval.ms`` has
   passed;
2. gives every new partition a position (the committed offset via OffsetFetch, else
   ``auto.offset.reset`` via ListOffsets);
3. returns up to ``max.poll.records`` records that fetches brought, and sends new FetchRequests
   (one per leader broker, which may hold them for ``fetch.max.wait.ms``).

In the background (Kafka's heartbeat thread) the member heartbeats every
``heartbeat.interval.ms``; if the application does not call poll() for ``max.poll.interval.ms``
the consumer leaves the group so that its partitions go to someone who is making progress.

In the simulator ``poll(timeout_ms)`` runs the simulation until records arrive or the timeout
passes. From inside a simulated application (an event), call ``poll(0)`` and carry on from a
timer: a blocking call cannot run inside the simulation it is waiting for.

Kafka: org.apache.kafka.clients.consumer.KafkaConsumer (ClassicKafkaConsumer), internals
ConsumerCoordinator / AbstractCoordinator (joinGroupIfNeeded, onJoinPrepare, onJoinComplete,
HeartbeatThread, maybeAutoCommitOffsetsAsync), Fetcher / FetchCollector, OffsetFetcher,
ConsumerRebalanceListener; KIP-62 (max.poll.interval.ms), KIP-429 (cooperative rebalancing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from kafkalab.broker.messages import (
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    FetchPartition,
    FetchRequest,
    FetchResponse,
    ListOffsetsRequest,
    ListOffsetsResponse,
    MetadataRequest,
    MetadataResponse,
)
from kafkalab.consumer import assignors
from kafkalab.consumer.config import ConsumerConfig
from kafkalab.consumer.protocol import (
    PROTOCOL_TYPE,
    Assignment,
    Subscription,
    decode_assignment,
    decode_subscription,
    encode_assignment,
    encode_subscription,
)
from kafkalab.consumer.read_committed import visible_records
from kafkalab.consumer.subscription_state import FetchState, IllegalStateError, PartitionState, SubscriptionState, SubscriptionType
from kafkalab.coordinator.messages import (
    UNKNOWN_GENERATION_ID,
    UNKNOWN_MEMBER_ID,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    JoinGroupProtocol,
    JoinGroupRequest,
    JoinGroupResponse,
    LeaveGroupMember,
    LeaveGroupRequest,
    OffsetCommitPartition,
    OffsetCommitRequest,
    OffsetCommitResponse,
    OffsetFetchRequest,
    OffsetFetchResponse,
    SyncGroupAssignment,
    SyncGroupRequest,
    SyncGroupResponse,
)
from kafkalab.errors import (
    FencedInstanceIdError,
    IllegalGenerationError,
    InvalidGroupIdError,
    KafkaError,
    MemberIdRequiredError,
    OffsetOutOfRangeError,
    RebalanceInProgressError,
    UnknownMemberIdError,
    error_for_code,
    raise_for_code,
)
from kafkalab.log import StoredRecord
from kafkalab.network_client import NodePicker
from kafkalab.sim import Network, Node, SimulationError, Simulator

TopicPartition = tuple[str, int]
COOPERATIVE = "cooperative-sticky"


class ConsumerTimeoutError(KafkaError):
    """Kafka's org.apache.kafka.common.errors.TimeoutException (commitSync, committed, position)."""

    error_name = "TIMEOUT"
    retriable = True


class CommitFailedError(KafkaError):
    """Kafka's CommitFailedException: the group rebalanced; these partitions may belong to someone else now."""

    error_name = "COMMIT_FAILED"


class NoOffsetForPartitionError(KafkaError):
    """auto.offset.reset=none and the group has no committed offset for a partition."""

    error_name = "NO_OFFSET_FOR_PARTITION"


@dataclass(frozen=True)
class ConsumerRecord:
    """One record as poll() returns it (ConsumerRecord): where it was, and its deserialized key and value."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: str
    key: Any
    value: Any
    headers: tuple[Any, ...] = ()


class ConsumerRecords:
    """What one poll() returned: iterate it, ``len()`` it, or ask ``records(topic, partition)``."""

    def __init__(self, records: list[ConsumerRecord]) -> None:
        self._records = records

    def __iter__(self) -> Iterator[ConsumerRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __bool__(self) -> bool:
        return bool(self._records)

    def count(self) -> int:
        return len(self._records)

    def partitions(self) -> list[TopicPartition]:
        return sorted({(r.topic, r.partition) for r in self._records})

    def records(self, topic: str, partition: int) -> list[ConsumerRecord]:
        return [r for r in self._records if (r.topic, r.partition) == (topic, partition)]

    def __repr__(self) -> str:
        return f"ConsumerRecords({len(self._records)} records from {len(self.partitions())} partitions)"


class ConsumerRebalanceListener:
    """Override what you need. Kafka calls these from poll(), in the application's thread."""

    def on_partitions_revoked(self, partitions: list[TopicPartition]) -> None:
        """Before giving partitions up in a rebalance: the last chance to commit what you processed."""

    def on_partitions_assigned(self, partitions: list[TopicPartition]) -> None:
        """After the rebalance: these partitions are now yours (newly added ones only, with cooperative)."""

    def on_partitions_lost(self, partitions: list[TopicPartition]) -> None:
        """The group moved on without you (session timeout, fenced): someone else may own these already."""
        self.on_partitions_revoked(partitions)


@dataclass
class _Pending:
    kind: str
    destination: str
    request: Any
    on_done: Callable[[Any], None] | None = None


class KafkaConsumer(Node):
    """A consumer client node: ``subscribe``/``assign``, ``poll``, ``commit_sync``/``commit_async``, ``close``."""

    def __init__(
        self,
        node_id: str,
        sim: Simulator,
        network: Network,
        bootstrap_node: str,
        config: Mapping[str, Any] | None = None,
        key_deserializer: Any = None,
        value_deserializer: Any = None,
        broker_node_name: Callable[[int], str] = lambda broker_id: f"broker-{broker_id}",
        assignor: Callable[..., dict[str, list[TopicPartition]]] | None = None,
        read_committed_filter: Callable[..., list[StoredRecord]] | None = None,
    ) -> None:
        """Seams for a learner's code: ``assignor(strategy, partitions_per_topic, subscriptions, owned)``
        and ``read_committed_filter(records, aborted_transactions)``."""
        super().__init__(node_id, sim, network)
        self.config = ConsumerConfig(config)
        self.client_id = self.config["client.id"] or node_id
        self.group_id: str | None = self.config["group.id"]
        self.group_instance_id: str | None = self.config["group.instance.id"]
        self.bootstrap_node = bootstrap_node
        self.nodes = NodePicker(bootstrap_node, broker_node_name)
        self.broker_node_name = broker_node_name
        self.key_deserializer = key_deserializer
        self.value_deserializer = value_deserializer
        self.assign_function = assignor or assignors.assign
        self.read_committed_filter = read_committed_filter or visible_records
        self.subscriptions = SubscriptionState()
        self.listener: ConsumerRebalanceListener | None = None
        self.metadata: dict[str, dict[int, int]] = {}  # topic -> partition -> leader
        self.replica_nodes: dict[TopicPartition, tuple[int, ...]] = {}  # where fetches may go (KIP-392)
        # group membership (AbstractCoordinator)
        self.coordinator: str | None = None
        self.member_id = UNKNOWN_MEMBER_ID
        self.generation_id = UNKNOWN_GENERATION_ID
        self.protocol_name: str | None = None
        self.member_state = "UNJOINED"  # UNJOINED, PREPARING_REBALANCE, COMPLETING_REBALANCE, STABLE
        self.rejoin_needed = True
        self.rejoin_reason = "initial join"
        self.leader = False
        self._join_prepared = False
        self._pending_assignment: list[TopicPartition] | None = None
        self._lost_partitions: list[TopicPartition] | None = None
        self._heartbeat_timer: Any = None
        self._last_heartbeat_ack_ms = 0
        # positions and fetching
        # fetched, not yet returned: (partition, records to return, the offset after everything fetched)
        self._buffer: list[tuple[TopicPartition, list[StoredRecord], int]] = []
        self._fetching_nodes: set[str] = set()
        self._offset_fetch_in_flight = False
        self._reset_in_flight: set[TopicPartition] = set()
        self._pending_error: Exception | None = None
        # commits
        self._next_auto_commit_ms = sim.now_ms + self.config["auto.commit.interval.ms"]
        self._commits_in_flight = 0
        # requests
        self._correlation_id = 0
        self._pending: dict[int, _Pending] = {}
        self._metadata_requested = False
        self._find_coordinator_in_flight = False
        self._last_poll_ms = sim.now_ms
        self.poll_timer_expired = False
        self.closed = False
        self._wakeup: Any = None
        self.polls = 0

    # == the public API ===========================================================================
    def subscribe(self, topics: Iterable[str], listener: ConsumerRebalanceListener | None = None) -> None:
        """Join the group and let it share these topics' partitions among its members."""
        self._ensure_open()
        topics = (topics,) if isinstance(topics, str) else tuple(topics)
        if not topics:
            self.unsubscribe()
            return
        if self.group_id is None:
            raise InvalidGroupIdError("To use the group management or offset commit APIs, you must provide a valid "
                                      "group.id in the consumer configuration.")
        self.subscriptions.subscribe(topics)
        self.listener = listener
        self.rejoin_needed, self.rejoin_reason = True, "subscription changed"
        self.sim.record("consumer.subscribe", self.node_id, topics=list(self.subscriptions.topics))
        self._request_metadata()

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """Read these partitions with no group management (no rebalances; commits still go to group.id if set)."""
        self._ensure_open()
        self.subscriptions.assign_from_user([tuple(tp) for tp in partitions])  # type: ignore[misc]
        self.sim.record("consumer.assign", self.node_id, partitions=[f"{t}-{p}" for t, p in self.subscriptions.assigned_partitions()])
        self._request_metadata()
        self._kick()

    def unsubscribe(self) -> None:
        if self.subscriptions.subscription_type == SubscriptionType.AUTO_TOPICS:
            self._revoke(self.subscriptions.assigned_partitions(), "unsubscribe")
            self._maybe_leave_group("the consumer unsubscribed")
        self.subscriptions.unsubscribe()
        self._buffer.clear()

    def assignment(self) -> list[TopicPartition]:
        return self.subscriptions.assigned_partitions()

    def subscription(self) -> list[str]:
        return list(self.subscriptions.topics)

    def poll(self, timeout_ms: int = 0) -> ConsumerRecords:
        """Keep up group membership, then return fetched records (waiting up to ``timeout_ms`` of simulated time)."""
        self._ensure_open()
        if self.subscriptions.subscription_type == SubscriptionType.NONE:
            raise IllegalStateError("Consumer is not subscribed to any topics or assigned any partitions")
        if timeout_ms and self.sim.in_event:
            raise SimulationError("poll(timeout_ms) blocks, and cannot run inside the simulation it waits for: "
                                  "from a simulated application call poll(0) and continue from a timer")
        self.polls += 1
        self._last_poll_ms = self.sim.now_ms
        if self.poll_timer_expired:
            self.poll_timer_expired = False
            self.rejoin_needed, self.rejoin_reason = True, "rejoining after the poll timeout"
        deadline = self.sim.now_ms + timeout_ms
        while True:
            self._poll_once()
            if self._pending_error is not None:
                error, self._pending_error = self._pending_error, None
                raise error
            records = self._collect()
            if records or self.sim.now_ms >= deadline or timeout_ms == 0:
                return ConsumerRecords(records)
            self.sim.run_until(lambda: self._has_work_for_poll(), deadline - self.sim.now_ms)
            self._last_poll_ms = self.sim.now_ms

    def commit_sync(self, offsets: Mapping[TopicPartition, int] | None = None, timeout_ms: int | None = None) -> None:
        """Commit ``offsets`` (default: the positions of everything poll() returned) and wait for the answer."""
        done: list[Exception | None] = []
        self.commit_async(offsets, lambda _offsets, error: done.append(error))
        if self.sim.in_event:
            raise SimulationError("commit_sync blocks; inside the simulation use commit_async(callback=...)")
        limit = self.config["default.api.timeout.ms"] if timeout_ms is None else timeout_ms
        if not self.sim.run_until(lambda: bool(done), limit):
            raise ConsumerTimeoutError(f"Timeout of {limit}ms expired before successfully committing offsets")
        if done[0] is not None:
            raise done[0]

    def commit_async(self, offsets: Mapping[TopicPartition, int] | None = None,
                     callback: Callable[[dict[TopicPartition, int], Exception | None], None] | None = None) -> None:
        """Send an OffsetCommit and return at once; ``callback(offsets, error)`` runs when it is answered."""
        self._ensure_open()
        if self.group_id is None:
            raise InvalidGroupIdError("To use the group management or offset commit APIs, you must provide a valid "
                                      "group.id in the consumer configuration.")
        to_commit = dict(self.subscriptions.all_consumed() if offsets is None else offsets)
        self._send_commit(to_commit, callback or (lambda _o, _e: None))

    def committed(self, partitions: Iterable[TopicPartition], timeout_ms: int | None = None) -> dict[TopicPartition, int | None]:
        """The group's committed offsets (OffsetFetch); None where nothing was committed."""
        wanted = tuple(sorted(tuple(tp) for tp in partitions))  # type: ignore[misc]
        answer: list[Any] = []
        limit = self.config["default.api.timeout.ms"] if timeout_ms is None else timeout_ms

        def ask() -> None:
            if self.coordinator is None:
                self._find_coordinator()
                self.set_timer(self.config["retry.backoff.ms"], ask)
                return
            self._send(self.coordinator, "offset_fetch", OffsetFetchRequest(self.group_id or "", wanted, correlation_id=self._next_id()),
                       lambda response: answer.append(response))

        ask()
        if not self.sim.run_until(lambda: bool(answer), limit):
            raise ConsumerTimeoutError(f"Timeout of {limit}ms expired before the committed offsets were fetched")
        response = answer[0]
        raise_for_code(response.error_code, response.error_message)
        return {(p.topic, p.partition): (None if p.committed_offset < 0 else p.committed_offset) for p in response.partitions}

    def position(self, tp: TopicPartition, timeout_ms: int | None = None) -> int:
        """The offset of the next record poll() will return for ``tp`` (finding it first if needed)."""
        state = self.subscriptions._state(tuple(tp))  # type: ignore[arg-type]
        if state.position is None:
            limit = self.config["default.api.timeout.ms"] if timeout_ms is None else timeout_ms
            self._kick()
            if not self.sim.run_until(lambda: state.position is not None or self._pending_error is not None, limit):
                raise ConsumerTimeoutError(f"Timeout of {limit}ms expired before the position for partition {tp[0]}-{tp[1]} could be determined")
            if self._pending_error is not None:
                error, self._pending_error = self._pending_error, None
                raise error
        return state.position  # type: ignore[return-value]

    def seek(self, tp: TopicPartition, offset: int) -> None:
        if offset < 0:
            raise ValueError(f"seek offset must not be a negative number, got {offset}")
        self.subscriptions.seek(tuple(tp), offset)  # type: ignore[arg-type]
        self._drop_buffered(tuple(tp))  # type: ignore[arg-type]
        self.sim.record("consumer.seek", self.node_id, partition=f"{tp[0]}-{tp[1]}", offset=offset)

    def seek_to_beginning(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        for tp in self.assignment() if partitions is None else partitions:
            self.subscriptions.request_reset(tuple(tp), "earliest")  # type: ignore[arg-type]
            self._drop_buffered(tuple(tp))  # type: ignore[arg-type]

    def seek_to_end(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        for tp in self.assignment() if partitions is None else partitions:
            self.subscriptions.request_reset(tuple(tp), "latest")  # type: ignore[arg-type]
            self._drop_buffered(tuple(tp))  # type: ignore[arg-type]

    def reset_to_committed(self) -> None:
        """Forget every position and fetched record: the next poll() starts again from the committed
        offsets (what an application does after aborting a transaction: seek to what was committed)."""
        for state in self.subscriptions.assignment.values():
            state.position, state.fetch_state, state.reset_strategy = None, FetchState.INITIALIZING, None
        self._buffer.clear()
        self._kick()

    def pause(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            self.subscriptions._state(tuple(tp)).paused = True  # type: ignore[arg-type]

    def resume(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            self.subscriptions._state(tuple(tp)).paused = False  # type: ignore[arg-type]

    def group_metadata(self):
        """The consumer's group and generation, for ``producer.send_offsets_to_transaction`` (KIP-447)."""
        from kafkalab.producer.transactions import ConsumerGroupMetadata

        if self.group_id is None:
            raise InvalidGroupIdError("To use the group management or offset commit APIs, you must provide a valid "
                                      "group.id in the consumer configuration.")
        return ConsumerGroupMetadata(self.group_id, self.generation_id, self.member_id, self.group_instance_id)

    def lag(self) -> dict[TopicPartition, int | None]:
        """Per assigned partition: high watermark (last stable offset with read_committed) − position, as of the
        last fetch (None if not known yet)."""
        out: dict[TopicPartition, int | None] = {}
        for tp, state in sorted(self.subscriptions.assignment.items()):
            end = state.last_stable_offset if self.config.read_committed else state.high_watermark  # Kafka: LSO for read_committed
            known = end is not None and state.position is not None
            out[tp] = max(0, end - state.position) if known else None  # type: ignore[operator]
        return out

    def close(self, timeout_ms: int | None = None) -> None:
        """Commit (with auto-commit), give partitions back (listener), leave the group, stop (KafkaConsumer.close)."""
        if self.closed:
            return
        if self.group_id is not None and self.config["enable.auto.commit"] and self.subscriptions.all_consumed() and self.coordinator:
            try:
                if self.sim.in_event:
                    self.commit_async()
                else:
                    self.commit_sync(timeout_ms=timeout_ms)
            except KafkaError as error:
                self.sim.record("consumer.close_commit_failed", self.node_id, error=error.error_name)
        if self.subscriptions.subscription_type == SubscriptionType.AUTO_TOPICS:
            self._revoke(self.subscriptions.assigned_partitions(), "close")
        self._maybe_leave_group("the consumer is being closed")
        self.closed = True
        self._stop_heartbeats()
        self.sim.record("consumer.close", self.node_id)

    # == group membership (ConsumerCoordinator / AbstractCoordinator) ==============================
    def _poll_once(self) -> None:
        """One pass of KafkaConsumer.poll's bookkeeping, in the application's thread."""
        if self._lost_partitions is not None:
            lost, self._lost_partitions = self._lost_partitions, None
            self._call_listener("on_partitions_lost", lost)
        if self._pending_assignment is not None:
            assigned, self._pending_assignment = self._pending_assignment, None
            self._on_join_complete(assigned)
        if self.subscriptions.subscription_type == SubscriptionType.AUTO_TOPICS:
            self._ensure_active_group()
        if self.config["enable.auto.commit"] and self.sim.now_ms >= self._next_auto_commit_ms and self.member_state != "PREPARING_REBALANCE":
            self._next_auto_commit_ms = self.sim.now_ms + self.config["auto.commit.interval.ms"]
            consumed = self.subscriptions.all_consumed()
            if consumed and self.coordinator is not None:
                self._send_commit(consumed, lambda _o, error: None, auto=True)
        self._update_positions()
        self._send_fetches()

    def _ensure_active_group(self) -> None:
        if self.coordinator is None:
            self._find_coordinator()
            return
        if not self.rejoin_needed or self.member_state in ("PREPARING_REBALANCE", "COMPLETING_REBALANCE"):
            return
        if not self._join_prepared:
            self._join_prepared = True
            self._on_join_prepare()
            if self._commits_in_flight:
                return  # the auto-commit before rebalancing goes first (onJoinPrepare waits for it)
        if self._commits_in_flight:
            return
        self._send_join_group()

    def _on_join_prepare(self) -> None:
        """Before (re)joining: commit what was consumed (auto-commit), then revoke (all of it, with eager protocols)."""
        if self.config["enable.auto.commit"] and self.subscriptions.all_consumed() and self.generation_id != UNKNOWN_GENERATION_ID:
            self._send_commit(self.subscriptions.all_consumed(), lambda _o, _e: None, auto=True)
        if self.protocol_name != COOPERATIVE or self.generation_id == UNKNOWN_GENERATION_ID:
            self._revoke(self.subscriptions.assigned_partitions(), "rebalance (eager protocol: revoke everything)")
        else:
            gone = [tp for tp in self.subscriptions.assigned_partitions() if tp[0] not in self.subscriptions.topics]
            self._revoke(gone, "no longer subscribed")

    def _revoke(self, partitions: list[TopicPartition], why: str) -> None:
        if not partitions:
            return
        self.sim.record("consumer.revoke", self.node_id, partitions=[f"{t}-{p}" for t, p in partitions], why=why)
        self._call_listener("on_partitions_revoked", partitions)
        remaining = [tp for tp in self.subscriptions.assigned_partitions() if tp not in partitions]
        self.subscriptions.set_assignment(remaining)
        for tp in partitions:
            self._drop_buffered(tp)

    def _call_listener(self, method: str, partitions: list[TopicPartition]) -> None:
        if self.listener is not None and partitions:
            getattr(self.listener, method)(sorted(partitions))

    def _send_join_group(self) -> None:
        owned = tuple(self.subscriptions.assigned_partitions())
        subscription = Subscription(self.subscriptions.topics, owned, self.generation_id)
        metadata = encode_subscription(subscription)
        request = JoinGroupRequest(
            self.group_id or "", self.config["session.timeout.ms"], self.config["max.poll.interval.ms"], self.member_id,
            PROTOCOL_TYPE, tuple(JoinGroupProtocol(name, metadata) for name in self.config.assignors),
            self.group_instance_id, self.client_id, self.rejoin_reason, self._next_id())
        self.member_state = "PREPARING_REBALANCE"
        self.sim.record("consumer.join_group", self.node_id, member=self.member_id or "(new)", reason=self.rejoin_reason)
        # A JoinGroup may wait for the whole rebalance: Kafka allows rebalance timeout + 5 s for it.
        self._send(self.coordinator or "", "join_group", request, self._on_join_response,
                   timeout_ms=self.config["max.poll.interval.ms"] + 5000)

    def _on_join_response(self, response: JoinGroupResponse) -> None:
        error = error_for_code(response.error_code)
        if error is None:
            self.member_id, self.generation_id, self.protocol_name = response.member_id, response.generation_id, response.protocol_name
            self.leader = response.leader == response.member_id
            self.member_state = "COMPLETING_REBALANCE"
            self._start_heartbeats()
            self.sim.record("consumer.joined", self.node_id, generation=self.generation_id, leader=self.leader,
                            protocol=self.protocol_name, member=self.member_id)
            assignments: tuple[SyncGroupAssignment, ...] = ()
            if self.leader and not response.skip_assignment:
                assignments = self._perform_assignment(response)
            self._send(self.coordinator or "", "sync_group", SyncGroupRequest(
                self.group_id or "", self.generation_id, self.member_id, assignments, self.group_instance_id,
                PROTOCOL_TYPE, self.protocol_name, self._next_id()), self._on_sync_response)
            return
        self.member_state = "UNJOINED"
        if error is MemberIdRequiredError:
            self.member_id = response.member_id  # KIP-394: join again at once with this id
            self._send_join_group()
            return
        if error in (UnknownMemberIdError, IllegalGenerationError, FencedInstanceIdError):
            self._reset_generation(f"JoinGroup failed with {error.error_name}")
        elif error.error_name in ("NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "COORDINATOR_LOAD_IN_PROGRESS", "REQUEST_TIMED_OUT"):
            self._coordinator_dead(error.error_name)
        elif error is not RebalanceInProgressError:
            self._pending_error = error(response.error_message or "")
        self.set_timer(self.config["retry.backoff.ms"], self._kick)

    def _perform_assignment(self, response: JoinGroupResponse) -> tuple[SyncGroupAssignment, ...]:
        """The leader runs the assignor on every member's subscription (ConsumerCoordinator.onLeaderElected)."""
        subscriptions = {m.member_id: decode_subscription(m.metadata) for m in response.members}
        topics = sorted({t for s in subscriptions.values() for t in s.topics})
        partitions_per_topic = {t: len(self.metadata[t]) for t in topics if t in self.metadata}
        owned = {member: list(s.owned_partitions) for member, s in subscriptions.items()}
        strategy = response.protocol_name or self.config.assignors[0]
        topics_by_member = {m: list(s.topics) for m, s in subscriptions.items()}
        if self.assign_function is assignors.assign:  # the generations tell the sticky assignors whose claim is newer
            generations = {m: s.generation_id for m, s in subscriptions.items()}
            result = assignors.assign(strategy, partitions_per_topic, topics_by_member, owned, generations)
        else:
            result = self.assign_function(strategy, partitions_per_topic, topics_by_member, owned)
        self.sim.record("consumer.assignment_computed", self.node_id, strategy=strategy,
                        assignment={m: [f"{t}-{p}" for t, p in sorted(tps)] for m, tps in sorted(result.items())})
        return tuple(SyncGroupAssignment(member, encode_assignment(Assignment(tuple(sorted(result.get(member, []))))))
                     for member in subscriptions)

    def _on_sync_response(self, response: SyncGroupResponse) -> None:
        error = error_for_code(response.error_code)
        if error is None:
            self.member_state = "STABLE"
            self.rejoin_needed = False
            self._join_prepared = False
            self._pending_assignment = list(decode_assignment(response.assignment).partitions)
            self.sim.record("consumer.synced", self.node_id, generation=self.generation_id,
                            partitions=[f"{t}-{p}" for t, p in self._pending_assignment])
            self._kick()
            return
        self.member_state = "UNJOINED"
        if error in (UnknownMemberIdError, IllegalGenerationError, FencedInstanceIdError):
            self._reset_generation(f"SyncGroup failed with {error.error_name}")
        elif error.error_name in ("NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "REQUEST_TIMED_OUT"):
            self._coordinator_dead(error.error_name)
        self.rejoin_needed, self.rejoin_reason = True, f"SyncGroup failed with {error.error_name}"
        self._kick()

    def _on_join_complete(self, assigned: list[TopicPartition]) -> None:
        """Apply the new assignment: eager gets it all at once; cooperative revokes what moved away, then rejoins."""
        owned = set(self.subscriptions.assigned_partitions())
        new = set(assigned)
        if self.protocol_name == COOPERATIVE:
            revoked = sorted(owned - new)
            if revoked:
                self._revoke(revoked, "cooperative: moving to another member")
                self.rejoin_needed, self.rejoin_reason = True, "need to rejoin after revoking partitions (cooperative)"
        self.subscriptions.set_assignment(sorted(new))
        added = sorted(new - owned) if self.protocol_name == COOPERATIVE else sorted(new)
        self.sim.record("consumer.assigned", self.node_id, generation=self.generation_id,
                        partitions=[f"{t}-{p}" for t, p in sorted(new)], added=[f"{t}-{p}" for t, p in added])
        self._call_listener("on_partitions_assigned", added)

    def _reset_generation(self, why: str) -> None:
        """The group moved on without us: forget the member id and generation; our partitions are lost."""
        self.sim.record("consumer.generation_reset", self.node_id, why=why, member=self.member_id)
        lost = self.subscriptions.assigned_partitions() if self.subscriptions.subscription_type == SubscriptionType.AUTO_TOPICS else []
        if lost:
            self.subscriptions.set_assignment([])
            self._buffer.clear()
            self._lost_partitions = (self._lost_partitions or []) + lost
        if self.group_instance_id is None or "FENCED" not in why:
            self.member_id = UNKNOWN_MEMBER_ID
        self.generation_id = UNKNOWN_GENERATION_ID
        self.protocol_name = None
        self.member_state = "UNJOINED"
        self.rejoin_needed, self.rejoin_reason = True, why
        self._join_prepared = False
        self._stop_heartbeats()
        if "FENCED" in why:
            self._pending_error = FencedInstanceIdError(f"another consumer with group.instance.id {self.group_instance_id} took over")

    def _maybe_leave_group(self, reason: str) -> None:
        """Dynamic members say goodbye (LeaveGroup) so the group rebalances at once; static members do not."""
        in_group = bool(self.member_id) and (self.member_state != "UNJOINED" or self.generation_id > 0)
        if self.group_instance_id is None and self.coordinator is not None and in_group:
            self._send(self.coordinator or "", "leave_group", LeaveGroupRequest(
                self.group_id or "", (LeaveGroupMember(self.member_id, None, reason),), self._next_id()), lambda _r: None)
            self.sim.record("consumer.leave_group", self.node_id, member=self.member_id, reason=reason)
        self.member_id = UNKNOWN_MEMBER_ID if self.group_instance_id is None else self.member_id
        self.generation_id = UNKNOWN_GENERATION_ID
        self.member_state = "UNJOINED"
        self.rejoin_needed, self.rejoin_reason = True, reason
        self._join_prepared = False
        self._stop_heartbeats()

    # -- heartbeats (the heartbeat thread) ----------------------------------------------------------
    def _start_heartbeats(self) -> None:
        if self._heartbeat_timer is None:
            self._last_heartbeat_ack_ms = self.sim.now_ms
            self._heartbeat_timer = self.set_timer(self.config["heartbeat.interval.ms"], self._heartbeat)

    def _stop_heartbeats(self) -> None:
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.cancel()
            self._heartbeat_timer = None

    def _heartbeat(self) -> None:
        self._heartbeat_timer = None
        if self.closed or self.member_state not in ("COMPLETING_REBALANCE", "STABLE"):
            return
        now = self.sim.now_ms
        if now - self._last_poll_ms > self.config["max.poll.interval.ms"]:
            # KIP-62: the application stopped polling; give the partitions to someone who is making progress.
            self.sim.record("consumer.poll_timeout", self.node_id, since_last_poll_ms=now - self._last_poll_ms)
            self.poll_timer_expired = True
            self._maybe_leave_group("consumer poll timeout has expired")
            return
        if now - self._last_heartbeat_ack_ms > self.config["session.timeout.ms"]:
            self._coordinator_dead("no heartbeat answer within session.timeout.ms")
        elif self.coordinator is not None:
            self._send(self.coordinator, "heartbeat", HeartbeatRequest(
                self.group_id or "", self.generation_id, self.member_id, self.group_instance_id, self._next_id()), self._on_heartbeat)
        self._heartbeat_timer = self.set_timer(self.config["heartbeat.interval.ms"], self._heartbeat)

    def _on_heartbeat(self, response: HeartbeatResponse) -> None:
        error = error_for_code(response.error_code)
        if error is None:
            self._last_heartbeat_ack_ms = self.sim.now_ms
            return
        if error is RebalanceInProgressError:
            self._last_heartbeat_ack_ms = self.sim.now_ms
            if self.member_state == "STABLE":
                self.rejoin_needed, self.rejoin_reason = True, "group is rebalancing (heartbeat said REBALANCE_IN_PROGRESS)"
                self.sim.record("consumer.rebalance_needed", self.node_id, generation=self.generation_id)
        elif error in (UnknownMemberIdError, IllegalGenerationError, FencedInstanceIdError):
            self._reset_generation(f"heartbeat failed with {error.error_name}")
        elif error.error_name in ("NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "REQUEST_TIMED_OUT"):
            self._coordinator_dead(error.error_name)

    # -- the coordinator ----------------------------------------------------------------------------
    def _find_coordinator(self) -> None:
        if self._find_coordinator_in_flight or self.group_id is None:
            return
        self._find_coordinator_in_flight = True
        self._send(self.nodes.pick(self.sim.now_ms), "find_coordinator", FindCoordinatorRequest(self.group_id, correlation_id=self._next_id()),
                   self._on_find_coordinator)

    def _on_find_coordinator(self, response: FindCoordinatorResponse) -> None:
        self._find_coordinator_in_flight = False
        if response.error_code == 0:
            self.coordinator = self.broker_node_name(response.node_id)
            self._last_heartbeat_ack_ms = self.sim.now_ms  # heartbeat.resetSessionTimeout(): a fresh start with it
            self.sim.record("consumer.coordinator_found", self.node_id, coordinator=self.coordinator)
            self._kick()
        else:
            self.set_timer(self.config["retry.backoff.ms"], self._kick)

    def _coordinator_dead(self, why: str) -> None:
        """markCoordinatorUnknown: find it again; the member keeps its partitions until told otherwise."""
        if self.coordinator is not None:
            self.sim.record("consumer.coordinator_unknown", self.node_id, coordinator=self.coordinator, why=why)
        self.coordinator = None
        if self.member_state in ("PREPARING_REBALANCE", "COMPLETING_REBALANCE"):
            self.member_state = "UNJOINED"
            self.rejoin_needed = True
        self.set_timer(self.config["retry.backoff.ms"], self._kick)

    # == offsets: positions, commits ===============================================================
    def _update_positions(self) -> None:
        """Partitions with no position: the group's committed offset first, then auto.offset.reset."""
        initializing = [tp for tp, s in self.subscriptions.assignment.items() if s.fetch_state == FetchState.INITIALIZING]
        if initializing:
            if self.group_id is not None and not self._offset_fetch_in_flight:
                if self.coordinator is None:
                    self._find_coordinator()
                else:
                    self._offset_fetch_in_flight = True
                    self._send(self.coordinator, "offset_fetch", OffsetFetchRequest(
                        self.group_id, tuple(sorted(initializing)), require_stable=self.config.read_committed,
                        correlation_id=self._next_id()), self._on_offset_fetch)
            elif self.group_id is None:
                for tp in initializing:
                    self._reset_by_policy(tp)
        for tp, state in sorted(self.subscriptions.assignment.items()):
            if state.fetch_state == FetchState.AWAIT_RESET and tp not in self._reset_in_flight:
                self._send_list_offsets(tp, state.reset_strategy or "latest")

    def _on_offset_fetch(self, response: OffsetFetchResponse) -> None:
        self._offset_fetch_in_flight = False
        if response.error_code:
            error = error_for_code(response.error_code)
            if error is not None and error.error_name in ("NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "REQUEST_TIMED_OUT"):
                self._coordinator_dead(error.error_name)
            self.set_timer(self.config["retry.backoff.ms"], self._kick)
            return
        for p in response.partitions:
            tp = (p.topic, p.partition)
            state = self.subscriptions.assignment.get(tp)
            if state is None or state.fetch_state != FetchState.INITIALIZING:
                continue
            if p.error_code:  # UNSTABLE_OFFSET_COMMIT: a transaction holding this offset is not finished; ask again
                self.set_timer(self.config["retry.backoff.ms"], self._kick)
                continue
            if p.committed_offset >= 0:
                self.subscriptions.seek(tp, p.committed_offset)
                self.sim.record("consumer.position", self.node_id, partition=f"{tp[0]}-{tp[1]}", offset=p.committed_offset, source="committed")
            else:
                self._reset_by_policy(tp)
        self._kick()

    def _reset_by_policy(self, tp: TopicPartition) -> None:
        policy = self.config["auto.offset.reset"]
        if policy == "none":
            self._pending_error = NoOffsetForPartitionError(f"Undefined offset with no reset policy for partitions: [{tp[0]}-{tp[1]}]")
            self.subscriptions.assignment[tp].fetch_state = FetchState.AWAIT_RESET
            self.subscriptions.assignment[tp].reset_strategy = None
            self._reset_in_flight.add(tp)  # nothing will reset it until the application seeks
            return
        self.subscriptions.request_reset(tp, policy)

    def _send_list_offsets(self, tp: TopicPartition, strategy: str) -> None:
        leader = self.metadata.get(tp[0], {}).get(tp[1])
        if leader is None or leader < 0:
            self._request_metadata()
            return
        self._reset_in_flight.add(tp)
        timestamp = EARLIEST_TIMESTAMP if strategy == "earliest" else LATEST_TIMESTAMP
        self._send(self.broker_node_name(leader), "list_offsets", ListOffsetsRequest(tp[0], tp[1], timestamp, self._next_id()),
                   lambda response: self._on_list_offsets(tp, strategy, response))

    def _on_list_offsets(self, tp: TopicPartition, strategy: str, response: ListOffsetsResponse) -> None:
        self._reset_in_flight.discard(tp)
        state = self.subscriptions.assignment.get(tp)
        if state is None or state.fetch_state != FetchState.AWAIT_RESET:
            return
        if response.error_code:
            self._request_metadata()
            self.set_timer(self.config["retry.backoff.ms"], self._kick)
            return
        self.subscriptions.seek(tp, response.offset)
        self.sim.record("consumer.position", self.node_id, partition=f"{tp[0]}-{tp[1]}", offset=response.offset, source=f"reset to {strategy}")
        self._kick()

    def _send_commit(self, offsets: dict[TopicPartition, int], callback: Callable[[dict[TopicPartition, int], Exception | None], None],
                     auto: bool = False) -> None:
        if not offsets:
            callback({}, None)
            return
        if self.coordinator is None:
            self._find_coordinator()
            callback(offsets, CommitFailedError("the group coordinator is not known (yet); retry the commit"))
            return
        in_group = self.subscriptions.subscription_type == SubscriptionType.AUTO_TOPICS
        generation = self.generation_id if in_group else UNKNOWN_GENERATION_ID
        member = self.member_id if in_group else UNKNOWN_MEMBER_ID
        request = OffsetCommitRequest(
            self.group_id or "", generation, member,
            tuple(OffsetCommitPartition(t, p, offset) for (t, p), offset in sorted(offsets.items())),
            self.group_instance_id if in_group else None, self._next_id())
        self._commits_in_flight += 1
        self.sim.record("consumer.commit", self.node_id, auto=auto, generation=generation,
                        offsets={f"{t}-{p}": o for (t, p), o in sorted(offsets.items())})

        def done(response: OffsetCommitResponse) -> None:
            self._commits_in_flight -= 1
            codes = [response.error_code] + [p.error_code for p in response.partitions]
            code = next((c for c in codes if c), 0)
            error: Exception | None = None
            if code:
                kind = error_for_code(code)
                if kind in (UnknownMemberIdError, IllegalGenerationError, RebalanceInProgressError, FencedInstanceIdError):
                    error = CommitFailedError(
                        "Commit cannot be completed since the group has already rebalanced and assigned the partitions to "
                        f"another member ({kind.error_name if kind else code}). The time between poll() calls was probably "
                        "longer than max.poll.interval.ms, or the group rebalanced while the commit was in flight.")
                    if kind in (UnknownMemberIdError, IllegalGenerationError):
                        self._reset_generation(f"commit failed with {kind.error_name}")
                    elif kind is RebalanceInProgressError:
                        self.rejoin_needed, self.rejoin_reason = True, "commit found the group rebalancing"
                else:
                    error = (kind or KafkaError)(response.error_message or "")
                    if kind is not None and kind.error_name in ("NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "REQUEST_TIMED_OUT"):
                        self._coordinator_dead(kind.error_name)
            self.sim.record("consumer.commit_done", self.node_id, error=getattr(error, "error_name", "NONE"),
                            offsets={f"{t}-{p}": o for (t, p), o in sorted(offsets.items())})
            callback(offsets, error)
            self._kick()

        self._send(self.coordinator, "offset_commit", request, done)

    # == fetching (Fetcher) ========================================================================
    def _send_fetches(self) -> None:
        """One FetchRequest per leader broker, for its fetchable partitions with nothing buffered."""
        buffered = {tp for tp, _, _ in self._buffer}
        by_node: dict[str, list[FetchPartition]] = {}
        for tp, state in sorted(self.subscriptions.assignment.items()):
            if not state.fetchable or tp in buffered:
                continue
            leader = self.metadata.get(tp[0], {}).get(tp[1])
            if leader is None or leader < 0:
                self._request_metadata()
                continue
            node = self.broker_node_name(self._select_read_replica(tp, state, leader))
            if node in self._fetching_nodes:
                continue
            by_node.setdefault(node, []).append(FetchPartition(tp[0], tp[1], state.position, self.config["max.partition.fetch.bytes"]))  # type: ignore[arg-type]
        for node, partitions in sorted(by_node.items()):
            self._fetching_nodes.add(node)
            request = FetchRequest(tuple(partitions), self.config["fetch.max.wait.ms"], self.config["fetch.min.bytes"],
                                   self.config["fetch.max.bytes"], 1 if self.config.read_committed else 0, self._next_id(),
                                   rack_id=self.config["client.rack"])
            self._send(node, "fetch", request, lambda response, node=node: self._on_fetch(node, response),
                       timeout_ms=self.config["request.timeout.ms"] + self.config["fetch.max.wait.ms"])

    def _clear_preferred_replica(self, tp: TopicPartition, state: PartitionState, why: str) -> int | None:
        cleared = state.clear_preferred_replica()
        if cleared is not None:
            self.sim.record("consumer.preferred_read_replica_cleared", self.node_id, partition=f"{tp[0]}-{tp[1]}",
                            replica=cleared, error=why)
        return cleared

    def _select_read_replica(self, tp: TopicPartition, state: PartitionState, leader: int) -> int:
        """AbstractFetch.selectReadReplica: the preferred read replica while it is fresh and still a
        replica the metadata knows, otherwise the leader."""
        preferred = state.preferred_replica(self.sim.now_ms)
        if preferred is None:
            return leader
        if preferred not in self.replica_nodes.get(tp, ()):
            state.clear_preferred_replica()
            return leader
        return preferred

    def _on_fetch(self, node: str, response: FetchResponse) -> None:
        self._fetching_nodes.discard(node)
        for answer in response.partitions:
            tp = (answer.topic, answer.partition)
            state = self.subscriptions.assignment.get(tp)
            if state is None or not state.fetchable:
                continue  # revoked or sought while the fetch was in flight: drop it
            if answer.error_code:
                error = error_for_code(answer.error_code)
                # Any error from a preferred replica (a follower without the offset yet, say) sends us back
                # to the leader (KIP-392); an out-of-range offset resets the position only on the leader.
                cleared = self._clear_preferred_replica(tp, state, error.error_name)
                if error is not OffsetOutOfRangeError:
                    self._request_metadata()
                elif cleared is None:
                    self.sim.record("consumer.offset_out_of_range", self.node_id, partition=f"{tp[0]}-{tp[1]}", position=state.position)
                    self._reset_by_policy(tp)
                continue
            if answer.preferred_read_replica >= 0:  # the leader sends us to a replica in our rack
                if state.preferred_read_replica != answer.preferred_read_replica:
                    self.sim.record("consumer.preferred_read_replica", self.node_id, partition=f"{tp[0]}-{tp[1]}",
                                    replica=answer.preferred_read_replica)
                state.update_preferred_replica(answer.preferred_read_replica, self.sim.now_ms + self.config["metadata.max.age.ms"])
            state.high_watermark, state.log_start_offset = answer.high_watermark, answer.log_start_offset
            state.last_stable_offset = answer.last_stable_offset
            fetched = [r for r in answer.records if r.offset >= (state.position or 0)]
            if not fetched:
                continue
            if self.config.read_committed:
                visible = self.read_committed_filter(fetched, answer.aborted_transactions)
            else:
                visible = [r for r in fetched if not r.is_control]  # markers are never returned
            # The position moves past markers and aborted records too, not only past what poll() returns.
            self._buffer.append((tp, list(visible), fetched[-1].offset + 1))
        self._kick()

    def _collect(self) -> list[ConsumerRecord]:
        """Take up to max.poll.records from the buffer; each partition's position moves past what is returned."""
        out: list[ConsumerRecord] = []
        budget = self.config["max.poll.records"]
        kept: list[tuple[TopicPartition, list[StoredRecord], int]] = []
        for tp, records, next_offset in self._buffer:
            state = self.subscriptions.assignment.get(tp)
            if state is None or state.position is None:
                continue  # revoked or reset since it was fetched
            if state.paused or budget == 0:
                kept.append((tp, records, next_offset))
                continue
            records = [r for r in records if r.offset >= state.position]
            take, rest = records[:budget], records[budget:]
            out += [self._deserialize(record) for record in take]
            if take:
                state.position = take[-1].offset + 1
            budget -= len(take)
            if rest:
                kept.append((tp, rest, next_offset))
            else:
                state.position = max(state.position, next_offset)
        self._buffer = kept
        if out:
            self.sim.record("consumer.poll", self.node_id, records=len(out),
                            positions={f"{t}-{p}": s.position for (t, p), s in sorted(self.subscriptions.assignment.items())
                                       if s.position is not None})
        return out

    def _deserialize(self, record: StoredRecord) -> ConsumerRecord:
        key = self.key_deserializer.deserialize(record.topic, record.key) if self.key_deserializer and record.key is not None else record.key
        value = (self.value_deserializer.deserialize(record.topic, record.value)
                 if self.value_deserializer and record.value is not None else record.value)
        return ConsumerRecord(record.topic, record.partition, record.offset, record.timestamp,
                              getattr(record.timestamp_type, "name", str(record.timestamp_type)), key, value, record.headers)

    def _drop_buffered(self, tp: TopicPartition) -> None:
        self._buffer = [entry for entry in self._buffer if entry[0] != tp]

    def _has_work_for_poll(self) -> bool:
        """Something only the application's thread (poll) can do: return records, raise, apply an assignment, (re)join."""
        must_join = (self.subscriptions.subscription_type == SubscriptionType.AUTO_TOPICS and self.rejoin_needed
                     and self.coordinator is not None and self.member_state in ("UNJOINED", "STABLE") and not self._commits_in_flight)
        return (bool(self._buffer) or self._pending_error is not None or self._pending_assignment is not None
                or self._lost_partitions is not None or must_join)

    # == metadata and plumbing =====================================================================
    def _request_metadata(self) -> None:
        if self._metadata_requested:
            return
        topics = set(self.subscriptions.topics) | {t for t, _ in self.subscriptions.assignment}
        if not topics:
            return
        self._metadata_requested = True
        self._send(self.nodes.pick(self.sim.now_ms), "metadata", MetadataRequest(tuple(sorted(topics)), correlation_id=self._next_id()), self._on_metadata)

    def _on_metadata(self, response: MetadataResponse) -> None:
        self._metadata_requested = False
        self.nodes.learn(response.brokers)
        missing = []
        for topic in response.topics:
            if topic.error_code == 0:
                self.metadata[topic.name] = {p.partition_index: p.leader_id for p in topic.partitions}
                self.replica_nodes.update({(topic.name, p.partition_index): tuple(p.replica_nodes) for p in topic.partitions})
            else:
                missing.append(topic.name)
        if missing:
            self.set_timer(self.config["retry.backoff.ms"], self._request_metadata)
        self._kick()

    def _next_id(self) -> int:
        self._correlation_id += 1
        return self._correlation_id

    def _send(self, destination: str, kind: str, request: Any, on_done: Callable[[Any], None] | None = None,
              timeout_ms: int | None = None) -> None:
        self._pending[request.correlation_id] = _Pending(kind, destination, request, on_done)
        super().send(destination, request)
        self.set_timer(self.config["request.timeout.ms"] if timeout_ms is None else timeout_ms, self._timed_out, request.correlation_id)

    def _timed_out(self, correlation_id: int) -> None:
        """No answer within request.timeout.ms: the request failed with a network error (NetworkClient)."""
        pending = self._pending.pop(correlation_id, None)
        if pending is None:
            return
        self.sim.record("consumer.request_timeout", self.node_id, request=pending.kind, destination=pending.destination)
        self.nodes.failed(pending.destination, self.sim.now_ms, self.config["request.timeout.ms"])
        if pending.kind == "fetch":
            self._fetching_nodes.discard(pending.destination)
            for wanted in pending.request.partitions:  # AbstractFetch.handleFetchFailure
                tp = (wanted.topic, wanted.partition)
                state = self.subscriptions.assignment.get(tp)
                if state is not None:
                    self._clear_preferred_replica(tp, state, "REQUEST_TIMED_OUT")
        elif pending.kind == "metadata":
            self._metadata_requested = False
        elif pending.kind == "find_coordinator":
            self._find_coordinator_in_flight = False
        elif pending.kind == "offset_fetch":
            self._offset_fetch_in_flight = False
            self._coordinator_dead("OffsetFetch timed out")
        elif pending.kind in ("join_group", "sync_group", "heartbeat", "offset_commit", "leave_group"):
            if pending.kind == "offset_commit" and pending.on_done is not None:
                pending.on_done(OffsetCommitResponse(error_code=7, error_message="REQUEST_TIMED_OUT", correlation_id=correlation_id))
            elif pending.kind in ("join_group", "sync_group"):
                self.member_state = "UNJOINED"
                self.rejoin_needed = True
            self._coordinator_dead(f"{pending.kind} timed out")
        elif pending.kind == "list_offsets":
            tp = (pending.request.topic, pending.request.partition)
            self._reset_in_flight.discard(tp)
        self._kick()

    def on_message(self, src: str, message: Any) -> None:
        pending = self._pending.pop(getattr(message, "correlation_id", -1), None)
        if pending is None or (self.closed and pending.kind != "offset_commit"):
            return  # a late answer to a request that timed out
        if pending.on_done is not None:
            pending.on_done(message)

    def _kick(self) -> None:
        """Do the background work now (send fetches, find positions) — Kafka's network thread."""
        if self._wakeup is None and not self.closed:
            self._wakeup = self.set_timer(0, self._background)

    def _background(self) -> None:
        self._wakeup = None
        if self.closed:
            return
        self._update_positions()
        self._send_fetches()
        if self.rejoin_needed and self.coordinator is None and self.subscriptions.subscription_type == SubscriptionType.AUTO_TOPICS:
            self._find_coordinator()

    def on_crash(self) -> None:
        """The application died: everything in memory (positions, the buffer, the member id) is gone."""
        self._pending.clear()
        self._buffer.clear()
        self._heartbeat_timer = self._wakeup = None

    def _ensure_open(self) -> None:
        if self.closed:
            raise IllegalStateError("This consumer has already been closed.")
        if not self.alive:
            raise IllegalStateError(f"consumer {self.node_id} has crashed")

    def __repr__(self) -> str:
        return (f"KafkaConsumer({self.node_id}, group={self.group_id}, member={self.member_id or '-'}, "
                f"generation={self.generation_id}, state={self.member_state}, assignment={self.assignment()})")

