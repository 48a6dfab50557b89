"""Checks for ex06_idempotence: the broker's sequence check, then a lossy network where brokers
use the learner's check and an idempotent producer must still write everything exactly once."""

from __future__ import annotations

from types import ModuleType

from kafkalab.broker.producer_state import BatchMetadata
from kafkalab.cluster import EmbeddedCluster
from kafkalab.errors import InvalidProducerEpochError, OutOfOrderSequenceNumberError
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed, expect_equal, expect_raises
from kafkalab.record import Record, RecordBatch

EXERCISE = "ex06_idempotence"


def batch(producer_id: int, epoch: int, sequence: int, count: int = 2) -> RecordBatch:
    return RecordBatch.of([Record(None, b"x")] * count, producer_id=producer_id, producer_epoch=epoch, base_sequence=sequence)


def expect_error(state, given: RecordBatch, error: type, what: str) -> None:
    expect_raises(lambda: state.check(given), error, what)


def appended(state, given: RecordBatch, first_offset: int) -> None:
    state.update(given, first_offset, first_offset + given.record_count - 1)


@check(EXERCISE, points=2)
def a_new_producer_starts_at_sequence_zero(impl: ModuleType) -> None:
    """a producer the partition has not seen must start at sequence 0; no id means no checks"""
    state = impl.ProducerStateManager()
    expect_equal(state.check(batch(7, 0, 0)), None, "check of a new producer's first batch (sequence 0)")
    expect_error(impl.ProducerStateManager(), batch(7, 0, 5), OutOfOrderSequenceNumberError, "a new producer's first batch at sequence 5")
    expect_equal(state.check(batch(-1, -1, -1)), None, "check of a batch without a producer id")


@check(EXERCISE, points=2)
def the_next_sequence_is_accepted_and_a_gap_refused(impl: ModuleType) -> None:
    """the next sequence (last + 1) is accepted; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER"""
    state = impl.ProducerStateManager()
    appended(state, batch(7, 0, 0), 0)
    expect_equal(state.check(batch(7, 0, 2)), None, "check of sequence 2 after a batch with sequences 0–1")
    expect_error(state, batch(7, 0, 5), OutOfOrderSequenceNumberError, "sequence 5 after 0–1")


@check(EXERCISE, points=2)
def a_repeat_of_a_recent_batch_is_a_duplicate(impl: ModuleType) -> None:
    """a repeat of one of the last five batches returns that batch's metadata (its offsets)"""
    state = impl.ProducerStateManager()
    for i in range(4):
        appended(state, batch(7, 0, 2 * i), 10 * i)
    duplicate = state.check(batch(7, 0, 2))
    expect_equal(duplicate, BatchMetadata(2, 3, 10, 11), "what check returns for a resent batch (sequences 2–3)")


@check(EXERCISE, points=2)
def old_epochs_are_fenced(impl: ModuleType) -> None:
    """a batch from an older epoch is INVALID_PRODUCER_EPOCH; a newer epoch starts again at 0"""
    state = impl.ProducerStateManager()
    appended(state, batch(7, 1, 0), 0)
    expect_error(state, batch(7, 0, 2), InvalidProducerEpochError, "epoch 0 after epoch 1")
    expect_equal(state.check(batch(7, 2, 0)), None, "check of epoch 2's first batch (sequence 0)")


@check(EXERCISE, points=2, timeout_s=30)
def exactly_once_over_a_lossy_network(impl: ModuleType) -> None:
    """brokers using your check + a lossy network: every record exactly once, in order"""
    for seed in (0, 2, 3):
        cluster = EmbeddedCluster(seed=seed, producer_state_class=impl.ProducerStateManager)
        cluster.create_topic("t", partitions=1)
        cluster.network.set_default(latency_ms=2, jitter_ms=3, drop_rate=0.2)
        producer = cluster.producer({"request.timeout.ms": 500, "linger.ms": 1})
        futures = []
        for i in range(30):
            futures.append(producer.send("t", f"r{i}"))
            cluster.advance(3)
        producer.flush(timeout_ms=200_000)
        errors = [str(f.exception) for f in futures if f.exception is not None]
        if any("NotImplementedError" in error for error in errors):
            raise CheckFailed("not implemented yet: the broker called your check and got NotImplementedError")
        if errors:
            raise CheckFailed(f"{len(errors)} sends failed; the first: {errors[0]} (seed {seed})")
        cluster.network.set_default(drop_rate=0.0)
        log = [r.value for r in cluster.fetch("t", 0, 0)]
        _explain_duplicate(cluster, log, seed)
        expect_equal(log, [f"r{i}".encode() for i in range(30)], "the partition's records after retries over a network losing 20% of messages", seed=seed)


def _explain_duplicate(cluster: EmbeddedCluster, log: list, seed: int) -> None:
    """If a record is in the log twice: the broken invariant and the minimal trace that shows how."""
    first_at: dict[bytes, int] = {}
    for offset, value in enumerate(log):
        if value in first_at:
            break
        first_at[value] = offset
    else:
        return
    first, again = first_at[value], offset
    appends = [r for r in cluster.trace if r.kind == "broker.produce.append"]
    covering = [r for r in appends if r.detail["first_offset"] <= first <= r.detail["last_offset"] or r.detail["first_offset"] <= again <= r.detail["last_offset"]]
    start, end = covering[0].seq - 3, covering[-1].seq  # the broker records a dropped answer just before its append event
    between = [r for r in cluster.trace if start < r.seq < end]
    lost_answers = [r for r in between if r.kind == "net.drop" and r.detail.get("message") == "ProduceResponse"][:1]
    refusals = [r for r in between if r.kind == "broker.produce.error"][:2]
    new_ids = [r for r in between if r.kind in ("producer.reset_producer_id", "producer.init")][:2]
    story = sorted(covering + lost_answers + refusals + new_ids, key=lambda r: r.seq)
    raise CheckFailed(
        f"broken invariant: every record once, in order — {value!r} is at offsets {first} and {again} (seed {seed})\n"
        "what happened (the minimal trace):\n" + "\n".join(r.to_text() for r in story) + "\n"
        "the answer to the first append was lost, so the producer sent the same batch (same producer id, epoch and sequence) "
        "again; a broker must recognise a repeat of one of the producer's last five batches and answer with the first "
        "append's offsets — appending it, or refusing it so the producer starts over with a new id, writes it twice"
    )
