"""A broker as a state machine: ``handle(request, now_ms) -> response`` and ``tick(now_ms)``.

The broker never reads a clock, sleeps or opens a socket: its driver (the simulator here, a TCP
server in issue 7) hands it requests with the current time and delivers its responses. It hosts
the partition logs it leads, answers metadata for the whole cluster from its metadata image (any
broker is a bootstrap server), and runs retention when ``tick`` says
``log.retention.check.interval.ms`` has passed.

Replication (followers, ISR, high watermark below the log end offset) comes with the replication
chapter (issue 5); with one replica per partition the high watermark is the log end offset.

Kafka: kafka.server.KafkaApis (request dispatch), ReplicaManager#appendRecords / #fetchMessages,
LogManager (retention every log.retention.check.interval.ms), MetadataCache.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from kafkalab.broker.messages import (
    EARLIEST_TIMESTAMP,
    CreateTopicsResponse,
    LATEST_TIMESTAMP,
    DeleteRecordsRequest,
    CreatableTopic,
    DeleteRecordsResponse,
    FetchPartition,
    FetchPartitionResponse,
    FetchRequest,
    FetchResponse,
    InitProducerIdRequest,
    InitProducerIdResponse,
    ListOffsetsRequest,
    ListOffsetsResponse,
    AlterPartitionResponse,
    BrokerHeartbeatResponse,
    MetadataImage,
    MetadataRecord,
    MetadataRequest,
    OffsetsForLeaderEpochRequest,
    OffsetsForLeaderEpochResponse,
    PartitionChangeRecord,
    MetadataResponse,
    MetadataResponsePartition,
    MetadataResponseTopic,
    PartitionProduceResponse,
    PartitionRecord,
    ProducePartitionData,
    ProduceRequest,
    ProduceResponse,
    RemoveTopicRecord,
)
from kafkalab.broker.producer_state import ProducerIdManager, ProducerStateManager
from kafkalab.broker.replica_manager import ReplicaManager, annotate_epochs
from kafkalab.config import INTERNAL_TOPICS, BrokerConfig, TopicConfig
from kafkalab.coordinator import OFFSETS_TOPIC, GroupCoordinator
from kafkalab.coordinator.messages import (
    COORDINATOR_KEY_GROUP,
    COORDINATOR_KEY_TRANSACTION,
    GROUP_REQUESTS,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
)
from kafkalab.coordinator.group_coordinator import error_response as group_error_response
from kafkalab.coordinator.transaction_coordinator import (
    TRANSACTION_STATE_TOPIC,
    TransactionCoordinator,
    is_transaction_request,
)
from kafkalab.coordinator.transaction_coordinator import error_response as transaction_error_response
from kafkalab.coordinator.transaction_messages import (
    TxnOffsetCommitRequest,
    WriteTxnMarkersRequest,
    WriteTxnMarkersResponse,
)
from kafkalab.broker.replica_selector import ReplicaView, create_replica_selector
from kafkalab.broker.transactions import PartitionTransactions, control_record_key, control_record_value
from kafkalab.errors import (
    CoordinatorNotAvailableError,
    OffsetOutOfRangeError,
    FencedLeaderEpochError,
    NotEnoughReplicasError,
    UnknownLeaderEpochError,
    InvalidRequestError,
    InvalidRequiredAcksError,
    KafkaError,
    NotLeaderOrFollowerError,
    UnknownServerError,
    UnknownTopicOrPartitionError,
)
from kafkalab.log import PartitionLog
from kafkalab.log.partition_log import AppendInfo, StoredRecord
from kafkalab.record import CompressionType, Record, RecordBatch, encode_batch
from kafkalab.record.raw import RawRecordBatch


class PartitionLogLike(Protocol):
    """What the broker needs of a partition log — the seam where a learner's log plugs in."""

    log_start_offset: int
    log_end_offset: int

    def append(self, records: Sequence[Record], now_ms: int, compression: CompressionType = ...) -> AppendInfo: ...
    def read(self, fetch_offset: int, max_records: int | None = None) -> list[StoredRecord]: ...
    def delete_retention_breached_segments(self, now_ms: int) -> int: ...


LogFactory = Callable[[str, int, TopicConfig, int], PartitionLogLike]


def default_log_factory(topic: str, partition: int, config: TopicConfig, now_ms: int) -> PartitionLog:
    return PartitionLog(topic, partition, config, now_ms)


@dataclass
class _DelayedFetch:
    request: FetchRequest
    client: str
    deadline_ms: int


def record_bytes(record: StoredRecord | Record) -> int:
    """About what a record costs on the wire (a batch adds 61 bytes per batch; enough for fetch.min.bytes)."""
    return 8 + len(record.key or b"") + len(record.value or b"") + sum(len(h.key) + len(h.value or b"") for h in record.headers)


def _fetched_bytes(response: FetchResponse) -> int:
    return sum(record_bytes(r) for p in response.partitions for r in p.records) + sum(len(p.batches) for p in response.partitions)


def append_raw(log: Any, batch: RawRecordBatch, now_ms: int, leader_epoch: int) -> AppendInfo:
    """Append a batch that arrived as bytes: kept as it is by a log that stores bytes
    (kafkalab.storage's DiskPartitionLog.append_raw); decoded for a log that keeps records (the
    simulator's PartitionLog, or a learner's)."""
    if hasattr(log, "append_raw"):
        return log.append_raw(batch, now_ms, leader_epoch)
    return log.append(list(batch.records), now_ms, batch.compression)


