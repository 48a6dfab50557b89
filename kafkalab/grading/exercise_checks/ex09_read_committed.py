"""Checks for ex09_read_committed: the consumer's filter for isolation.level=read_committed.

The first checks give hand-made fetch results (records with producer ids, transactional and
control flags, and the aborted-transactions list a broker sends); the last plugs the learner's
filter into a read_committed consumer on an embedded cluster where transactions commit, abort and
interleave.
"""

from __future__ import annotations

from types import ModuleType

from kafkalab.broker.transactions import AbortedTransaction, control_record_key, control_record_value
from kafkalab.cluster import EmbeddedCluster
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import expect_equal
from kafkalab.log import StoredRecord
from kafkalab.record import TimestampType

EXERCISE = "ex09_read_committed"


def data(offset: int, producer_id: int = -1, transactional: bool = False) -> StoredRecord:
    return StoredRecord("t", 0, offset, 0, TimestampType.CREATE_TIME, None, f"v{offset}".encode(), (), producer_id, transactional, False)


def marker(offset: int, producer_id: int, committed: bool) -> StoredRecord:
    return StoredRecord("t", 0, offset, 0, TimestampType.CREATE_TIME, control_record_key(committed), control_record_value(0), (),
                        producer_id, True, True)


def offsets(impl: ModuleType, records, aborted) -> list[int]:
    return [r.offset for r in impl.visible_records(list(records), list(aborted))]


@check(EXERCISE, points=2)
def committed_records_stay_and_markers_go(impl: ModuleType) -> None:
    """a committed transaction's records are returned; its COMMIT marker is not"""
    records = [data(0, 7, True), data(1, 7, True), marker(2, 7, True), data(3)]
    expect_equal(offsets(impl, records, []), [0, 1, 3], "visible offsets", input="pid 7 writes 0-1, COMMIT at 2, a plain record at 3")


@check(EXERCISE, points=3)
def aborted_transactions_disappear(impl: ModuleType) -> None:
    """an aborted transaction's records are dropped, even interleaved with a committed one"""
    records = [data(0, 7, True), data(1, 8, True), data(2, 7, True), data(3, 8, True), marker(4, 7, False), marker(5, 8, True)]
    expect_equal(offsets(impl, records, [AbortedTransaction(7, 0, 4)]), [1, 3], "visible offsets",
                 input="pid 7 (aborted) writes 0, 2; pid 8 (committed) writes 1, 3")


@check(EXERCISE, points=2)
def an_abort_marker_ends_the_aborted_range(impl: ModuleType) -> None:
    """after its ABORT marker, the same producer's next (committed) transaction is visible again"""
    records = [data(0, 7, True), marker(1, 7, False), data(2), data(3, 7, True), marker(4, 7, True)]
    expect_equal(offsets(impl, records, [AbortedTransaction(7, 0, 1)]), [2, 3], "visible offsets",
                 input="pid 7 aborts 0 (marker 1), plain record 2, pid 7 commits 3 (marker 4)")
    plain = [data(0), data(1, 9, False)]
    expect_equal(offsets(impl, plain, [AbortedTransaction(9, 0, 5)]), [0, 1], "visible offsets",
                 input="non-transactional records are never aborted")


@check(EXERCISE, points=3, timeout_s=30)
def a_read_committed_consumer_with_your_filter_sees_only_committed_records(impl: ModuleType) -> None:
    """a read_committed consumer using your filter sees one committed transaction and a plain record, not the interleaved aborted one"""
    seed = 5
    cluster = EmbeddedCluster(seed=seed, brokers=2)
    cluster.create_topic("payments", partitions=2)
    alice, bob = cluster.producer({"transactional.id": "alice"}), cluster.producer({"transactional.id": "bob"})
    alice.init_transactions()
    bob.init_transactions()
    alice.begin_transaction()
    bob.begin_transaction()
    for i in range(6):
        alice.send("payments", f"alice-{i}", key=f"k{i}")
        bob.send("payments", f"bob-{i}", key=f"k{i}")
    cluster.produce("payments", "plain-0", key="k0")
    alice.flush()
    bob.flush()
    bob.abort_transaction()
    alice.commit_transaction()
    reader = cluster.consumer({"isolation.level": "read_committed", "auto.offset.reset": "earliest"},
                              read_committed_filter=impl.visible_records)
    reader.assign([("payments", 0), ("payments", 1)])
    seen = []
    for _ in range(6):
        seen += [r.value.decode() for r in reader.poll(600)]
    expect_equal(sorted(seen), sorted([f"alice-{i}" for i in range(6)] + ["plain-0"]), "values read with read_committed", seed=seed)
