"""Requests, responses and metadata records, named after Kafka's APIs and fields.

They are plain frozen dataclasses: the simulator copies them between nodes, and the wire layer
(issue 7) maps them to and from Kafka's binary protocol. Errors travel as ``error_code`` with
Kafka's numbers; :func:`kafkalab.errors.error_for_code` turns one back into an exception.

Kafka: the message specs in clients/src/main/resources/common/message/ (CreateTopicsRequest,
MetadataRequest, ProduceRequest, FetchRequest, ListOffsetsRequest, DeleteRecordsRequest) and the
KRaft metadata records (TopicRecord, PartitionRecord, ConfigRecord, RegisterBrokerRecord).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kafkalab.log import StoredRecord
from kafkalab.record import RecordBatch

EARLIEST_TIMESTAMP = -2  # ListOffsetsRequest.EARLIEST_TIMESTAMP
LATEST_TIMESTAMP = -1  # ListOffsetsRequest.LATEST_TIMESTAMP


# -- metadata records (what the controller publishes, what every broker replays) -------------------
@dataclass(frozen=True)
class RegisterBrokerRecord:
    broker_id: int
    rack: str | None = None
    # (listener name, host, port) per listener, as clients should reach this broker (advertised.listeners);
    # None on the simulator, where nodes are reached by name.
    endpoints: tuple[tuple[str, str, int], ...] | None = None


@dataclass(frozen=True)
class TopicRecord:
    name: str
    topic_id: str


@dataclass(frozen=True)
class RemoveTopicRecord:
    """A topic was deleted (DeleteTopics): brokers drop its partitions and delete its logs."""

    name: str


@dataclass(frozen=True)
class PartitionRecord:
    topic: str
    partition_id: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader: int
    leader_epoch: int = 0
    partition_epoch: int = 0


@dataclass(frozen=True)
class PartitionChangeRecord:
    """A partition's leader and/or ISR changed (elections, AlterPartition). None: unchanged."""

    topic: str
    partition_id: int
    leader: int | None = None
    isr: tuple[int, ...] | None = None
    bump_leader_epoch: bool = False


@dataclass(frozen=True)
class FenceBrokerRecord:
    """The controller stopped hearing from a broker (broker.session.timeout.ms): it leads nothing now."""

    broker_id: int


@dataclass(frozen=True)
class UnfenceBrokerRecord:
    broker_id: int


@dataclass(frozen=True)
class ConfigRecord:
    topic: str
    name: str
    value: str


@dataclass(frozen=True)
class ProducerIdsRecord:
    """The controller handed a block of producer ids to a broker; the next block starts at
    ``next_producer_id`` (KIP-730: ids stay unique across the cluster and across restarts)."""

    broker_id: int
    next_producer_id: int


MetadataRecord = (RegisterBrokerRecord | TopicRecord | PartitionRecord | ConfigRecord | PartitionChangeRecord
                  | FenceBrokerRecord | UnfenceBrokerRecord | RemoveTopicRecord | ProducerIdsRecord)


@dataclass(frozen=True)
class MetadataUpdate:
    """The controller pushing new metadata records to a broker; ``start_offset`` is the first one's
    offset in the metadata log (-1: apply as they come)."""

    records: tuple[MetadataRecord, ...]
    start_offset: int = -1


# -- requests and responses -------------------------------------------------------------------
@dataclass(frozen=True)
class CreatableTopic:
    name: str
    num_partitions: int = -1  # -1: the broker's num.partitions
    replication_factor: int = -1  # -1: the broker's default.replication.factor
    configs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CreateTopicsRequest:
    topics: tuple[CreatableTopic, ...]
    correlation_id: int = 0


@dataclass(frozen=True)
class CreatableTopicResult:
    name: str
    error_code: int = 0
    error_message: str | None = None
    num_partitions: int = -1
    replication_factor: int = -1


@dataclass(frozen=True)
class CreateTopicsResponse:
    topics: tuple[CreatableTopicResult, ...]
    correlation_id: int = 0


@dataclass(frozen=True)
class CreatePartitionsRequest:
    topics: tuple[tuple[str, int], ...]  # (topic, the partition count it should have)
    correlation_id: int = 0


