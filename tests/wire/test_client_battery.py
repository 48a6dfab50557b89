"""Real Kafka clients against a broker over TCP: what works on Apache Kafka must work on kafkalab.

Every test runs once per broker (conftest.py: apache-kafka, kafkalab) with its own topic. The
clients: kcat (librdkafka in C, Debian's), confluent-kafka (librdkafka), kafka-python and aiokafka
(pure Python), Kafka's Java client (tools/kafka-reference, JavaClientBattery) and Kafka's own
kafka-topics tool. The checks are the ones an application relies on: a keyed record lands in the
partition the Java client's murmur2 partitioner picks (kafkalab.partitioner.partition_for_key),
each partition is read back in the order it was written, a group splits partitions between its
members, and a new member resumes from the committed offset.

Kafka: clients/src/main/java/org/apache/kafka/clients/producer/internals/BuiltInPartitioner.java,
the classic group protocol (JoinGroup / SyncGroup / Heartbeat, OffsetCommit / OffsetFetch).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Callable, NamedTuple

import pytest

import apache_kafka
from kafkalab.partitioner import partition_for_key

if TYPE_CHECKING:
    from conftest import Broker

TIMEOUT_S = 30.0
PARTITIONS = 3

# Consumers in groups: short sessions so a rebalance never waits long (Kafka's minimum is 6 s).
GROUP_SETTINGS = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


class Record(NamedTuple):
    partition: int
    offset: int
    key: bytes
    value: bytes


# -- helpers -----------------------------------------------------------------------------------------
def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def keyed_records(count: int) -> list[tuple[bytes, bytes]]:
    return [(f"key-{i}".encode(), f"value-{i}".encode()) for i in range(count)]


def check_murmur2_partitions(records: list[Record], partitions: int) -> None:
    """Each keyed record sits in toPositive(murmur2(key)) % partitions, as the Java client puts it."""
    wrong = [(r.key, r.partition, partition_for_key(r.key, partitions)) for r in records
             if r.partition != partition_for_key(r.key, partitions)]
    assert not wrong, f"records in another partition than murmur2 picks (key, got, expected): {wrong[:5]}"


def check_read_back_in_order(produced: list[tuple[bytes, bytes]], consumed: list[Record], partitions: int) -> None:
    """All records came back once, each partition in production order at offsets 0, 1, 2, ..."""
    assert sorted((r.key, r.value) for r in consumed) == sorted(produced), "consumed records differ from the produced ones"
    by_partition: dict[int, list[Record]] = defaultdict(list)
    for record in consumed:
        by_partition[record.partition].append(record)
    for partition, records in by_partition.items():
        assert [r.offset for r in records] == list(range(len(records))), f"partition {partition}: offsets {[r.offset for r in records]}"
        expected = [(k, v) for k, v in produced if partition_for_key(k, partitions) == partition]
        assert [(r.key, r.value) for r in records] == expected, f"partition {partition} read back out of order"


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting until {what}"
        time.sleep(0.1)


# -- confluent-kafka (librdkafka) ----------------------------------------------------------------------
def confluent_create_topic(bootstrap: str, topic: str, partitions: int = PARTITIONS) -> None:
    """AdminClient.create_topics, then wait until every partition has a leader in the metadata."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(TIMEOUT_S)

    def has_leaders() -> bool:
        found = admin.list_topics(topic, timeout=TIMEOUT_S).topics.get(topic)
        return (found is not None and found.error is None and len(found.partitions) == partitions
                and all(p.leader >= 0 for p in found.partitions.values()))

    wait_until(has_leaders, f"{topic} has a leader for each of its {partitions} partitions")


