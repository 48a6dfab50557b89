"""The exercise catalog: which parts of the package a learner rewrites, and where they read about it.

Each exercise is a set of top-level functions or classes of one package module. Inside them, the
reference code marks the bodies a learner writes with ``# BEGIN EXERCISE <id>`` and
``# END EXERCISE``. The generator copies the symbols into ``solutions/<file>`` (as they are) and
into ``exercises/<file>`` (marked bodies replaced by ``raise NotImplementedError``); the grader's
checks for an exercise live in ``kafkalab/grading/exercise_checks/<id>.py``.

An entry::

    Exercise(
        id="ex02_partitioner",                      # also the file name: exercises/ex02_partitioner.py
        title="Keys to partitions: …",              # one line, shown in reports and `kafkalab exercises list`
        notebook="notebooks/02-….ipynb",            # the chapter that narrates it (named in the stubs)
        module="kafkalab.partitioner.murmur2",      # the package module holding the reference code
        symbols=("murmur2", "to_positive", ...),    # its top-level functions/classes, in file order
        summary="Write …",                          # what the learner writes (the stub's docstring)
        points=10,                                  # the exercise's total; its checks' points must add up to it
    )
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    notebook: str
    module: str
    symbols: tuple[str, ...]
    summary: str
    points: int

    @property
    def file_name(self) -> str:
        """The file's name in both ``exercises/`` and ``solutions/``."""
        return f"{self.id}.py"


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="ex01_partition_log",
        title="A partition log: offsets, reads and retention",
        notebook="notebooks/01-the-distributed-log.ipynb",
        module="kafkalab.log.partition_log",
        symbols=("PartitionLog",),
        summary=(
            "Write PartitionLog.append (give records the next offsets, roll the segment when needed), "
            "PartitionLog.read (records from an offset; OFFSET_OUT_OF_RANGE outside the log) and "
            "PartitionLog.delete_retention_breached_segments (retention.ms and retention.bytes, whole segments)."
        ),
        points=10,
    ),
    Exercise(
        id="ex02_partitioner",
        title="Keys to partitions: murmur2, toPositive, partitionForKey",
        notebook="notebooks/02-producers-messages-and-keys.ipynb",
        module="kafkalab.partitioner.murmur2",
        symbols=("murmur2", "to_positive", "partition_for_key"),
        summary="Write Kafka's murmur2 (Java int arithmetic), toPositive, and partition_for_key.",
        points=10,
    ),
    Exercise(
        id="ex03_record_batch",
        title="The record batch encoder (format v2)",
        notebook="notebooks/02-producers-messages-and-keys.ipynb",
        module="kafkalab.record.batch",
        symbols=("encode_record", "encode_batch"),
        summary="Write encode_record (varints, nullable key/value, headers) and encode_batch (header, CRC-32C).",
        points=10,
    ),
)

EXERCISES += (
    Exercise(
        id="ex04_sticky_partitioner",
        title="The built-in uniform sticky partitioner (KIP-794)",
        notebook="notebooks/03-the-producer.ipynb",
        module="kafkalab.partitioner.strategies",
        symbols=("partition_load_stats", "UniformStickyPartitioner"),
        summary=(
            "Write partition_load_stats (the cumulative frequency table from queue sizes), and "
            "UniformStickyPartitioner.next_partition and .record_appended (switch after batch.size bytes, "
            "or 2 x batch.size while the batch is not full)."
        ),
        points=10,
    ),
    Exercise(
        id="ex05_accumulator",
        title="The RecordAccumulator: which batches are ready, and draining them",
        notebook="notebooks/03-the-producer.ipynb",
        module="kafkalab.producer.accumulator",
        symbols=("RecordAccumulator",),
        summary=(
            "Write RecordAccumulator.ready (full, linger.ms expired, memory exhausted, flushing or closing; "
            "retries wait retry.backoff.ms) and RecordAccumulator.drain (one batch per partition, "
            "round-robin per broker, up to max.request.size)."
        ),
        points=10,
    ),
    Exercise(
        id="ex06_idempotence",
        title="The broker's idempotence check: producer ids, epochs, sequences",
        notebook="notebooks/03-the-producer.ipynb",
        module="kafkalab.broker.producer_state",
        symbols=("ProducerStateManager",),
        summary=(
            "Write ProducerStateManager.check: new producers start at sequence 0, an old epoch is fenced, "
            "a repeat of one of the last five batches is a duplicate, anything else out of order is refused."
        ),
        points=10,
    ),
)

