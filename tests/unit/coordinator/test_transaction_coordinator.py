"""The transaction coordinator and a partition's transaction index, without the simulator."""

from __future__ import annotations

from kafkalab.broker.messages import InitProducerIdRequest
from kafkalab.broker.transactions import AbortedTransaction, PartitionTransactions
from kafkalab.config import BrokerConfig
from kafkalab.coordinator.transaction_coordinator import (
    TransactionCoordinator,
    TransactionMetadata,
    TransactionState,
    decode_transaction,
    encode_transaction_key,
    encode_transaction_value,
    partition_for_transactional_id,
)
from kafkalab.coordinator.transaction_messages import AddPartitionsToTxnRequest, EndTxnRequest
from kafkalab.errors import ConcurrentTransactionsError, InvalidProducerIdMappingError, ProducerFencedError
from kafkalab.log import StoredRecord
from kafkalab.record import TimestampType


def coordinator() -> tuple[TransactionCoordinator, list]:
    log: list = []
    ids = iter(range(1000, 2000))
    txn = TransactionCoordinator(BrokerConfig({"transaction.state.log.num.partitions": 1}), lambda: next(ids),
                                 lambda partition, records, now: log.extend(records), lambda tp: tp[1] % 2)
    txn.load_partition(0, [], 0)
    return txn, log


def test_the_transaction_log_value_round_trips() -> None:
    meta = TransactionMetadata("tx", 42, 3, 60_000, TransactionState.ONGOING, {("a", 0), ("a", 2), ("b", 1)}, 10, 20)
    decoded = decode_transaction(encode_transaction_key("tx"), encode_transaction_value(meta))
    assert (decoded.producer_id, decoded.producer_epoch, decoded.state, decoded.partitions) == (42, 3, TransactionState.ONGOING, meta.partitions)
    assert encode_transaction_value(meta)[:2] == b"\x00\x00"  # version 0
    assert 0 <= partition_for_transactional_id("tx", 50) < 50


def test_commit_writes_prepare_then_markers_then_complete() -> None:
    txn, log = coordinator()
    init = txn.handle(InitProducerIdRequest("tx", 60_000, 1), 0)
    assert (init.producer_id, init.producer_epoch) == (1000, 0)
    assert txn.handle(AddPartitionsToTxnRequest("tx", 1000, 0, (("out", 0), ("out", 1))), 1).error_code == 0
    assert txn.handle(EndTxnRequest("tx", 1000, 0, True), 2).error_code == 0
    assert txn.transactions["tx"].state == TransactionState.PREPARE_COMMIT
    effects = txn.take_effects()
    assert sorted((leader, m.partitions) for leader, request in effects for m in request.markers) == [(0, (("out", 0),)), (1, (("out", 1),))]
    assert all(m.committed for _, request in effects for m in request.markers)
    txn.on_markers_written(1000, [("out", 0, 0)], 3)
    assert txn.transactions["tx"].state == TransactionState.PREPARE_COMMIT  # one partition still without its marker
    txn.on_markers_written(1000, [("out", 1, 0)], 4)
    assert txn.transactions["tx"].state == TransactionState.COMPLETE_COMMIT
    states = [decode_transaction(k, v).state for k, v in log]
    assert states == [TransactionState.EMPTY, TransactionState.ONGOING, TransactionState.PREPARE_COMMIT, TransactionState.COMPLETE_COMMIT]


def test_a_new_instance_fences_the_old_one_and_aborts_its_transaction() -> None:
    txn, _ = coordinator()
    txn.handle(InitProducerIdRequest("tx", 60_000), 0)
    txn.handle(AddPartitionsToTxnRequest("tx", 1000, 0, (("out", 0),)), 1)
    retry = txn.handle(InitProducerIdRequest("tx", 60_000), 2)  # the restarted producer
    assert retry.error_code == ConcurrentTransactionsError.error_code
    [(_, request)] = txn.take_effects()
    assert not request.markers[0].committed and request.markers[0].producer_epoch == 1
    txn.on_markers_written(1000, [("out", 0, 0)], 3)
    again = txn.handle(InitProducerIdRequest("tx", 60_000), 4)
    assert (again.producer_id, again.producer_epoch) == (1000, 2)
    zombie = txn.handle(AddPartitionsToTxnRequest("tx", 1000, 0, (("out", 0),)), 5)
    assert zombie.error_code == ProducerFencedError.error_code
    stranger = txn.handle(EndTxnRequest("tx", 999, 2, True), 6)
    assert stranger.error_code == InvalidProducerIdMappingError.error_code


def test_a_transaction_open_too_long_is_aborted() -> None:
    txn, _ = coordinator()
    txn.handle(InitProducerIdRequest("tx", 5_000), 0)
    txn.handle(AddPartitionsToTxnRequest("tx", 1000, 0, (("out", 0),)), 0)
    txn.tick(10_000)
    assert txn.transactions["tx"].state == TransactionState.PREPARE_ABORT and txn.transactions["tx"].producer_epoch == 1


def record(offset: int, producer_id: int = -1, transactional: bool = False) -> StoredRecord:
    return StoredRecord("t", 0, offset, 0, TimestampType.CREATE_TIME, None, b"v", ())


def test_the_partition_index_tracks_the_last_stable_offset_and_aborted_ranges() -> None:
    index = PartitionTransactions()
    index.on_append(0, 1, producer_id=7, transactional=True)
    index.on_append(2, 2, producer_id=-1, transactional=False)
    index.on_append(3, 4, producer_id=8, transactional=True)
    assert index.last_stable_offset(high_watermark=5) == 0
    index.on_marker(7, committed=False, marker_offset=5)
    assert index.last_stable_offset(high_watermark=6) == 3  # pid 8 is still open
    index.on_marker(8, committed=True, marker_offset=6)
    assert index.last_stable_offset(high_watermark=7) == 7
    assert index.aborted == [AbortedTransaction(7, 0, 5)]
    assert index.aborted_between(3, 7) == (AbortedTransaction(7, 0, 5),) and index.aborted_between(6, 7) == ()
    annotated = index.annotate([record(o) for o in range(7)])
    assert [(r.producer_id, r.is_transactional, r.is_control) for r in annotated] == [
        (7, True, False), (7, True, False), (-1, False, False), (8, True, False), (8, True, False), (7, True, True), (8, True, True)]
