"""The transaction coordinator: one broker's share of every ``transactional.id``.

Like the group coordinator it is chosen by hashing — ``abs(transactionalId.hashCode()) % 50``
over the partitions of ``__transaction_state`` — and it keeps its state as records in that topic.
For each transactional id it knows the producer id, the current **epoch**, the transaction's
state and its partitions:

    Empty ─AddPartitions─▶ Ongoing ─EndTxn(commit)─▶ PrepareCommit ─markers written─▶ CompleteCommit
                              │    ─EndTxn(abort)──▶ PrepareAbort  ─markers written─▶ CompleteAbort
                              └── timeout / a new InitProducerId: the epoch is bumped, then abort

The epoch is the fence: ``InitProducerId`` from a restarted producer with the same
``transactional.id`` bumps it, so the old instance (a zombie) gets PRODUCER_FENCED, and its open
transaction is aborted before the new instance may begin.

Sans-IO: requests in, responses out; markers leave as *effects* (WriteTxnMarkers to each
partition's leader), their answers come back through :meth:`on_markers_written`.

Kafka: kafka.coordinator.transaction.TransactionCoordinator (handleInitProducerId,
handleAddPartitionsToTransaction, handleEndTransaction), TransactionStateManager,
TransactionMarkerChannelManager, TransactionMetadata; TransactionLogKey/Value.json; KIP-98.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Iterable

from kafkalab.broker.messages import InitProducerIdRequest, InitProducerIdResponse
from kafkalab.config import BrokerConfig
from kafkalab.coordinator.offsets_topic import OFFSETS_TOPIC, kafka_abs
from kafkalab.jvm import java_string_hash
from kafkalab.coordinator.transaction_messages import (
    AddOffsetsToTxnRequest,
    AddOffsetsToTxnResponse,
    AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse,
    EndTxnRequest,
    EndTxnResponse,
    WritableTxnMarker,
    WriteTxnMarkersRequest,
)
from kafkalab.coordinator.wire import Reader, Writer
from kafkalab.errors import (
    ConcurrentTransactionsError,
    InvalidProducerIdMappingError,
    InvalidTxnStateError,
    KafkaError,
    NotCoordinatorError,
    ProducerFencedError,
)

TRANSACTION_STATE_TOPIC = "__transaction_state"
TopicPartition = tuple[str, int]


class TransactionState(Enum):
    EMPTY = 0
    ONGOING = 1
    PREPARE_COMMIT = 2
    PREPARE_ABORT = 3
    COMPLETE_COMMIT = 4
    COMPLETE_ABORT = 5
    DEAD = 6
    PREPARE_EPOCH_FENCE = 7


T = TransactionState


@dataclass
class TransactionMetadata:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    state: TransactionState = T.EMPTY
    partitions: set[TopicPartition] = field(default_factory=set)
    start_ms: int = -1
    last_update_ms: int = -1
    pending_markers: set[TopicPartition] = field(default_factory=set)
    markers_sent_ms: int = -1


def partition_for_transactional_id(transactional_id: str, num_partitions: int = 50) -> int:
    return kafka_abs(java_string_hash(transactional_id)) % num_partitions


def encode_transaction_key(transactional_id: str) -> bytes:
    return Writer().int16(0).string(transactional_id).getvalue()


def encode_transaction_value(txn: TransactionMetadata) -> bytes:
    """TransactionLogValue version 0."""
    out = Writer().int16(0).int64(txn.producer_id).int16(txn.producer_epoch).int32(txn.timeout_ms)
    out.raw(bytes([txn.state.value]))
    topics: dict[str, list[int]] = {}
    for topic, partition in sorted(txn.partitions):
        topics.setdefault(topic, []).append(partition)
    out.int32(len(topics))
    for topic, numbers in topics.items():
        out.string(topic).int32(len(numbers))
        for number in numbers:
            out.int32(number)
    return out.int64(txn.last_update_ms).int64(txn.start_ms).getvalue()


def decode_transaction(key: bytes, value: bytes | None) -> TransactionMetadata | tuple[str, None]:
    reader = Reader(key)
    reader.int16()
    transactional_id = reader.string()
    if value is None:
        return (transactional_id, None)
    reader = Reader(value)
    version = reader.int16()
    if version != 0:
        raise ValueError(f"kafkalab reads TransactionLogValue version 0, not {version}")
    producer_id, epoch, timeout = reader.int64(), reader.int16(), reader.int32()
    state = TransactionState(reader._take(1)[0])
    partitions: set[TopicPartition] = set()
    count = reader.int32()
    for _ in range(max(count, 0)):
        topic = reader.string()
        partitions |= {(topic, reader.int32()) for _ in range(reader.int32())}
    last_update, start = reader.int64(), reader.int64()
    return TransactionMetadata(transactional_id, producer_id, epoch, timeout, state, partitions, start, last_update)


class TransactionCoordinator:
    """Transactional ids of the __transaction_state partitions this broker leads."""

    def __init__(self, config: BrokerConfig, new_producer_id: Callable[[], int],
                 append: Callable[[int, list[tuple[bytes, bytes | None]], int], None],
                 leader_of: Callable[[TopicPartition], int], event: Callable[..., None] | None = None) -> None:
        self.config = config
        self.num_partitions: int = config["transaction.state.log.num.partitions"]
        self._new_producer_id = new_producer_id
        self._append = append
        self._leader_of = leader_of
        self._event = event or (lambda kind, **detail: None)
        self.partitions: set[int] = set()
        self.transactions: dict[str, TransactionMetadata] = {}
        self.effects: list[tuple[int, Any]] = []  # (broker id, WriteTxnMarkersRequest)
        self._next_check_ms: int | None = None

    # -- driver interface -------------------------------------------------------------------
    def handle(self, request: Any, now_ms: int) -> Any:
        handlers = {
            InitProducerIdRequest: self._init_producer_id,
            AddPartitionsToTxnRequest: self._add_partitions,
            AddOffsetsToTxnRequest: self._add_offsets,
            EndTxnRequest: self._end_txn,
        }
        try:
            return handlers[type(request)](request, now_ms)
        except KafkaError as error:
            return error_response(request, error.error_code, str(error))

    def take_effects(self) -> list[tuple[int, Any]]:
        effects, self.effects = self.effects, []
        return effects

    def next_deadline_ms(self) -> int | None:
        return self._next_check_ms

    def tick(self, now_ms: int) -> None:
        """Every transaction.abort.timed.out.transaction.cleanup.interval.ms: abort transactions open longer than
        their timeout, and resend markers that got no answer."""
        if self._next_check_ms is None or now_ms < self._next_check_ms:
            return
        interval = self.config["transaction.abort.timed.out.transaction.cleanup.interval.ms"]
        self._next_check_ms = now_ms + interval
        for txn in sorted(self.transactions.values(), key=lambda t: t.transactional_id):
            if txn.state in (T.PREPARE_COMMIT, T.PREPARE_ABORT) and txn.pending_markers and now_ms - txn.markers_sent_ms >= interval:
                # No answer (a leader was down, or there was none): ask the current leaders again.
                self._request_markers(txn, txn.state == T.PREPARE_COMMIT, txn.pending_markers, now_ms)
            if txn.state == T.ONGOING and now_ms - txn.start_ms > txn.timeout_ms:
                self._event("txn.timed_out", transactional_id=txn.transactional_id, producer_id=txn.producer_id)
                txn.producer_epoch += 1  # fence the producer that let it time out
                self._prepare(txn, False, now_ms)

    # -- loading ------------------------------------------------------------------------------
    def partition_for(self, transactional_id: str) -> int:
        return partition_for_transactional_id(transactional_id, self.num_partitions)

    def load_partition(self, partition: int, records: Iterable[tuple[bytes | None, bytes | None]], now_ms: int) -> None:
        self.partitions.add(partition)
        for key, value in records:
            if key is None:
                continue
            decoded = decode_transaction(key, value)
            if isinstance(decoded, tuple):
                self.transactions.pop(decoded[0], None)
            else:
                self.transactions[decoded.transactional_id] = decoded
        for txn in sorted(self.transactions.values(), key=lambda t: t.transactional_id):
            if self.partition_for(txn.transactional_id) == partition and txn.state in (T.PREPARE_COMMIT, T.PREPARE_ABORT):
                self._send_markers(txn, txn.state == T.PREPARE_COMMIT, now_ms)  # finish what the previous coordinator started
        if self._next_check_ms is None:
            self._next_check_ms = now_ms + self.config["transaction.abort.timed.out.transaction.cleanup.interval.ms"]

    def forget_everything(self) -> None:
        self.partitions.clear()
        self.transactions.clear()
        self.effects.clear()
        self._next_check_ms = None

    # -- the requests -----------------------------------------------------------------------
    def _owned(self, transactional_id: str) -> None:
        if not transactional_id or self.partition_for(transactional_id) not in self.partitions:
            raise NotCoordinatorError(f"this broker is not the transaction coordinator of {transactional_id!r}")

    def _init_producer_id(self, request: InitProducerIdRequest, now_ms: int) -> InitProducerIdResponse:
        transactional_id = request.transactional_id or ""
        self._owned(transactional_id)
        if request.transaction_timeout_ms > self.config["transaction.max.timeout.ms"]:
            from kafkalab.errors import InvalidRequestError

            raise InvalidRequestError(f"transaction.timeout.ms={request.transaction_timeout_ms} is larger than the broker's "
                                      f"transaction.max.timeout.ms={self.config['transaction.max.timeout.ms']}")
        txn = self.transactions.get(transactional_id)
        if txn is None:
            txn = TransactionMetadata(transactional_id, self._new_producer_id(), 0, request.transaction_timeout_ms, last_update_ms=now_ms)
            self.transactions[transactional_id] = txn
        elif txn.state in (T.PREPARE_COMMIT, T.PREPARE_ABORT, T.PREPARE_EPOCH_FENCE):
            raise ConcurrentTransactionsError(f"the previous transaction of {transactional_id!r} is still completing")
        elif txn.state == T.ONGOING:
            # A new instance of the producer: fence the old one and abort what it left open.
            txn.producer_epoch += 1
            self._event("txn.fenced", transactional_id=transactional_id, producer_id=txn.producer_id, epoch=txn.producer_epoch)
            self._prepare(txn, False, now_ms)
            raise ConcurrentTransactionsError(f"aborting the open transaction of the previous {transactional_id!r} first")
        else:
            txn.producer_epoch += 1
            txn.timeout_ms = request.transaction_timeout_ms
        if txn.producer_epoch >= 32767:  # Short.MAX_VALUE - 1: a new producer id instead
            txn.producer_id, txn.producer_epoch = self._new_producer_id(), 0
        txn.state, txn.partitions, txn.last_update_ms = T.EMPTY, set(), now_ms
        self._store(txn, now_ms)
        self._event("txn.init", transactional_id=transactional_id, producer_id=txn.producer_id, epoch=txn.producer_epoch)
        return InitProducerIdResponse(producer_id=txn.producer_id, producer_epoch=txn.producer_epoch, correlation_id=request.correlation_id)

    def _validate(self, transactional_id: str, producer_id: int, producer_epoch: int) -> TransactionMetadata:
        self._owned(transactional_id)
        txn = self.transactions.get(transactional_id)
        if txn is None or txn.producer_id != producer_id:
            raise InvalidProducerIdMappingError(f"producer id {producer_id} does not belong to {transactional_id!r}")
        if producer_epoch < txn.producer_epoch:
            raise ProducerFencedError(f"epoch {producer_epoch} of {transactional_id!r} is old; the current epoch is {txn.producer_epoch}")
        if txn.state in (T.PREPARE_COMMIT, T.PREPARE_ABORT, T.PREPARE_EPOCH_FENCE):
            raise ConcurrentTransactionsError(f"the previous transaction of {transactional_id!r} is still completing")
        return txn

    def _begin(self, txn: TransactionMetadata, partitions: Iterable[TopicPartition], now_ms: int) -> None:
        new = set(partitions) - txn.partitions
        if txn.state != T.ONGOING:
            txn.state, txn.partitions, txn.start_ms = T.ONGOING, set(), now_ms
            new = set(partitions)
        if new:
            txn.partitions |= new
            txn.last_update_ms = now_ms
            self._store(txn, now_ms)
            self._event("txn.add_partitions", transactional_id=txn.transactional_id, partitions=[f"{t}-{p}" for t, p in sorted(new)])

    def _add_partitions(self, request: AddPartitionsToTxnRequest, now_ms: int) -> AddPartitionsToTxnResponse:
        txn = self._validate(request.transactional_id, request.producer_id, request.producer_epoch)
        self._begin(txn, request.partitions, now_ms)
        return AddPartitionsToTxnResponse(correlation_id=request.correlation_id)

    def _add_offsets(self, request: AddOffsetsToTxnRequest, now_ms: int) -> AddOffsetsToTxnResponse:
        from kafkalab.coordinator.offsets_topic import partition_for

        txn = self._validate(request.transactional_id, request.producer_id, request.producer_epoch)
        self._begin(txn, [(OFFSETS_TOPIC, partition_for(request.group_id, self.config["offsets.topic.num.partitions"]))], now_ms)
        return AddOffsetsToTxnResponse(correlation_id=request.correlation_id)

    def _end_txn(self, request: EndTxnRequest, now_ms: int) -> EndTxnResponse:
        txn = self._validate(request.transactional_id, request.producer_id, request.producer_epoch)
        done = T.COMPLETE_COMMIT if request.committed else T.COMPLETE_ABORT
        if txn.state == done:
            return EndTxnResponse(correlation_id=request.correlation_id)  # a retry of an EndTxn that already completed
        if txn.state == T.EMPTY and not request.committed:
            return EndTxnResponse(correlation_id=request.correlation_id)  # nothing to abort
        if txn.state != T.ONGOING:
            raise InvalidTxnStateError(f"{'commit' if request.committed else 'abort'} of {request.transactional_id!r} in state {txn.state.name}")
        self._prepare(txn, request.committed, now_ms)
        return EndTxnResponse(correlation_id=request.correlation_id)

    # -- two-phase commit ---------------------------------------------------------------------
    def _prepare(self, txn: TransactionMetadata, commit: bool, now_ms: int) -> None:
        """Write PrepareCommit/PrepareAbort (the decision is now durable), then send the markers."""
        txn.state = T.PREPARE_COMMIT if commit else T.PREPARE_ABORT
        txn.last_update_ms = now_ms
        self._store(txn, now_ms)
        self._event("txn.prepare", transactional_id=txn.transactional_id, commit=commit, partitions=[f"{t}-{p}" for t, p in sorted(txn.partitions)])
        self._send_markers(txn, commit, now_ms)

    def _send_markers(self, txn: TransactionMetadata, commit: bool, now_ms: int) -> None:
        txn.pending_markers = set(txn.partitions)
        self._request_markers(txn, commit, txn.partitions, now_ms)
        if not txn.partitions:
            self._complete(txn, commit, now_ms)

    def _request_markers(self, txn: TransactionMetadata, commit: bool, partitions: Iterable[TopicPartition], now_ms: int) -> None:
        """One WriteTxnMarkers request per leader of ``partitions``."""
        by_leader: dict[int, list[TopicPartition]] = {}
        for tp in sorted(partitions):
            by_leader.setdefault(self._leader_of(tp), []).append(tp)
        for leader, led in sorted(by_leader.items()):
            marker = WritableTxnMarker(txn.producer_id, txn.producer_epoch, commit, tuple(led))
            self.effects.append((leader, WriteTxnMarkersRequest((marker,))))
        txn.markers_sent_ms = now_ms

    def on_markers_written(self, producer_id: int, results: Iterable[tuple[str, int, int]], now_ms: int) -> None:
        """A leader wrote (or failed to write) markers: when every partition has one, the transaction completes."""
        txn = next((t for t in self.transactions.values() if t.producer_id == producer_id
                    and t.state in (T.PREPARE_COMMIT, T.PREPARE_ABORT)), None)
        if txn is None:
            return
        failed = []
        for topic, partition, error_code in results:
            if error_code == 0:
                txn.pending_markers.discard((topic, partition))
            else:
                failed.append((topic, partition))
        if failed:  # TransactionMarkerChannelManager retries until the leaders accept
            self._request_markers(txn, txn.state == T.PREPARE_COMMIT, failed, now_ms)
        if not txn.pending_markers:
            self._complete(txn, txn.state == T.PREPARE_COMMIT, now_ms)

    def _complete(self, txn: TransactionMetadata, commit: bool, now_ms: int) -> None:
        txn.state = T.COMPLETE_COMMIT if commit else T.COMPLETE_ABORT
        txn.last_update_ms = now_ms
        self._store(txn, now_ms)
        self._event("txn.complete", transactional_id=txn.transactional_id, commit=commit)

    def _store(self, txn: TransactionMetadata, now_ms: int) -> None:
        try:
            self._append(self.partition_for(txn.transactional_id),
                         [(encode_transaction_key(txn.transactional_id), encode_transaction_value(txn))], now_ms)
        except KafkaError as error:
            raise NotCoordinatorError(str(error)) from None


def error_response(request: Any, error_code: int, message: str) -> Any:
    """The response type of a transaction coordinator request, carrying an error."""
    if isinstance(request, InitProducerIdRequest):
        return InitProducerIdResponse(error_code=error_code, correlation_id=request.correlation_id)
    response_type = {AddPartitionsToTxnRequest: AddPartitionsToTxnResponse, AddOffsetsToTxnRequest: AddOffsetsToTxnResponse,
                     EndTxnRequest: EndTxnResponse}[type(request)]
    return response_type(error_code=error_code, error_message=message, correlation_id=request.correlation_id)


def is_transaction_request(request: Any) -> bool:
    return isinstance(request, (AddPartitionsToTxnRequest, AddOffsetsToTxnRequest, EndTxnRequest)) or (
        isinstance(request, InitProducerIdRequest) and bool(request.transactional_id))