EXERCISES += (
    Exercise(
        id="ex07_assignors",
        title="Partition assignors: range and round robin",
        notebook="notebooks/04-consumers-and-groups.ipynb",
        module="kafkalab.consumer.assignors",
        symbols=("range_assign", "roundrobin_assign"),
        summary=(
            "Write range_assign (per topic, contiguous ranges to the sorted subscribed members; the first "
            "partitions % members get one more) and roundrobin_assign (all subscribed partitions, sorted, dealt "
            "to the sorted members in turn, skipping members not subscribed to the topic). Every member id "
            "appears in the result."
        ),
        points=10,
    ),
    Exercise(
        id="ex08_at_least_once",
        title="A commit strategy that loses nothing when the consumer crashes",
        notebook="notebooks/04-consumers-and-groups.ipynb",
        module="kafkalab.consumer.delivery",
        symbols=("at_least_once",),
        summary=(
            "Write at_least_once(records, process, commit): the order of processing and committing that "
            "never loses a record when the application crashes, and repeats at most one poll's records."
        ),
        points=10,
    ),
    Exercise(
        id="ex09_read_committed",
        title="read_committed: hiding aborted transactions from consumers",
        notebook="notebooks/04-consumers-and-groups.ipynb",
        module="kafkalab.consumer.read_committed",
        symbols=("visible_records",),
        summary=(
            "Write visible_records(records, aborted_transactions): walking the fetched records in offset order, "
            "drop control records (COMMIT/ABORT markers) and the transactional records of each aborted "
            "transaction — from its first offset until its producer's ABORT marker; keep everything else."
        ),
        points=10,
    ),
    Exercise(
        id="ex10_sticky_assignor",
        title="Stretch: the sticky assignor (members keep their partitions)",
        notebook="notebooks/04-consumers-and-groups.ipynb",
        module="kafkalab.consumer.sticky",
        symbols=("constrained_assign",),
        summary=(
            "Stretch exercise. Write constrained_assign, Kafka's ConstrainedAssignmentBuilder: with n partitions "
            "and m members, every member keeps up to its quota (n // m, or one more for the first n % m members "
            "that own that many) of what it owned, lowest partition numbers first; the rest is dealt round robin "
            "to the members under the minimum quota (sorted), then to those at exactly the minimum. Report the "
            "partitions that change owner."
        ),
        points=10,
    ),
)

