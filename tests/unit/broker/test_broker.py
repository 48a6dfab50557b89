"""The sans-IO broker answers requests with Kafka's errors; the controller validates topics."""

from __future__ import annotations

from kafkalab.broker import Broker, Controller
from kafkalab.broker.messages import (
    CreatableTopic,
    FetchRequest,
    ListOffsetsRequest,
    MetadataImage,
    MetadataRequest,
    ProducePartitionData,
    ProduceRequest,
    RegisterBrokerRecord,
)
from kafkalab.config import BrokerConfig
from kafkalab.errors import (
    InvalidConfigurationError,
    InvalidReplicationFactorError,
    InvalidRequiredAcksError,
    InvalidTopicError,
    NotLeaderOrFollowerError,
    OffsetOutOfRangeError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)
from kafkalab.record import Record, RecordBatch


def broker_with_topic(partitions: int = 2, brokers: int = 1) -> Broker:
    config = BrokerConfig()
    controller = Controller(config, MetadataImage())
    registrations = [RegisterBrokerRecord(i) for i in range(brokers)]
    for record in registrations:
        controller.image.apply(record)
    result, records = controller.create_topic(CreatableTopic("orders", partitions, 1))
    assert result.error_code == 0
    broker = Broker(0, config)
    broker.apply_metadata(registrations + records, now_ms=0)
    return broker


def produce(broker: Broker, partition: int, *values: bytes, acks: int = -1):
    batch = RecordBatch.of([Record(None, v) for v in values], base_timestamp=0)
    response = broker.handle(ProduceRequest(acks, 1000, (ProducePartitionData("orders", partition, batch),), 1), now_ms=0)
    return None if response is None else response.responses[0]


def test_produce_fetch_and_list_offsets() -> None:
    broker = broker_with_topic()
    assert produce(broker, 0, b"a", b"b").base_offset == 0
    assert produce(broker, 0, b"c").base_offset == 2
    fetched = broker.handle(FetchRequest.single("orders", 0, 1), now_ms=0).partitions[0]
    assert [r.value for r in fetched.records] == [b"b", b"c"] and fetched.high_watermark == 3
    assert broker.handle(ListOffsetsRequest("orders", 0, -2), 0).offset == 0
    assert broker.handle(ListOffsetsRequest("orders", 0, -1), 0).offset == 3


def test_acks_zero_gets_no_response_and_bad_acks_an_error() -> None:
    broker = broker_with_topic()
    assert produce(broker, 0, b"x", acks=0) is None
    assert produce(broker, 0, b"x", acks=2).error_code == InvalidRequiredAcksError.error_code


def test_errors_carry_kafkas_codes() -> None:
    broker = broker_with_topic()
    assert produce(broker, 5, b"x").error_code == UnknownTopicOrPartitionError.error_code
    assert broker.handle(FetchRequest.single("orders", 0, 10), 0).partitions[0].error_code == OffsetOutOfRangeError.error_code
    metadata = broker.handle(MetadataRequest(("nope",)), 0)
    assert metadata.topics[0].error_code == UnknownTopicOrPartitionError.error_code


def test_a_follower_broker_refuses_writes_with_not_leader() -> None:
    broker = broker_with_topic(partitions=2, brokers=2)
    leaders = {p: r.leader for p, r in broker.image.partitions["orders"].items()}
    not_mine = next(p for p, leader in leaders.items() if leader != 0)
    assert produce(broker, not_mine, b"x").error_code == NotLeaderOrFollowerError.error_code


def test_controller_validation() -> None:
    config = BrokerConfig()
    controller = Controller(config, MetadataImage())
    controller.image.apply(RegisterBrokerRecord(0))
    assert controller.create_topic(CreatableTopic("bad name!", 1, 1))[0].error_code == InvalidTopicError.error_code
    assert controller.create_topic(CreatableTopic("t", 1, 2))[0].error_code == InvalidReplicationFactorError.error_code
    bad_config = controller.create_topic(CreatableTopic("t", 1, 1, (("retention.msec", "1"),)))[0]
    assert bad_config.error_code == InvalidConfigurationError.error_code and "retention.ms" in bad_config.error_message
    result, records = controller.create_topic(CreatableTopic("t", 3, 1))
    for record in records:
        controller.image.apply(record)
    assert controller.create_topic(CreatableTopic("t", 1, 1))[0].error_code == TopicAlreadyExistsError.error_code


