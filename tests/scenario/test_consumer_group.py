"""Seeded scenarios: consumer groups on the embedded cluster, with crashes and network partitions."""

from __future__ import annotations

import pytest

from kafkalab.cluster import EmbeddedCluster
from kafkalab.consumer.consumer import CommitFailedError, ConsumerRebalanceListener, NoOffsetForPartitionError
from kafkalab.consumer.delivery import ConsumerApp, Processed, check_delivery, run_delivery_scenario
from kafkalab.coordinator import partition_for

APP_CONFIG = {"session.timeout.ms": 10_000, "heartbeat.interval.ms": 1_000, "max.poll.interval.ms": 30_000, "max.poll.records": 10}


def cluster_with_records(seed: int, partitions: int = 4, records: int = 40, brokers: int = 2) -> tuple[EmbeddedCluster, list]:
    cluster = EmbeddedCluster(seed=seed, brokers=brokers)
    cluster.create_topic("orders", partitions=partitions)
    produced = [cluster.produce("orders", f"order-{i}", key=f"customer-{i % 9}") for i in range(records)]
    return cluster, [("orders", r.partition, r.offset) for r in produced]


def apps(cluster: EmbeddedCluster, count: int, group: str = "app", history: list[Processed] | None = None, **config) -> list[ConsumerApp]:
    settings = dict(APP_CONFIG, **{"group.id": group}, **config)
    shared = [] if history is None else history
    return [ConsumerApp(cluster, f"{group}-{i}", ["orders"], "at-least-once", settings, history=shared).start() for i in range(count)]


def owners(running: list[ConsumerApp]) -> dict[tuple[str, int], list[str]]:
    result: dict[tuple[str, int], list[str]] = {}
    for app in running:
        if app.running and app.consumer is not None:
            for tp in app.consumer.assignment():
                result.setdefault(tp, []).append(app.name)
    return result


def test_a_group_shares_the_partitions_and_reads_everything_once() -> None:
    cluster, produced = cluster_with_records(1)
    history: list[Processed] = []
    group = apps(cluster, 2, history=history)
    cluster.advance(30_000)
    report = check_delivery(produced, history)
    assert report.exactly_once, report
    held = owners(group)
    assert sorted(held) == [("orders", p) for p in range(4)] and all(len(names) == 1 for names in held.values())
    assert {len(app.consumer.assignment()) for app in group} == {2}  # range: 4 partitions, 2 members


def test_more_consumers_than_partitions_leaves_some_idle() -> None:
    cluster, produced = cluster_with_records(2, partitions=2)
    history: list[Processed] = []
    group = apps(cluster, 3, history=history)
    cluster.advance(30_000)
    assert check_delivery(produced, history).exactly_once
    sizes = sorted(len(app.consumer.assignment()) for app in group)
    assert sizes == [0, 1, 1]


def test_two_groups_read_the_same_topic_independently() -> None:
    cluster, produced = cluster_with_records(3)
    billing: list[Processed] = []
    shipping: list[Processed] = []
    apps(cluster, 2, group="billing", history=billing)
    apps(cluster, 1, group="shipping", history=shipping)
    cluster.advance(30_000)
    assert check_delivery(produced, billing).exactly_once
    assert check_delivery(produced, shipping).exactly_once
    committed = cluster.consumer({"group.id": "shipping"}).committed([("orders", p) for p in range(4)])
    ends = {("orders", p): cluster.list_offsets("orders", p) for p in range(4)}
    assert committed == ends


def test_a_crashed_member_is_replaced_after_its_session_times_out() -> None:
    cluster, produced = cluster_with_records(4, records=80)
    history: list[Processed] = []
    group = apps(cluster, 2, history=history)
    cluster.advance(6_500)  # the group formed (initial rebalance delay) and started working
    group[0].crash()
    cluster.advance(5_000)
    assert len(owners(group)) == 2  # the coordinator does not know yet: the session has not expired
    cluster.advance(30_000)
    assert sorted(owners(group)) == [("orders", p) for p in range(4)]
    report = check_delivery(produced, history)
    assert not report.lost and report.duplicates <= 10  # at most one uncommitted poll is repeated
    removed = cluster.trace.filter(kind="broker.group.session_timeout")
    assert len(removed) == 1 and removed[0].detail["member"].startswith("app-0-1-")


