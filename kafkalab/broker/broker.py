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

from typing import Any, Callable, Protocol, Sequence

from kafkalab.broker.messages import (
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    DeleteRecordsRequest,
    DeleteRecordsResponse,
    FetchRequest,
    FetchResponse,
    InitProducerIdRequest,
    InitProducerIdResponse,
    ListOffsetsRequest,
    ListOffsetsResponse,
    MetadataImage,
    MetadataRecord,
    MetadataRequest,
    MetadataResponse,
    MetadataResponsePartition,
    MetadataResponseTopic,
    PartitionProduceResponse,
    PartitionRecord,
    ProducePartitionData,
    ProduceRequest,
    ProduceResponse,
)
from kafkalab.broker.producer_state import ProducerIdManager, ProducerStateManager
from kafkalab.config import BrokerConfig, TopicConfig
from kafkalab.errors import (
    InvalidRequiredAcksError,
    KafkaError,
    NotLeaderOrFollowerError,
    UnknownServerError,
    UnknownTopicOrPartitionError,
)
from kafkalab.log import PartitionLog
from kafkalab.log.partition_log import AppendInfo, StoredRecord
from kafkalab.record import CompressionType, Record


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


class Broker:
    """One broker's request handling and log management, with no I/O of its own."""

    def __init__(
        self, broker_id: int, config: BrokerConfig | None = None, log_factory: LogFactory | None = None,
        producer_state_class: type | None = None,
    ) -> None:
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

    # -- metadata -------------------------------------------------------------------------------
    def apply_metadata(self, records: Sequence[MetadataRecord], now_ms: int) -> None:
        """Replay metadata records; create the logs of partitions this broker now leads."""
        for record in records:
            self.image.apply(record)
            if isinstance(record, PartitionRecord) and record.leader == self.broker_id:
                key = (record.topic, record.partition_id)
                if key not in self.logs:
                    self.logs[key] = self.log_factory(record.topic, record.partition_id, self.topic_config(record.topic), now_ms)
                    self._event("log.created", topic=record.topic, partition=record.partition_id)

    def topic_config(self, topic: str) -> TopicConfig:
        return self.config.topic_config(self.image.configs.get(topic, {}))

    # -- request dispatch -----------------------------------------------------------------------
    def handle(self, request: Any, now_ms: int) -> Any:
        """Answer one request (KafkaApis.handle). Errors become error codes in the response.

        Handlers raise Kafka's errors; anything else (say, a learner's log raising a bug) becomes
        UNKNOWN_SERVER_ERROR for that request, and the broker carries on.
        """
        handlers = {
            MetadataRequest: self.handle_metadata,
            ProduceRequest: self.handle_produce,
            FetchRequest: self.handle_fetch,
            ListOffsetsRequest: self.handle_list_offsets,
            DeleteRecordsRequest: self.handle_delete_records,
            InitProducerIdRequest: self.handle_init_producer_id,
        }
        handler = handlers.get(type(request))
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
        api, response_type = {
            FetchRequest: ("fetch", FetchResponse),
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
        return MetadataResponse(tuple(sorted(self.image.brokers)), self.controller_id, tuple(topics), request.correlation_id)

    def handle_produce(self, request: ProduceRequest, now_ms: int) -> ProduceResponse | None:
        """Append each partition's batch (each may fail on its own). acks=0 gets no response, as in Kafka."""
        if request.acks not in (-1, 0, 1):
            raise InvalidRequiredAcksError(f"acks={request.acks}; use -1 (all), 0 or 1")
        responses = tuple(self.produce_to_partition(data, now_ms) for data in request.partitions)
        return None if request.acks == 0 else ProduceResponse(responses, request.correlation_id)

    def produce_to_partition(self, data: ProducePartitionData, now_ms: int) -> PartitionProduceResponse:
        """ReplicaManager.appendRecords for one partition: producer-state checks, then the log append."""
        try:
            log = self.leader_log(data.topic, data.partition)
            key = (data.topic, data.partition)
            if key not in self.producer_states:
                self.producer_states[key] = self.producer_state_class()
            state = self.producer_states[key]
            duplicate = state.check(data.records)
            if duplicate is not None:
                self._event("produce.duplicate", topic=data.topic, partition=data.partition, first_offset=duplicate.first_offset,
                            producer_id=data.records.producer_id, sequence=data.records.base_sequence)
                return PartitionProduceResponse(data.topic, data.partition, base_offset=duplicate.first_offset, log_start_offset=log.log_start_offset)
            info = log.append(list(data.records.records), now_ms, data.records.compression)
            state.update(data.records, info.first_offset, info.last_offset)
        except KafkaError as error:
            self._event("produce.error", topic=data.topic, partition=data.partition, error=error.error_name)
            return PartitionProduceResponse(data.topic, data.partition, error.error_code, str(error))
        except Exception as crash:  # noqa: BLE001 - a learner's log must not take the broker down
            self._event("produce.error", topic=data.topic, partition=data.partition, error=type(crash).__name__)
            return PartitionProduceResponse(data.topic, data.partition, UnknownServerError.error_code, f"{type(crash).__name__}: {crash}")
        self._event("produce.append", topic=data.topic, partition=data.partition, first_offset=info.first_offset, last_offset=info.last_offset)
        return PartitionProduceResponse(
            data.topic, data.partition, base_offset=info.first_offset, log_append_time_ms=info.log_append_time,
            log_start_offset=log.log_start_offset,
        )

    def handle_init_producer_id(self, request: InitProducerIdRequest, now_ms: int) -> InitProducerIdResponse:
        """A new producer id, epoch 0 (transactions, which reuse ids and bump epochs, come later)."""
        producer_id = self.producer_ids.generate()
        self._event("init_producer_id", producer_id=producer_id)
        return InitProducerIdResponse(producer_id=producer_id, producer_epoch=0, correlation_id=request.correlation_id)

    def handle_fetch(self, request: FetchRequest, now_ms: int) -> FetchResponse:
        log = self.leader_log(request.topic, request.partition)
        if request.partition_max_bytes is None:  # a learner's older log may not take max_bytes
            records = log.read(request.fetch_offset, request.max_records)
        else:
            records = log.read(request.fetch_offset, request.max_records, request.partition_max_bytes)
        return FetchResponse(
            request.topic, request.partition, high_watermark=log.log_end_offset, log_start_offset=log.log_start_offset,
            records=tuple(records), correlation_id=request.correlation_id,
        )

    def handle_list_offsets(self, request: ListOffsetsRequest, now_ms: int) -> ListOffsetsResponse:
        reply = {"topic": request.topic, "partition": request.partition, "correlation_id": request.correlation_id}
        log = self.leader_log(request.topic, request.partition)
        if request.timestamp == EARLIEST_TIMESTAMP:
            return ListOffsetsResponse(**reply, offset=log.log_start_offset)
        if request.timestamp == LATEST_TIMESTAMP:
            return ListOffsetsResponse(**reply, offset=log.log_end_offset)
        for record in log.read(log.log_start_offset):
            if record.timestamp >= request.timestamp:
                return ListOffsetsResponse(**reply, offset=record.offset, timestamp=record.timestamp)
        return ListOffsetsResponse(**reply)  # no record that new: offset -1, as Kafka answers

    def handle_delete_records(self, request: DeleteRecordsRequest, now_ms: int) -> DeleteRecordsResponse:
        log = self.leader_log(request.topic, request.partition)
        if not hasattr(log, "delete_records"):
            raise UnknownServerError("this log does not support DeleteRecords")
        low = log.delete_records(log.log_end_offset if request.offset == -1 else request.offset, now_ms)
        return DeleteRecordsResponse(request.topic, request.partition, low_watermark=low, correlation_id=request.correlation_id)

    def leader_log(self, topic: str, partition: int) -> PartitionLogLike:
        """The log of a partition this broker leads, or Kafka's error saying why not."""
        partitions = self.image.partitions.get(topic)
        if partitions is None or partition not in partitions:
            raise UnknownTopicOrPartitionError(f"{topic}-{partition} does not exist")
        if partitions[partition].leader != self.broker_id:
            raise NotLeaderOrFollowerError(f"broker {self.broker_id} is not the leader of {topic}-{partition} (broker {partitions[partition].leader} is)")
        return self.logs[(topic, partition)]

    # -- time ---------------------------------------------------------------------------------
    def tick(self, now_ms: int) -> int:
        """Run retention on every log if log.retention.check.interval.ms has passed; segments deleted."""
        if now_ms - self.last_retention_check_ms < self.config["log.retention.check.interval.ms"]:
            return 0
        self.last_retention_check_ms = now_ms
        deleted = 0
        for (topic, partition), log in sorted(self.logs.items()):
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
