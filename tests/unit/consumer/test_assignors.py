"""Assignors against the cases of Kafka's RangeAssignorTest and RoundRobinAssignorTest."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.consumer.assignors import assign

T1, T2 = "topic1", "topic2"


def test_range_one_consumer_takes_everything_and_no_topic_gives_nothing() -> None:
    assert assign("range", {T1: 3}, {"c1": [T1]}) == {"c1": [(T1, 0), (T1, 1), (T1, 2)]}
    assert assign("range", {}, {"c1": []}) == {"c1": []}


def test_range_two_consumers_one_partition() -> None:
    assert assign("range", {T1: 1}, {"c1": [T1], "c2": [T1]}) == {"c1": [(T1, 0)], "c2": []}


def test_range_mixed_topics() -> None:
    # RangeAssignorTest.testMultipleConsumersMixedTopicSubscriptions
    result = assign("range", {T1: 3, T2: 2}, {"c1": [T1], "c2": [T1, T2], "c3": [T1]})
    assert result == {"c1": [(T1, 0)], "c2": [(T1, 1), (T2, 0), (T2, 1)], "c3": [(T1, 2)]}


def test_range_two_topics_gives_the_extras_to_the_same_member() -> None:
    # RangeAssignorTest.testTwoConsumersTwoTopicsSixPartitions
    result = assign("range", {T1: 3, T2: 3}, {"c1": [T1, T2], "c2": [T1, T2]})
    assert result == {"c1": [(T1, 0), (T1, 1), (T2, 0), (T2, 1)], "c2": [(T1, 2), (T2, 2)]}


def test_roundrobin_mixed_topics_and_two_topics() -> None:
    # RoundRobinAssignorTest.testMultipleConsumersMixedTopics / testTwoConsumersTwoTopicsSixPartitions
    mixed = assign("roundrobin", {T1: 3, T2: 2}, {"c1": [T1], "c2": [T1, T2], "c3": [T1]})
    assert mixed == {"c1": [(T1, 0)], "c2": [(T1, 1), (T2, 0), (T2, 1)], "c3": [(T1, 2)]}
    even = assign("roundrobin", {T1: 3, T2: 3}, {"c1": [T1, T2], "c2": [T1, T2]})
    assert even == {"c1": [(T1, 0), (T1, 2), (T2, 1)], "c2": [(T1, 1), (T2, 0), (T2, 2)]}


def test_unknown_strategy_is_named() -> None:
    with pytest.raises(ValueError, match="unknown assignment strategy 'uniform'; kafkalab supports range, roundrobin, sticky, cooperative-sticky"):
        assign("uniform", {T1: 1}, {"c1": [T1]})


@settings(derandomize=True, max_examples=200)
@given(
    counts=st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(1, 8), min_size=1),
    members=st.integers(1, 6),
    strategy=st.sampled_from(["range", "roundrobin"]),
)
def test_every_subscribed_partition_goes_to_exactly_one_subscribed_member(counts, members, strategy) -> None:
    topics = sorted(counts)
    subscriptions = {f"m{i}": topics for i in range(members)}
    result = assign(strategy, counts, subscriptions)
    given_out = [tp for partitions in result.values() for tp in partitions]
    assert sorted(given_out) == sorted((t, p) for t in topics for p in range(counts[t]))
    sizes = [len(v) for v in result.values()]
    if strategy == "roundrobin":
        assert max(sizes) - min(sizes) <= 1  # identical subscriptions: round robin is balanced
