"""KafkaProducer on the simulator: send() → serializers → partitioner → accumulator → sender → callbacks.

The path of one record, as in Kafka's Java client:

1. ``send`` waits for the topic's metadata (up to ``max.block.ms``; if the topic never appears the
   send fails with "Topic … not present in metadata after … ms"),
2. serializes key and value (``key.serializer`` / ``value.serializer``),
3. picks a partition (explicit › key hash › the built-in uniform sticky partitioner),
4. appends to the RecordAccumulator and returns a future at once;
5. the Sender drains ready batches into ProduceRequests (one per broker, at most
   ``max.in.flight.requests.per.connection`` unanswered), retries what fails retriably, and
6. each record's callback fires with its RecordMetadata (partition, offset) or the error.

An idempotent producer (the default) first asks a broker for a producer id (InitProducerId).

Here the "threads" are events on the simulator: ``send`` runs at the current simulated time and
the sender runs as timers and message handlers; ``flush`` and ``future.get`` run the simulation
until the answers are in.

Kafka: org.apache.kafka.clients.producer.KafkaProducer (send, doSend, waitOnMetadata, partition,
flush, close), FutureRecordMetadata, RecordMetadata, Callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from kafkalab.broker.messages import InitProducerIdRequest, InitProducerIdResponse, MetadataRequest, MetadataResponse, ProduceResponse
from kafkalab.errors import KafkaError, MessageTooLargeError, UnknownTopicOrPartitionError
from kafkalab.partitioner import UniformStickyPartitioner, partition_for_key
from kafkalab.producer.accumulator import BufferExhaustedError, ProducerClosedError, RecordAccumulator
from kafkalab.producer.config import ProducerConfig
from kafkalab.producer.sender import Completion, Sender, SenderResult
from kafkalab.producer.batch import record_size_upper_bound
from kafkalab.record import RECORD_BATCH_OVERHEAD, CompressionType, Header, Record
from kafkalab.serialization import SerializationError
from kafkalab.network_client import NodePicker
from kafkalab.sim import Network, Node, Simulator
from kafkalab.producer.transactions import (
    ConsumerGroupMetadata,
    TransactionAbortedError,
    TransactionManager,
    TransactionResult,
    TransactionState,
    TransactionStateError,
)

Callback = Callable[["RecordMetadata | None", "Exception | None"], None]


class ProducerTimeoutError(KafkaError):
    """Kafka's org.apache.kafka.common.errors.TimeoutException (metadata wait, full buffer)."""

    error_name = "TIMEOUT"
    retriable = True


@dataclass(frozen=True)
class RecordMetadata:
    """Where a record landed. ``offset`` is -1 with acks=0: the producer never hears back."""

    topic: str
    partition: int
    offset: int
    timestamp: int


class FutureRecordMetadata:
    """The result of one send(); ``get()`` runs the simulation until it is known."""

    def __init__(self, producer: KafkaProducer) -> None:
        self._producer = producer
        self.done = False
        self.metadata: RecordMetadata | None = None
        self.exception: Exception | None = None
        self.sent_ms = producer.sim.now_ms
        self.completed_ms: int | None = None

    def _complete(self, metadata: RecordMetadata | None, exception: Exception | None) -> None:
        self.done, self.metadata, self.exception = True, metadata, exception
        self.completed_ms = self._producer.sim.now_ms

    @property
    def latency_ms(self) -> int | None:
        """Simulated time from send() to the callback."""
        return None if self.completed_ms is None else self.completed_ms - self.sent_ms

    def get(self, timeout_ms: int | None = None) -> RecordMetadata:
        sim = self._producer.sim
        limit = timeout_ms if timeout_ms is not None else self._producer.config["delivery.timeout.ms"] + self._producer.config["max.block.ms"]
        if not sim.run_until(lambda: self.done, limit):
            raise ProducerTimeoutError(f"no result within {limit} ms (simulated)")
        if self.exception is not None:
            raise self.exception
        assert self.metadata is not None
        return self.metadata

    def __repr__(self) -> str:
        state = "pending" if not self.done else (repr(self.exception) if self.exception else repr(self.metadata))
        return f"FutureRecordMetadata({state})"


