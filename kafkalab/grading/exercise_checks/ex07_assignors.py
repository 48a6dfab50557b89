"""Checks for ex07_assignors: RangeAssignor and RoundRobinAssignor, as Kafka computes them.

Vectors are the cases of Kafka's RangeAssignorTest and RoundRobinAssignorTest (clients module);
random inputs are compared with the reference; the last check runs a consumer group on an
embedded cluster whose leader uses the learner's assignor.
"""

from __future__ import annotations

import random
from types import ModuleType

from kafkalab.cluster import EmbeddedCluster
from kafkalab.consumer.assignors import range_assign as reference_range
from kafkalab.consumer.assignors import roundrobin_assign as reference_roundrobin
from kafkalab.consumer.delivery import ConsumerApp, Processed, check_delivery
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import expect_equal, first_failure

EXERCISE = "ex07_assignors"
T1, T2 = "topic1", "topic2"

# (Kafka test name, partitions per topic, subscriptions, Kafka's expected assignment)
RANGE_CASES = [
    ("testOneConsumerNoTopic", {}, {"c1": []}, {"c1": []}),
    ("testOneConsumerOneTopic", {T1: 3}, {"c1": [T1]}, {"c1": [(T1, 0), (T1, 1), (T1, 2)]}),
    ("testOnlyAssignsPartitionsFromSubscribedTopics", {T1: 3, "other": 3}, {"c1": [T1]}, {"c1": [(T1, 0), (T1, 1), (T1, 2)]}),
    ("testOneConsumerMultipleTopics", {T1: 1, T2: 2}, {"c1": [T1, T2]}, {"c1": [(T1, 0), (T2, 0), (T2, 1)]}),
    ("testTwoConsumersOneTopicOnePartition", {T1: 1}, {"c1": [T1], "c2": [T1]}, {"c1": [(T1, 0)], "c2": []}),
    ("testTwoConsumersOneTopicTwoPartitions", {T1: 2}, {"c1": [T1], "c2": [T1]}, {"c1": [(T1, 0)], "c2": [(T1, 1)]}),
]
RANGE_MULTI_TOPIC_CASES = [
    ("testMultipleConsumersMixedTopics", {T1: 3, T2: 2}, {"c1": [T1], "c2": [T1, T2], "c3": [T1]},
     {"c1": [(T1, 0)], "c2": [(T1, 1), (T2, 0), (T2, 1)], "c3": [(T1, 2)]}),
    ("testTwoConsumersTwoTopicsSixPartitions", {T1: 3, T2: 3}, {"c1": [T1, T2], "c2": [T1, T2]},
     {"c1": [(T1, 0), (T1, 1), (T2, 0), (T2, 1)], "c2": [(T1, 2), (T2, 2)]}),
]
ROUNDROBIN_CASES = [
    ("testOneConsumerNoTopic", {}, {"c1": []}, {"c1": []}),
    ("testOneConsumerOneTopic", {T1: 3}, {"c1": [T1]}, {"c1": [(T1, 0), (T1, 1), (T1, 2)]}),
    ("testOnlyAssignsPartitionsFromSubscribedTopics", {T1: 3, "other": 3}, {"c1": [T1]}, {"c1": [(T1, 0), (T1, 1), (T1, 2)]}),
    ("testTwoConsumersOneTopicOnePartition", {T1: 1}, {"c1": [T1], "c2": [T1]}, {"c1": [(T1, 0)], "c2": []}),
    ("testMultipleConsumersMixedTopics", {T1: 3, T2: 2}, {"c1": [T1], "c2": [T1, T2], "c3": [T1]},
     {"c1": [(T1, 0)], "c2": [(T1, 1), (T2, 0), (T2, 1)], "c3": [(T1, 2)]}),
    ("testTwoDynamicConsumersTwoTopicsSixPartitions", {T1: 3, T2: 3}, {"c1": [T1, T2], "c2": [T1, T2]},
     {"c1": [(T1, 0), (T1, 2), (T2, 1)], "c2": [(T1, 1), (T2, 0), (T2, 2)]}),
]


