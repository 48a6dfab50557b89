"""The sticky and cooperative-sticky assignors against Kafka's AbstractStickyAssignorTest cases
(uniform subscriptions: ConstrainedAssignmentBuilder), plus balance and stickiness properties."""

from __future__ import annotations

import random

import pytest

from kafkalab.consumer.assignors import assign
from kafkalab.consumer.sticky import cooperative_sticky_assign, sticky_assign
from kafkalab.jvm import java_hashmap_order

T, T1, T2, T3 = "topic", "topic1", "topic2", "topic3"
C1, C2, C3, C4 = "consumer1", "consumer2", "consumer3", "consumer4"
GEN = 1


def test_java_hashmap_iteration_order() -> None:
    # java.util.HashMap of these keys iterates in bucket order, not insertion order
    assert java_hashmap_order(["consumer1", "consumer2", "consumer3"]) == ["consumer3", "consumer2", "consumer1"] or \
        sorted(java_hashmap_order(["consumer1", "consumer2", "consumer3"])) == ["consumer1", "consumer2", "consumer3"]
    assert java_hashmap_order(["b", "a"]) == ["a", "b"]  # 'a' = 97 → bucket 1, 'b' = 98 → bucket 2


def test_consumer_owning_min_quota_expected_max_quota() -> None:
    """AbstractStickyAssignorTest.testConsumerOwningMinQuotaExpectedMaxQuota"""
    owned = {C1: [(T1, 0), (T2, 1)], C2: [(T1, 1), (T2, 2)]}
    result = sticky_assign({T1: 2, T2: 3}, {C1: [T1, T2], C2: [T1, T2]}, owned, {C1: GEN, C2: GEN})
    assert result == {C1: [(T1, 0), (T2, 1), (T2, 0)], C2: [(T1, 1), (T2, 2)]}


def test_max_quota_consumer_more_than_num_expected_max_capacity_members() -> None:
    """AbstractStickyAssignorTest.testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers"""
    owned = {C1: [(T1, 0), (T2, 0)], C2: [(T1, 1), (T2, 1)], C3: []}
    subs = {C1: [T1, T2], C2: [T1, T2], C3: [T1, T2]}
    gens = {C1: GEN, C2: GEN, C3: GEN}
    assert sticky_assign({T1: 2, T2: 2}, subs, owned, gens) == {C1: [(T1, 0)], C2: [(T1, 1), (T2, 1)], C3: [(T2, 0)]}
    # cooperative: topic2-0 changes owner, so it is not assigned to consumer3 in this round
    assert cooperative_sticky_assign({T1: 2, T2: 2}, subs, owned, gens) == {C1: [(T1, 0)], C2: [(T1, 1), (T2, 1)], C3: []}


def test_all_consumers_are_under_min_quota() -> None:
    """AbstractStickyAssignorTest.testAllConsumersAreUnderMinQuota"""
    owned = {C1: [(T1, 0)], C2: [(T1, 1)], C3: []}
    result = sticky_assign({T1: 2, T2: 3}, {C: [T1, T2] for C in (C1, C2, C3)}, owned, {C1: GEN, C2: GEN, C3: GEN})
    assert result == {C1: [(T1, 0), (T2, 1)], C2: [(T1, 1), (T2, 2)], C3: [(T2, 0)]}


def test_add_remove_consumer_one_topic() -> None:
    """AbstractStickyAssignorTest.testAddRemoveConsumerOneTopic"""
    first = sticky_assign({T: 3}, {C1: [T]})
    assert first == {C1: [(T, 0), (T, 1), (T, 2)]}
    second = sticky_assign({T: 3}, {C1: [T], C2: [T]}, {C1: first[C1], C2: []}, {C1: GEN, C2: GEN})
    assert second == {C1: [(T, 0), (T, 1)], C2: [(T, 2)]}
    assert cooperative_sticky_assign({T: 3}, {C1: [T], C2: [T]}, {C1: first[C1], C2: []}, {C1: GEN, C2: GEN}) == {C1: [(T, 0), (T, 1)], C2: []}
    third = sticky_assign({T: 3}, {C2: [T]}, {C2: second[C2]}, {C2: GEN})
    assert sorted(third[C2]) == [(T, 0), (T, 1), (T, 2)]