def read_raw(log: Any, fetch_offset: int, max_bytes: int | None, max_offset: int | None) -> bytes:
    """Whole batches from ``fetch_offset`` as stored, below ``max_offset`` (the high watermark for
    consumers); from a log that keeps records, each record re-encoded as a batch of its own."""
    if hasattr(log, "read_raw"):
        return log.read_raw(fetch_offset, max_bytes, max_offset)
    out = bytearray()
    for record in log.read(fetch_offset, None, max_bytes) if max_bytes is not None else log.read(fetch_offset):
        if max_offset is not None and record.offset >= max_offset:
            break
        batch = RecordBatch.of([Record(record.key, record.value, record.headers, record.timestamp)], base_offset=record.offset,
                               timestamp_type=record.timestamp_type, producer_id=record.producer_id,
                               producer_epoch=record.producer_epoch, base_sequence=record.sequence,
                               is_transactional=record.is_transactional)
        out += encode_batch(batch)
    return bytes(out)


def _last_stable_offset(transactions: PartitionTransactions | None, high_watermark: int) -> int:
    return high_watermark if transactions is None else transactions.last_stable_offset(high_watermark)


def _has_error(response: FetchResponse) -> bool:
    return any(p.error_code for p in response.partitions)


class Broker:
    """One broker's request handling and log management, with no I/O of its own."""

    def __init__(
        self, broker_id: int, config: BrokerConfig | None = None, log_factory: LogFactory | None = None,
        producer_state_class: type | None = None, uuid_rng: random.Random | None = None, truncation: str = "leader-epoch",
        partition_class: type | None = None,
    ) -> None:
        """``partition_class`` is the seam for a learner's replica bookkeeping (exercise ex11)."""
        from kafkalab.broker.partition import Partition

        self.partition_class = partition_class or Partition
        self.broker_id = broker_id
        self.config = config or BrokerConfig()
        self.log_factory = log_factory or default_log_factory
        self.image = MetadataImage()
        self.controller_id = -1
        self.logs: dict[tuple[str, int], PartitionLogLike] = {}
        self.producer_state_class = producer_state_class or ProducerStateManager
        self.producer_states: dict[tuple[str, int], ProducerStateManager] = {}
        self.producer_ids = ProducerIdManager(broker_id)
        self.last_retention_check_ms = 0
        self.events: list[tuple[str, dict[str, Any]]] = []  # what happened, for the driver's trace
        self.uuid_rng = uuid_rng or random.Random(f"broker-{broker_id}")
        self.group_coordinator = GroupCoordinator(self.config, self._new_uuid, self._append_coordinator_records, self._event)
        self.transaction_coordinator = TransactionCoordinator(
            self.config, self.producer_ids.generate, self._append_transaction_records, self._leader_id_of, self._event)
        self.transactions: dict[tuple[str, int], PartitionTransactions] = {}  # per partition led here
        self.replica_manager = ReplicaManager(self, truncation)
        self.replica_selector = create_replica_selector(self.config["replica.selector.class"])  # KIP-392
        self.metadata_offset = 0  # how many records of the metadata log this broker has applied
        self.catching_up = False  # restarted, waiting for the controller's answer before leading anything
        self.delayed_fetches: list[_DelayedFetch] = []  # the fetch purgatory
        self._outbox: list[tuple[str, Any]] = []  # responses to parked requests, as (client, response)
        self.effects: list[Any] = []  # requests the broker itself sends (e.g. CreateTopics for __consumer_offsets)
        self._current_client = "client"
        self._internal_topics_requested: set[str] = set()

    # -- metadata -------------------------------------------------------------------------------
    def apply_metadata(self, records: Sequence[MetadataRecord], now_ms: int, start_offset: int = -1) -> None:
        """Replay metadata records: become leader or follower of partitions, load coordinator state.

        With ``start_offset`` (the first record's offset in the metadata log) a broker that missed
        records (it was down) asks the controller for them instead of applying out of order.
        """
        if start_offset >= 0:
            if start_offset > self.metadata_offset:
                self.replica_manager.send_heartbeat()  # a gap: fetch what we missed first
                return
            records = list(records)[self.metadata_offset - start_offset:]
        for record in records:
            self.image.apply(record)
            self.metadata_offset += 1
            if isinstance(record, (PartitionRecord, PartitionChangeRecord)):
                self._on_partition_change(self.image.partitions[record.topic][record.partition_id], now_ms)
            elif isinstance(record, RemoveTopicRecord):
                self._on_topic_removed(record.name)

    def _on_topic_removed(self, topic: str) -> None:
        """DeleteTopics reached this broker: stop leading or following the topic's partitions and delete
        their logs (a log on disk is renamed ``<topic>-<p>.<id>-delete`` and removed, as Kafka does)."""
        for key in [k for k in self.logs if k[0] == topic]:
            log = self.logs.pop(key)
            self.replica_manager.partitions.pop(key, None)
            self.producer_states.pop(key, None)
            self.transactions.pop(key, None)
            if hasattr(log, "delete"):
                log.delete()
            self._event("log.deleted", topic=key[0], partition=key[1])
        for key in [k for k in self.replica_manager.partitions if k[0] == topic]:
            self.replica_manager.partitions.pop(key, None)

    def _on_partition_change(self, record: PartitionRecord, now_ms: int) -> None:
        key = (record.topic, record.partition_id)
        was_leader = key in self.replica_manager.partitions and self.replica_manager.partitions[key].is_leader
        if record.leader == self.broker_id or self.broker_id in record.replicas:
            self.replica_manager.on_partition_record(record, now_ms)
        if record.leader == self.broker_id and not was_leader and record.topic in (OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC):
            self.load_coordinator_partition(record.topic, record.partition_id, now_ms)
        elif was_leader and record.leader != self.broker_id and record.topic == OFFSETS_TOPIC:
            self.group_coordinator.unload_partition(record.partition_id)

    def ensure_log(self, topic: str, partition: int, now_ms: int) -> PartitionLogLike:
        """The local log of a replica, created on first need."""
        key = (topic, partition)
        if key not in self.logs:
            self.logs[key] = self.log_factory(topic, partition, self.topic_config(topic), now_ms)
            self._event("log.created", topic=topic, partition=partition)
        return self.logs[key]

    def rejoin(self, now_ms: int) -> None:
        """After a restart: lead or follow nothing until the controller has answered (KRaft brokers start
        fenced and catch up on the metadata log first: a stale image must not make this broker a leader)."""
        self.replica_manager.forget_everything()
        self.catching_up = True
        self.replica_manager.send_heartbeat()
        self.replica_manager.next_heartbeat_ms = now_ms + self.config["broker.heartbeat.interval.ms"]

    def _caught_up(self, now_ms: int) -> None:
        self.catching_up = False
        for topic in sorted(self.image.partitions):
            for record in sorted(self.image.partitions[topic].values(), key=lambda r: r.partition_id):
                if self.broker_id in record.replicas:
                    self._on_partition_change(record, now_ms)

    def load_coordinator_partition(self, topic: str, partition: int, now_ms: int) -> None:
        """Become the coordinator of one partition of __consumer_offsets (groups) or
        __transaction_state (transactional ids): replay its log."""
        log = self.logs[(topic, partition)]
        records = self.partition_transactions(topic, partition).annotate(log.read(log.log_start_offset))
        if topic == OFFSETS_TOPIC:
            self.group_coordinator.load_partition(partition, records, now_ms)
        else:
            self.transaction_coordinator.load_partition(partition, [(r.key, r.value) for r in records], now_ms)

    def partition_transactions(self, topic: str, partition: int) -> PartitionTransactions:
        return self.transactions.setdefault((topic, partition), PartitionTransactions())

    def _leader_id_of(self, tp: tuple[str, int]) -> int:
        record = self.image.partitions.get(tp[0], {}).get(tp[1])
        return -1 if record is None else record.leader

    def _append_transaction_records(self, partition: int, records: list[tuple[bytes, bytes | None]], now_ms: int) -> None:
        log = self.leader_log(TRANSACTION_STATE_TOPIC, partition)
        log.append([Record(key, value, (), now_ms) for key, value in records], now_ms)

    def _new_uuid(self) -> str:
        return str(uuid.UUID(int=self.uuid_rng.getrandbits(128), version=4))

    def _append_coordinator_records(self, partition: int, records: list[tuple[bytes, bytes | None]], now_ms: int,
                                     producer_id: int = -1, transactional: bool = False) -> None:
        log = self.leader_log(OFFSETS_TOPIC, partition)
        info = log.append([Record(key, value, (), now_ms) for key, value in records], now_ms)
        self.partition_transactions(OFFSETS_TOPIC, partition).on_append(info.first_offset, info.last_offset, producer_id, transactional)
        self.replica_manager.on_leader_append((OFFSETS_TOPIC, partition), now_ms)
        self._try_complete_delayed_fetches(now_ms, {(OFFSETS_TOPIC, partition)})

    def topic_config(self, topic: str) -> TopicConfig:
        return self.config.topic_config(self.image.configs.get(topic, {}), internal=topic in INTERNAL_TOPICS)

    # -- request dispatch -----------------------------------------------------------------------
    def handle(self, request: Any, now_ms: int, client: str = "client") -> Any:
        """Answer one request (KafkaApis.handle). Errors become error codes in the response.

        Returns the response, or None when the request is *parked* (a JoinGroup waiting for the
        rebalance, a fetch waiting for data): its response comes out of :meth:`take_responses`
        later, addressed to ``client``. Handlers raise Kafka's errors; anything else (say, a
        learner's log raising a bug) becomes UNKNOWN_SERVER_ERROR for that request, and the
        broker carries on.
        """
        self._current_client = client
        if is_transaction_request(request):
            handler: Any = self.transaction_coordinator.handle
        elif isinstance(request, (GROUP_REQUESTS, TxnOffsetCommitRequest)):
            handler = lambda request, now: self.group_coordinator.handle(request, client, now)  # noqa: E731
        else:
            handler = {
                MetadataRequest: self.handle_metadata,
                ProduceRequest: self.handle_produce,
                FetchRequest: self.handle_fetch,
                FindCoordinatorRequest: self.handle_find_coordinator,
                WriteTxnMarkersRequest: self.handle_write_txn_markers,
                OffsetsForLeaderEpochRequest: lambda request, now: self.replica_manager.end_offset_for_epoch(request),
                ListOffsetsRequest: self.handle_list_offsets,
                DeleteRecordsRequest: self.handle_delete_records,
                InitProducerIdRequest: self.handle_init_producer_id,
            }.get(type(request))
        if handler is None:
            raise TypeError(f"broker {self.broker_id} cannot handle {type(request).__name__}")
        try:
            return handler(request, now_ms)
        except KafkaError as error:
            return self.error_response(request, error.error_code, error.error_name, str(error))
        except Exception as crash:  # noqa: BLE001 - reported to the client, not swallowed
            return self.error_response(request, UnknownServerError.error_code, type(crash).__name__, f"{type(crash).__name__}: {crash}")

    def error_response(self, request: Any, error_code: int, error_name: str, message: str) -> Any:
        """The response type of ``request``, carrying an error (none at all for acks=0 produce)."""
        if isinstance(request, ProduceRequest):
            for data in request.partitions:
                self._event("produce.error", topic=data.topic, partition=data.partition, error=error_name)
            if request.acks == 0:
                return None
            return ProduceResponse(
                tuple(PartitionProduceResponse(d.topic, d.partition, error_code, message) for d in request.partitions),
                request.correlation_id,
            )
        if isinstance(request, InitProducerIdRequest):
            return InitProducerIdResponse(error_code=error_code, correlation_id=request.correlation_id)
        if isinstance(request, FindCoordinatorRequest):
            return FindCoordinatorResponse(error_code, message, correlation_id=request.correlation_id)
        if isinstance(request, OffsetsForLeaderEpochRequest):
            return OffsetsForLeaderEpochResponse(request.topic, request.partition, error_code, message, correlation_id=request.correlation_id)
        if isinstance(request, WriteTxnMarkersRequest):
            return WriteTxnMarkersResponse(tuple((m.producer_id, t, p, error_code) for m in request.markers for t, p in m.partitions),
                                           error_code, message, request.correlation_id)
        if is_transaction_request(request):
            return transaction_error_response(request, error_code, message)
        if isinstance(request, (GROUP_REQUESTS, TxnOffsetCommitRequest)):
            return group_error_response(request, error_code, message)
        if isinstance(request, FetchRequest):
            for p in request.partitions:
                self._event("fetch.error", topic=p.topic, partition=p.partition, error=error_name)
            return FetchResponse(
                tuple(FetchPartitionResponse(p.topic, p.partition, error_code, message) for p in request.partitions),
                correlation_id=request.correlation_id,
            )
        api, response_type = {
            ListOffsetsRequest: ("list_offsets", ListOffsetsResponse),
            DeleteRecordsRequest: ("delete_records", DeleteRecordsResponse),
        }[type(request)]
        self._event(f"{api}.error", topic=request.topic, partition=request.partition, error=error_name)
        return response_type(
            topic=request.topic, partition=request.partition, correlation_id=request.correlation_id,
            error_code=error_code, error_message=message,
        )

    def handle_metadata(self, request: MetadataRequest, now_ms: int) -> MetadataResponse:
        names = sorted(self.image.partitions) if request.topics is None else list(request.topics)
        topics = []
        for name in names:
            if name not in self.image.topic_ids:
                topics.append(MetadataResponseTopic(name, UnknownTopicOrPartitionError.error_code))
                continue
            partitions = tuple(
                MetadataResponsePartition(p.partition_id, p.leader, p.leader_epoch, p.replicas, p.isr)
                for p in sorted(self.image.partitions[name].values(), key=lambda p: p.partition_id)
            )
            topics.append(MetadataResponseTopic(name, 0, partitions))
        return MetadataResponse(tuple(sorted(self.image.brokers)), self.controller_id, tuple(topics), request.correlation_id,
                                tuple((b, self.image.brokers[b].rack) for b in sorted(self.image.brokers)))

    def handle_produce(self, request: ProduceRequest, now_ms: int) -> ProduceResponse | None:
        """Append each partition's batch (each may fail on its own). acks=0 gets no response, as in Kafka."""
        if request.acks not in (-1, 0, 1):
            raise InvalidRequiredAcksError(f"acks={request.acks}; use -1 (all), 0 or 1")
        responses = tuple(self.produce_to_partition(data, now_ms, request.acks) for data in request.partitions)
        if request.acks == 0:
            return None
        if request.acks == -1:  # acks=all: answer once the high watermark passes every write (DelayedProduce)
            required = {(r.topic, r.partition): r.base_offset + self._records_in(request, r) for r in responses if r.error_code == 0}
            if required:
                return self.replica_manager.park_produce(
                    self._current_client, request, {(r.topic, r.partition): r for r in responses}, required, now_ms)
        return ProduceResponse(responses, request.correlation_id)

    @staticmethod
    def _records_in(request: ProduceRequest, response: PartitionProduceResponse) -> int:
        data = next(d for d in request.partitions if (d.topic, d.partition) == (response.topic, response.partition))
        return data.records.record_count

    def produce_to_partition(self, data: ProducePartitionData, now_ms: int, acks: int = 1) -> PartitionProduceResponse:
        """ReplicaManager.appendRecords for one partition: producer-state checks, then the log append."""
        try:
            log = self.leader_log(data.topic, data.partition)
            partition = self.replica_manager.partitions.get((data.topic, data.partition))
            if acks == -1 and partition is not None and len(partition.isr) < partition.min_insync_replicas:
                raise NotEnoughReplicasError(
                    f"The size of the current ISR {list(partition.isr)} is insufficient to satisfy the min.isr requirement "
                    f"of {partition.min_insync_replicas} for partition {data.topic}-{data.partition}")
            key = (data.topic, data.partition)
            if key not in self.producer_states:
                self.producer_states[key] = self.producer_state_class()
            state = self.producer_states[key]
            duplicate = state.check(data.records)
            if duplicate is not None:
                self._event("produce.duplicate", topic=data.topic, partition=data.partition, first_offset=duplicate.first_offset,
                            producer_id=data.records.producer_id, sequence=data.records.base_sequence)
                return PartitionProduceResponse(data.topic, data.partition, base_offset=duplicate.first_offset, log_start_offset=log.log_start_offset)
            if isinstance(data.records, RawRecordBatch):  # from the wire: stored as received
                info = append_raw(log, data.records, now_ms, partition.leader_epoch if partition is not None else -1)
            else:
                info = log.append(list(data.records.records), now_ms, data.records.compression)
            state.update(data.records, info.first_offset, info.last_offset)
            self.partition_transactions(data.topic, data.partition).on_append(
                info.first_offset, info.last_offset, data.records.producer_id, data.records.is_transactional,
                data.records.producer_epoch, data.records.base_sequence)
        except KafkaError as error:
            self._event("produce.error", topic=data.topic, partition=data.partition, error=error.error_name)
            return PartitionProduceResponse(data.topic, data.partition, error.error_code, str(error))
        except Exception as crash:  # noqa: BLE001 - a learner's log must not take the broker down
            self._event("produce.error", topic=data.topic, partition=data.partition, error=type(crash).__name__)
            return PartitionProduceResponse(data.topic, data.partition, UnknownServerError.error_code, f"{type(crash).__name__}: {crash}")
        self._event("produce.append", topic=data.topic, partition=data.partition, first_offset=info.first_offset, last_offset=info.last_offset)
        self.replica_manager.on_leader_append((data.topic, data.partition), now_ms)
        if self.delayed_fetches:
            self._try_complete_delayed_fetches(now_ms, {(data.topic, data.partition)})
        return PartitionProduceResponse(
            data.topic, data.partition, base_offset=info.first_offset, log_append_time_ms=info.log_append_time,
            log_start_offset=log.log_start_offset,
        )

    def handle_init_producer_id(self, request: InitProducerIdRequest, now_ms: int) -> InitProducerIdResponse:
        """An idempotent producer's new producer id, epoch 0 (a transactional one goes to its transaction coordinator)."""
        producer_id = self.producer_ids.generate()
        self._event("init_producer_id", producer_id=producer_id)
        return InitProducerIdResponse(producer_id=producer_id, producer_epoch=0, correlation_id=request.correlation_id)

    def handle_fetch(self, request: FetchRequest, now_ms: int) -> FetchResponse | None:
        """ReplicaManager.fetchMessages: read each partition; if fewer than ``min_bytes`` are ready and
        ``max_wait_ms`` > 0, park the request in the fetch purgatory (DelayedFetch) instead of answering."""
        if request.max_wait_ms < 0 or request.min_bytes < 0:
            raise InvalidRequestError(f"max_wait_ms={request.max_wait_ms}, min_bytes={request.min_bytes}: neither may be negative")
        if request.replica_id >= 0:  # a follower: its fetch offset says how far it has replicated
            for wanted in request.partitions:
                partition = self.replica_manager.partitions.get((wanted.topic, wanted.partition))
                if partition is not None and partition.is_leader and self._epoch_error(wanted, partition) is None:
                    self.replica_manager.on_follower_fetch((wanted.topic, wanted.partition), request.replica_id, wanted.fetch_offset, now_ms)
        response = self._read_fetch(request, now_ms)
        if request.max_wait_ms == 0 or _fetched_bytes(response) >= max(request.min_bytes, 1) or _has_error(response) \
                or any(p.preferred_read_replica >= 0 for p in response.partitions):  # sent elsewhere: answer at once
            return response
        self.delayed_fetches.append(_DelayedFetch(request, self._current_client, now_ms + request.max_wait_ms))
        self._event("fetch.delayed", partitions=[f"{p.topic}-{p.partition}" for p in request.partitions], until_ms=now_ms + request.max_wait_ms)
        return None

    def _read_fetch(self, request: FetchRequest, now_ms: int) -> FetchResponse:
        results = []
        budget = request.max_bytes
        for wanted in request.partitions:
            try:
                results.append(self._read_partition(wanted, budget if results else None, request.isolation_level == 1,
                                                    request.replica_id >= 0, request.rack_id, now_ms, request.raw))
            except KafkaError as error:
                self._event("fetch.error", topic=wanted.topic, partition=wanted.partition, error=error.error_name)
                results.append(FetchPartitionResponse(wanted.topic, wanted.partition, error.error_code, str(error)))
                continue
            except Exception as crash:  # noqa: BLE001 - a learner's log must not take the broker down
                self._event("fetch.error", topic=wanted.topic, partition=wanted.partition, error=type(crash).__name__)
                results.append(FetchPartitionResponse(wanted.topic, wanted.partition, UnknownServerError.error_code, f"{type(crash).__name__}: {crash}"))
                continue
            budget -= sum(record_bytes(r) for r in results[-1].records) + len(results[-1].batches)
        return FetchResponse(tuple(results), correlation_id=request.correlation_id)

    def _epoch_error(self, wanted: FetchPartition, partition: Any) -> KafkaError | None:
        """KIP-320: a request for another leader epoch than the current one is refused."""
        if wanted.current_leader_epoch < 0 or wanted.current_leader_epoch == partition.leader_epoch:
            return None
        if wanted.current_leader_epoch < partition.leader_epoch:
            return FencedLeaderEpochError(f"epoch {wanted.current_leader_epoch} is older than the leader's {partition.leader_epoch}")
        return UnknownLeaderEpochError(f"epoch {wanted.current_leader_epoch} is newer than the leader's {partition.leader_epoch}")

    def _read_partition_raw(self, wanted: FetchPartition, log: PartitionLogLike, max_bytes: int | None, read_committed: bool,
                            from_follower: bool, partition: Any) -> FetchPartitionResponse:
        """The wire's fetch: whole stored batches, below the high watermark for consumers (and below the
        last stable offset for read_committed ones); the client skips records before its fetch offset."""
        if wanted.fetch_offset < log.log_start_offset or wanted.fetch_offset > log.log_end_offset:
            raise OffsetOutOfRangeError(f"offset {wanted.fetch_offset} of {wanted.topic}-{wanted.partition} is out of range "
                                        f"[{log.log_start_offset}, {log.log_end_offset}]")
        high_watermark = self.replica_manager.high_watermark(wanted.topic, wanted.partition, log.log_end_offset)
        transactions = self.transactions.get((wanted.topic, wanted.partition))
        stable = _last_stable_offset(transactions, high_watermark)
        upper = None if from_follower else (stable if read_committed else high_watermark)
        batches = b"" if max_bytes == 0 else read_raw(log, wanted.fetch_offset, max_bytes, upper)
        aborted: tuple = ()
        if transactions is not None and read_committed and not from_follower:
            aborted = transactions.aborted_between(wanted.fetch_offset, stable)
        return FetchPartitionResponse(
            wanted.topic, wanted.partition, high_watermark=high_watermark, last_stable_offset=stable,
            log_start_offset=log.log_start_offset, aborted_transactions=aborted, batches=batches,
        )

    def _read_partition(self, wanted: FetchPartition, request_budget: int | None, read_committed: bool = False,
                        from_follower: bool = False, client_rack: str | None = None, now_ms: int = 0,
                        raw: bool = False) -> FetchPartitionResponse:
        # A consumer that sends its rack (FetchRequest v11+) may read from a follower (KIP-392).
        log = self.readable_log(wanted.topic, wanted.partition, any_replica=not from_follower and client_rack is not None)
        partition = self.replica_manager.partitions.get((wanted.topic, wanted.partition))
        if partition is not None:
            error = self._epoch_error(wanted, partition)
            if error is not None:
                raise error
            if not from_follower and client_rack is not None and partition.is_leader:
                preferred = self._preferred_read_replica(partition, log, wanted.fetch_offset, client_rack, now_ms)
                if preferred is not None:  # no records: the consumer goes to the preferred replica instead
                    stable = _last_stable_offset(self.transactions.get((wanted.topic, wanted.partition)), partition.high_watermark)
                    self._event("fetch.preferred_read_replica", topic=wanted.topic, partition=wanted.partition,
                                rack=client_rack, replica=preferred)
                    return FetchPartitionResponse(wanted.topic, wanted.partition, high_watermark=partition.high_watermark,
                                                  last_stable_offset=stable, log_start_offset=log.log_start_offset,
                                                  preferred_read_replica=preferred)
        max_bytes = wanted.partition_max_bytes
        if request_budget is not None:  # fetch.max.bytes: the first partition always gets at least one batch
            max_bytes = max(0, request_budget) if max_bytes is None else max(0, min(max_bytes, request_budget))
        if raw:
            return self._read_partition_raw(wanted, log, max_bytes, read_committed, from_follower, partition)
        if max_bytes == 0:
            records: list[StoredRecord] = []
        elif max_bytes is None:  # a learner's older log may not take max_bytes
            records = log.read(wanted.fetch_offset, wanted.max_records)
        else:
            records = log.read(wanted.fetch_offset, wanted.max_records, max_bytes)
        high_watermark = self.replica_manager.high_watermark(wanted.topic, wanted.partition, log.log_end_offset)
        if not from_follower:  # consumers read only what every in-sync replica has
            records = [r for r in records if r.offset < high_watermark]
        transactions = self.transactions.get((wanted.topic, wanted.partition))
        stable = _last_stable_offset(transactions, high_watermark)
        aborted: tuple = ()
        if transactions is not None:
            records = transactions.annotate(records)
            if read_committed and not from_follower:  # never beyond the last stable offset; say which ranges were aborted
                records = [r for r in records if r.offset < stable]
                aborted = transactions.aborted_between(wanted.fetch_offset, stable)
        if from_follower:
            records = annotate_epochs(partition, records)
        return FetchPartitionResponse(
            wanted.topic, wanted.partition, high_watermark=high_watermark, last_stable_offset=stable,
            log_start_offset=log.log_start_offset, records=tuple(records), aborted_transactions=aborted,
        )

    def _preferred_read_replica(self, partition: Any, log: PartitionLogLike, fetch_offset: int, client_rack: str, now_ms: int) -> int | None:
        """ReplicaManager.findPreferredReadReplica: ask the replica selector, offering the leader and the
        in-sync followers that hold ``fetch_offset``; None means "read here, from the leader"."""
        if self.replica_selector is None:
            return None
        def rack(broker_id: int) -> str | None:
            registration = self.image.brokers.get(broker_id)
            return None if registration is None else registration.rack

        leader = ReplicaView(self.broker_id, rack(self.broker_id), log.log_end_offset, 0)
        candidates = [leader]
        for broker_id, follower in sorted(partition.followers.items()):
            # kafkalab does not track followers' log start offsets; the leader's stands in for them.
            if broker_id in partition.isr and follower.log_end_offset >= fetch_offset >= log.log_start_offset:
                candidates.append(ReplicaView(broker_id, rack(broker_id), follower.log_end_offset,
                                              now_ms - follower.last_caught_up_ms))
        chosen = self.replica_selector.select(client_rack, leader, candidates)
        return None if chosen is None or chosen == leader else chosen.broker_id

    def _try_complete_delayed_fetches(self, now_ms: int, changed: set[tuple[str, int]] | None = None, expire: bool = False) -> None:
        """DelayedFetch.tryComplete: answer parked fetches that now have enough bytes (or whose time is up).

        ``changed``: only fetches for these partitions can have changed (Kafka keys its purgatory by partition)."""
        still_waiting = []
        for parked in self.delayed_fetches:
            if expire:
                evaluate = parked.deadline_ms <= now_ms  # the others were already checked when their partitions changed
            else:
                evaluate = changed is None or any((p.topic, p.partition) in changed for p in parked.request.partitions)
            if not evaluate:
                still_waiting.append(parked)
                continue
            response = self._read_fetch(parked.request, now_ms)
            if (expire and parked.deadline_ms <= now_ms) or _fetched_bytes(response) >= max(parked.request.min_bytes, 1) or _has_error(response):
                self._outbox.append((parked.client, response))
            else:
                still_waiting.append(parked)
        self.delayed_fetches = still_waiting

    def handle_find_coordinator(self, request: FindCoordinatorRequest, now_ms: int) -> FindCoordinatorResponse:
        """The broker leading the key's partition of __consumer_offsets (groups) or __transaction_state
        (transactional ids); the internal topic is created on first use."""
        if request.key_type not in (COORDINATOR_KEY_GROUP, COORDINATOR_KEY_TRANSACTION):
            raise InvalidRequestError(f"coordinator key type {request.key_type} is not supported (0 = group, 1 = transaction)")
        if not request.key:
            raise InvalidRequestError("the group id (or transactional id) is empty")
        if request.key_type == COORDINATOR_KEY_GROUP:
            topic, partition = OFFSETS_TOPIC, self.group_coordinator.partition_for(request.key)
        else:
            topic, partition = TRANSACTION_STATE_TOPIC, self.transaction_coordinator.partition_for(request.key)
        partitions = self.image.partitions.get(topic)
        if not partitions:
            self._request_internal_topic(topic)
            raise CoordinatorNotAvailableError(f"{topic} does not exist yet; the broker asked the controller to create it")
        leader = partitions[partition].leader
        if leader < 0:
            raise CoordinatorNotAvailableError(f"{topic}-{partition} has no leader")
        return FindCoordinatorResponse(node_id=leader, correlation_id=request.correlation_id)

    def on_create_topic_result(self, topic: str, error_code: int, error_message: str | None) -> None:
        """The controller's answer to our CreateTopics: on failure, ask again at the next FindCoordinator."""
        if error_code not in (0, 36):  # 36: TOPIC_ALREADY_EXISTS
            self._internal_topics_requested.discard(topic)
            self._event("internal_topic.create_failed", topic=topic, error=error_message)

    def _request_internal_topic(self, topic: str) -> None:
        """AutoTopicCreationManager: ask the controller for an internal topic (once; the controller answers)."""
        if topic in self._internal_topics_requested:
            return
        self._internal_topics_requested.add(topic)
        if topic == OFFSETS_TOPIC:
            partitions, replication = self.config["offsets.topic.num.partitions"], self.config["offsets.topic.replication.factor"]
            segment_bytes = self.config["offsets.topic.segment.bytes"]
        else:
            partitions, replication = self.config["transaction.state.log.num.partitions"], self.config["transaction.state.log.replication.factor"]
            segment_bytes = self.config["transaction.state.log.segment.bytes"]
        configs = (("cleanup.policy", "compact"), ("compression.type", "producer"), ("segment.bytes", str(segment_bytes)))
        self.effects.append(CreatableTopic(topic, partitions, replication, configs))
        self._event("internal_topic.requested", topic=topic, partitions=partitions)

    def handle_write_txn_markers(self, request: WriteTxnMarkersRequest, now_ms: int) -> WriteTxnMarkersResponse:
        """Append a COMMIT or ABORT control record to each partition (ReplicaManager.appendRecords of a control batch)."""
        results = []
        for marker in request.markers:
            for topic, partition in marker.partitions:
                try:
                    log = self.leader_log(topic, partition)
                    record = Record(control_record_key(marker.committed), control_record_value(marker.coordinator_epoch), (), now_ms)
                    info = log.append([record], now_ms)
                except KafkaError as error:
                    results.append((marker.producer_id, topic, partition, error.error_code))
                    continue
                self.partition_transactions(topic, partition).on_marker(marker.producer_id, marker.committed, info.first_offset)
                state = self.producer_states.get((topic, partition))
                entry = getattr(state, "producers", {}).get(marker.producer_id) if state is not None else None
                if entry is not None and marker.producer_epoch > entry.producer_epoch:
                    entry.producer_epoch = marker.producer_epoch  # the marker carries the fence: older epochs are refused now
                if topic == OFFSETS_TOPIC:
                    self.group_coordinator.on_transaction_marker(partition, marker.producer_id, marker.committed, now_ms)
                self._event("txn.marker", topic=topic, partition=partition, producer_id=marker.producer_id,
                            commit=marker.committed, offset=info.first_offset)
                self.replica_manager.on_leader_append((topic, partition), now_ms)
                results.append((marker.producer_id, topic, partition, 0))
        if self.delayed_fetches:
            self._try_complete_delayed_fetches(now_ms, {(t, p) for m in request.markers for t, p in m.partitions})
        return WriteTxnMarkersResponse(tuple(results), correlation_id=request.correlation_id)

    def on_peer_response(self, source: int | str, message: Any, now_ms: int) -> None:
        """An answer to a request this broker sent: to a leader (fetch, epoch) or to the controller."""
        if isinstance(message, FetchResponse) and isinstance(source, int):
            self.replica_manager.on_fetch_response(source, message, now_ms)
        elif isinstance(message, OffsetsForLeaderEpochResponse) and isinstance(source, int):
            self.replica_manager.on_epoch_response(source, message, now_ms)
        elif isinstance(message, AlterPartitionResponse):
            self.replica_manager.on_alter_partition_response(message, now_ms)
        elif isinstance(message, BrokerHeartbeatResponse):
            if message.missed_records:
                self.apply_metadata(message.missed_records, now_ms, message.start_offset)
            if self.catching_up:
                self._caught_up(now_ms)
        elif isinstance(message, WriteTxnMarkersResponse):
            self.on_write_txn_markers_response(message, now_ms)
        elif isinstance(message, CreateTopicsResponse):
            for result in message.topics:
                self.on_create_topic_result(result.name, result.error_code, result.error_message)
        self.replica_manager.poll_fetchers(now_ms)

    def on_write_txn_markers_response(self, response: WriteTxnMarkersResponse, now_ms: int) -> None:
        """A leader answered our WriteTxnMarkers (we are the transaction coordinator)."""
        by_producer: dict[int, list[tuple[str, int, int]]] = {}
        for producer_id, topic, partition, error_code in response.results:
            by_producer.setdefault(producer_id, []).append((topic, partition, error_code))
        for producer_id, results in sorted(by_producer.items()):
            self.transaction_coordinator.on_markers_written(producer_id, results, now_ms)

    def handle_list_offsets(self, request: ListOffsetsRequest, now_ms: int) -> ListOffsetsResponse:
        reply = {"topic": request.topic, "partition": request.partition, "correlation_id": request.correlation_id}
        log = self.leader_log(request.topic, request.partition)
        if request.timestamp == EARLIEST_TIMESTAMP:
            return ListOffsetsResponse(**reply, offset=log.log_start_offset)
        if request.timestamp == LATEST_TIMESTAMP:  # the high watermark: what consumers can read
            return ListOffsetsResponse(**reply, offset=self.replica_manager.high_watermark(request.topic, request.partition, log.log_end_offset))
        if hasattr(log, "offset_for_timestamp"):  # a log on disk looks it up in its time indexes (.timeindex)
            found = log.offset_for_timestamp(request.timestamp)
            if found is not None:
                return ListOffsetsResponse(**reply, offset=found[0], timestamp=found[1])
            return ListOffsetsResponse(**reply)
        for record in log.read(log.log_start_offset):
            if record.timestamp >= request.timestamp:
                return ListOffsetsResponse(**reply, offset=record.offset, timestamp=record.timestamp)
        return ListOffsetsResponse(**reply)  # no record that new: offset -1, as Kafka answers

    def handle_delete_records(self, request: DeleteRecordsRequest, now_ms: int) -> DeleteRecordsResponse:
        log = self.leader_log(request.topic, request.partition)
        if not hasattr(log, "delete_records"):
            raise UnknownServerError("this log does not support DeleteRecords")
        high_watermark = self.replica_manager.high_watermark(request.topic, request.partition, log.log_end_offset)
        if request.offset > high_watermark:
            raise OffsetOutOfRangeError(f"cannot delete records of {request.topic}-{request.partition} before offset "
                                        f"{request.offset}: it must be within [0, {high_watermark}] (the high watermark)")
        low = log.delete_records(high_watermark if request.offset == -1 else request.offset, now_ms)
        return DeleteRecordsResponse(request.topic, request.partition, low_watermark=low, correlation_id=request.correlation_id)

    def _known_partition(self, topic: str, partition: int) -> PartitionRecord:
        partitions = self.image.partitions.get(topic)
        if partitions is None or partition not in partitions:
            raise UnknownTopicOrPartitionError(f"{topic}-{partition} does not exist")
        return partitions[partition]

    def readable_log(self, topic: str, partition: int, any_replica: bool) -> PartitionLogLike:
        """The log a consumer's fetch reads: the leader's, or with ``any_replica`` (KIP-392) this
        broker's replica, leader or follower, once it is not catching up after a restart."""
        if not any_replica:
            return self.leader_log(topic, partition)
        self._known_partition(topic, partition)
        state = self.replica_manager.partitions.get((topic, partition))
        if state is None or self.catching_up or (topic, partition) not in self.logs:
            raise NotLeaderOrFollowerError(f"broker {self.broker_id} has no replica of {topic}-{partition} to read")
        return self.logs[(topic, partition)]

    def leader_log(self, topic: str, partition: int) -> PartitionLogLike:
        """The log of a partition this broker leads, or Kafka's error saying why not."""
        leader = self._known_partition(topic, partition).leader
        if leader != self.broker_id:
            raise NotLeaderOrFollowerError(f"broker {self.broker_id} is not the leader of {topic}-{partition} (broker {leader} is)")
        state = self.replica_manager.partitions.get((topic, partition))
        if self.catching_up or (state is not None and not state.is_leader):
            raise NotLeaderOrFollowerError(f"broker {self.broker_id} has restarted and is catching up on metadata")
        return self.logs[(topic, partition)]

    # -- time ---------------------------------------------------------------------------------
    def take_responses(self) -> list[tuple[str, Any]]:
        """Responses to parked requests that completed since the last call, as (client, response)."""
        out = self._outbox + self.group_coordinator.take_responses()
        self._outbox = []
        return out

    def take_effects(self) -> list[Any]:
        """Requests the broker itself sends: CreatableTopic (to the controller) and (broker id, WriteTxnMarkersRequest)."""
        effects, self.effects = self.effects, []
        return effects + self.transaction_coordinator.take_effects() + self.replica_manager.take_effects()

    def next_deadline_ms(self) -> int | None:
        """When :meth:`tick_requests` next has something to do (a parked fetch or a group timer), if ever."""
        deadlines = [parked.deadline_ms for parked in self.delayed_fetches]
        for coordinator in (self.group_coordinator, self.transaction_coordinator, self.replica_manager):
            deadline = coordinator.next_deadline_ms()
            if deadline is not None:
                deadlines.append(deadline)
        return min(deadlines, default=None)

    def tick_requests(self, now_ms: int) -> None:
        """Expire parked fetches and fire the group coordinator's deadlines."""
        if self.delayed_fetches:
            self._try_complete_delayed_fetches(now_ms, expire=True)
        self.group_coordinator.tick(now_ms)
        self.transaction_coordinator.tick(now_ms)
        self.replica_manager.tick(now_ms)

    def tick(self, now_ms: int) -> int:
        """Run retention on every log if log.retention.check.interval.ms has passed; segments deleted."""
        if now_ms - self.last_retention_check_ms < self.config["log.retention.check.interval.ms"]:
            return 0
        self.last_retention_check_ms = now_ms
        deleted = 0
        for (topic, partition), log in sorted(self.logs.items()):
            if "delete" not in self.topic_config(topic)["cleanup.policy"]:
                continue  # a compacted topic is cleaned, never deleted by age or size
            count = log.delete_retention_breached_segments(now_ms)
            if count:
                self._event("retention.deleted", topic=topic, partition=partition, segments=count, log_start_offset=log.log_start_offset)
            deleted += count
        return deleted

    def _event(self, kind: str, **detail: Any) -> None:
        self.events.append((kind, detail))

    def drain_events(self) -> list[tuple[str, dict[str, Any]]]:
        events, self.events = self.events, []
        return events

