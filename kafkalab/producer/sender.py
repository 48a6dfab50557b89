"""The Sender: turns ready batches into ProduceRequests and broker answers into completed sends.

In the Java client this is the I/O thread's loop (``Sender.runOnce``): fail what has waited
longer than ``delivery.timeout.ms``; ask the accumulator which brokers are ready; drain batches for
brokers that have room for another request in flight (``max.in.flight.requests.per.connection``);
send one ProduceRequest per broker; and when answers come, complete the batches, or put them back
for a retry (retriable error, attempts left, still within ``delivery.timeout.ms``). A request
without an answer after ``request.timeout.ms`` counts as failed with REQUEST_TIMED_OUT — the broker
may still have written it, which is how retries duplicate records unless idempotence is on.

With idempotence, a batch gets its producer id, epoch and first sequence number the first time
it is drained, and keeps them for every retry, so the broker can recognise a resend.

Sans-IO: the sender returns requests and completions; the producer node moves them.

Kafka: org.apache.kafka.clients.producer.internals.Sender (runOnce, sendProducerData,
completeBatch, canRetry, failBatch), TransactionManager (sequence numbers), NetworkClient
(in-flight requests, request timeouts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from kafkalab.broker.messages import ProducePartitionData, ProduceRequest, ProduceResponse
from kafkalab.errors import (
    KafkaError,
    NetworkExceptionError,
    NotLeaderOrFollowerError,
    OutOfOrderSequenceNumberError,
    RequestTimedOutError,
    UnknownTopicOrPartitionError,
    error_for_code,
)
from kafkalab.producer.accumulator import RecordAccumulator
from kafkalab.producer.batch import ProducerBatch
from kafkalab.producer.config import ProducerConfig

Key = tuple[str, int]
METADATA_ERRORS = (NotLeaderOrFollowerError, UnknownTopicOrPartitionError)


class DeliveryTimeoutError(KafkaError):
    """Kafka's TimeoutException for a batch that could not be delivered within delivery.timeout.ms."""

    error_name = "DELIVERY_TIMEOUT"
    retriable = True


@dataclass
class InFlightRequest:
    correlation_id: int
    node: int
    batches: dict[Key, ProducerBatch]
    sent_ms: int


@dataclass(frozen=True)
class Completion:
    """A batch is done: its base offset (-1 if unknown, e.g. acks=0) or the error that ended it."""

    batch: ProducerBatch
    base_offset: int = -1
    log_append_time_ms: int = -1
    error: KafkaError | None = None


@dataclass
class SenderResult:
    requests: list[tuple[int, ProduceRequest]] = field(default_factory=list)
    completions: list[Completion] = field(default_factory=list)
    refresh_metadata: bool = False
    failed_nodes: list[int] = field(default_factory=list)  # brokers whose requests timed out
    reset_producer_id: bool = False  # sequence numbers can no longer be trusted: get a new producer id