@dataclass(frozen=True)
class CreatePartitionsResponse:
    results: tuple[tuple[str, int, str | None], ...]  # (topic, error code, error message)
    correlation_id: int = 0


@dataclass(frozen=True)
class DeleteTopicsRequest:
    topics: tuple[str, ...]
    correlation_id: int = 0


@dataclass(frozen=True)
class DeleteTopicsResponse:
    results: tuple[tuple[str, int, str | None], ...]  # (topic, error code, error message)
    correlation_id: int = 0


@dataclass(frozen=True)
class MetadataRequest:
    topics: tuple[str, ...] | None = None  # None: all topics
    allow_auto_topic_creation: bool = False
    correlation_id: int = 0


@dataclass(frozen=True)
class MetadataResponsePartition:
    partition_index: int
    leader_id: int
    leader_epoch: int
    replica_nodes: tuple[int, ...]
    isr_nodes: tuple[int, ...]
    error_code: int = 0


@dataclass(frozen=True)
class MetadataResponseTopic:
    name: str
    error_code: int = 0
    partitions: tuple[MetadataResponsePartition, ...] = ()


@dataclass(frozen=True)
class MetadataResponse:
    brokers: tuple[int, ...]
    controller_id: int
    topics: tuple[MetadataResponseTopic, ...]
    correlation_id: int = 0
    broker_racks: tuple[tuple[int, str | None], ...] = ()  # MetadataResponseBroker.rack, per broker id

    def rack_of(self, broker_id: int) -> str | None:
        return dict(self.broker_racks).get(broker_id)


@dataclass(frozen=True)
class ProducePartitionData:
    """One partition's batch inside a ProduceRequest."""

    topic: str
    partition: int
    records: RecordBatch


@dataclass(frozen=True)
class ProduceRequest:
    """Batches for several partitions led by one broker, sent together (ProduceRequest.topic_data)."""

    acks: int
    timeout_ms: int
    partitions: tuple[ProducePartitionData, ...]
    correlation_id: int = 0
    transactional_id: str | None = None


@dataclass(frozen=True)
class PartitionProduceResponse:
    topic: str
    partition: int
    error_code: int = 0
    error_message: str | None = None
    base_offset: int = -1
    log_append_time_ms: int = -1
    log_start_offset: int = -1


@dataclass(frozen=True)
class ProduceResponse:
    responses: tuple[PartitionProduceResponse, ...]
    correlation_id: int = 0

    def for_partition(self, topic: str, partition: int) -> PartitionProduceResponse:
        for response in self.responses:
            if (response.topic, response.partition) == (topic, partition):
                return response
        raise KeyError(f"no response for {topic}-{partition}")


@dataclass(frozen=True)
class InitProducerIdRequest:
    """An idempotent (or transactional) producer asking for its producer id and epoch."""

    transactional_id: str | None = None
    transaction_timeout_ms: int = 60000
    correlation_id: int = 0


@dataclass(frozen=True)
class InitProducerIdResponse:
    error_code: int = 0
    producer_id: int = -1
    producer_epoch: int = -1
    correlation_id: int = 0


@dataclass(frozen=True)
class FetchPartition:
    """One partition of a FetchRequest: where to read from, and how much at most."""

    topic: str
    partition: int
    fetch_offset: int
    partition_max_bytes: int | None = None  # whole batches, at least one (KIP-74); None: no limit
    max_records: int | None = None  # kafkalab shortcut for notebooks; Kafka bounds fetches by bytes only
    current_leader_epoch: int = -1  # KIP-320: a fetch for an older (or newer) epoch is refused


