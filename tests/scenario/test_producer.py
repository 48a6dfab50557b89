"""The producer pipeline on the embedded cluster: batching, acks, metadata waits, retries, idempotence."""

from __future__ import annotations

import pytest

from kafkalab.broker.messages import ProduceRequest, ProduceResponse
from kafkalab.cluster import EmbeddedCluster
from kafkalab.errors import ConfigError
from kafkalab.partitioner import partition_for_key
from kafkalab.producer.producer import ProducerTimeoutError
from kafkalab.serialization import IntegerSerializer
from kafkalab.sim import Verdict


def cluster_with_topic(seed: int = 1, partitions: int = 1, brokers: int = 1) -> EmbeddedCluster:
    cluster = EmbeddedCluster(seed=seed, brokers=brokers)
    cluster.create_topic("orders", partitions=partitions)
    return cluster


def values_in_log(cluster: EmbeddedCluster, partition: int = 0) -> list[bytes]:
    return [r.value for r in cluster.fetch("orders", partition, 0)]


def drop_first(kind: type, count: int = 1):
    """A network filter that drops the first ``count`` messages of a type (a lost request or answer)."""
    dropped = []

    def fault(src, dst, message):
        if isinstance(message, kind) and len(dropped) < count:
            dropped.append(message)
            return Verdict.DROP
        return Verdict.DELIVER

    return fault


def test_keys_partitions_offsets_and_callbacks_in_order() -> None:
    cluster = cluster_with_topic(partitions=3, brokers=2)
    producer = cluster.producer()
    seen = []
    futures = [producer.send("orders", f"v{i}", key=f"k{i % 5}", callback=lambda m, e: seen.append((m.partition, m.offset))) for i in range(30)]
    producer.flush()
    assert all(f.done and f.exception is None for f in futures)
    for i, future in enumerate(futures):
        assert future.metadata.partition == partition_for_key(f"k{i % 5}".encode(), 3)
    for partition in range(3):
        offsets = [f.metadata.offset for f in futures if f.metadata.partition == partition]
        assert offsets == list(range(len(offsets)))
    assert sorted(seen) == sorted((f.metadata.partition, f.metadata.offset) for f in futures)


def test_linger_ms_trades_latency_for_bigger_batches() -> None:
    def requests_for(linger_ms: int) -> int:
        cluster = cluster_with_topic(seed=2)
        producer = cluster.producer({"linger.ms": linger_ms})
        for i in range(40):
            producer.send("orders", f"v{i}")
            cluster.advance(2)
        producer.flush()
        assert len(values_in_log(cluster)) == 40
        return len(cluster.trace.filter("producer.request"))

    assert requests_for(0) > requests_for(50) >= 1


def test_acks_0_never_learns_the_offset() -> None:
    cluster = cluster_with_topic()
    producer = cluster.producer({"acks": "0"})
    future = producer.send("orders", "fire and forget")
    producer.flush()
    assert future.metadata.offset == -1 and not producer.config.idempotent
    cluster.advance(10)
    assert values_in_log(cluster) == [b"fire and forget"]


def test_an_unknown_topic_times_out_after_max_block_ms() -> None:
    cluster = cluster_with_topic()
    producer = cluster.producer({"max.block.ms": 5000})
    with pytest.raises(ProducerTimeoutError, match="Topic nope not present in metadata after 5000 ms"):
        producer.send("nope", "x").get()


def test_serializers_and_config_errors() -> None:
    cluster = cluster_with_topic()
    producer = cluster.producer({"value.serializer": "org.apache.kafka.common.serialization.IntegerSerializer"})
    producer.send("orders", 7).get()
    assert values_in_log(cluster) == [IntegerSerializer().serialize("orders", 7)]
    with pytest.raises(ConfigError, match="did you mean linger.ms"):
        cluster.producer({"linger.msec": 1})


def test_a_lost_answer_duplicates_records_without_idempotence() -> None:
    cluster = cluster_with_topic(seed=3)
    cluster.network.add_filter(drop_first(ProduceResponse))
    producer = cluster.producer({"enable.idempotence": "false", "request.timeout.ms": 1000})
    future = producer.send("orders", "pay 100 EUR")
    producer.flush()
    assert future.metadata.offset == 1  # the retry was written again
    assert values_in_log(cluster) == [b"pay 100 EUR", b"pay 100 EUR"]


def test_idempotence_turns_the_retry_into_a_recognised_duplicate() -> None:
    cluster = cluster_with_topic(seed=3)
    cluster.network.add_filter(drop_first(ProduceResponse))
    producer = cluster.producer({"request.timeout.ms": 1000})
    future = producer.send("orders", "pay 100 EUR")
    producer.flush()
    assert future.metadata.offset == 0
    assert values_in_log(cluster) == [b"pay 100 EUR"]
    assert cluster.trace.filter("broker.produce.duplicate")


