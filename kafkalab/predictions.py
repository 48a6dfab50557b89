"""The course's predict-then-run questions: each a seeded experiment whose answer the learner guesses first.

The notebooks show them with ``kafkalab.widgets.predict.Predict``; docs/instructor.md lists them
with the wrong answers they usually draw and what those reveal. Every experiment runs the real
simulator (no answer is written down here), so a question stays true when the package changes.
"""

from __future__ import annotations

from kafkalab.cluster import EmbeddedCluster
from kafkalab.errors import KafkaError
from kafkalab.producer.experiments import batching_experiment
from kafkalab.serialization import StringDeserializer
from kafkalab.widgets.predict import Question


def key_partition_experiment(key: str = "customer-42", partitions: int = 6, seed: int = 1) -> int:
    """The partition a keyed record lands in on a seeded cluster (the producer's default partitioner)."""
    cluster = EmbeddedCluster(seed=seed, brokers=3)
    cluster.create_topic("orders", partitions=partitions)
    return cluster.produce("orders", "hello", key=key).partition


def resume_after_crash_experiment(seed: int = 1) -> int:
    """A group member commits after its first poll (offsets 0–3), polls 4–5, dies before committing;
    the offset its replacement in the same group reads first."""
    cluster = EmbeddedCluster(seed=seed, brokers=3)
    cluster.create_topic("orders", partitions=1)
    cluster.produce_batch("orders", [(None, f"order-{i}") for i in range(6)], partition=0)
    config = {"group.id": "billing", "auto.offset.reset": "earliest", "enable.auto.commit": False, "max.poll.records": 4}
    first = cluster.consumer(config, value_deserializer=StringDeserializer())
    first.subscribe(["orders"])
    first.poll(10_000)
    first.commit_sync()
    first.poll(10_000)  # offsets 4 and 5 are processed, never committed
    first.close()
    replacement = cluster.consumer(config, value_deserializer=StringDeserializer())
    replacement.subscribe(["orders"])
    records = list(replacement.poll(30_000))
    return records[0].offset


def offset_after_retention_experiment(seed: int = 2) -> int:
    """Chapter 01's clicks topic: 24 records two hours apart, small segments, retention.ms of two days;
    three more days pass (retention deletes every closed segment); the offset the next record gets."""
    hour = 3_600_000
    cluster = EmbeddedCluster(seed=seed)
    cluster.create_topic("clicks", partitions=1, config={"segment.bytes": 400, "retention.ms": 48 * hour})
    for i in range(24):
        cluster.produce("clicks", f"click-{i}")
        cluster.advance(2 * hour)
    cluster.advance(72 * hour)
    return cluster.produce("clicks", "click-24").offset


def write_with_too_few_in_sync_experiment(seed: int = 1) -> str:
    """RF=3, min.insync.replicas=2: both followers cut off from the leader for 50 s; what an acks=all write gets."""
    cluster = EmbeddedCluster(seed=seed, brokers=3)
    cluster.create_topic("orders", partitions=1, replication_factor=3, config={"min.insync.replicas": 2})
    cluster.produce("orders", "before")
    leader = cluster.partitions_for("orders")[0]
    for follower in (b for b in cluster.brokers if b != leader):
        cluster.network.partition([f"broker-{follower}"], [f"broker-{leader}"])
    cluster.advance(50_000)  # past replica.lag.time.max.ms: the ISR shrinks to the leader alone
    try:
        cluster.produce("orders", "after", acks=-1)
    except KafkaError as refused:
        return f"refused: {refused.error_name}"
    return "acknowledged"


def requests_for_twenty_records_experiment(linger_ms: int = 5) -> int:
    """20 small null-key records to a one-partition topic, one per millisecond: how many ProduceRequests."""
    return batching_experiment(linger_ms=linger_ms, batch_size=16384, records=20, every_ms=1, partitions=1).requests


QUESTIONS: dict[str, Question] = {
    question.id: question
    for question in (
        Question(
            id="offset-after-retention",
            prompt="The 'clicks' partition held offsets 0–23. Retention has just deleted every old segment "
                   "(only the active one is left). The next click is produced: which offset does it get?",
            run=offset_after_retention_experiment,
            choices=(0, 22, 23, 24),
            why="Offsets are never reused: the log end offset stays at 24 whatever retention deletes, and only the log start "
                "offset moves. A consumer that asks for a deleted offset gets OFFSET_OUT_OF_RANGE, not someone else's record.",
        ),
        Question(
            id="key-to-partition",
            prompt="A producer sends a record with key 'customer-42' to a topic with 6 partitions. Which partition does it land in?",
            run=key_partition_experiment,
            choices=tuple(range(6)),
            why="Kafka's default partitioner computes toPositive(murmur2(key bytes)) % 6 — the same partition on every run, "
                "every producer and every client that uses murmur2. (The course notes' abs(murmur2) % (n-1) would never pick partition 5.)",
        ),
        Question(
            id="linger-requests",
            prompt="A producer with linger.ms=5 (Kafka 4.0's default) and batch.size=16384 sends 20 small records to a "
                   "one-partition topic, one every millisecond. How many ProduceRequests does it send?",
            run=requests_for_twenty_records_experiment,
            choices=(1, 4, 17, 20),
            why="A batch is sent when it is full or has waited linger.ms. 20 records of 200 bytes never fill 16 KiB, so each batch "
                "leaves 5 ms after its first record: 4 requests (the first batch also waited for metadata). With linger.ms=0 it "
                "is 17 (a request for almost every record while the previous one is in flight); with linger.ms=20, one.",
        ),
        Question(
            id="resume-after-crash",
            prompt="A consumer in group 'billing' polls offsets 0–3 and commits, polls 4–5 and crashes before committing again. "
                   "Another member of 'billing' takes over the partition. Which offset does it read first?",
            run=resume_after_crash_experiment,
            choices=(0, 3, 4, 5, 6),
            why="A new owner starts at the group's committed offset, which is the next offset to read (4), not the last one "
                "processed (3). Records 4 and 5 are processed twice: this is at-least-once delivery.",
        ),
        Question(
            id="too-few-in-sync",
            prompt="A partition has 3 replicas and min.insync.replicas=2. Both followers have been cut off from the leader "
                   "for 50 s. A producer with acks=all writes to it. What happens?",
            run=write_with_too_few_in_sync_experiment,
            choices=("acknowledged", "refused: NOT_ENOUGH_REPLICAS", "refused: NOT_LEADER_OR_FOLLOWER"),
            why="After replica.lag.time.max.ms (30 s) the leader removed both followers from the ISR. With fewer in-sync "
                "replicas than min.insync.replicas, the leader refuses acks=all writes before appending them "
                "(NOT_ENOUGH_REPLICAS): availability is traded for durability. acks=1 would still be accepted.",
        ),
    )
}
