"""An embedded Kafka cluster on the deterministic simulator: brokers, a controller and a client.

This is a *driver*: it moves messages and time between the sans-IO pieces and holds no Kafka
logic of its own. ``EmbeddedCluster`` gives notebooks a synchronous feel — ``produce`` sends a
ProduceRequest over the simulated network and runs the simulator until the answer arrives — while
every step is an event in a seeded simulation with a trace.

    cluster = EmbeddedCluster(seed=7, brokers=3)
    cluster.create_topic("orders", partitions=3, config={"retention.ms": 3_600_000})
    cluster.produce("orders", b"hello", key=b"alice")      # -> (partition, offset)
    cluster.fetch("orders", 0, offset=0)                    # -> [StoredRecord, ...]
    cluster.advance(days(8))                                # retention runs as time passes

Seams for exercises: ``log_factory`` (the class each partition's log is made from),
``partitioner`` (``fn(key: bytes, num_partitions: int) -> int`` for keyed records),
``producer_state_class`` (the brokers' idempotence check), ``partition_class`` (a replica's
high watermark and ISR bookkeeping) and ``choose_leader`` (the controller's election rule);
``producer(...)`` and ``consumer(...)`` have their own.

Kafka: a KRaft cluster in miniature — brokers (KafkaApis), the controller (CreateTopics →
metadata records), and a client doing what KafkaProducer/KafkaConsumer do on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from kafkalab.broker import Broker, Controller
from kafkalab.broker.broker import LogFactory, PartitionLogLike
from kafkalab.broker.messages import (
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    CreatableTopic,
    CreateTopicsRequest,
    CreateTopicsResponse,
    DeleteRecordsRequest,
    FetchRequest,
    ListOffsetsRequest,
    MetadataImage,
    MetadataRequest,
    MetadataResponse,
    MetadataUpdate,
    AlterPartitionResponse,
    BrokerHeartbeatRequest,
    BrokerHeartbeatResponse,
    FetchResponse,
    OffsetsForLeaderEpochResponse,
    ProducePartitionData,
    ProduceRequest,
    RegisterBrokerRecord,
)
from kafkalab.config import BrokerConfig
from kafkalab.coordinator.transaction_messages import WriteTxnMarkersResponse
from kafkalab.errors import LeaderNotAvailableError, NetworkExceptionError, RequestTimedOutError, UnknownTopicOrPartitionError, raise_for_code
from kafkalab.jvm import JavaRandom
from kafkalab.log import StoredRecord
from kafkalab.partitioner import UniformStickyPartitioner, partition_for_key
from kafkalab.record import CompressionType, Header, Record, RecordBatch
from kafkalab.sim import Network, Node, Simulator

CONTROLLER_NODE = "controller"
CLIENT_NODE = "client"
REQUEST_TIMEOUT_MS = 30_000  # request.timeout.ms

Partitioner = Callable[[bytes, int], int]


PEER_RESPONSES = (FetchResponse, OffsetsForLeaderEpochResponse, AlterPartitionResponse, BrokerHeartbeatResponse,
                  CreateTopicsResponse, WriteTxnMarkersResponse)


def days(n: float) -> int:
    return int(n * 24 * 60 * 60 * 1000)


def hours(n: float) -> int:
    return int(n * 60 * 60 * 1000)


def broker_node_id(broker_id: int) -> str:
    return f"broker-{broker_id}"


class BrokerNode(Node):
    """Drives a sans-IO Broker: requests in, responses out, a retention timer and a wake-up timer.

    The broker says when it next needs time to pass (``next_deadline_ms``: a parked fetch, a
    group's session timeout); the node keeps one timer set for that moment.
    """

    def __init__(self, broker: Broker, sim: Simulator, network: Network) -> None:
        super().__init__(broker_node_id(broker.broker_id), sim, network)
        self.broker = broker
        self.touched = True  # something ran on this broker since the invariants last looked

    def on_start(self) -> None:
        self._schedule_retention()
        self.broker.replica_manager.send_heartbeat()  # register with the controller (and catch up on metadata)
        self._after_work()

    def _schedule_retention(self) -> None:
        self.set_timer(self.broker.config["log.retention.check.interval.ms"], self._retention_check)

    def _retention_check(self) -> None:
        self.touched = True
        self.broker.tick(self.sim.now_ms)
        self._after_work()
        self._schedule_retention()

    def on_message(self, src: str, message: Any) -> None:
        self.touched = True
        if isinstance(message, MetadataUpdate):
            self.broker.apply_metadata(message.records, self.sim.now_ms, message.start_offset)
        elif isinstance(message, PEER_RESPONSES):  # answers to requests this broker sent
            source: int | str = int(src.rsplit("-", 1)[1]) if src.startswith("broker-") else "controller"
            self.broker.on_peer_response(source, message, self.sim.now_ms)
        else:
            response = self.broker.handle(message, self.sim.now_ms, src)
            if response is not None:
                self.send(src, response)
        self._after_work()

    def _wake(self) -> None:
        self.touched = True
        self.broker.tick_requests(self.sim.now_ms)
        self._after_work()

    def _after_work(self) -> None:
        """Send parked responses that completed, the broker's own requests, trace events; re-arm the wake-up."""
        for client, response in self.broker.take_responses():
            self.send(client, response)
        for effect in self.broker.take_effects():
            if isinstance(effect, tuple):  # (broker id or "controller", request)
                destination, request = effect
                if destination == "controller":
                    self.send(CONTROLLER_NODE, request)
                elif isinstance(destination, int) and destination >= 0:  # no leader (-1): retried later
                    self.send(broker_node_id(destination), request)
            else:
                self.send(CONTROLLER_NODE, CreateTopicsRequest((effect,)))
        self._flush_events()
        self.wake_at(self.broker.next_deadline_ms(), self._wake)

    def _flush_events(self) -> None:
        for kind, detail in self.broker.drain_events():
            self.sim.record(f"broker.{kind}", self.node_id, **detail)

    def on_crash(self) -> None:
        """A killed broker process keeps its disk: the logs stay. Kafka also recovers producer state
        from the log and its snapshots on restart, so that survives here too. What lived only in
        memory is gone: groups, parked requests (their clients will time out and retry)."""
        self.broker.group_coordinator.forget_everything()
        self.broker.transaction_coordinator.forget_everything()
        self.broker.replica_manager.forget_everything()
        self.broker.delayed_fetches.clear()
        self.broker.take_responses()

    def on_wipe(self) -> None:
        """The disk is gone: every log and all producer state are lost (the metadata image is kept,
        as the broker would fetch it again from the controller)."""
        self.broker.logs.clear()
        self.broker.producer_states.clear()
        self.broker.transactions.clear()
        self.broker.replica_manager.directory_id += 1  # a new, empty log directory

    def on_restart(self) -> None:
        # In-memory logs need no recovery (on-disk storage, issue 7, will validate and truncate); after
        # a wipe they start again empty. The broker takes up its partitions from the metadata image
        # (leaders reload coordinator state), catches up on metadata it missed, and followers truncate
        # and fetch again.
        self.touched = True
        self.broker.rejoin(self.sim.now_ms)
        self._flush_events()


class ControllerNode(Node):
    """Drives the sans-IO Controller: CreateTopics, broker heartbeats, AlterPartition; publishes metadata."""

    def __init__(self, controller: Controller, sim: Simulator, network: Network, broker_ids: list[int]) -> None:
        super().__init__(CONTROLLER_NODE, sim, network)
        self.controller = controller
        self.broker_ids = broker_ids
        self._liveness: Any = None
        self._liveness_at: int | None = None
        self._balance: Any = None  # the scheduled leader rebalance (QuorumController's imbalancedScheduled)

    def publish(self, records: tuple[Any, ...]) -> None:
        if not records:
            return
        start = self.controller.append(list(records))
        for broker_id in self.broker_ids:
            self.send(broker_node_id(broker_id), MetadataUpdate(tuple(records), start))
        self._arm_liveness()
        self._maybe_schedule_balance()

    def _maybe_schedule_balance(self) -> None:
        """QuorumController.maybeScheduleNextBalancePartitionLeaders: once some partition is led by
        another replica than its preferred one, check again after leader.imbalance.check.interval.seconds
        and hand leadership back where the preferred replica is in sync (auto.leader.rebalance.enable)."""
        config = self.controller.config
        if self._balance is not None or not config["auto.leader.rebalance.enable"] or not self.controller.leaders_imbalanced():
            return
        self._balance = self.set_timer(config["leader.imbalance.check.interval.seconds"] * 1000, self._balance_leaders)

    def _balance_leaders(self) -> None:
        self._balance = None
        records = self.controller.preferred_leader_elections()
        if records:
            self.sim.record("controller.auto_rebalance", self.node_id,
                            partitions=[f"{r.topic}-{r.partition_id}->{r.leader}" for r in records])
        self.publish(tuple(records))
        self._maybe_schedule_balance()

    def on_message(self, src: str, message: Any) -> None:
        answer = self.controller.handle_request(message, self.sim.now_ms)
        for kind, detail in answer.events:
            self.sim.record(kind, self.node_id, **detail)
        for start, records in answer.published:
            for broker_id in self.broker_ids:
                self.send(broker_node_id(broker_id), MetadataUpdate(records, start))
            self._arm_liveness()
            self._maybe_schedule_balance()
        self.send(src, answer.response)
        if isinstance(message, BrokerHeartbeatRequest):
            self._arm_liveness()

    def _arm_liveness(self) -> None:
        """One timer at the next moment a broker's session could expire (none while nobody must heartbeat)."""
        deadline = self.controller.next_liveness_deadline(self.sim.now_ms)
        if deadline == self._liveness_at:
            return
        if self._liveness is not None:
            self._liveness.cancel()
        self._liveness_at = deadline
        self._liveness = None if deadline is None else self.set_timer(max(0, deadline - self.sim.now_ms), self._check_liveness)

    def _check_liveness(self) -> None:
        self._liveness = self._liveness_at = None
        for broker_id in self.controller.expired_brokers(self.sim.now_ms):
            records = self.controller.fence(broker_id)
            self.sim.record("controller.fence", self.node_id, broker=broker_id,
                            elections=[f"{r.topic}-{r.partition_id}->{r.leader}" for r in records if getattr(r, "leader", None) is not None])
            self.publish(tuple(records))
        self._arm_liveness()


class ClientNode(Node):
    """Sends requests and keeps the responses by correlation id."""

    def __init__(self, sim: Simulator, network: Network) -> None:
        super().__init__(CLIENT_NODE, sim, network)
        self.responses: dict[int, Any] = {}
        self._next_correlation_id = 0

    def next_correlation_id(self) -> int:
        self._next_correlation_id += 1
        return self._next_correlation_id

    def on_message(self, src: str, message: Any) -> None:
        self.responses[message.correlation_id] = message


@dataclass(frozen=True)
class ProduceResult:
    """Where a record went: the partition and the offset the broker gave it (-1 with acks=0)."""

    topic: str
    partition: int
    offset: int
    timestamp: int

    def __iter__(self):  # so that ``partition, offset = cluster.produce(...)`` works
        return iter((self.partition, self.offset))


class EmbeddedCluster:
    """Brokers, a controller and one client on a seeded simulator — Kafka in a notebook."""

    def __init__(
        self,
        seed: int = 0,
        brokers: int = 1,
        broker_config: Mapping[str, Any] | None = None,
        log_factory: LogFactory | None = None,
        partitioner: Partitioner | None = None,
        latency_ms: int = 1,
        producer_state_class: type | None = None,
        truncation: str = "leader-epoch",
        fence_restarted_brokers: bool = True,
        partition_class: type | None = None,
        choose_leader: Callable[..., int] | None = None,
        racks: Sequence[str | None] | None = None,
    ) -> None:
        """``truncation``: how a follower of a new leader discards records — "leader-epoch" (KIP-101,
        Kafka since 0.11) or "high-watermark" (before it: to its own high watermark; chapter 05 shows
        how that loses acknowledged records). ``fence_restarted_brokers=False`` replays the ZooKeeper
        era before KIP-903, when a broker that restarted quickly stayed in the ISR whatever its disk held.
        ``racks``: each broker's ``broker.rack`` (its availability zone), in broker id order; replicas are
        then spread over racks, and consumers with ``client.rack`` can read from a replica in theirs."""
        if brokers < 1:
            raise ValueError(f"a cluster needs at least one broker, got {brokers}")
        if racks is not None and len(racks) != brokers:
            raise ValueError(f"racks names one rack per broker: got {len(racks)} for {brokers} broker(s)")
        self.racks: dict[int, str | None] = {b: (racks[b] if racks is not None else None) for b in range(brokers)}
        self.sim = Simulator(seed)
        self.network = Network(self.sim)
        self.network.set_default(latency_ms=latency_ms)
        self._latency_ms = latency_ms
        settings = dict(broker_config or {})
        # Kafka's single-broker quickstart (config/server.properties) sets this to 1; the default (3)
        # would leave __consumer_offsets uncreatable on a 1- or 2-broker cluster.
        settings.setdefault("offsets.topic.replication.factor", min(3, brokers))
        settings.setdefault("transaction.state.log.replication.factor", min(3, brokers))
        self.config = BrokerConfig(settings)
        self.partitioner: Partitioner = partitioner or partition_for_key
        self.sticky = UniformStickyPartitioner(self.sim.rng("partitioner"))
        broker_ids = list(range(brokers))
        self.brokers = {
            i: BrokerNode(Broker(i, self.config, log_factory, producer_state_class, uuid_rng=self.sim.rng(f"broker-{i}.member-ids"),
                                truncation=truncation, partition_class=partition_class), self.sim, self.network)
            for i in broker_ids
        }
        placement_random = JavaRandom(self.sim.rng("controller.placement").getrandbits(48))
        self.controller = ControllerNode(Controller(self.config, MetadataImage(), placement_random), self.sim, self.network, broker_ids)
        self.controller.controller.fence_restarted_brokers = fence_restarted_brokers
        if choose_leader is not None:
            self.controller.controller.choose_leader = choose_leader
        self.client = ClientNode(self.sim, self.network)
        for node in self.brokers.values():
            node.broker.controller_id = 0
            node.start()
        self.controller.publish(tuple(RegisterBrokerRecord(i, self.racks[i]) for i in broker_ids))
        self._last_offsets: dict[tuple[int, str, int], tuple[int, int, int]] = {}
        self.sim.add_invariant("offsets only move forward", self._offsets_only_move_forward)
        self.sim.run(until_ms=self.sim.now_ms + 10 * latency_ms)

    def _offsets_only_move_forward(self, sim: Simulator) -> None:
        """After every event: log start ≤ log end; the log start never goes back; the log end goes back
        only when a follower truncates what the leader does not have (offsets are never reused on a leader)."""
        for broker_id, node in self.brokers.items():
            if not node.touched:
                continue  # nothing ran there since the last check: its logs cannot have changed
            node.touched = False
            truncations = node.broker.replica_manager.truncations
            for (topic, partition), log in node.broker.logs.items():
                start, end = log.log_start_offset, log.log_end_offset
                assert 0 <= start <= end, f"{topic}-{partition} on broker {broker_id}: log start {start} > log end {end}"
                cut = truncations.get((topic, partition), 0)
                before = self._last_offsets.get((broker_id, topic, partition), (0, 0, cut))
                assert start >= before[0] or cut != before[2], f"{topic}-{partition}: log start offset went back from {before[0]} to {start}"
                assert end >= before[1] or cut != before[2], \
                    f"{topic}-{partition} on broker {broker_id}: log end offset went back from {before[1]} to {end} (offsets reused?)"
                self._last_offsets[(broker_id, topic, partition)] = (start, end, cut)

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def trace(self):
        return self.sim.trace

    @property
    def now_ms(self) -> int:
        return self.sim.now_ms

    def request(self, destination: str, make_request: Callable[[int], Any], timeout_ms: int = REQUEST_TIMEOUT_MS) -> Any:
        """Send a request built with a fresh correlation id and run the simulation until it is answered."""
        correlation_id = self.client.next_correlation_id()
        self.client.send(destination, make_request(correlation_id))
        if not self.sim.run_until(lambda: correlation_id in self.client.responses, timeout_ms):
            raise RequestTimedOutError(f"no answer from {destination} within {timeout_ms} ms (simulated)")
        return self.client.responses.pop(correlation_id)

    def advance(self, ms: int) -> None:
        """Let simulated time pass (retention checks, deliveries, timers all run)."""
        self.sim.advance(ms)

    # -- admin --------------------------------------------------------------------------------
    def create_topic(self, name: str, partitions: int = 1, replication_factor: int = 1, config: Mapping[str, Any] | None = None) -> None:
        """CreateTopics, then wait until every broker knows the new partitions."""
        topic = CreatableTopic(name, partitions, replication_factor, tuple((k, str(v)) for k, v in (config or {}).items()))
        response = self.request(CONTROLLER_NODE, lambda cid: CreateTopicsRequest((topic,), cid))
        result = response.topics[0]
        raise_for_code(result.error_code, result.error_message)
        self.sim.run_until(lambda: all(name in node.broker.image.topic_ids for node in self.brokers.values()), 1000)

    def metadata(self, topics: Iterable[str] | None = None, broker_id: int | None = None) -> MetadataResponse:
        """Ask a broker for the cluster's metadata: ``broker_id``, or the first bootstrap server that is up
        (any broker will do; a connection to a dead process is refused at once, so the client moves on)."""
        wanted = None if topics is None else tuple(topics)
        candidates = [broker_id] if broker_id is not None else [b for b in sorted(self.brokers) if self.brokers[b].alive]
        if not candidates:
            raise NetworkExceptionError("no bootstrap server is up: every broker has crashed")
        return self.request(broker_node_id(candidates[0]), lambda cid: MetadataRequest(wanted, correlation_id=cid))

    def partitions_for(self, topic: str) -> dict[int, int]:
        """Partition → leader broker id, from metadata."""
        response = self.metadata([topic])
        entry = response.topics[0]
        raise_for_code(entry.error_code, f"topic {topic!r} does not exist")
        return {p.partition_index: p.leader_id for p in entry.partitions}

    def leader_node(self, topic: str, partition: int) -> str:
        leaders = self.partitions_for(topic)
        if partition not in leaders:
            raise UnknownTopicOrPartitionError(f"{topic} has no partition {partition} (it has {len(leaders)})")
        if leaders[partition] < 0:
            raise LeaderNotAvailableError(f"{topic}-{partition} has no leader")
        return broker_node_id(leaders[partition])

    # -- producing and consuming ----------------------------------------------------------------
    def produce(
        self,
        topic: str,
        value: bytes | str | None,
        key: bytes | str | None = None,
        partition: int | None = None,
        headers: Iterable[tuple[str, bytes]] = (),
        timestamp: int | None = None,
        acks: int = -1,
        compression: CompressionType = CompressionType.NONE,
    ) -> ProduceResult:
        """Send one record; str keys/values are UTF-8 encoded (as kcat and the console producer do)."""
        return self.produce_batch(topic, [(key, value)], partition=partition, headers=headers, timestamp=timestamp, acks=acks, compression=compression)[0]

    def produce_batch(
        self,
        topic: str,
        records: Iterable[tuple[bytes | str | None, bytes | str | None]],
        partition: int | None = None,
        headers: Iterable[tuple[str, bytes]] = (),
        timestamp: int | None = None,
        acks: int = -1,
        compression: CompressionType = CompressionType.NONE,
    ) -> list[ProduceResult]:
        """Send (key, value) records: one batch per partition, one ProduceRequest per leader broker."""
        leaders = self.partitions_for(topic)
        header_tuple = tuple(Header(k, v) for k, v in headers)
        by_partition: dict[int, list[Record]] = {}
        order: list[tuple[int, int]] = []
        for key, value in records:
            record = Record(_to_bytes(key), _to_bytes(value), header_tuple, timestamp if timestamp is not None else self.sim.now_ms)
            chosen = self.choose_partition(topic, record, len(leaders), partition)
            order.append((chosen, len(by_partition.setdefault(chosen, []))))
            by_partition[chosen].append(record)
        base_offsets: dict[int, int] = {partition: -1 for partition in by_partition}
        by_leader: dict[int, list[ProducePartitionData]] = {}
        for chosen, batch_records in by_partition.items():
            batch = RecordBatch.of(batch_records, base_timestamp=self.sim.now_ms, compression=compression)
            if leaders[chosen] < 0:
                raise LeaderNotAvailableError(f"{topic}-{chosen} has no leader (its in-sync replicas are all down)")
            by_leader.setdefault(leaders[chosen], []).append(ProducePartitionData(topic, chosen, batch))
        for leader, partitions in sorted(by_leader.items()):
            destination = broker_node_id(leader)
            if acks == 0:
                self.client.send(destination, ProduceRequest(0, REQUEST_TIMEOUT_MS, tuple(partitions), self.client.next_correlation_id()))
                self.sim.advance(10)  # fire and forget: no response will come
                continue
            response = self.request(destination, lambda cid: ProduceRequest(acks, REQUEST_TIMEOUT_MS, tuple(partitions), cid))
            for answer in response.responses:
                raise_for_code(answer.error_code, answer.error_message)
                base_offsets[answer.partition] = answer.base_offset
        return [
            ProduceResult(topic, chosen, -1 if base_offsets[chosen] < 0 else base_offsets[chosen] + index, self.sim.now_ms)
            for chosen, index in order
        ]

    def choose_partition(self, topic: str, record: Record, num_partitions: int, explicit: int | None = None) -> int:
        """Explicit partition > the key's hash (the pluggable partitioner) > the built-in sticky partitioner."""
        if explicit is not None:
            if not 0 <= explicit < num_partitions:
                raise UnknownTopicOrPartitionError(f"{topic} has no partition {explicit} (it has {num_partitions})")
            return explicit
        if record.key is not None:
            chosen = self.partitioner(record.key, num_partitions)
            if not isinstance(chosen, int) or not 0 <= chosen < num_partitions:
                raise ValueError(f"the partitioner returned {chosen!r} for key {record.key!r}; it must be in [0, {num_partitions - 1}]")
            return chosen
        chosen = self.sticky.partition(topic, num_partitions)
        self.sticky.record_appended(topic, num_partitions, record.size_in_bytes())
        return chosen

    def fetch(self, topic: str, partition: int, offset: int, max_records: int | None = None, max_bytes: int | None = None) -> list[StoredRecord]:
        """Read records from the partition's leader, starting at ``offset`` (``max_bytes``: whole batches, at least one)."""
        response = self.request(
            self.leader_node(topic, partition), lambda cid: FetchRequest.single(topic, partition, offset, max_records, cid, partition_max_bytes=max_bytes)
        )
        answer = response.partitions[0]
        raise_for_code(answer.error_code, answer.error_message)
        return list(answer.records)

    def list_offsets(self, topic: str, partition: int, spec: str | int = "latest") -> int:
        """``"earliest"`` (log start offset), ``"latest"`` (log end offset) or a timestamp in ms."""
        timestamps = {"earliest": EARLIEST_TIMESTAMP, "latest": LATEST_TIMESTAMP}
        if isinstance(spec, str) and spec not in timestamps:
            raise ValueError(f"spec must be 'earliest', 'latest' or a timestamp, got {spec!r}")
        timestamp = timestamps[spec] if isinstance(spec, str) else spec
        response = self.request(self.leader_node(topic, partition), lambda cid: ListOffsetsRequest(topic, partition, timestamp, cid))
        raise_for_code(response.error_code, response.error_message)
        return response.offset

    def elect_preferred_leaders(self) -> list[str]:
        """kafka-leader-election.sh --election-type PREFERRED: move leadership back to each partition's first
        replica where it is in sync; returns the partitions that changed leader."""
        records = self.controller.controller.preferred_leader_elections()
        self.controller.publish(tuple(records))
        self.sim.record("controller.preferred_election", CONTROLLER_NODE, partitions=[f"{r.topic}-{r.partition_id}" for r in records])
        self.advance(10 * self._latency_ms)
        return [f"{r.topic}-{r.partition_id}" for r in records]

    def delete_records(self, topic: str, partition: int, before_offset: int) -> int:
        response = self.request(self.leader_node(topic, partition), lambda cid: DeleteRecordsRequest(topic, partition, before_offset, cid))
        raise_for_code(response.error_code, response.error_message)
        return response.low_watermark

    def producer(self, config: Mapping[str, Any] | None = None, key_serializer: Any = None, value_serializer: Any = None, **seams: Any):
        """A KafkaProducer client node on this cluster's network (chapter 03), bootstrapping from broker 0.

        ``seams``: ``accumulator_class=`` / ``partitioner_class=`` plug in other implementations.
        """
        return _producer_for(self, config, key_serializer, value_serializer, seams)

    def consumer(self, config: Mapping[str, Any] | None = None, key_deserializer: Any = None, value_deserializer: Any = None,
                 name: str | None = None, **seams: Any):
        """A KafkaConsumer client node on this cluster's network (chapter 04), bootstrapping from broker 0.

        ``seams``: ``assignor=fn(strategy, partitions_per_topic, subscriptions, owned)`` plugs in another assignor.
        """
        from kafkalab.consumer.consumer import KafkaConsumer

        self._consumers = getattr(self, "_consumers", 0) + 1
        return KafkaConsumer(
            name or f"consumer-{self._consumers}", self.sim, self.network, broker_node_id(0), config,
            key_deserializer=key_deserializer, value_deserializer=value_deserializer, broker_node_name=broker_node_id, **seams,
        )

    # -- faults ---------------------------------------------------------------------------------
    def crash_broker(self, broker_id: int) -> None:
        """Kill a broker process: it stops answering; its logs survive on its disk."""
        self.brokers[broker_id].crash()

    def wipe_broker(self, broker_id: int) -> None:
        """Kill a broker and lose its disk (its offsets start again: the invariant forgets them)."""
        self.brokers[broker_id].wipe()
        self.brokers[broker_id].touched = True
        self._last_offsets = {key: value for key, value in self._last_offsets.items() if key[0] != broker_id}

    def power_failure(self, broker_id: int, unflushed_from: Mapping[tuple[str, int], int]) -> None:
        """Crash a broker by cutting its power: besides the process, each listed partition loses its
        records from the given offset on — appended, acknowledged perhaps, but not yet flushed to disk."""
        self.crash_broker(broker_id)
        node = self.brokers[broker_id]
        for key, offset in unflushed_from.items():
            node.broker.replica_manager.lose_unflushed(key, offset)
        node.touched = True
        node._flush_events()

    def restart_broker(self, broker_id: int) -> None:
        self.brokers[broker_id].restart()

    # -- looking inside -------------------------------------------------------------------------
    def log(self, topic: str, partition: int) -> PartitionLogLike:
        """The leader's log object itself (for looking, not for writing around the broker)."""
        leader = int(self.leader_node(topic, partition).split("-")[1])
        return self.brokers[leader].broker.logs[(topic, partition)]

    def describe(self) -> dict[str, Any]:
        """A plain-data snapshot: time, brokers, and every partition log's offsets and segments."""
        partitions = []
        for broker_id, node in sorted(self.brokers.items()):
            for (topic, partition), log in sorted(node.broker.logs.items()):
                entry = log.describe() if hasattr(log, "describe") else {
                    "topic": topic, "partition": partition,
                    "log_start_offset": log.log_start_offset, "log_end_offset": log.log_end_offset,
                }
                partitions.append({"leader": broker_id, **entry})
        return {"now_ms": self.sim.now_ms, "brokers": sorted(self.brokers), "partitions": partitions}


def _to_bytes(data: bytes | str | None) -> bytes | None:
    if data is None or isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"keys and values are bytes (or str, sent as UTF-8); got {type(data).__name__}: use a serializer")


def _producer_for(cluster: EmbeddedCluster, config: Mapping[str, Any] | None, key_serializer: Any, value_serializer: Any, seams: dict[str, Any]):
    from kafkalab.producer.producer import KafkaProducer

    cluster._producers = getattr(cluster, "_producers", 0) + 1
    return KafkaProducer(
        f"producer-{cluster._producers}", cluster.sim, cluster.network, broker_node_id(0), config,
        key_serializer=key_serializer, value_serializer=value_serializer, broker_node_name=broker_node_id, **seams,
    )