def confluent_produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> list[Record]:
    """Produce keyed records with the Java client's partitioner (librdkafka's default is CRC32)."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "linger.ms": 5})
    delivered: list[Record] = []
    errors: list[str] = []

    def on_delivery(error, message) -> None:  # noqa: ANN001 - librdkafka's callback
        if error is not None:
            errors.append(str(error))
        else:
            delivered.append(Record(message.partition(), message.offset(), message.key(), message.value()))

    for key, value in records:
        producer.produce(topic, value, key, on_delivery=on_delivery)
    remaining = producer.flush(TIMEOUT_S)
    assert remaining == 0 and not errors, f"{remaining} records undelivered, errors: {errors[:3]}"
    return delivered


def confluent_consumer(bootstrap: str, group: str, **settings: object):  # noqa: ANN201 - confluent_kafka.Consumer
    from confluent_kafka import Consumer

    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False, **GROUP_SETTINGS, **settings})


def poll_records(consumers: list, count: int, timeout_s: float = TIMEOUT_S) -> list[list[Record]]:  # noqa: ANN001
    """Poll confluent-kafka consumers in turn until they received count records between them."""
    received: list[list[Record]] = [[] for _ in consumers]
    deadline = time.monotonic() + timeout_s
    while sum(map(len, received)) < count:
        assert time.monotonic() < deadline, f"received {sum(map(len, received))} of {count} records in {timeout_s} s"
        for consumer, into in zip(consumers, received):
            message = consumer.poll(0.1)
            if message is None:
                continue
            assert message.error() is None, f"consumer error: {message.error()}"
            into.append(Record(message.partition(), message.offset(), message.key(), message.value()))
    return received


def confluent_consume(bootstrap: str, topic: str, count: int) -> list[Record]:
    consumer = confluent_consumer(bootstrap, unique("group"))
    consumer.subscribe([topic])
    try:
        return poll_records([consumer], count)[0]
    finally:
        consumer.close()


# -- kafka-python ----------------------------------------------------------------------------------------
def kafka_python_produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> list[Record]:
    """kafka-python 3's KafkaProducer: idempotent (acks=all) by default, murmur2 partitioner."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    try:
        futures = [(key, value, producer.send(topic, key=key, value=value)) for key, value in records]
        producer.flush(TIMEOUT_S)
        delivered = []
        for key, value, future in futures:
            metadata = future.get(TIMEOUT_S)
            delivered.append(Record(metadata.partition, metadata.offset, key, value))
        return delivered
    finally:
        producer.close(TIMEOUT_S)


def kafka_python_consume(bootstrap: str, topic: str, count: int) -> list[Record]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=unique("group"), auto_offset_reset="earliest",
                             enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=500)
    try:
        received: list[Record] = []
        deadline = time.monotonic() + TIMEOUT_S
        while len(received) < count:
            assert time.monotonic() < deadline, f"kafka-python received {len(received)} of {count} records"
            for messages in consumer.poll(timeout_ms=200).values():
                received.extend(Record(m.partition, m.offset, m.key, m.value) for m in messages)
        return received
    finally:
        consumer.close()