@dataclass
class _PendingSend:
    """A record waiting for its topic's metadata (KafkaProducer.waitOnMetadata)."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]
    timestamp: int
    partition: int | None
    callback: Callback | None
    future: FutureRecordMetadata
    deadline_ms: int


@dataclass
class _Accepted:
    """A record in a batch, with what to tell its sender when the batch completes."""

    future: FutureRecordMetadata
    callback: Callback | None
    timestamp: int
    index: int = 0


_SERIALIZERS_BY_NAME = {
    "ByteArraySerializer", "StringSerializer", "IntegerSerializer", "LongSerializer", "ShortSerializer",
    "DoubleSerializer", "UUIDSerializer", "VoidSerializer",
}


def serializer_from_config(name: str) -> Any | None:
    """``org.apache.kafka.common.serialization.StringSerializer`` → kafkalab's StringSerializer()."""
    if not name:
        return None
    import kafkalab.serialization as serialization

    simple = name.rsplit(".", 1)[-1]
    if simple not in _SERIALIZERS_BY_NAME:
        raise KafkaError(f"unknown serializer class {name!r}; kafkalab has {', '.join(sorted(_SERIALIZERS_BY_NAME))}")
    return getattr(serialization, simple)()


class KafkaProducer(Node):
    """A producer client node: ``send``, ``flush``, ``close`` — Kafka's pipeline, one event at a time."""

    def __init__(
        self,
        node_id: str,
        sim: Simulator,
        network: Network,
        bootstrap_node: str,
        config: Mapping[str, Any] | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
        broker_node_name: Callable[[int], str] = lambda broker_id: f"broker-{broker_id}",
        accumulator_class: type = RecordAccumulator,
        partitioner_class: type = UniformStickyPartitioner,
    ) -> None:
        """``accumulator_class`` and ``partitioner_class`` are the seams where a learner's versions plug in."""
        super().__init__(node_id, sim, network)
        self.config = ProducerConfig(config)
        self.bootstrap_node = bootstrap_node
        self.nodes = NodePicker(bootstrap_node, broker_node_name)
        self.broker_node_name = broker_node_name
        self.key_serializer = key_serializer or serializer_from_config(self.config["key.serializer"])
        self.value_serializer = value_serializer or serializer_from_config(self.config["value.serializer"])
        self.accumulator = accumulator_class(
            batch_size=self.config["batch.size"], linger_ms=self.config["linger.ms"], buffer_memory=self.config["buffer.memory"],
            retry_backoff_ms=self.config["retry.backoff.ms"], delivery_timeout_ms=self.config["delivery.timeout.ms"],
            compression=CompressionType[self.config["compression.type"].upper()],
        )
        self.sender = Sender(self.accumulator, self.config)
        self.partitioner = partitioner_class(
            sim.rng(f"{node_id}.partitioner"), self.config["batch.size"], self.config["partitioner.adaptive.partitioning.enable"]
        )
        self.metadata: dict[str, dict[int, int]] = {}
        self.waiting_for_metadata: list[_PendingSend] = []
        self.waiting_for_memory: list[tuple[_PendingSend, int]] = []
        self.accepted: dict[int, list[_Accepted]] = {}  # id(batch) -> records in it
        self.unfinished: list[FutureRecordMetadata] = []
        self._correlation_id = 0
        self._requests: dict[int, str] = {}
        self._wakeup: Any = None
        self._metadata_requested = False
        self._init_requested = False
        self.closed = False
        transactional_id = self.config["transactional.id"]
        self.transactions = TransactionManager(transactional_id, self.config["transaction.timeout.ms"]) if transactional_id else None

    # -- the public API --------------------------------------------------------------------------
    def send(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        partition: int | None = None,
        headers: Iterable[tuple[str, bytes | None]] = (),
        timestamp: int | None = None,
        callback: Callback | None = None,
    ) -> FutureRecordMetadata:
        """Queue a record and return at once; the future (and the callback) get the result later."""
        if self.closed:
            raise ProducerClosedError("Cannot perform operation after producer has been closed")
        if self.transactions is not None:
            self.transactions.check_can_send()
        future = FutureRecordMetadata(self)
        pending = _PendingSend(
            topic, self._serialize(self.key_serializer, topic, key, "key"), self._serialize(self.value_serializer, topic, value, "value"),
            tuple(Header(k, v) for k, v in headers), self.sim.now_ms if timestamp is None else timestamp,
            partition, callback, future, self.sim.now_ms + self.config["max.block.ms"],
        )
        self.sim.record("producer.send", self.node_id, topic=topic, key=pending.key, partition=partition)
        too_large = self._size_problem(pending)
        if too_large is not None:  # Kafka's doSend: an ApiException fails the future and calls back
            self._finish(future, callback, None, too_large)
            return future
        self.unfinished.append(future)
        if topic in self.metadata:
            self._append(pending)
        else:
            self.waiting_for_metadata.append(pending)
            self._request_metadata()
            self.set_timer(self.config["max.block.ms"], self._expire_blocked_sends)
        self.wakeup()
        return future

    def flush(self, timeout_ms: int | None = None) -> None:
        """Send everything now (ignoring linger.ms) and wait until every send so far has completed."""
        self.accumulator.begin_flush()
        self.wakeup()
        try:
            limit = timeout_ms if timeout_ms is not None else self.config["delivery.timeout.ms"] + self.config["max.block.ms"]
            if not self.sim.run_until(lambda: all(f.done for f in self.unfinished), limit):
                raise ProducerTimeoutError(f"flush did not complete within {limit} ms (simulated)")
        finally:
            self.accumulator.end_flush()
        self.unfinished = [f for f in self.unfinished if not f.done]

    def close(self) -> None:
        """Flush, then refuse further sends (KafkaProducer.close)."""
        self.flush()
        self.closed = True
        self.accumulator.close()

    # -- transactions (KIP-98) -------------------------------------------------------------------
    def _transaction_manager(self) -> TransactionManager:
        if self.transactions is None:
            raise TransactionStateError("Transactional method invoked on a non-transactional producer (set transactional.id).")
        return self.transactions

    def _wait(self, result: TransactionResult, timeout_ms: int | None) -> TransactionResult:
        """Run the simulation until ``result`` is known (outside the simulation only)."""
        if self.sim.in_event:
            return result  # inside the simulation: the caller follows result.on_done(...)
        limit = self.config["max.block.ms"] if timeout_ms is None else timeout_ms
        if not self.sim.run_until(lambda: result.done, limit):
            raise ProducerTimeoutError(f"Timeout expired after {limit} ms while awaiting {result.what}")
        if result.error is not None:
            raise result.error
        return result

    def init_transactions(self, timeout_ms: int | None = None) -> TransactionResult:
        """Get the producer id and a new epoch for transactional.id (fencing older instances, aborting
        what they left open). Blocks outside the simulation; inside it, follow the returned result."""
        manager = self._transaction_manager()
        if manager.state != TransactionState.UNINITIALIZED:
            raise TransactionStateError(f"TransactionalId {manager.transactional_id}: Invalid transition attempted from state "
                                        f"{manager.state.value} to state INITIALIZING")
        manager.state = TransactionState.INITIALIZING
        manager.init_result = TransactionResult("initTransactions")
        self.wakeup()
        return self._wait(manager.init_result, timeout_ms)

    def begin_transaction(self) -> None:
        self._transaction_manager().begin()
        self.sim.record("producer.begin_transaction", self.node_id)

    def send_offsets_to_transaction(self, offsets: Mapping[tuple[str, int], int], group_metadata: ConsumerGroupMetadata | str) -> None:
        """Commit a consumer group's offsets as part of this transaction (the read-process-write loop)."""
        group = ConsumerGroupMetadata(group_metadata) if isinstance(group_metadata, str) else group_metadata
        self._transaction_manager().add_offsets(dict(offsets), group)
        self.sim.record("producer.send_offsets", self.node_id, group=group.group_id,
                        offsets={f"{t}-{p}": o for (t, p), o in sorted(offsets.items())})
        self.wakeup()

    def commit_transaction(self, timeout_ms: int | None = None) -> TransactionResult:
        """Flush, send the offsets, then EndTxn(commit). Blocks outside the simulation."""
        result = self._transaction_manager().end(True)
        self.accumulator.begin_flush()
        self.sim.record("producer.commit_transaction", self.node_id)
        self.wakeup()
        return self._wait(result, timeout_ms)

    def abort_transaction(self, timeout_ms: int | None = None) -> TransactionResult:
        """Drop what was not sent, then EndTxn(abort): everything written in this transaction is hidden."""
        result = self._transaction_manager().end(False)
        self.sim.record("producer.abort_transaction", self.node_id)
        self.wakeup()
        return self._wait(result, timeout_ms)

    def _transaction_step(self) -> None:
        """Send the next transactional request, one at a time (TransactionManager.nextRequest)."""
        from kafkalab.coordinator.messages import COORDINATOR_KEY_GROUP, COORDINATOR_KEY_TRANSACTION, FindCoordinatorRequest, OffsetCommitPartition
        from kafkalab.coordinator.transaction_messages import (
            AddOffsetsToTxnRequest,
            AddPartitionsToTxnRequest,
            EndTxnRequest,
            TxnOffsetCommitRequest,
        )

        manager = self.transactions
        assert manager is not None
        if manager.in_flight is not None or manager.state in (TransactionState.UNINITIALIZED, TransactionState.FATAL_ERROR):
            return
        tid, pid, epoch = manager.transactional_id, self.sender.producer_id, self.sender.producer_epoch
        if manager.coordinator is None:
            self._send_transactional("txn:find", self.nodes.pick(self.sim.now_ms), FindCoordinatorRequest(tid, COORDINATOR_KEY_TRANSACTION, self._next_correlation_id()))
        elif manager.state == TransactionState.INITIALIZING:
            self._send_transactional("txn:init", manager.coordinator, InitProducerIdRequest(tid, manager.timeout_ms, self._next_correlation_id()))
        elif manager.pending_partitions:
            manager.adding, manager.pending_partitions = set(manager.pending_partitions), set()
            self._send_transactional("txn:add_partitions", manager.coordinator, AddPartitionsToTxnRequest(
                tid, pid, epoch, tuple(sorted(manager.adding)), self._next_correlation_id()))
        elif manager.offsets:
            pending = manager.offsets[0]
            if pending.stage == "add":
                self._send_transactional("txn:add_offsets", manager.coordinator, AddOffsetsToTxnRequest(
                    tid, pid, epoch, pending.group.group_id, self._next_correlation_id()))
            elif pending.stage == "find":
                self._send_transactional("txn:find_group", self.nodes.pick(self.sim.now_ms), FindCoordinatorRequest(
                    pending.group.group_id, COORDINATOR_KEY_GROUP, self._next_correlation_id()))
            else:
                self._send_transactional("txn:offset_commit", pending.stage, TxnOffsetCommitRequest(
                    tid, pending.group.group_id, pid, epoch,
                    tuple(OffsetCommitPartition(t, p, o) for (t, p), o in sorted(pending.offsets.items())),
                    pending.group.generation_id, pending.group.member_id, pending.group.group_instance_id, self._next_correlation_id()))
        elif manager.state in (TransactionState.COMMITTING_TRANSACTION, TransactionState.ABORTING_TRANSACTION):
            if manager.state == TransactionState.ABORTING_TRANSACTION:
                self._abort_unsent_batches()
            if self.accumulator.has_undrained() or self.sender.in_flight_count() or manager.adding or self.waiting_for_metadata:
                return  # the transaction's records must all be written (or failed) before it ends
            if not manager.started:  # nothing was added to it: nothing for the coordinator to end
                self.accumulator.end_flush() if manager.state == TransactionState.COMMITTING_TRANSACTION else None
                manager.completed()
                return
            self._send_transactional("txn:end", manager.coordinator, EndTxnRequest(
                tid, pid, epoch, manager.state == TransactionState.COMMITTING_TRANSACTION, self._next_correlation_id()))

    def _send_transactional(self, kind: str, destination: str, request: Any) -> None:
        assert self.transactions is not None
        self.transactions.in_flight = kind
        self._send_request(destination, request, kind)

    def _abort_unsent_batches(self) -> None:
        """abortTransaction: batches not sent yet are failed (TransactionAbortedException), not sent."""
        for key in sorted(self.accumulator.batches):
            queue = self.accumulator.batches[key]
            for batch in list(queue):
                if batch.base_sequence < 0:  # never drained
                    queue.remove(batch)
                    self._complete_batch(Completion(batch, error=TransactionAbortedError(
                        "Failing batch since transaction was aborted")))
                    self.accumulator.deallocate(batch)

    def _on_transaction_response(self, kind: str, message: Any) -> None:
        from kafkalab.errors import error_for_code

        manager = self.transactions
        assert manager is not None
        manager.in_flight = None
        error = error_for_code(getattr(message, "error_code", 0))
        if error is None and hasattr(message, "partitions"):
            error = next((error_for_code(p.error_code) for p in message.partitions if p.error_code), None)
        retry_later = False
        if error is not None:
            self.sim.record("producer.transaction_error", self.node_id, request=kind, error=error.error_name)
            if error.error_name in ("PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH", "INVALID_PRODUCER_ID_MAPPING", "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"):
                manager.fail_fatally(error(getattr(message, "error_message", None) or "this producer was fenced by a newer instance"))
                return
            if error.error_name in ("NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "COORDINATOR_LOAD_IN_PROGRESS"):
                if kind == "txn:offset_commit" and manager.offsets:
                    manager.offsets[0].stage = "find"
                elif kind != "txn:find_group":
                    manager.coordinator = None
                retry_later = True
            elif error.retriable or error.error_name == "CONCURRENT_TRANSACTIONS":
                retry_later = True
            elif kind == "txn:offset_commit":
                # KIP-447: the consumer was fenced out of its group; the application must abort.
                manager.state = TransactionState.ABORTABLE_ERROR
                manager.offsets.clear()
                from kafkalab.consumer.consumer import CommitFailedError

                result = manager.end_result
                if result is not None:
                    manager.end_result = None
                    result.complete(CommitFailedError(f"the group rejected the transaction's offsets ({error.error_name}); abort the transaction"))
                self.wakeup()
                return
            else:
                manager.fail_fatally(error(getattr(message, "error_message", None) or ""))
                return
            if kind == "txn:add_partitions":
                manager.pending_partitions |= manager.adding
                manager.adding = set()
            self.wakeup(self.config["retry.backoff.ms"] if retry_later else 0)
            return
        if kind == "txn:find":
            manager.coordinator = self.broker_node_name(message.node_id)
        elif kind == "txn:init":
            self.sender.producer_id, self.sender.producer_epoch = message.producer_id, message.producer_epoch
            self.sender.next_sequence.clear()
            manager.state = TransactionState.READY
            self.sim.record("producer.init", self.node_id, producer_id=message.producer_id, epoch=message.producer_epoch,
                            transactional_id=manager.transactional_id)
            if manager.init_result is not None:
                manager.init_result.complete()
        elif kind == "txn:add_partitions":
            manager.added |= manager.adding
            manager.adding = set()
            manager.started = True
            self.sender.partitions_in_transaction = set(manager.added)
        elif kind == "txn:add_offsets":
            manager.offsets[0].stage = "find"
            manager.started = True
        elif kind == "txn:find_group":
            manager.offsets[0].stage = self.broker_node_name(message.node_id)
        elif kind == "txn:offset_commit":
            manager.offsets.pop(0)
        elif kind == "txn:end":
            committed = manager.state == TransactionState.COMMITTING_TRANSACTION
            self.sender.partitions_in_transaction = set()
            self.accumulator.end_flush()
            manager.completed()
            self.sim.record("producer.transaction_done", self.node_id, committed=committed)
        self.wakeup()

    # -- steps of send() -----------------------------------------------------------------------
    @staticmethod
    def _serialize(serializer: Any, topic: str, data: Any, what: str) -> bytes | None:
        if serializer is not None:
            return serializer.serialize(topic, data)
        if data is None or isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode("utf-8")
        raise SerializationError(f"the {what} is a {type(data).__name__}: give the producer a {what}_serializer (or send bytes)")

    def _size_problem(self, pending: _PendingSend) -> KafkaError | None:
        """KafkaProducer.ensureValidRecordSize: RecordTooLargeException (MESSAGE_TOO_LARGE)."""
        size = RECORD_BATCH_OVERHEAD + record_size_upper_bound(pending.key, pending.value, pending.headers)
        if size > self.config["max.request.size"]:
            return MessageTooLargeError(f"The message is {size} bytes when serialized which is larger than {self.config['max.request.size']}, "
                                        "which is the value of the max.request.size configuration.")
        if size > self.config["buffer.memory"]:
            return MessageTooLargeError(f"The message is {size} bytes when serialized which is larger than the total memory buffer "
                                        "you have configured with the buffer.memory configuration.")
        return None

    def _append(self, pending: _PendingSend) -> None:
        partitions = self.metadata[pending.topic]
        count = len(partitions)
        if pending.partition is not None:
            if pending.partition not in partitions:
                pending.future._complete(None, UnknownTopicOrPartitionError(f"{pending.topic} has no partition {pending.partition} (it has {count})"))
                return
            chosen = pending.partition
        elif pending.key is not None and not self.config["partitioner.ignore.keys"]:
            chosen = partition_for_key(pending.key, count)
        else:
            chosen = self.partitioner.partition(pending.topic, count)
        record = Record(pending.key, pending.value, pending.headers, pending.timestamp)
        try:
            batch, created = self.accumulator.append(pending.topic, chosen, record, None, self.sim.now_ms)
        except BufferExhaustedError:
            # Kafka's send() blocks here (BufferPool.allocate) for up to max.block.ms.
            self.waiting_for_memory.append((pending, chosen))
            self.set_timer(max(0, pending.deadline_ms - self.sim.now_ms), self._expire_blocked_sends)
            return
        if pending.partition is None and (pending.key is None or self.config["partitioner.ignore.keys"]):
            queue = self.accumulator.batches[(pending.topic, chosen)]
            all_full = len(queue) > 1 or queue[-1].is_full()
            self.partitioner.record_appended(pending.topic, count, record.size_in_bytes(), enable_switch=all_full)
        records = self.accepted.setdefault(id(batch), [])
        records.append(_Accepted(pending.future, pending.callback, pending.timestamp, index=batch.record_count - 1))
        if self.transactions is not None:
            self.transactions.record_written((pending.topic, chosen))

    def _expire_blocked_sends(self) -> None:
        now = self.sim.now_ms
        for pending in [p for p in self.waiting_for_metadata if p.deadline_ms <= now]:
            self.waiting_for_metadata.remove(pending)
            self._finish(pending.future, pending.callback, None, ProducerTimeoutError(
                f"Topic {pending.topic} not present in metadata after {self.config['max.block.ms']} ms."))
        for pending, chosen in [w for w in self.waiting_for_memory if w[0].deadline_ms <= now]:
            self.waiting_for_memory.remove((pending, chosen))
            self._finish(pending.future, pending.callback, None, ProducerTimeoutError(
                f"Failed to allocate memory within the configured max blocking time {self.config['max.block.ms']} ms."))

    # -- the sender loop -------------------------------------------------------------------------
    def wakeup(self, delay_ms: int = 0) -> None:
        """Run the sender loop now (or after ``delay_ms``), unless it is already due sooner."""
        due = self.sim.now_ms + delay_ms
        if self._wakeup is not None and not self._wakeup.cancelled and self._wakeup.time_ms <= due:
            return
        if self._wakeup is not None:
            self._wakeup.cancel()
        self._wakeup = self.set_timer(delay_ms, self._run_once)

    def _next_correlation_id(self) -> int:
        self._correlation_id += 1
        return self._correlation_id

    def _run_once(self) -> None:
        self._wakeup = None
        if self.transactions is not None:
            self._transaction_step()
            if self.sender.producer_id < 0:
                return  # init_transactions() has not completed
        elif self.sender.idempotent and self.sender.producer_id < 0:
            if not self._init_requested:
                self._init_requested = True
                self._send_request(self.nodes.pick(self.sim.now_ms), InitProducerIdRequest(correlation_id=self._next_correlation_id()), "init")
            return  # nothing can be sent before the producer id is known
        leaders = {(topic, p): leader for topic, parts in self.metadata.items() for p, leader in parts.items() if leader >= 0}
        result = self.sender.run_once(self.sim.now_ms, leaders, self._next_correlation_id)
        for node, request in result.requests:
            self._send_request(self.broker_node_name(node), request, "produce")
            self.sim.record("producer.request", self.node_id, broker=node, correlation_id=request.correlation_id,
                            batches=len(request.partitions), records=sum(p.records.record_count for p in request.partitions))
        self._handle(result)
        self._schedule_next()

    def _schedule_next(self) -> None:
        """Wake up when the next batch may become ready (linger.ms, retry backoff) or a request times out."""
        delays = []
        if self.accumulator.has_undrained():
            leaders = {(topic, p): leader for topic, parts in self.metadata.items() for p, leader in parts.items() if leader >= 0}
            check = self.accumulator.ready(leaders, self.sim.now_ms)
            # Ready but not drained means the broker's in-flight slots are full: an answer will wake us.
            delays.append(self.config["retry.backoff.ms"] if check.ready_nodes or check.unknown_leader_topics
                          else check.next_ready_check_delay_ms)
        timeout = self.sender.next_timeout_ms(self.sim.now_ms)
        if timeout is not None:
            delays.append(timeout)
        if delays:
            self.wakeup(max(1, min(delays)))

    def _send_request(self, destination: str, request: Any, kind: str) -> None:
        self._requests[request.correlation_id] = kind
        super().send(destination, request)
        if kind in ("metadata", "init") or kind.startswith("txn:"):  # produce requests time out in the Sender
            self.set_timer(self.config["request.timeout.ms"], self._control_request_timed_out, request.correlation_id, kind, destination)

    def _control_request_timed_out(self, correlation_id: int, kind: str, destination: str = "") -> None:
        """No answer to a Metadata or InitProducerId request: forget it and ask again (NetworkClient),
        another broker if this one is not answering."""
        if self._requests.pop(correlation_id, None) is None:
            return
        self.nodes.failed(destination, self.sim.now_ms, self.config["request.timeout.ms"])
        self.sim.record("producer.request_timeout", self.node_id, request=kind, correlation_id=correlation_id)
        if kind == "metadata":
            self._metadata_requested = False
            if self.waiting_for_metadata:
                self._request_metadata()
        elif kind.startswith("txn:") and self.transactions is not None:
            self.transactions.in_flight = None
            if kind != "txn:find_group":
                self.transactions.coordinator = None  # find it again: it may have moved or died
            self.transactions.pending_partitions |= self.transactions.adding if kind == "txn:add_partitions" else set()
            if kind == "txn:add_partitions":
                self.transactions.adding = set()
        else:
            self._init_requested = False
        self.wakeup()

    def on_message(self, src: str, message: Any) -> None:
        kind = self._requests.pop(message.correlation_id, None)
        if isinstance(message, MetadataResponse):
            self._on_metadata(message)
        elif isinstance(message, InitProducerIdResponse) and kind == "init":
            self._init_requested = False
            if message.error_code == 0:
                self.sender.producer_id, self.sender.producer_epoch = message.producer_id, message.producer_epoch
                self.sim.record("producer.init", self.node_id, producer_id=message.producer_id, epoch=message.producer_epoch)
        elif kind is not None and kind.startswith("txn:"):
            self._on_transaction_response(kind, message)
        elif isinstance(message, ProduceResponse) and kind == "produce":
            broker_id = int(src.rsplit("-", 1)[-1])
            self._handle(self.sender.on_response(broker_id, message, self.sim.now_ms))
        self.wakeup()

    def _on_metadata(self, response: MetadataResponse) -> None:
        self._metadata_requested = False
        self.nodes.learn(response.brokers)
        for topic in response.topics:
            if topic.error_code == 0:
                self.metadata[topic.name] = {p.partition_index: p.leader_id for p in topic.partitions}
        ready = [p for p in self.waiting_for_metadata if p.topic in self.metadata]
        self.waiting_for_metadata = [p for p in self.waiting_for_metadata if p.topic not in self.metadata]
        for pending in ready:
            self._append(pending)
        if self.waiting_for_metadata:  # still unknown: ask again after retry.backoff.ms
            self.set_timer(self.config["retry.backoff.ms"], self._request_metadata)

    def _request_metadata(self) -> None:
        if self._metadata_requested:
            return
        self._metadata_requested = True
        topics = sorted({p.topic for p in self.waiting_for_metadata} | set(self.metadata))
        self._send_request(self.nodes.pick(self.sim.now_ms), MetadataRequest(tuple(topics), correlation_id=self._next_correlation_id()), "metadata")

    def _handle(self, result: SenderResult) -> None:
        if result.reset_producer_id and self.sender.producer_id >= 0 and self.transactions is None:
            self.sim.record("producer.reset_producer_id", self.node_id, producer_id=self.sender.producer_id)
            self.sender.producer_id, self.sender.producer_epoch = -1, -1
            self.sender.next_sequence.clear()
        for node in result.failed_nodes:
            self.nodes.failed(self.broker_node_name(node), self.sim.now_ms, self.config["request.timeout.ms"])
        if result.refresh_metadata:
            self._request_metadata()
        freed = False
        for completion in result.completions:
            self._complete_batch(completion)
            self.accumulator.deallocate(completion.batch)
            freed = True
        if freed and self.waiting_for_memory:
            waiting, self.waiting_for_memory = self.waiting_for_memory, []
            for pending, _ in waiting:
                self._append(pending)

    def _complete_batch(self, completion: Completion) -> None:
        batch = completion.batch
        for accepted in self.accepted.pop(id(batch), []):
            if completion.error is not None:
                self._finish(accepted.future, accepted.callback, None, completion.error)
                continue
            offset = -1 if completion.base_offset < 0 else completion.base_offset + accepted.index
            timestamp = completion.log_append_time_ms if completion.log_append_time_ms >= 0 else accepted.timestamp
            self._finish(accepted.future, accepted.callback, RecordMetadata(batch.topic, batch.partition, offset, timestamp), None)
        self.sim.record("producer.batch_done", self.node_id, topic=batch.topic, partition=batch.partition,
                        records=batch.record_count, base_offset=completion.base_offset,
                        error=completion.error.error_name if completion.error else "NONE", attempts=batch.attempts)

    def _finish(self, future: FutureRecordMetadata, callback: Callback | None, metadata: RecordMetadata | None, error: Exception | None) -> None:
        future._complete(metadata, error)
        if callback is not None:
            callback(metadata, error)
