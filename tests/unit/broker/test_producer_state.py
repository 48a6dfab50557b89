"""Broker-side idempotence: duplicates answered with the original offset, gaps and old epochs refused."""

from __future__ import annotations

from kafkalab.broker.messages import InitProducerIdRequest, ProducePartitionData, ProduceRequest
from kafkalab.errors import InvalidProducerEpochError, OutOfOrderSequenceNumberError
from kafkalab.record import Record, RecordBatch

from test_broker import broker_with_topic


def send(broker, producer_id: int, epoch: int, sequence: int, count: int = 2):
    batch = RecordBatch.of([Record(None, f"r{sequence + i}".encode()) for i in range(count)], base_timestamp=0,
                           producer_id=producer_id, producer_epoch=epoch, base_sequence=sequence)
    return broker.handle(ProduceRequest(-1, 1000, (ProducePartitionData("orders", 0, batch),), 1), 0).responses[0]


def test_init_producer_id_hands_out_distinct_ids() -> None:
    broker = broker_with_topic()
    first = broker.handle(InitProducerIdRequest(correlation_id=1), 0)
    second = broker.handle(InitProducerIdRequest(correlation_id=2), 0)
    assert first.producer_id != second.producer_id and first.producer_epoch == 0


def test_a_retried_batch_is_not_written_twice() -> None:
    broker = broker_with_topic()
    assert send(broker, 7, 0, 0).base_offset == 0
    assert send(broker, 7, 0, 2).base_offset == 2
    again = send(broker, 7, 0, 0)  # the retry of the first batch, after a lost response
    assert again.error_code == 0 and again.base_offset == 0
    assert broker.logs[("orders", 0)].log_end_offset == 4
    assert ("produce.duplicate", {"topic": "orders", "partition": 0, "first_offset": 0, "producer_id": 7, "sequence": 0}) in broker.drain_events()


def test_a_gap_in_sequences_is_out_of_order() -> None:
    broker = broker_with_topic()
    send(broker, 7, 0, 0)
    answer = send(broker, 7, 0, 5)
    assert answer.error_code == OutOfOrderSequenceNumberError.error_code and "5 (incoming seq. number), 1" in answer.error_message
    assert send(broker, 8, 0, 3).error_code == OutOfOrderSequenceNumberError.error_code  # a new producer starts at 0


def test_an_old_epoch_is_fenced_and_a_new_epoch_restarts_sequences() -> None:
    broker = broker_with_topic()
    send(broker, 7, 1, 0)
    assert send(broker, 7, 0, 2).error_code == InvalidProducerEpochError.error_code
    assert send(broker, 7, 2, 0).error_code == 0


def test_producers_without_an_id_are_not_checked() -> None:
    broker = broker_with_topic()
    assert send(broker, -1, -1, -1).base_offset == 0
    assert send(broker, -1, -1, -1).base_offset == 2