# -- aiokafka ----------------------------------------------------------------------------------------------
async def aiokafka_produce_async(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> list[Record]:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        delivered = []
        for (key, value), future in zip(records, futures):
            metadata = await asyncio.wait_for(future, TIMEOUT_S)
            delivered.append(Record(metadata.partition, metadata.offset, key, value))
        return delivered
    finally:
        await producer.stop()


async def aiokafka_consume_async(bootstrap: str, topic: str, count: int, group: str | None = None,
                                 commit: bool = False) -> tuple[list[Record], dict[int, int | None]]:
    """Consume count records in a group; commit them if asked; return them and the committed offsets."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group or unique("group"),
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                session_timeout_ms=6000, heartbeat_interval_ms=500)
    await consumer.start()
    try:
        received: list[Record] = []
        deadline = time.monotonic() + TIMEOUT_S
        while len(received) < count:
            assert time.monotonic() < deadline, f"aiokafka received {len(received)} of {count} records"
            batches = await consumer.getmany(timeout_ms=200)
            for messages in batches.values():
                received.extend(Record(m.partition, m.offset, m.key, m.value) for m in messages)
        committed: dict[int, int | None] = {}
        if commit:
            await consumer.commit()
            for partition in consumer.assignment():
                committed[partition.partition] = await consumer.committed(TopicPartition(topic, partition.partition))
        return received, committed
    finally:
        await consumer.stop()


def aiokafka_produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> list[Record]:
    return asyncio.run(aiokafka_produce_async(bootstrap, topic, records))


def aiokafka_consume(bootstrap: str, topic: str, count: int) -> list[Record]:
    return asyncio.run(aiokafka_consume_async(bootstrap, topic, count))[0]


# -- kcat --------------------------------------------------------------------------------------------------
def kcat_run(kcat: str, args: list[str], stdin: bytes = b"") -> bytes:
    done = subprocess.run([kcat, *args], input=stdin, capture_output=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, f"kcat {' '.join(args)} failed (exit {done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}"
    return done.stdout


def kcat_produce(kcat: str, bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    """kcat -P -K: with the Java client's partitioner; kcat exits once every record is delivered."""
    lines = b"".join(key + b":" + value + b"\n" for key, value in records)
    kcat_run(kcat, ["-P", "-b", bootstrap, "-t", topic, "-K:", "-X", "partitioner=murmur2_random"], lines)


def kcat_consume(kcat: str, bootstrap: str, topic: str) -> list[Record]:
    """kcat -C -e -o beginning: every partition from its start to its end, then exit."""
    out = kcat_run(kcat, ["-C", "-b", bootstrap, "-t", topic, "-e", "-o", "beginning", "-q", "-f", r"%p %o %k %s\n"])
    records = []
    for line in out.decode().splitlines():
        partition, offset, key, value = line.split(" ")
        records.append(Record(int(partition), int(offset), key.encode(), value.encode()))
    return records


# -- kcat ------------------------------------------------------------------------------------------
def test_kcat_lists_metadata(broker: Broker, kcat: str) -> None:
    topic = unique("kcat-metadata")
    confluent_create_topic(broker.bootstrap, topic)
    metadata = json.loads(kcat_run(kcat, ["-L", "-J", "-b", broker.bootstrap]))
    assert [(b["id"], b["name"]) for b in metadata["brokers"]] == [(1, broker.bootstrap)]
    listed = {t["topic"]: t for t in metadata["topics"]}
    assert topic in listed, f"kcat -L does not list {topic}: {sorted(listed)}"
    partitions = listed[topic]["partitions"]
    assert sorted(p["partition"] for p in partitions) == list(range(PARTITIONS))
    assert all(p["leader"] == 1 and [r["id"] for r in p["replicas"]] == [1] for p in partitions), partitions


def test_kcat_produces_and_consumes_keyed_records(broker: Broker, kcat: str) -> None:
    topic = unique("kcat-keyed")
    confluent_create_topic(broker.bootstrap, topic)
    records = keyed_records(30)
    kcat_produce(kcat, broker.bootstrap, topic, records)
    consumed = kcat_consume(kcat, broker.bootstrap, topic)
    check_murmur2_partitions(consumed, PARTITIONS)
    check_read_back_in_order(records, consumed, PARTITIONS)


# -- confluent-kafka -------------------------------------------------------------------------------
def test_confluent_admin_creates_lists_describes_and_deletes_topics(broker: Broker) -> None:
    from confluent_kafka import TopicCollection
    from confluent_kafka.admin import AdminClient

    topic = unique("confluent-admin")
    confluent_create_topic(broker.bootstrap, topic, partitions=4)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    listed = admin.list_topics(timeout=TIMEOUT_S)
    assert topic in listed.topics
    assert [(b.id, f"{b.host}:{b.port}") for b in listed.brokers.values()] == [(1, broker.bootstrap)]
    assert listed.controller_id == 1, "Metadata must name the controller (create_topics waits for it)"

    description = admin.describe_topics(TopicCollection([topic]))[topic].result(TIMEOUT_S)
    assert description.name == topic
    assert [p.id for p in description.partitions] == [0, 1, 2, 3]
    assert all(p.leader.id == 1 and [r.id for r in p.replicas] == [1] and [r.id for r in p.isr] == [1]
               for p in description.partitions)

    admin.delete_topics([topic])[topic].result(TIMEOUT_S)
    wait_until(lambda: topic not in admin.list_topics(timeout=TIMEOUT_S).topics, f"{topic} is gone from the metadata")


def test_confluent_producer_partitions_keys_with_murmur2(broker: Broker) -> None:
    topic = unique("confluent-murmur2")
    confluent_create_topic(broker.bootstrap, topic, partitions=5)
    delivered = confluent_produce(broker.bootstrap, topic, keyed_records(100))
    assert len(delivered) == 100
    check_murmur2_partitions(delivered, 5)
    for partition in range(5):
        offsets = sorted(r.offset for r in delivered if r.partition == partition)
        assert offsets == list(range(len(offsets))), f"partition {partition}: offsets {offsets}"


def test_confluent_group_consumer_reads_each_partition_in_order(broker: Broker) -> None:
    topic = unique("confluent-order")
    confluent_create_topic(broker.bootstrap, topic)
    records = keyed_records(60)
    confluent_produce(broker.bootstrap, topic, records)
    consumed = confluent_consume(broker.bootstrap, topic, len(records))
    check_read_back_in_order(records, consumed, PARTITIONS)


def test_confluent_two_consumers_in_a_group_split_the_partitions(broker: Broker) -> None:
    topic = unique("confluent-rebalance")
    group = unique("group")
    confluent_create_topic(broker.bootstrap, topic, partitions=4)
    first = confluent_consumer(broker.bootstrap, group)
    second = confluent_consumer(broker.bootstrap, group)
    try:
        first.subscribe([topic])
        wait_until(lambda: first.poll(0.1) is None and len(first.assignment()) == 4, "the first member owns all 4 partitions")
        second.subscribe([topic])

        def split() -> bool:
            first.poll(0.1)
            second.poll(0.1)
            mine = {p.partition for p in first.assignment()}
            theirs = {p.partition for p in second.assignment()}
            return bool(mine) and bool(theirs) and not mine & theirs and mine | theirs == {0, 1, 2, 3}

        wait_until(split, "the two members split the 4 partitions")
        owned = [{p.partition for p in consumer.assignment()} for consumer in (first, second)]
        records = keyed_records(40)
        confluent_produce(broker.bootstrap, topic, records)
        received = poll_records([first, second], len(records))
        for member, (partitions, got) in enumerate(zip(owned, received)):
            assert {r.partition for r in got} <= partitions, f"member {member} read partitions it does not own"
        check_read_back_in_order(records, received[0] + received[1], 4)
    finally:
        first.close()
        second.close()


def test_confluent_offsets_for_times_finds_the_first_record_at_or_after_a_timestamp(broker: Broker) -> None:
    """ListOffsets with a timestamp (KIP-79): the broker looks it up in its time index."""
    from confluent_kafka import Producer, TopicPartition

    topic = unique("by-time")
    confluent_create_topic(broker.bootstrap, topic, 1)
    base = int(time.time() * 1000) - 60_000  # a minute ago: well inside log.message.timestamp.*.ms
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    for i in range(6):
        producer.produce(topic, f"at +{i}s".encode(), partition=0, timestamp=base + i * 1000)
        producer.flush(TIMEOUT_S)  # one batch per record: each is found by its own timestamp
    consumer = confluent_consumer(broker.bootstrap, unique("group"))
    try:
        def offset_at(timestamp: int) -> int:
            [found] = consumer.offsets_for_times([TopicPartition(topic, 0, timestamp)], timeout=TIMEOUT_S)
            assert found.error is None, found.error
            return found.offset

        assert offset_at(base) == 0
        assert offset_at(base + 2500) == 3  # the first record stamped at or after it
        assert offset_at(base + 5000) == 5
        assert offset_at(base + 60_000) == -1  # nothing that new: the end of the log (OFFSET_END)
    finally:
        consumer.close()


def test_confluent_new_consumer_resumes_from_committed_offset(broker: Broker) -> None:
    from confluent_kafka import TopicPartition

    topic = unique("confluent-commit")
    group = unique("group")
    confluent_create_topic(broker.bootstrap, topic, partitions=1)
    records = keyed_records(20)
    confluent_produce(broker.bootstrap, topic, records)

    first = confluent_consumer(broker.bootstrap, group)
    first.subscribe([topic])
    try:
        read = poll_records([first], 10)[0][:10]
        assert [r.offset for r in read] == list(range(10))
        first.commit(offsets=[TopicPartition(topic, 0, 10)], asynchronous=False)
    finally:
        first.close()

    second = confluent_consumer(broker.bootstrap, group)
    second.subscribe([topic])
    try:
        [committed] = second.committed([TopicPartition(topic, 0)], timeout=TIMEOUT_S)
        assert committed.offset == 10
        resumed = poll_records([second], 10)[0]
        assert [r.offset for r in resumed] == list(range(10, 20))
        assert [(r.key, r.value) for r in resumed] == records[10:]
    finally:
        second.close()


# -- kafka-python ----------------------------------------------------------------------------------
def test_kafka_python_admin_producer_and_consumer(broker: Broker) -> None:
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
    from kafka.admin import NewTopic

    topic = unique("kafka-python")
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        admin.create_topics([NewTopic(topic, PARTITIONS, 1)], timeout_ms=int(TIMEOUT_S * 1000))
        wait_until(lambda: topic in admin.list_topics(), f"kafka-python lists {topic}")
        records = keyed_records(30)
        delivered = kafka_python_produce(broker.bootstrap, topic, records)  # idempotent: InitProducerId first
        check_murmur2_partitions(delivered, PARTITIONS)

        group = unique("group")
        consumer = KafkaConsumer(topic, bootstrap_servers=broker.bootstrap, group_id=group, auto_offset_reset="earliest",
                                 enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=500)
        try:
            consumed: list[Record] = []
            deadline = time.monotonic() + TIMEOUT_S
            while len(consumed) < len(records):
                assert time.monotonic() < deadline, f"kafka-python received {len(consumed)} of {len(records)}"
                for messages in consumer.poll(timeout_ms=200).values():
                    consumed.extend(Record(m.partition, m.offset, m.key, m.value) for m in messages)
            check_read_back_in_order(records, consumed, PARTITIONS)
            consumer.commit()
            for partition in range(PARTITIONS):
                count = sum(1 for r in consumed if r.partition == partition)
                assert consumer.committed(TopicPartition(topic, partition)) == count
        finally:
            consumer.close()
        admin.delete_topics([topic], timeout_ms=int(TIMEOUT_S * 1000))
    finally:
        admin.close()


# -- aiokafka --------------------------------------------------------------------------------------
def test_aiokafka_producer_and_group_consumer(broker: Broker) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = unique("aiokafka")
    records = keyed_records(30)

    async def scenario() -> tuple[list[Record], list[Record], dict[int, int | None]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
        finally:
            await admin.close()
        delivered = await aiokafka_produce_async(broker.bootstrap, topic, records)
        consumed, committed = await aiokafka_consume_async(broker.bootstrap, topic, len(records), commit=True)
        return delivered, consumed, committed

    delivered, consumed, committed = asyncio.run(scenario())
    check_murmur2_partitions(delivered, PARTITIONS)
    check_read_back_in_order(records, consumed, PARTITIONS)
    counts = {p: sum(1 for r in consumed if r.partition == p) for p in range(PARTITIONS)}
    assert committed == counts, f"committed offsets {committed}, records per partition {counts}"


# -- Kafka's Java client and tools -------------------------------------------------------------------
def test_java_client_battery(broker: Broker, kafka_tools: None) -> None:
    """KafkaProducer / KafkaConsumer / Admin from kafka-clients (tools/kafka-reference/JavaClientBattery.java)."""
    done = apache_kafka.run_java_battery(broker.bootstrap, unique("java"))
    assert done.returncode == 0 and done.stdout.rstrip().endswith("OK"), \
        f"JavaClientBattery failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"

    def lines(kind: str) -> list[list[str]]:
        return [line.split(" ")[1:] for line in done.stdout.splitlines() if line.startswith(kind + " ")]

    [[_topic, partitions_text]] = lines("topic")
    partitions = int(partitions_text)
    assert partitions == 3
    produced = [Record(int(partition), int(offset), key.encode(), b"") for key, partition, offset in lines("produced")]
    consumed = [Record(int(partition), int(offset), key.encode(), b"") for key, partition, offset in lines("consumed")]
    assert len(produced) == 30, f"JavaClientBattery produced {len(produced)} records, not 30"
    check_murmur2_partitions(produced, partitions)  # the Java client's own partitioner agrees with kafkalab's
    assert sorted(consumed) == sorted(produced)
    for partition in range(partitions):
        offsets = [r.offset for r in consumed if r.partition == partition]
        assert offsets == list(range(len(offsets))), f"partition {partition}: offsets {offsets}"
    committed = {int(partition): int(offset) for partition, offset in lines("committed")}
    assert committed == {p: sum(1 for r in consumed if r.partition == p) for p in range(partitions)}


def test_kafka_topics_creates_lists_describes_and_deletes(broker: Broker, kafka_tools: None) -> None:
    topic = unique("kafka-topics")
    server = ["--bootstrap-server", broker.bootstrap]

    def kafka_topics(*args: str) -> str:
        done = apache_kafka.kafka_topics([*server, *args])
        assert done.returncode == 0, f"kafka-topics {' '.join(args)} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}"
        return done.stdout

    assert f"Created topic {topic}." in kafka_topics("--create", "--topic", topic, "--partitions", "3", "--replication-factor", "1")
    assert topic in kafka_topics("--list").split()
    described = kafka_topics("--describe", "--topic", topic)
    assert f"Topic: {topic}\t" in described and "PartitionCount: 3" in described and "ReplicationFactor: 1" in described
    partition_lines = [line for line in described.splitlines() if "Partition: " in line]
    assert len(partition_lines) == 3 and all("Leader: 1" in line and "Isr: 1" in line for line in partition_lines), described
    kafka_topics("--delete", "--topic", topic)
    wait_until(lambda: topic not in kafka_topics("--list").split(), f"kafka-topics --list no longer shows {topic}")


# -- one client writes, another reads ---------------------------------------------------------------
PRODUCERS: dict[str, Callable[[str, str, list[tuple[bytes, bytes]]], object]] = {
    "confluent-kafka": confluent_produce,
    "kafka-python": kafka_python_produce,
    "aiokafka": aiokafka_produce,
}
CONSUMERS: dict[str, Callable[[str, str, int], list[Record]]] = {
    "confluent-kafka": confluent_consume,
    "kafka-python": kafka_python_consume,
    "aiokafka": aiokafka_consume,
}
CROSS = [("kafka-python", "confluent-kafka"), ("confluent-kafka", "aiokafka"), ("aiokafka", "kafka-python"),
         ("kcat", "kafka-python"), ("confluent-kafka", "kcat")]


@pytest.mark.parametrize(("producer", "consumer"), CROSS, ids=[f"{p}-to-{c}" for p, c in CROSS])
def test_one_client_produces_another_consumes(broker: Broker, producer: str, consumer: str,
                                              request: pytest.FixtureRequest) -> None:
    topic = unique(f"cross-{producer}-{consumer}")
    confluent_create_topic(broker.bootstrap, topic)
    records = keyed_records(30)
    if producer == "kcat":
        kcat_produce(request.getfixturevalue("kcat"), broker.bootstrap, topic, records)
    else:
        PRODUCERS[producer](broker.bootstrap, topic, records)
    if consumer == "kcat":
        consumed = kcat_consume(request.getfixturevalue("kcat"), broker.bootstrap, topic)
    else:
        consumed = CONSUMERS[consumer](broker.bootstrap, topic, len(records))
    check_murmur2_partitions(consumed, PARTITIONS)
    check_read_back_in_order(records, consumed, PARTITIONS)