@dataclass(frozen=True)
class FetchRequest:
    """Read several partitions led by one broker. The broker may hold the request (DelayedFetch) until
    ``min_bytes`` are available or ``max_wait_ms`` passes — long polling (``fetch.min.bytes``,
    ``fetch.max.wait.ms``)."""

    partitions: tuple[FetchPartition, ...]
    max_wait_ms: int = 0
    min_bytes: int = 0
    max_bytes: int = 52428800  # fetch.max.bytes
    isolation_level: int = 0  # 0 READ_UNCOMMITTED, 1 READ_COMMITTED
    correlation_id: int = 0
    replica_id: int = -1  # a follower's broker id; -1 for consumers
    # FetchRequest v11+ (KIP-392) carries the client's rack: a request with it may be served by a
    # follower, and its leader may answer with a preferred read replica. None: an older request.
    rack_id: str | None = None
    # The wire layer wants the stored batch bytes as they are (FetchPartitionResponse.batches), not
    # decoded records: a real broker sends what the producer sent.
    raw: bool = False

    @classmethod
    def single(cls, topic: str, partition: int, fetch_offset: int, max_records: int | None = None, correlation_id: int = 0,
               partition_max_bytes: int | None = None) -> "FetchRequest":
        return cls((FetchPartition(topic, partition, fetch_offset, partition_max_bytes, max_records),), correlation_id=correlation_id)


@dataclass(frozen=True)
class FetchPartitionResponse:
    topic: str
    partition: int
    error_code: int = 0
    error_message: str | None = None
    high_watermark: int = -1
    last_stable_offset: int = -1
    log_start_offset: int = -1
    records: tuple[StoredRecord, ...] = ()
    aborted_transactions: tuple = ()  # AbortedTransaction(producer_id, first_offset, ...) for read_committed
    preferred_read_replica: int = -1  # KIP-392: fetch from this broker instead (the leader then sends no records)
    batches: bytes = b""  # with FetchRequest.raw: whole record batches, as stored


@dataclass(frozen=True)
class FetchResponse:
    partitions: tuple[FetchPartitionResponse, ...] = ()
    error_code: int = 0
    error_message: str | None = None
    correlation_id: int = 0

    def for_partition(self, topic: str, partition: int) -> FetchPartitionResponse:
        for response in self.partitions:
            if (response.topic, response.partition) == (topic, partition):
                return response
        raise KeyError(f"no response for {topic}-{partition}")


@dataclass(frozen=True)
class ListOffsetsRequest:
    topic: str
    partition: int
    timestamp: int  # EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, or a time in ms
    correlation_id: int = 0


@dataclass(frozen=True)
class ListOffsetsResponse:
    topic: str
    partition: int
    error_code: int = 0
    error_message: str | None = None
    timestamp: int = -1
    offset: int = -1
    correlation_id: int = 0


@dataclass(frozen=True)
class DeleteRecordsRequest:
    topic: str
    partition: int
    offset: int
    correlation_id: int = 0


@dataclass(frozen=True)
class DeleteRecordsResponse:
    topic: str
    partition: int
    error_code: int = 0
    error_message: str | None = None
    low_watermark: int = -1
    correlation_id: int = 0


Request = CreateTopicsRequest | MetadataRequest | ProduceRequest | FetchRequest | ListOffsetsRequest | DeleteRecordsRequest | InitProducerIdRequest


# -- replication: between brokers, and brokers to the controller ----------------------------------
@dataclass(frozen=True)
class BrokerHeartbeatRequest:
    """Every broker.heartbeat.interval.ms: "I am alive" (KRaft's broker lease), and how much of the
    metadata log this broker has applied."""

    broker_id: int
    metadata_offset: int = 0
    correlation_id: int = 0
    incarnation: int = 0  # a new process (restart): KRaft's re-registration with a new incarnation id
    directory_id: int = 0  # the log directory's id: a new one means the disk (and every replica on it) was lost (KIP-858)


@dataclass(frozen=True)
class BrokerHeartbeatResponse:
    is_fenced: bool = False
    error_code: int = 0
    correlation_id: int = 0
    missed_records: tuple = ()  # metadata records the broker had not applied (it fetches the metadata log)
    start_offset: int = 0


@dataclass(frozen=True)
class AlterPartitionRequest:
    """A leader asks the controller to change a partition's ISR (KIP-497)."""

    broker_id: int
    topic: str
    partition: int
    leader_epoch: int
    partition_epoch: int
    new_isr: tuple[int, ...]
    correlation_id: int = 0