class Sender:
    """The producer's request pipeline between the accumulator and the brokers."""

    def __init__(self, accumulator: RecordAccumulator, config: ProducerConfig) -> None:
        self.accumulator = accumulator
        self.acks = config.acks
        self.max_in_flight = config["max.in.flight.requests.per.connection"]
        self.request_timeout_ms = config["request.timeout.ms"]
        self.delivery_timeout_ms = config["delivery.timeout.ms"]
        self.max_request_size = config["max.request.size"]
        self.retries = config["retries"]
        self.idempotent = config.idempotent
        self.transactional = bool(config["transactional.id"])
        # Transactions: a partition's batches wait until AddPartitionsToTxn has put it in the transaction.
        self.partitions_in_transaction: set[Key] = set()
        self.producer_id = -1
        self.producer_epoch = -1
        self.next_sequence: dict[Key, int] = {}
        self.in_flight: dict[int, list[InFlightRequest]] = {}

    def in_flight_count(self) -> int:
        return sum(len(requests) for requests in self.in_flight.values())

    # -- one turn of the loop ------------------------------------------------------------------
    def run_once(self, now_ms: int, leaders: dict[Key, int], next_correlation_id: Callable[[], int]) -> SenderResult:
        result = SenderResult()
        self._expire_requests(now_ms, result)
        for batch in self.accumulator.expired_batches(now_ms):
            result.completions.append(Completion(batch, error=DeliveryTimeoutError(
                f"Expiring {batch.record_count} record(s) for {batch.topic}-{batch.partition}: "
                f"{now_ms - batch.created_ms} ms has passed since batch creation (delivery.timeout.ms={self.delivery_timeout_ms})")))
        check = self.accumulator.ready(leaders, now_ms)
        result.refresh_metadata = result.refresh_metadata or bool(check.unknown_leader_topics)
        nodes = {node for node in check.ready_nodes if len(self.in_flight.get(node, [])) < self.max_in_flight}
        for node, batches in self.accumulator.drain(leaders, nodes, self.max_request_size, now_ms, hold=self._hold).items():
            for batch in batches:
                self._stamp(batch)
            correlation_id = next_correlation_id()
            partitions = tuple(ProducePartitionData(b.topic, b.partition, b.close()) for b in batches)
            request = ProduceRequest(self.acks, self.request_timeout_ms, partitions, correlation_id)
            result.requests.append((node, request))
            if self.acks == 0:
                result.completions += [Completion(batch) for batch in batches]  # nothing will answer
            else:
                self.in_flight.setdefault(node, []).append(
                    InFlightRequest(correlation_id, node, {(b.topic, b.partition): b for b in batches}, now_ms)
                )
        return result

    def _hold(self, batch: ProducerBatch) -> bool:
        """RecordAccumulator.shouldStopDrainBatchesForPartition: a retried batch waits until it is the
        lowest sequence still in flight for its partition, so the broker sees sequences in order."""
        if self.transactional and (batch.topic, batch.partition) not in self.partitions_in_transaction:
            return True
        if not self.idempotent or batch.base_sequence < 0 or batch.producer_id != self.producer_id:
            return False
        in_flight = [
            b.base_sequence for requests in self.in_flight.values() for r in requests
            for b in r.batches.values() if (b.topic, b.partition) == (batch.topic, batch.partition)
        ]
        return bool(in_flight) and min(in_flight) != batch.base_sequence

    def _stamp(self, batch: ProducerBatch) -> None:
        """Idempotence: producer id, epoch and sequence, fixed at the first drain (TransactionManager) —
        and given anew if the producer id changed since (after a reset)."""
        if not self.idempotent or (batch.base_sequence >= 0 and batch.producer_id == self.producer_id):
            return
        key = (batch.topic, batch.partition)
        batch.producer_id, batch.producer_epoch = self.producer_id, self.producer_epoch
        batch.transactional = self.transactional
        batch.base_sequence = self.next_sequence.get(key, 0)
        self.next_sequence[key] = batch.base_sequence + batch.record_count

    def _expire_requests(self, now_ms: int, result: SenderResult) -> None:
        """A request timing out closes the connection (NetworkClient): every request on it fails."""
        for node, requests in self.in_flight.items():
            if any(now_ms - r.sent_ms >= self.request_timeout_ms for r in requests):
                error = RequestTimedOutError(f"no answer from broker {node} within request.timeout.ms={self.request_timeout_ms}")
                result.failed_nodes.append(node)
                self._disconnect(node, requests, error, now_ms, result)

    def _disconnect(self, node: int, lost: list[InFlightRequest], error: KafkaError, now_ms: int, result: SenderResult) -> None:
        # A lost connection also asks for fresh metadata (NetworkClient.handleDisconnections): the
        # broker may be gone and its partitions led elsewhere by now.
        result.refresh_metadata = True
        # Newest first, as InFlightRequests.clearAll returns them: each retried batch goes to the
        # front of its queue, so the oldest ends up first again.
        for request in reversed(list(lost)):
            self.in_flight[node].remove(request)
            for batch in request.batches.values():
                self._retry_or_fail(batch, error, now_ms, result)

    # -- answers -------------------------------------------------------------------------------
    def on_response(self, node: int, response: ProduceResponse, now_ms: int) -> SenderResult:
        """Complete, retry or fail each batch the answered request carried."""
        result = SenderResult()
        requests = self.in_flight.get(node, [])
        request = next((r for r in requests if r.correlation_id == response.correlation_id), None)
        if request is None:
            return result  # a late answer to a request we already timed out: its batches were retried
        # Answers on one connection come in order. An answer overtaking older requests means their
        # answers were lost, which over TCP means the connection broke: those requests fail too.
        older = requests[: requests.index(request)]
        if older:
            self._disconnect(node, older, NetworkExceptionError(f"connection to broker {node} lost"), now_ms, result)
        requests.remove(request)
        for answer in response.responses:
            batch = request.batches[(answer.topic, answer.partition)]
            error_type = error_for_code(answer.error_code)
            if error_type is None:
                result.completions.append(Completion(batch, answer.base_offset, answer.log_append_time_ms))
                continue
            message = answer.error_message or ""
            error = error_type(message.removeprefix(f"{error_type.error_name}: "))
            if isinstance(error, METADATA_ERRORS):
                result.refresh_metadata = True
            self._retry_or_fail(batch, error, now_ms, result)
        return result

    def _retry_or_fail(self, batch: ProducerBatch, error: KafkaError, now_ms: int, result: SenderResult) -> None:
        """Sender.canRetry: retriable, attempts left, and still inside delivery.timeout.ms."""
        retriable = error.retriable or (self.idempotent and isinstance(error, OutOfOrderSequenceNumberError))
        within_time = now_ms - batch.created_ms < self.delivery_timeout_ms
        if self.idempotent and not self.transactional and isinstance(error, OutOfOrderSequenceNumberError) and not self._earlier_in_flight(batch):
            # Nothing earlier is on its way: the broker will never see the missing sequences (they were in
            # batches that failed). Start over with a new producer id (KIP-360; older clients did the same).
            result.reset_producer_id = True
        if retriable and batch.attempts <= self.retries and within_time:
            self.accumulator.reenqueue(batch, now_ms)
        else:
            if self.idempotent and not self.transactional and batch.base_sequence >= 0:
                result.reset_producer_id = True  # this batch's sequences leave a gap behind it
            result.completions.append(Completion(batch, error=error))

    def _earlier_in_flight(self, batch: ProducerBatch) -> bool:
        """Is a batch with a lower sequence of this partition still on its way (sent, or waiting to be retried)?"""
        key = (batch.topic, batch.partition)
        sent = (b for requests in self.in_flight.values() for r in requests for b in r.batches.values())
        queued = self.accumulator.batches.get(key, ())
        return any(0 <= b.base_sequence < batch.base_sequence and (b.topic, b.partition) == key and b.producer_id == batch.producer_id
                   for b in [*sent, *queued])

    def next_timeout_ms(self, now_ms: int) -> int | None:
        """When the earliest in-flight request will time out (None if nothing is in flight)."""
        deadlines = [r.sent_ms + self.request_timeout_ms for requests in self.in_flight.values() for r in requests]
        return max(0, min(deadlines) - now_ms) if deadlines else None
