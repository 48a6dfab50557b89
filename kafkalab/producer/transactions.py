"""The transactional producer's side of KIP-98: what it must do, in which order.

    init_transactions()   find the transaction coordinator; InitProducerId(transactional.id)
                          → producer id + a new epoch (fencing older instances); aborts what a
                          previous instance left open
    begin_transaction()   local only
    send(...)             the first record for a partition triggers AddPartitionsToTxn; its batches
                          wait until the coordinator has added it
    send_offsets_to_transaction(offsets, group_metadata)
                          AddOffsetsToTxn (the group's __consumer_offsets partition joins the
                          transaction), then TxnOffsetCommit to the *group* coordinator
    commit_transaction()  flush every batch, then EndTxn(commit): the coordinator writes COMMIT
                          markers; abort_transaction() does the same with ABORT

Errors are Kafka's: PRODUCER_FENCED (a newer instance took over: this one must close),
CONCURRENT_TRANSACTIONS (retried), and calls in the wrong state raise IllegalStateError with the
Java client's messages.

Kafka: org.apache.kafka.clients.producer.internals.TransactionManager (State, TxnRequestHandler,
AddPartitionsToTxnHandler, AddOffsetsToTxnHandler, TxnOffsetCommitHandler, EndTxnHandler),
TransactionalRequestResult, ConsumerGroupMetadata; KIP-98, KIP-447.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

from kafkalab.errors import KafkaError

TopicPartition = tuple[str, int]


class TransactionState(Enum):
    UNINITIALIZED = "UNINITIALIZED"
    INITIALIZING = "INITIALIZING"
    READY = "READY"
    IN_TRANSACTION = "IN_TRANSACTION"
    COMMITTING_TRANSACTION = "COMMITTING_TRANSACTION"
    ABORTING_TRANSACTION = "ABORTING_TRANSACTION"
    ABORTABLE_ERROR = "ABORTABLE_ERROR"
    FATAL_ERROR = "FATAL_ERROR"


class TransactionStateError(Exception):
    """Kafka's IllegalStateException from a transactional call made in the wrong state."""


class TransactionAbortedError(KafkaError):
    """A record's send failed because its transaction was aborted (TransactionAbortedException)."""

    error_name = "TRANSACTION_ABORTED"


@dataclass(frozen=True)
class ConsumerGroupMetadata:
    """What ``consumer.group_metadata()`` returns: sent with the offsets so the group coordinator can
    fence a zombie consumer (KIP-447)."""

    group_id: str
    generation_id: int = -1
    member_id: str = ""
    group_instance_id: str | None = None


class TransactionResult:
    """The outcome of init/commit/abort (TransactionalRequestResult): ``wait()`` runs the simulation."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.done = False
        self.error: Exception | None = None
        self.callbacks: list[Callable[[Exception | None], None]] = []

    def complete(self, error: Exception | None = None) -> None:
        if self.done:
            return
        self.done, self.error = True, error
        for callback in self.callbacks:
            callback(error)

    def on_done(self, callback: Callable[[Exception | None], None]) -> None:
        if self.done:
            callback(self.error)
        else:
            self.callbacks.append(callback)

    def __repr__(self) -> str:
        state = "pending" if not self.done else ("ok" if self.error is None else repr(self.error))
        return f"TransactionResult({self.what}: {state})"


@dataclass
class PendingOffsets:
    offsets: dict[TopicPartition, int]
    group: ConsumerGroupMetadata
    stage: str = "add"  # add (AddOffsetsToTxn) → find (group coordinator) → commit (TxnOffsetCommit) → done


@dataclass
class TransactionManager:
    """The transactional state of one producer (no I/O: the producer node sends what it asks for)."""

    transactional_id: str
    timeout_ms: int
    state: TransactionState = TransactionState.UNINITIALIZED
    coordinator: str | None = None
    pending_partitions: set[TopicPartition] = field(default_factory=set)  # written to, not yet added
    adding: set[TopicPartition] = field(default_factory=set)  # AddPartitionsToTxn in flight
    added: set[TopicPartition] = field(default_factory=set)
    offsets: list[PendingOffsets] = field(default_factory=list)
    in_flight: str | None = None  # the one transactional request in flight (they are sent one at a time)
    init_result: TransactionResult | None = None
    end_result: TransactionResult | None = None
    committing: bool = False
    started: bool = False  # the coordinator knows of this transaction (partitions or offsets were added)
    fatal: Exception | None = None

    # -- transitions the application asks for ----------------------------------------------------
    def check_can_send(self) -> None:
        if self.fatal is not None:
            raise self.fatal
        if self.state in (TransactionState.UNINITIALIZED, TransactionState.INITIALIZING):
            raise TransactionStateError("Cannot perform a 'send' before completing a call to initTransactions")
        if self.state != TransactionState.IN_TRANSACTION:
            raise TransactionStateError(f"Cannot call send in state {self.state.value}")

    def begin(self) -> None:
        if self.fatal is not None:
            raise self.fatal
        if self.state != TransactionState.READY:
            raise TransactionStateError(f"TransactionalId {self.transactional_id}: Invalid transition attempted from state "
                                        f"{self.state.value} to state IN_TRANSACTION")
        self.state = TransactionState.IN_TRANSACTION

    def add_offsets(self, offsets: dict[TopicPartition, int], group: ConsumerGroupMetadata) -> None:
        if self.fatal is not None:
            raise self.fatal
        if self.state != TransactionState.IN_TRANSACTION:
            raise TransactionStateError(f"Cannot send offsets if a transaction is not in progress (currently in state {self.state.value})")
        self.offsets.append(PendingOffsets(dict(offsets), group))

    def end(self, commit: bool) -> TransactionResult:
        if self.fatal is not None:
            raise self.fatal
        allowed = (TransactionState.IN_TRANSACTION,) if commit else (TransactionState.IN_TRANSACTION, TransactionState.ABORTABLE_ERROR)
        if self.state not in allowed:
            target = "COMMITTING_TRANSACTION" if commit else "ABORTING_TRANSACTION"
            raise TransactionStateError(f"TransactionalId {self.transactional_id}: Invalid transition attempted from state "
                                        f"{self.state.value} to state {target}")
        self.state = TransactionState.COMMITTING_TRANSACTION if commit else TransactionState.ABORTING_TRANSACTION
        self.committing = commit
        self.end_result = TransactionResult("commit" if commit else "abort")
        return self.end_result

    def record_written(self, tp: TopicPartition) -> None:
        if tp not in self.added and tp not in self.adding:
            self.pending_partitions.add(tp)

    def completed(self) -> None:
        """EndTxn succeeded: ready for the next transaction."""
        self.state = TransactionState.READY
        self.pending_partitions.clear()
        self.adding.clear()
        self.added.clear()
        self.offsets.clear()
        self.started = False
        result, self.end_result = self.end_result, None
        if result is not None:
            result.complete()

    def fail_fatally(self, error: Exception) -> None:
        self.fatal = error
        self.state = TransactionState.FATAL_ERROR
        for result in (self.init_result, self.end_result):
            if result is not None:
                result.complete(error)