def test_a_partitioned_member_loses_its_partitions_and_its_commit_is_refused() -> None:
    cluster, produced = cluster_with_records(5, records=40, brokers=1)
    lost: list[list] = []

    class Listener(ConsumerRebalanceListener):
        def on_partitions_lost(self, partitions):
            lost.append(partitions)

    first = cluster.consumer(dict(APP_CONFIG, **{"group.id": "g", "auto.offset.reset": "earliest", "enable.auto.commit": False}))
    first.subscribe(["orders"], Listener())
    records = first.poll(10_000)
    assert len(records) > 0 and len(first.assignment()) == 4
    cluster.network.partition([first.node_id], ["broker-0"])
    second = cluster.consumer(dict(APP_CONFIG, **{"group.id": "g", "auto.offset.reset": "earliest"}))
    second.subscribe(["orders"])
    second.poll(20_000)  # first's session expires; second gets everything
    assert len(second.assignment()) == 4
    cluster.network.heal()
    with pytest.raises(CommitFailedError):
        first.commit_sync()  # generation 1 is over: the commit is fenced
    first.poll(0)
    assert lost and sorted(lost[0]) == [("orders", p) for p in range(4)]


def test_the_coordinator_broker_restarts_and_the_group_keeps_its_offsets() -> None:
    cluster, produced = cluster_with_records(6, records=40, brokers=2)
    history: list[Processed] = []
    group = apps(cluster, 2, history=history)
    cluster.advance(20_000)
    coordinator = int(group[0].consumer.coordinator.split("-")[1])
    assert coordinator == cluster.partitions_for("__consumer_offsets")[partition_for("app", 50)]
    before = group[0].consumer.committed([("orders", p) for p in range(4)])
    cluster.crash_broker(coordinator)
    cluster.advance(5_000)
    cluster.restart_broker(coordinator)
    cluster.advance(30_000)
    after = cluster.consumer({"group.id": "app"}).committed([("orders", p) for p in range(4)])
    assert after == before  # replayed from __consumer_offsets
    for i in range(40, 60):
        cluster.produce("orders", f"order-{i}", key=f"customer-{i % 9}")
    cluster.advance(20_000)
    report = check_delivery(produced + [("orders", p, o) for p in range(4) for o in range(cluster.list_offsets("orders", p))], history)
    assert not report.lost


def test_a_consumer_that_stops_polling_leaves_the_group() -> None:
    cluster, produced = cluster_with_records(7, records=20, brokers=1)
    slow = cluster.consumer(dict(APP_CONFIG, **{"group.id": "g", "max.poll.interval.ms": 10_000}))
    slow.subscribe(["orders"])
    slow.poll(8_000)
    assert len(slow.assignment()) == 4
    cluster.advance(15_000)  # no poll() for longer than max.poll.interval.ms
    assert cluster.trace.filter(kind="consumer.poll_timeout") and cluster.trace.filter(kind="consumer.leave_group")
    assert slow.member_state == "UNJOINED"
    slow.poll(8_000)  # polling again rejoins
    assert slow.member_state == "STABLE" and len(slow.assignment()) == 4


def test_a_static_member_restarting_within_the_session_timeout_causes_no_rebalance() -> None:
    cluster, _ = cluster_with_records(8, records=20, brokers=1)
    config = dict(APP_CONFIG, **{"group.id": "g", "group.instance.id": "orders-service-1"})
    history: list[Processed] = []
    app = ConsumerApp(cluster, "static", ["orders"], "at-least-once", config, history=history).start()
    other = ConsumerApp(cluster, "dynamic", ["orders"], "at-least-once", dict(APP_CONFIG, **{"group.id": "g"}), history=history).start()
    cluster.advance(15_000)
    generation = app.consumer.generation_id
    app.crash()
    cluster.advance(3_000)
    app.restart()
    cluster.advance(10_000)
    assert app.consumer.generation_id == generation == other.consumer.generation_id
    assert len(app.consumer.assignment()) == 2 and len(cluster.trace.filter(kind="broker.group.static_member_replaced")) == 1