EXERCISES += (
    Exercise(
        id="ex11_high_watermark_isr",
        title="The leader's bookkeeping: high watermark and ISR",
        notebook="notebooks/05-brokers-and-replication.ipynb",
        module="kafkalab.broker.partition",
        symbols=("Partition",),
        summary=(
            "Write Partition.maybe_increment_high_watermark (the smallest log end offset over the ISR; never "
            "backwards; held while the ISR is smaller than min.insync.replicas), Partition.follower_in_sync "
            "(caught up to the high watermark and to this epoch's start) and Partition.isr_to_shrink (followers "
            "that have not caught up within replica.lag.time.max.ms leave)."
        ),
        points=10,
    ),
    Exercise(
        id="ex12_leader_election",
        title="Choosing a new leader",
        notebook="notebooks/05-brokers-and-replication.ipynb",
        module="kafkalab.broker.controller",
        symbols=("choose_leader",),
        summary=(
            "Write choose_leader(replicas, isr, fenced, unclean_allowed): the first replica, in replica order, "
            "that is in the ISR and not fenced; otherwise a live out-of-sync replica only if unclean election is "
            "allowed; otherwise -1."
        ),
        points=10,
    ),
    Exercise(
        id="ex13_epoch_truncation",
        title="Truncation by leader epoch (KIP-101)",
        notebook="notebooks/05-brokers-and-replication.ipynb",
        module="kafkalab.broker.partition",
        symbols=("epoch_end_offset",),
        summary=(
            "Write epoch_end_offset(epoch_cache, epoch, log_end_offset): the largest known epoch not after "
            "``epoch`` and the offset where it ended (where the next known epoch starts, or the log end offset "
            "for the latest); (-1, -1) for an epoch older than any known."
        ),
        points=10,
    ),
    Exercise(
        id="ex14_raft_vote",
        title="Raft votes in KRaft: one per epoch, for an up-to-date log",
        notebook="notebooks/07-kraft-the-controller-quorum.ipynb",
        module="kafkalab.raft.rules",
        symbols=("is_log_up_to_date", "can_grant_vote"),
        summary=(
            "Write is_log_up_to_date (epoch first, then offset) and can_grant_vote(voter, request): one vote per "
            "epoch (the same candidate may ask again), only for a log at least as up to date, never while a "
            "leader of the epoch is known; a pre-vote (KIP-996) promises nothing."
        ),
        points=10,
    ),
    Exercise(
        id="ex15_raft_commit",
        title="The KRaft leader's high watermark (and Raft's Figure 8)",
        notebook="notebooks/07-kraft-the-controller-quorum.ipynb",
        module="kafkalab.raft.rules",
        symbols=("leader_high_watermark",),
        summary=(
            "Write leader_high_watermark(voter_end_offsets, epoch_start_offset, high_watermark): the largest end "
            "offset a majority of voters have reached, only once it is past the start of the leader's epoch, "
            "never backwards."
        ),
        points=10,
    ),
    Exercise(
        id="ex16_zk_controller_election",
        title="Electing Kafka's controller through ZooKeeper",
        notebook="notebooks/06-zookeeper-and-kafkas-zookeeper-mode.ipynb",
        module="kafkalab.zookeeper.kafka_zk_mode",
        symbols=("elect",),
        summary=(
            "Write elect(broker), KafkaController.elect: read /controller with a watch; remember the controller "
            "it names (resigning if this broker thought it was the controller); if there is none, try to become "
            "the controller. Graded by ZooKeeper-mode clusters whose brokers all use your election."
        ),
        points=10,
    ),
    Exercise(
        id="ex17_raft_log_agreement",
        title="Log agreement in KRaft: diverging epochs and truncation (Raft's Figure 7)",
        notebook="notebooks/07-kraft-the-controller-quorum.ipynb",
        module="kafkalab.raft.log",
        symbols=("end_offset_for_epoch", "diverging_epoch", "truncation_offset"),
        summary=(
            "Write end_offset_for_epoch(epoch_starts, log_end_offset, epoch) (the largest epoch not after "
            "``epoch`` and where it ends), the leader's diverging_epoch(epoch_starts, log_end_offset, fetch_offset, "
            "last_fetched_epoch) (None when a follower's fetch agrees with its log, else its diverging epoch and "
            "end offset) and the follower's truncation_offset(epoch_starts, log_end_offset, diverging). Graded by "
            "quorums whose nodes all use them, under faults and an unreliable network."
        ),
        points=10,
    ),
)

EXERCISES_BY_ID = {exercise.id: exercise for exercise in EXERCISES}


class UnknownExerciseError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise called ``exercise_id``; an unknown id names the closest known one."""
    if exercise_id in EXERCISES_BY_ID:
        return EXERCISES_BY_ID[exercise_id]
    close = difflib.get_close_matches(exercise_id, list(EXERCISES_BY_ID), n=1, cutoff=0.3)
    hint = f" — did you mean {close[0]}?" if close else ""
    raise UnknownExerciseError(f"unknown exercise {exercise_id!r}{hint} (known: {', '.join(EXERCISES_BY_ID)})")