def send_five_batches(producer, cluster) -> None:
    for i in range(5):
        producer.send("orders", f"m{i}")
        cluster.advance(10)  # each record lingers alone: one batch, one request each
    producer.flush()


def test_a_lost_request_reorders_records_without_idempotence() -> None:
    cluster = cluster_with_topic(seed=4)
    cluster.network.add_filter(drop_first(ProduceRequest))
    producer = cluster.producer({"enable.idempotence": "false", "request.timeout.ms": 1000, "linger.ms": 0})
    send_five_batches(producer, cluster)
    assert values_in_log(cluster) == [b"m1", b"m0", b"m2", b"m3", b"m4"]  # m1 overtook the resent m0


def test_idempotence_keeps_order_with_five_requests_in_flight() -> None:
    cluster = cluster_with_topic(seed=4)
    cluster.network.add_filter(drop_first(ProduceRequest, count=2))  # the InitProducerId gets through; see below
    producer = cluster.producer({"request.timeout.ms": 1000, "linger.ms": 0})
    send_five_batches(producer, cluster)
    assert values_in_log(cluster) == [b"m0", b"m1", b"m2", b"m3", b"m4"]
    assert cluster.trace.filter("broker.produce.error")  # the broker refused the gap: OUT_OF_ORDER_SEQUENCE_NUMBER


def test_a_record_larger_than_max_request_size_fails_at_once() -> None:
    cluster = cluster_with_topic()
    producer = cluster.producer({"max.request.size": 1000})
    errors = []
    future = producer.send("orders", b"x" * 2000, callback=lambda m, e: errors.append(e))
    assert future.done and "larger than 1000, which is the value of the max.request.size" in str(future.exception)
    assert errors == [future.exception]


def produce_through_a_crash(acks: str, idempotent: bool, seed: int = 6):
    """Send a record every 5 ms for 1 s while the broker is down from 200 ms to 600 ms."""
    cluster = cluster_with_topic(seed=seed)
    producer = cluster.producer({"acks": acks, "enable.idempotence": str(idempotent).lower(), "request.timeout.ms": 300})
    sent = []
    for i in range(200):
        if cluster.now_ms >= 200 and cluster.brokers[0].alive and cluster.now_ms < 600:
            cluster.crash_broker(0)
        if cluster.now_ms >= 600 and not cluster.brokers[0].alive:
            cluster.restart_broker(0)
        sent.append((f"r{i}".encode(), producer.send("orders", f"r{i}")))
        cluster.advance(5)
    producer.flush()
    reported_ok = [value for value, future in sent if future.exception is None]
    return reported_ok, values_in_log(cluster)


def test_acks_0_reports_success_for_records_the_broker_never_got() -> None:
    reported_ok, log = produce_through_a_crash("0", idempotent=False)
    assert len(reported_ok) == 200
    assert len(log) < 200  # everything sent while the broker was down is gone, silently


@pytest.mark.parametrize("acks,idempotent", [("1", False), ("all", True)])
def test_acks_1_and_all_report_only_what_the_log_holds(acks: str, idempotent: bool) -> None:
    reported_ok, log = produce_through_a_crash(acks, idempotent)
    assert set(reported_ok) <= set(log)  # every success the callbacks reported is in the log
    assert len(reported_ok) == 200  # retries carried every record over the outage
    if idempotent:
        assert len(log) == len(set(log)) == 200 and log == sorted(log, key=lambda v: int(v[1:]))


def test_a_wiped_broker_loses_its_data() -> None:
    cluster = cluster_with_topic()
    cluster.produce("orders", "before")
    cluster.wipe_broker(0)
    cluster.restart_broker(0)
    assert cluster.list_offsets("orders", 0, "latest") == 0


def test_a_full_buffer_blocks_send_until_max_block_ms() -> None:
    cluster = cluster_with_topic()
    producer = cluster.producer({"buffer.memory": 2000, "batch.size": 1000, "max.block.ms": 3000, "linger.ms": 0})
    producer.send("orders", "warm-up").get()  # metadata and producer id are known
    cluster.crash_broker(0)
    futures = [producer.send("orders", b"x" * 600) for _ in range(4)]
    cluster.advance(3500)
    blocked = [f for f in futures if f.done and f.exception is not None]
    assert blocked and "Failed to allocate memory within the configured max blocking time 3000 ms" in str(blocked[0].exception)


def test_send_after_close_is_refused() -> None:
    from kafkalab.producer.accumulator import ProducerClosedError

    cluster = cluster_with_topic()
    producer = cluster.producer()
    producer.close()
    with pytest.raises(ProducerClosedError, match="after producer has been closed"):
        producer.send("orders", "late")