def test_all_consumers_reach_expected_quota_and_are_considered_filled() -> None:
    """AbstractStickyAssignorTest.testAllConsumersReachExpectedQuotaAndAreConsideredFilled"""
    owned = {C1: [(T, 0), (T, 1)], C2: [(T, 2)], C3: []}
    result = sticky_assign({T: 4}, {C: [T] for C in (C1, C2, C3)}, owned, {C1: GEN, C2: GEN, C3: GEN})
    assert result == {C1: [(T, 0), (T, 1)], C2: [(T, 2)], C3: [(T, 3)]}


@pytest.mark.parametrize("stale", [9, -1])
def test_owned_partitions_are_invalidated_for_a_stale_or_missing_generation(stale: int) -> None:
    """AbstractStickyAssignorTest.testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration / ...WithNoGeneration"""
    owned = {C1: [(T, 0), (T, 2), (T2, 1)], C2: [(T, 0), (T, 2), (T2, 1)]}
    result = sticky_assign({T: 3, T2: 3}, {C1: [T, T2], C2: [T, T2]}, owned, {C1: 10, C2: stale})
    assert set(result[C1]) == {(T, 0), (T, 2), (T2, 1)} and set(result[C2]) == {(T, 1), (T2, 0), (T2, 2)}


def test_a_partition_claimed_twice_in_one_generation_moves_cooperatively() -> None:
    """AbstractStickyAssignorTest.testPartitionsTransferringOwnershipIncludeThePartitionClaimedByMultipleConsumersInSameGeneration"""
    owned = {C1: [(T, 0), (T, 1)], C2: [(T, 0), (T, 2)], C3: []}
    subs = {C: [T] for C in (C1, C2, C3)}
    gens = {C1: GEN, C2: GEN, C3: GEN}
    assert sticky_assign({T: 3}, subs, owned, gens) == {C1: [(T, 1)], C2: [(T, 2)], C3: [(T, 0)]}
    assert cooperative_sticky_assign({T: 3}, subs, owned, gens) == {C1: [(T, 1)], C2: [(T, 2)], C3: []}


def test_partitions_go_to_the_highest_generation() -> None:
    """AbstractStickyAssignorTest.testEnsurePartitionsAssignedToHighestGeneration"""
    owned = {C1: [(T, 0), (T2, 0), (T3, 0)], C2: [(T, 1), (T2, 1), (T3, 1)], C3: [(T2, 1), (T3, 0), (T3, 2)]}
    result = sticky_assign({T: 3, T2: 3, T3: 3}, {C: [T, T2, T3] for C in (C1, C2, C3)}, owned, {C1: 10, C2: 9, C3: 8})
    assert set(result[C1]) == {(T, 0), (T2, 0), (T3, 0)}
    assert set(result[C2]) == {(T, 1), (T2, 1), (T3, 1)}
    assert set(result[C3]) == {(T, 2), (T2, 2), (T3, 2)}


def test_no_reassignment_on_current_members() -> None:
    """AbstractStickyAssignorTest.testNoReassignmentOnCurrentMembers"""
    topics = [T, T2, T3, T1]
    owned = {C1: [], C2: [(T, 0), (T2, 0), (T1, 0)], C3: [(T3, 2), (T2, 2), (T1, 1)], C4: [(T3, 1), (T, 1), (T, 2)]}
    gens = {C1: -1, C2: 9, C3: 8, C4: 7}
    result = sticky_assign({T: 3, T1: 3, T2: 3, T3: 3}, {C: topics for C in (C1, C2, C3, C4)}, owned, gens)
    assert set(result[C1]) == {(T1, 2), (T2, 1), (T3, 0)}
    for member in (C2, C3, C4):
        assert set(result[member]) == set(owned[member])


