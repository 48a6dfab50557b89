"""Seeded scenarios: transactional producers, read_committed consumers, exactly-once pipelines."""

from __future__ import annotations

import random

import pytest

from kafkalab.cluster import EmbeddedCluster
from kafkalab.consumer.delivery import read_outputs, run_exactly_once_scenario
from kafkalab.errors import ProducerFencedError
from kafkalab.producer.transactions import TransactionStateError


def values(records) -> list[str]:
    return sorted(r.value.decode() for r in records)


def test_read_committed_sees_committed_transactions_only_and_stops_at_the_open_one() -> None:
    cluster = EmbeddedCluster(seed=1, brokers=3)
    cluster.create_topic("out", partitions=2)
    producer = cluster.producer({"transactional.id": "tx-1"})
    producer.init_transactions()
    producer.begin_transaction()
    for i in range(4):
        producer.send("out", f"committed-{i}", key=f"k{i}")
    producer.commit_transaction()
    producer.begin_transaction()
    for i in range(3):
        producer.send("out", f"aborted-{i}", key=f"k{i}")
    producer.flush()
    producer.abort_transaction()
    producer.begin_transaction()
    producer.send("out", "open", key="k0")
    producer.flush()
    assert values(read_outputs(cluster, "out", 2, "read_committed")) == [f"committed-{i}" for i in range(4)]
    assert values(read_outputs(cluster, "out", 2, "read_uncommitted")) == sorted(
        [f"committed-{i}" for i in range(4)] + [f"aborted-{i}" for i in range(3)] + ["open"])
    producer.commit_transaction()
    assert "open" in values(read_outputs(cluster, "out", 2, "read_committed"))


def test_calls_in_the_wrong_order_are_refused_with_the_java_clients_messages() -> None:
    cluster = EmbeddedCluster(seed=2)
    cluster.create_topic("out")
    producer = cluster.producer({"transactional.id": "tx"})
    with pytest.raises(TransactionStateError, match="before completing a call to initTransactions"):
        producer.send("out", "x")
    producer.init_transactions()
    with pytest.raises(TransactionStateError, match="Cannot call send in state READY"):
        producer.send("out", "x")
    with pytest.raises(TransactionStateError, match="Invalid transition attempted from state READY to state COMMITTING_TRANSACTION"):
        producer.commit_transaction()
    plain = cluster.producer()
    with pytest.raises(TransactionStateError, match="non-transactional producer"):
        plain.begin_transaction()


def test_a_second_instance_fences_the_first() -> None:
    cluster = EmbeddedCluster(seed=3, brokers=2)
    cluster.create_topic("out")
    old = cluster.producer({"transactional.id": "orders-writer"})
    old.init_transactions()
    old.begin_transaction()
    old.send("out", "from the old instance")
    old.flush()
    new = cluster.producer({"transactional.id": "orders-writer"})
    new.init_transactions()  # bumps the epoch; the old instance's open transaction is aborted
    new.begin_transaction()
    new.send("out", "from the new instance")
    new.commit_transaction()
    with pytest.raises(ProducerFencedError):
        old.commit_transaction()
    assert values(read_outputs(cluster, "out", 1)) == ["from the new instance"]


def test_transactional_offsets_count_only_when_the_transaction_commits() -> None:
    cluster = EmbeddedCluster(seed=4, brokers=2)
    cluster.create_topic("in", partitions=1)
    producer = cluster.producer({"transactional.id": "tx"})
    producer.init_transactions()
    producer.begin_transaction()
    producer.send_offsets_to_transaction({("in", 0): 42}, "pipeline")
    producer.abort_transaction()
    viewer = cluster.consumer({"group.id": "pipeline"})
    assert viewer.committed([("in", 0)]) == {("in", 0): None}
    producer.begin_transaction()
    producer.send_offsets_to_transaction({("in", 0): 43}, "pipeline")
    producer.commit_transaction()
    cluster.advance(100)
    assert viewer.committed([("in", 0)]) == {("in", 0): 43}


@pytest.mark.parametrize("seed", range(6))
def test_the_read_process_write_loop_is_exactly_once_across_crash_schedules(seed: int) -> None:
    rng = random.Random(seed)
    crashes = tuple(sorted((rng.randint(0, 1), rng.randint(1, 50)) for _ in range(rng.randint(1, 3))))
    run = run_exactly_once_scenario(seed=seed, crashes=crashes)
    assert run.report.exactly_once, (crashes, run.report, run.errors)
    plain = run_exactly_once_scenario(seed=seed, crashes=crashes, transactional=False)
    assert not plain.report.lost  # at-least-once without transactions: nothing lost, maybe repeats


def test_without_transactions_a_crash_mid_poll_repeats_outputs() -> None:
    plain = run_exactly_once_scenario(seed=0, crashes=((0, 12), (1, 23)), transactional=False)
    assert not plain.report.lost and plain.report.duplicates > 0, plain.report


def test_a_coordinator_restart_in_the_middle_keeps_exactly_once() -> None:
    run = run_exactly_once_scenario(seed=7, crashes=((0, 9),), settle_ms=5_000)
    cluster = run.cluster
    for broker_id in list(cluster.brokers):
        cluster.crash_broker(broker_id)
        cluster.advance(2_000)
        cluster.restart_broker(broker_id)
        cluster.advance(15_000)
    cluster.advance(60_000)
    from kafkalab.consumer.delivery import check_delivery, outputs_as_history

    outputs = outputs_as_history(read_outputs(cluster, "results", 3), "events")
    report = check_delivery([("events", p, o) for p in range(3) for o in range(cluster.list_offsets("events", p))], outputs)
    assert report.exactly_once, report


def test_markers_lost_while_a_leader_is_down_are_sent_again() -> None:
    cluster = EmbeddedCluster(seed=8, brokers=2)
    cluster.create_topic("out", partitions=2)
    producer = cluster.producer({"transactional.id": "tx"})
    producer.init_transactions()
    producer.begin_transaction()
    for i in range(4):
        producer.send("out", f"v{i}", partition=i % 2)
    producer.flush()
    from kafkalab.coordinator.transaction_coordinator import partition_for_transactional_id

    coordinator = cluster.partitions_for("__transaction_state")[partition_for_transactional_id("tx")]
    down = next(leader for leader in cluster.partitions_for("out").values() if leader != coordinator)
    cluster.crash_broker(down)  # it leads one of the transaction's partitions, not the coordinator
    producer.commit_transaction()  # answered once PrepareCommit is written; one marker is lost
    cluster.advance(3_000)
    cluster.restart_broker(down)
    cluster.advance(15_000)  # the coordinator's next check resends it
    assert values(read_outputs(cluster, "out", 2)) == ["v0", "v1", "v2", "v3"]
    producer.begin_transaction()
    producer.send("out", "next")
    producer.commit_transaction()  # the previous transaction is complete: no CONCURRENT_TRANSACTIONS