def test_auto_commit_commits_what_earlier_polls_returned() -> None:
    cluster, _ = cluster_with_records(9, records=30, brokers=1, partitions=1)
    consumer = cluster.consumer({"group.id": "g", "auto.offset.reset": "earliest", "max.poll.records": 10, "auto.commit.interval.ms": 1000})
    consumer.subscribe(["orders"])
    first = consumer.poll(10_000)
    assert [r.offset for r in first] == list(range(10))
    assert consumer.committed([("orders", 0)]) == {("orders", 0): None}  # nothing committed by the poll that returned them
    cluster.advance(1_000)
    second = consumer.poll(0)  # this poll commits the position after the first ten, then returns ten more
    assert [r.offset for r in second] == list(range(10, 20))
    cluster.advance(100)
    assert consumer.committed([("orders", 0)]) == {("orders", 0): 10}
    consumer.close()  # close commits what the last poll returned, too
    assert cluster.consumer({"group.id": "g"}).committed([("orders", 0)]) == {("orders", 0): 20}


def test_auto_offset_reset() -> None:
    cluster, _ = cluster_with_records(10, records=12, brokers=1, partitions=1)
    latest = cluster.consumer({"group.id": "late"})
    latest.subscribe(["orders"])
    assert len(latest.poll(8_000)) == 0 and latest.position(("orders", 0)) == 12
    strict = cluster.consumer({"group.id": "strict", "auto.offset.reset": "none"})
    strict.assign([("orders", 0)])
    with pytest.raises(NoOffsetForPartitionError, match="orders-0"):
        strict.poll(5_000)
    strict.seek(("orders", 0), 5)
    assert [r.offset for r in strict.poll(5_000)][:1] == [5]


def test_delivery_semantics_across_crash_schedules() -> None:
    for seed, crashes in [(0, ((0, 12), (1, 23))), (1, ((0, 3),)), (2, ((1, 7), (1, 18)))]:
        lossy = run_delivery_scenario("at-most-once", seed=seed, crashes=crashes).report
        safe = run_delivery_scenario("at-least-once", seed=seed, crashes=crashes).report
        assert safe.lost == [] and safe.duplicates <= 5 * len(crashes), safe
        assert lossy.duplicated == {}, lossy
        assert not safe.out_of_order and not lossy.out_of_order
    assert run_delivery_scenario("at-most-once", crashes=((0, 12),)).report.lost  # mid-batch: the rest of the batch is gone


def test_the_same_seed_gives_the_same_group_history() -> None:
    digests = set()
    for _ in range(2):
        cluster, _ = cluster_with_records(11)
        group = apps(cluster, 3)
        cluster.advance(8_000)
        group[1].crash()
        cluster.advance(20_000)
        digests.add(cluster.trace.digest())
    assert len(digests) == 1


@pytest.mark.parametrize("assignor,revoked_when_c3_joins", [("range", 6), ("cooperative-sticky", 2)])
def test_cooperative_rebalancing_revokes_only_what_moves(assignor: str, revoked_when_c3_joins: int) -> None:
    from kafkalab.consumer.group_lab import GroupLab

    lab = GroupLab(assignor=assignor, consumers=2)
    lab.add(15_000)
    snapshot = lab.run(30_000)
    revoked = [o for o in snapshot.ownership if o.end_ms is not None and o.end_ms >= 15_000]
    assert len(revoked) == revoked_when_c3_joins  # eager: everything; cooperative: the two partitions c3 takes
    assert sorted(len(members) for members in snapshot.owners.values()) == [1] * 6
    assert sorted(sum(1 for m in snapshot.owners.values() if m == [name]) for name in ("c1", "c2", "c3")) == [2, 2, 2]
    stable = [e for e in snapshot.events if "stable" in e]
    assert len(stable) == (2 if assignor == "range" else 3)  # cooperative needs a follow-up rebalance