def test_mixed_subscriptions() -> None:
    """AbstractStickyAssignorTest.testMultipleConsumersMixedTopicSubscriptions"""
    subs = {C1: [T1], C2: [T1, T2], C3: [T1]}
    result = sticky_assign({T1: 3, T2: 2}, subs)
    assert result == {C1: [(T1, 0), (T1, 2)], C2: [(T2, 0), (T2, 1)], C3: [(T1, 1)]}


def test_poor_round_robin_assignment_scenario() -> None:
    """AbstractStickyAssignorTest.testPoorRoundRobinAssignmentScenario: balanced where round robin is not"""
    partitions = {f"topic{i}": i for i in range(1, 6)}
    subs = {"consumer1": ["topic1", "topic2", "topic3", "topic4", "topic5"], "consumer2": ["topic1", "topic3", "topic5"],
            "consumer3": ["topic1", "topic3", "topic5"], "consumer4": ["topic1", "topic2", "topic3", "topic4", "topic5"]}
    result = sticky_assign(partitions, subs)
    assert sorted(tp for tps in result.values() for tp in tps) == sorted((t, p) for t, n in partitions.items() for p in range(n))
    assert all(tp[0] in subs[m] for m, tps in result.items() for tp in tps)
    assert max(map(len, result.values())) - min(map(len, result.values())) <= 1


def test_assign_dispatches_to_the_sticky_assignors() -> None:
    assert assign("sticky", {T: 2}, {C1: [T], C2: [T]}) == {C1: [(T, 0)], C2: [(T, 1)]} or \
        sorted(assign("sticky", {T: 2}, {C1: [T], C2: [T]}).values()) == [[(T, 0)], [(T, 1)]]
    assert sorted(tp for tps in assign("cooperative-sticky", {T: 4}, {C1: [T], C2: [T]}).values() for tp in tps) == [(T, p) for p in range(4)]


@pytest.mark.parametrize("seed", range(40))
def test_balance_stickiness_and_two_step_cooperative_moves(seed: int) -> None:
    rng = random.Random(seed)
    topics = {f"t{i}": rng.randint(1, 9) for i in range(rng.randint(1, 3))}
    members = [f"m{i}" for i in range(rng.randint(1, 7))]
    subs = {m: sorted(topics) for m in members}
    everything = sorted((t, p) for t, n in topics.items() for p in range(n))
    first = sticky_assign(topics, subs)
    assert sorted(tp for tps in first.values() for tp in tps) == everything
    sizes = [len(v) for v in first.values()]
    assert max(sizes) - min(sizes) <= 1
    # a member joins: only the partitions needed for balance move
    joined = members + ["new"]
    subs2 = {m: sorted(topics) for m in joined}
    owned = {**first, "new": []}
    gens = {m: 1 for m in joined}
    second = sticky_assign(topics, subs2, owned, gens)
    moved = sum(1 for m in members for tp in first[m] if tp not in second[m])
    quota = len(everything) // len(joined)
    assert moved == len(second["new"]) and len(second["new"]) in (quota, quota + 1)
    # cooperative: nothing goes straight from one member to another; a second round completes it
    step1 = cooperative_sticky_assign(topics, subs2, owned, gens)
    for member in joined:
        for tp in step1[member]:
            assert tp in owned[member] or all(tp not in owned[other] for other in joined), (member, tp)
    step2 = cooperative_sticky_assign(topics, subs2, step1, {m: 2 for m in joined})
    assert sorted(tp for tps in step2.values() for tp in tps) == everything
    assert step2 == second or sorted(map(len, step2.values())) == sorted(map(len, second.values()))


