"""The course's predict-then-run questions: each a seeded experiment whose answer the learner guesses first.

The notebooks show them with ``kafkalab.widgets.predict.Predict``; docs/instructor.md lists them
with the wrong answers they usually draw and what those reveal. Every experiment runs the real
simulator (no answer is written down here), so a question stays true when the package changes.
"""

from __future__ import annotations

from kafkalab.cluster import EmbeddedCluster
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


QUESTIONS: dict[str, Question] = {
    question.id: question
    for question in (
        Question(
            id="key-to-partition",
            prompt="A producer sends a record with key 'customer-42' to a topic with 6 partitions. Which partition does it land in?",
            run=key_partition_experiment,
            choices=tuple(range(6)),
            why="Kafka's default partitioner computes toPositive(murmur2(key bytes)) % 6 — the same partition on every run, "
                "every producer and every client that uses murmur2. (The course notes' abs(murmur2) % (n-1) would never pick partition 5.)",
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
    )
}