@dataclass(frozen=True)
class AlterPartitionResponse:
    topic: str
    partition: int
    error_code: int = 0
    error_message: str | None = None
    isr: tuple[int, ...] = ()
    leader_epoch: int = -1
    partition_epoch: int = -1
    correlation_id: int = 0


@dataclass(frozen=True)
class OffsetsForLeaderEpochRequest:
    """A new follower asks the leader where ``leader_epoch`` ended (KIP-101)."""

    topic: str
    partition: int
    leader_epoch: int
    current_leader_epoch: int = -1
    replica_id: int = -1
    correlation_id: int = 0


@dataclass(frozen=True)
class OffsetsForLeaderEpochResponse:
    topic: str
    partition: int
    error_code: int = 0
    error_message: str | None = None
    leader_epoch: int = -1
    end_offset: int = -1
    correlation_id: int = 0


@dataclass
class MetadataImage:
    """What a broker knows of the cluster: brokers, topics, partition leaders and configs."""

    brokers: dict[int, RegisterBrokerRecord] = field(default_factory=dict)
    topic_ids: dict[str, str] = field(default_factory=dict)
    partitions: dict[str, dict[int, PartitionRecord]] = field(default_factory=dict)
    configs: dict[str, dict[str, str]] = field(default_factory=dict)
    fenced: set[int] = field(default_factory=set)
    next_producer_id: int = 0  # where the controller's next block of producer ids starts

    def apply(self, record: MetadataRecord) -> None:
        """Replay one metadata record (as a KRaft broker replays __cluster_metadata)."""
        if isinstance(record, RegisterBrokerRecord):
            self.brokers[record.broker_id] = record
        elif isinstance(record, TopicRecord):
            self.topic_ids[record.name] = record.topic_id
            self.partitions.setdefault(record.name, {})
            self.configs.setdefault(record.name, {})
        elif isinstance(record, PartitionRecord):
            self.partitions.setdefault(record.topic, {})[record.partition_id] = record
        elif isinstance(record, ConfigRecord):
            self.configs.setdefault(record.topic, {})[record.name] = record.value
        elif isinstance(record, PartitionChangeRecord):
            old = self.partitions[record.topic][record.partition_id]
            self.partitions[record.topic][record.partition_id] = PartitionRecord(
                old.topic, old.partition_id, old.replicas,
                old.isr if record.isr is None else record.isr,
                old.leader if record.leader is None else record.leader,
                old.leader_epoch + (1 if record.bump_leader_epoch else 0),
                old.partition_epoch + 1,
            )
        elif isinstance(record, RemoveTopicRecord):
            self.topic_ids.pop(record.name, None)
            self.partitions.pop(record.name, None)
            self.configs.pop(record.name, None)
        elif isinstance(record, FenceBrokerRecord):
            self.fenced.add(record.broker_id)
        elif isinstance(record, UnfenceBrokerRecord):
            self.fenced.discard(record.broker_id)
        elif isinstance(record, ProducerIdsRecord):
            self.next_producer_id = max(self.next_producer_id, record.next_producer_id)
        else:  # pragma: no cover - a new record type must be handled here
            raise TypeError(f"unknown metadata record {record!r}")

    def to_records(self) -> list[MetadataRecord]:
        """The image as the records a snapshot holds (KIP-630): replayed into an empty image they
        rebuild this one — each partition as one PartitionRecord with its current leader and ISR, in
        place of the history of changes that led there. (Kafka: MetadataImage#write.)"""
        records: list[MetadataRecord] = []
        for broker_id in sorted(self.brokers):
            records.append(self.brokers[broker_id])
            if broker_id in self.fenced:
                records.append(FenceBrokerRecord(broker_id))
        for topic in sorted(self.partitions):
            records.append(TopicRecord(topic, self.topic_ids[topic]))
            records += [self.partitions[topic][p] for p in sorted(self.partitions[topic])]
            records += [ConfigRecord(topic, name, value) for name, value in sorted(self.configs.get(topic, {}).items())]
        if self.next_producer_id:
            records.append(ProducerIdsRecord(-1, self.next_producer_id))
        return records