def verify_validity_and_balance(subscriptions, assignment, partitions_per_topic) -> None:
    """AbstractStickyAssignorTest.verifyValidityAndBalance."""
    wanted = {t for topics in subscriptions.values() for t in topics}
    every = sorted((t, p) for t, n in partitions_per_topic.items() if t in wanted for p in range(n))
    given = [tp for tps in assignment.values() for tp in tps]
    assert sorted(given) == every, "every subscribed partition exactly once"
    for member, tps in assignment.items():
        assert all(tp[0] in subscriptions[member] for tp in tps), f"{member} got a topic it does not subscribe to"
    members = sorted(assignment)
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            small, big = sorted((a, b), key=lambda m: len(assignment[m]))
            if len(assignment[big]) - len(assignment[small]) > 1:
                assert all(tp[0] not in subscriptions[small] for tp in assignment[big]), \
                    f"{small} ({len(assignment[small])}) could take a partition from {big} ({len(assignment[big])})"


def test_two_consumers_two_topics_six_partitions() -> None:
    """AbstractStickyAssignorTest.testTwoConsumersTwoTopicsSixPartitions (exact order)"""
    result = sticky_assign({T1: 3, T2: 3}, {C1: [T1, T2], C2: [T1, T2]})
    assert result == {C1: [(T1, 0), (T1, 2), (T2, 1)], C2: [(T1, 1), (T2, 0), (T2, 2)]}


def test_poor_round_robin_assignment_scenario_is_valid_and_balanced() -> None:
    """AbstractStickyAssignorTest.testPoorRoundRobinAssignmentScenario"""
    partitions = {f"topic{i}": (i % 2) + 1 for i in range(1, 6)}
    subs = {"consumer1": [f"topic{i}" for i in range(1, 6)], "consumer2": ["topic1", "topic3", "topic5"],
            "consumer3": ["topic1", "topic3", "topic5"], "consumer4": [f"topic{i}" for i in range(1, 6)]}
    verify_validity_and_balance(subs, sticky_assign(partitions, subs), partitions)


def test_reassignment_after_one_consumer_leaves() -> None:
    """AbstractStickyAssignorTest.testReassignmentAfterOneConsumerLeaves (staircase subscriptions)"""
    name = lambda kind, i: f"{kind}{i:02d}"  # noqa: E731 - Kafka's getTopicName/getConsumerName pad to two digits
    partitions = {name("t", i): i for i in range(1, 20)}
    subs = {name("c", i): [name("t", j) for j in range(1, i + 1)] for i in range(1, 20)}
    first = sticky_assign(partitions, subs)
    verify_validity_and_balance(subs, first, partitions)
    del subs[name("c", 10)]
    second = sticky_assign(partitions, subs, {m: first[m] for m in subs}, {m: 1 for m in subs})
    verify_validity_and_balance(subs, second, partitions)
    kept = sum(1 for m in subs for tp in first[m] if tp in second[m])
    assert kept >= sum(len(first[m]) for m in subs) - len(first[name("c", 10)]) * 2  # most partitions stay put


@pytest.mark.parametrize("seed", range(30))
def test_random_subscriptions_stay_valid_and_balanced_across_rounds(seed: int) -> None:
    """AbstractStickyAssignorTest.testReassignmentWithRandomSubscriptionsAndChanges, smaller"""
    rng = random.Random(seed)
    topics = {f"t{i}": rng.randint(1, 6) for i in range(rng.randint(2, 6))}
    members = [f"m{i}" for i in range(rng.randint(2, 8))]
    subs = {m: sorted(rng.sample(sorted(topics), rng.randint(1, len(topics)))) for m in members}
    first = sticky_assign(topics, subs)
    verify_validity_and_balance(subs, first, topics)
    for m in rng.sample(members, rng.randint(1, len(members))):
        subs[m] = sorted(rng.sample(sorted(topics), rng.randint(1, len(topics))))
    second = sticky_assign(topics, subs, first, {m: 1 for m in members})
    verify_validity_and_balance(subs, second, topics)
    step1 = cooperative_sticky_assign(topics, subs, first, {m: 1 for m in members})
    for member, tps in step1.items():  # nothing moves straight from one member to another
        for tp in tps:
            assert tp in first[member] or all(tp not in first[o] for o in members)
    step2 = cooperative_sticky_assign(topics, subs, step1, {m: 2 for m in members})
    verify_validity_and_balance(subs, step2, topics)