def test_a_buggy_log_gives_unknown_server_error_and_the_broker_carries_on() -> None:
    from kafkalab.errors import UnknownServerError
    from kafkalab.log import PartitionLog

    class BuggyLog(PartitionLog):
        def read(self, fetch_offset, max_records=None):
            raise IndexError("list index out of range")

    broker = broker_with_topic()
    broker.log_factory = BuggyLog
    broker.logs[("orders", 0)] = BuggyLog("orders", 0)
    assert produce(broker, 0, b"x").base_offset == 0
    answer = broker.handle(FetchRequest.single("orders", 0, 0), 0).partitions[0]
    assert answer.error_code == UnknownServerError.error_code and "IndexError: list index out of range" in answer.error_message
    assert broker.drain_events()[-1] == ("fetch.error", {"topic": "orders", "partition": 0, "error": "IndexError"})
    assert broker.handle(ListOffsetsRequest("orders", 0, -1), 0).offset == 1


def test_fetch_partition_max_bytes_gives_whole_batches_and_at_least_one() -> None:
    broker = broker_with_topic()
    for value in (b"a", b"b", b"c"):
        produce(broker, 0, value, value)
    one_batch = broker.logs[("orders", 0)].segments[0].batch_sizes[0]
    first = broker.handle(FetchRequest.single("orders", 0, 0, partition_max_bytes=1), 0).partitions[0]
    assert [r.offset for r in first.records] == [0, 1]  # KIP-74: the first batch even if bigger than the limit
    two = broker.handle(FetchRequest.single("orders", 0, 1, partition_max_bytes=2 * one_batch), 0).partitions[0]
    assert [r.offset for r in two.records] == [1, 2, 3]


def test_delete_records_follows_kafka() -> None:
    from kafkalab.broker.messages import DeleteRecordsRequest

    broker = broker_with_topic()
    produce(broker, 0, b"a", b"b", b"c")
    assert broker.handle(DeleteRecordsRequest("orders", 0, 2), 0).low_watermark == 2
    assert broker.handle(DeleteRecordsRequest("orders", 0, 1), 0).low_watermark == 2  # below: nothing changes
    too_far = broker.handle(DeleteRecordsRequest("orders", 0, 4), 0)
    assert too_far.error_code == OffsetOutOfRangeError.error_code and "high watermark" in too_far.error_message
    assert broker.handle(DeleteRecordsRequest("orders", 0, -1), 0).low_watermark == 3  # -1: up to the high watermark
    assert broker.handle(ListOffsetsRequest("orders", 0, -2), 0).offset == 3


def test_tick_runs_retention_every_check_interval_only() -> None:
    from kafkalab.broker.messages import CreatableTopic as Topic

    config = BrokerConfig({"log.retention.check.interval.ms": 1000})
    controller = Controller(config, MetadataImage())
    controller.image.apply(RegisterBrokerRecord(0))
    _, records = controller.create_topic(Topic("t", 1, 1, (("retention.ms", "100"), ("segment.bytes", "100"))))
    broker = Broker(0, config)
    broker.apply_metadata([RegisterBrokerRecord(0), *records], now_ms=0)
    for value in (b"x" * 30, b"y" * 30):
        broker.handle(ProduceRequest(-1, 1000, (ProducePartitionData("t", 0, RecordBatch.of([Record(None, value)], base_timestamp=0)),), 1), 0)
    assert len(broker.logs[("t", 0)].segments) == 2
    assert broker.tick(500) == 0  # retention.ms is over, but the check interval is not
    assert broker.tick(1000) == 2 and broker.logs[("t", 0)].log_start_offset == 2
    assert broker.tick(1500) == 0