def _normalized(result: object) -> object:
    if not isinstance(result, dict):
        return result
    return {member: sorted(tuple(tp) for tp in partitions) for member, partitions in result.items()}


def _case(function, name: str, counts, subscriptions, expected) -> None:
    got = function(dict(counts), {m: list(t) for m, t in subscriptions.items()})
    expect_equal(_normalized(got), _normalized(expected), f"{function.__name__} (Kafka's {name})",
                 input={"partitions_per_topic": counts, "subscriptions": subscriptions})


@check(EXERCISE, points=2)
def range_matches_kafka_on_one_topic(impl: ModuleType) -> None:
    """range_assign gives Kafka's answers with one topic (RangeAssignorTest)"""
    first_failure(RANGE_CASES, lambda case: _case(impl.range_assign, *case))


@check(EXERCISE, points=2)
def range_matches_kafka_on_several_topics(impl: ModuleType) -> None:
    """range_assign works topic by topic: the same members get the extras on every topic"""
    first_failure(RANGE_MULTI_TOPIC_CASES, lambda case: _case(impl.range_assign, *case))


@check(EXERCISE, points=2)
def roundrobin_matches_kafka(impl: ModuleType) -> None:
    """roundrobin_assign gives Kafka's answers (RoundRobinAssignorTest)"""
    first_failure(ROUNDROBIN_CASES, lambda case: _case(impl.roundrobin_assign, *case))


@check(EXERCISE, points=2)
def both_agree_with_kafka_on_random_groups(impl: ModuleType) -> None:
    """on 300 random groups, both assignors give Kafka's assignment (every member listed, each partition once)"""
    rng = random.Random(7)
    for number in range(300):
        topics = {f"t{i}": rng.randint(1, 7) for i in range(rng.randint(1, 3))}
        members = {f"member-{chr(97 + i)}": sorted(rng.sample(sorted(topics), rng.randint(0, len(topics))))
                   for i in range(rng.randint(1, 5))}
        for mine, reference in ((impl.range_assign, reference_range), (impl.roundrobin_assign, reference_roundrobin)):
            expect_equal(_normalized(mine(dict(topics), dict(members))), _normalized(reference(topics, members)),
                         mine.__name__, input={"partitions_per_topic": topics, "subscriptions": members}, seed=number)


@check(EXERCISE, points=2, timeout_s=30)
def a_group_led_by_your_assignor_reads_everything_once(impl: ModuleType) -> None:
    """a consumer group whose leader runs your assignor shares 5 partitions among 3 members and reads every record once"""
    seed = 3
    for strategy, function in (("range", impl.range_assign), ("roundrobin", impl.roundrobin_assign)):
        cluster = EmbeddedCluster(seed=seed, brokers=2)
        cluster.create_topic("orders", partitions=5)
        produced = [cluster.produce("orders", f"order-{i}", key=f"k{i % 13}") for i in range(50)]
        history: list[Processed] = []

        def learner_assignor(name, partitions_per_topic, subscriptions, owned=None, function=function):
            return function(partitions_per_topic, subscriptions)

        config = {"group.id": "g", "partition.assignment.strategy": strategy, "session.timeout.ms": 10_000,
                  "heartbeat.interval.ms": 1_000}
        apps = [ConsumerApp(cluster, f"c{i}", ["orders"], "at-least-once", config, history=history, strict=True,
                            assignor=learner_assignor).start() for i in range(3)]
        cluster.advance(30_000)
        owned = {app.consumer.node_id: app.consumer.assignment() for app in apps}
        members = {app.consumer.member_id: app.consumer.node_id for app in apps}
        subscriptions = {member: ["orders"] for member in members}
        expected = {members[m]: sorted(tps) for m, tps in (reference_range if strategy == "range" else reference_roundrobin)(
            {"orders": 5}, subscriptions).items()}
        expect_equal({node: sorted(tps) for node, tps in owned.items()}, expected, f"partitions each consumer got ({strategy})", seed=seed)
        report = check_delivery([(r.topic, r.partition, r.offset) for r in produced], history)
        expect_equal(report.summary(), "50 produced, 50 processed: 0 lost, 0 duplicates, 0 out of order",
                     f"what the group read ({strategy})", seed=seed)
