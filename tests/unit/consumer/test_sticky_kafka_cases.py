"""More of Kafka's sticky-assignor test cases, plus property tests over random groups.

Ported from AbstractStickyAssignorTest (run by Kafka for both StickyAssignor and
CooperativeStickyAssignor), StickyAssignorTest and CooperativeStickyAssignorTest (Kafka 4.x,
clients/src/test/java/org/apache/kafka/clients/consumer/...). Kafka's ``subscription(topics, i)``
is a member with no owned partitions and no generation; ``buildSubscriptionV2Above(topics, owned,
generation, i)`` is ``owned[m]`` and ``generations[m]`` here. Rack variants (RackConfig) are not
ported: kafkalab does not model racks.

Kafka's ``verifyValidityAndBalance`` and ``isFullyBalanced`` are ported as helpers; for the
cooperative assignor, like CooperativeStickyAssignorTest's override, the validity check first runs
follow-up rebalances (owned = last assignment) until nothing more is revoked.
"""

from __future__ import annotations

import random
from typing import Callable, Mapping, Sequence

import pytest

from kafkalab.consumer.sticky import cooperative_sticky_assign, sticky_assign

TopicPartition = tuple[str, int]
Assignment = dict[str, list[TopicPartition]]
Assignor = Callable[..., Assignment]

BOTH = pytest.mark.parametrize("assignor", [sticky_assign, cooperative_sticky_assign], ids=["sticky", "cooperative"])
GENERATION = 1  # AbstractStickyAssignorTest.generationId


def tp(topic: str, partition: int) -> TopicPartition:
    return (topic, partition)


def name(prefix: str, i: int, max_num: int) -> str:
    """AbstractStickyAssignorTest.getCanonicalName: zero-padded to the width of ``max_num``."""
    return prefix + str(i).zfill(len(str(max_num)))


def is_fully_balanced(assignment: Mapping[str, Sequence[TopicPartition]]) -> bool:
    sizes = [len(v) for v in assignment.values()]
    return max(sizes) - min(sizes) <= 1


def _verify_eager(subscriptions: Mapping[str, Sequence[str]], assignment: Mapping[str, Sequence[TopicPartition]]) -> None:
    """AbstractStickyAssignorTest.verifyValidityAndBalance."""
    assert set(assignment) == set(subscriptions)
    members = sorted(assignment)
    for i, member in enumerate(members):
        mine = assignment[member]
        for topic, _ in mine:
            assert topic in subscriptions[member], f"{member} got a partition of {topic} it does not subscribe to"
        for other in members[i + 1 :]:
            theirs = assignment[other]
            assert not set(mine) & set(theirs), f"{member} and {other} share partitions"
            if abs(len(mine) - len(theirs)) <= 1:
                continue
            # A member with 2+ more partitions may only keep them if the other could take none of them.
            assert not {t for t, _ in mine} & {t for t, _ in theirs}, f"{member} and {other} could be balanced better"


def verify_validity_and_balance(
    assignor: Assignor,
    partitions_per_topic: Mapping[str, int],
    subscriptions: Mapping[str, Sequence[str]],
    owned: Mapping[str, Sequence[TopicPartition]] | None,
    assignment: Assignment,
) -> Assignment:
    """verifyValidityAndBalance; for cooperative, CooperativeStickyAssignorTest's version.

    Cooperative: no partition is given to a member while another member is revoking it; while
    anything is revoked, rebalance again with owned = the last assignment (at most 4 times).
    Returns the final assignment.
    """
    if assignor is cooperative_sticky_assign:
        owned = dict(owned or {})
        for _ in range(5):
            added = {p for m, tps in assignment.items() for p in tps if p not in set(owned.get(m, ()))}
            revoked = {p for m in assignment for p in owned.get(m, ()) if p not in set(assignment[m])}
            assert not added & revoked, f"partitions moved straight from one member to another: {added & revoked}"
            if not revoked:
                break
            owned = {m: list(tps) for m, tps in assignment.items()}
            assignment = assignor(partitions_per_topic, subscriptions, owned, {m: GENERATION for m in subscriptions})
        else:
            pytest.fail("still revoking partitions after 4 follow-up rebalances")
    _verify_eager(subscriptions, assignment)
    return assignment


def owned_after(assignment: Assignment) -> tuple[dict[str, list[TopicPartition]], dict[str, int]]:
    """Every member re-joins with what it was assigned, in generation 1 (buildSubscriptionV2Above)."""
    return {m: list(tps) for m, tps in assignment.items()}, {m: GENERATION for m in assignment}


# -- AbstractStickyAssignorTest -----------------------------------------------------------------------


@BOTH
def test_one_consumer_no_topic(assignor: Assignor) -> None:
    """testOneConsumerNoTopic."""
    subscriptions = {"consumer": []}
    assignment = assignor({}, subscriptions)
    assert assignment == {"consumer": []}
    verify_validity_and_balance(assignor, {}, subscriptions, None, assignment)


@BOTH
def test_one_consumer_nonexistent_topic(assignor: Assignor) -> None:
    """testOneConsumerNonexistentTopic."""
    subscriptions = {"consumer": ["topic"]}
    assert assignor({"topic": 0}, subscriptions) == {"consumer": []}
    assert assignor({}, subscriptions) == {"consumer": []}


@BOTH
def test_one_consumer_one_topic(assignor: Assignor) -> None:
    """testOneConsumerOneTopic."""
    assert assignor({"topic": 3}, {"consumer": ["topic"]}) == {"consumer": [tp("topic", 0), tp("topic", 1), tp("topic", 2)]}


@BOTH
def test_only_assigns_partitions_from_subscribed_topics(assignor: Assignor) -> None:
    """testOnlyAssignsPartitionsFromSubscribedTopics: owned partitions of other topics are ignored."""
    owned = {"consumer": [tp("topic", 0), tp("topic", 1), tp("other", 0), tp("other", 1)]}
    assignment = assignor({"topic": 2}, {"consumer": ["topic"]}, owned, {"consumer": GENERATION})
    assert assignment == {"consumer": [tp("topic", 0), tp("topic", 1)]}


@BOTH
def test_one_consumer_multiple_topics(assignor: Assignor) -> None:
    """testOneConsumerMultipleTopics."""
    assignment = assignor({"topic1": 1, "topic2": 2}, {"consumer": ["topic1", "topic2"]})
    assert assignment == {"consumer": [tp("topic1", 0), tp("topic2", 0), tp("topic2", 1)]}


@BOTH
def test_two_consumers_one_topic_one_partition(assignor: Assignor) -> None:
    """testTwoConsumersOneTopicOnePartition."""
    subscriptions = {"consumer1": ["topic"], "consumer2": ["topic"]}
    assignment = assignor({"topic": 1}, subscriptions)
    verify_validity_and_balance(assignor, {"topic": 1}, subscriptions, None, assignment)
    assert sorted(len(v) for v in assignment.values()) == [0, 1]


@BOTH
def test_two_consumers_one_topic_two_partitions(assignor: Assignor) -> None:
    """testTwoConsumersOneTopicTwoPartitions."""
    assignment = assignor({"topic": 2}, {"consumer1": ["topic"], "consumer2": ["topic"]})
    assert assignment == {"consumer1": [tp("topic", 0)], "consumer2": [tp("topic", 1)]}


@BOTH
def test_add_remove_two_consumers_two_topics(assignor: Assignor) -> None:
    """testAddRemoveTwoConsumersTwoTopics: exact assignments (and the partitions transferring
    ownership, which the cooperative assignor holds back for one rebalance)."""
    topics = ["topic1", "topic2"]
    counts = {"topic1": 3, "topic2": 4}
    subscriptions = {"consumer1": topics, "consumer2": topics}
    assignment = assignor(counts, subscriptions)
    assert sorted(assignment["consumer1"]) == [tp("topic1", 0), tp("topic1", 2), tp("topic2", 1), tp("topic2", 3)]
    assert sorted(assignment["consumer2"]) == [tp("topic1", 1), tp("topic2", 0), tp("topic2", 2)]

    # add 2 consumers
    owned = {"consumer1": assignment["consumer1"], "consumer2": assignment["consumer2"], "consumer3": [], "consumer4": []}
    generations = {m: GENERATION for m in owned}
    subscriptions = {m: topics for m in owned}
    assignment = assignor(counts, subscriptions, owned, generations)
    assert sorted(assignment["consumer1"]) == [tp("topic1", 0), tp("topic2", 1)]
    assert sorted(assignment["consumer2"]) == [tp("topic1", 1), tp("topic2", 0)]
    # Kafka: partitionsTransferringOwnership == {topic1-2: consumer3, topic2-3: consumer3, topic2-2: consumer4}
    if assignor is sticky_assign:
        assert sorted(assignment["consumer3"]) == [tp("topic1", 2), tp("topic2", 3)]
        assert assignment["consumer4"] == [tp("topic2", 2)]
    else:
        assert assignment["consumer3"] == [] and assignment["consumer4"] == []
    assignment = verify_validity_and_balance(assignor, counts, subscriptions, owned, assignment)
    assert sorted(assignment["consumer3"]) == [tp("topic1", 2), tp("topic2", 3)]
    assert assignment["consumer4"] == [tp("topic2", 2)]

    # remove 2 consumers
    owned = {"consumer3": assignment["consumer3"], "consumer4": assignment["consumer4"]}
    subscriptions = {m: topics for m in owned}
    assignment = assignor(counts, subscriptions, owned, {m: GENERATION for m in owned})
    assert sorted(assignment["consumer3"]) == [tp("topic1", 0), tp("topic1", 2), tp("topic2", 1), tp("topic2", 3)]
    assert sorted(assignment["consumer4"]) == [tp("topic1", 1), tp("topic2", 0), tp("topic2", 2)]
    assert is_fully_balanced(assignment)


@BOTH
def test_add_remove_topic_two_consumers(assignor: Assignor) -> None:
    """testAddRemoveTopicTwoConsumers: adding and removing a topic keeps what each member had."""
    counts = {"topic": 3}
    subscriptions = {"consumer1": ["topic"], "consumer2": ["topic"]}
    first = assignor(counts, subscriptions)
    assert sorted(len(v) for v in first.values()) == [1, 2]

    counts = {"topic": 3, "topic2": 3}
    subscriptions = {"consumer1": ["topic", "topic2"], "consumer2": ["topic", "topic2"]}
    second = assignor(counts, subscriptions, *owned_after(first))
    verify_validity_and_balance(assignor, counts, subscriptions, first, second)
    assert [len(second["consumer1"]), len(second["consumer2"])] == [3, 3]
    for member in second:
        assert set(first[member]) <= set(second[member])

    counts = {"topic2": 3}
    subscriptions = {"consumer1": ["topic2"], "consumer2": ["topic2"]}
    third = assignor(counts, subscriptions, *owned_after(second))
    verify_validity_and_balance(assignor, counts, subscriptions, second, third)
    assert sorted(len(v) for v in third.values()) == [1, 2]
    for member in third:
        assert set(third[member]) <= set(second[member])


@BOTH
def test_reassignment_after_one_consumer_added(assignor: Assignor) -> None:
    """testReassignmentAfterOneConsumerAdded."""
    counts = {"topic": 20}
    subscriptions = {name("c", i, 10): ["topic"] for i in range(1, 10)}
    assignment = assignor(counts, subscriptions)
    verify_validity_and_balance(assignor, counts, subscriptions, None, assignment)
    subscriptions[name("c", 10, 10)] = ["topic"]
    # Kafka re-joins with no owned partitions here (subscription(...) rather than V2Above).
    assignment = assignor(counts, subscriptions)
    verify_validity_and_balance(assignor, counts, subscriptions, None, assignment)


@BOTH
def test_same_subscriptions(assignor: Assignor) -> None:
    """testSameSubscriptions: 14 topics of 1..14 partitions, 8 members, then one leaves."""
    counts = {name("t", i, 15): i for i in range(1, 15)}
    topics = list(counts)
    subscriptions = {name("c", i, 9): topics for i in range(1, 9)}
    assignment = assignor(counts, subscriptions)
    verify_validity_and_balance(assignor, counts, subscriptions, None, assignment)
    owned, generations = owned_after(assignment)
    del subscriptions[name("c", 5, 9)]
    assignment = assignor(counts, subscriptions, owned, generations)
    verify_validity_and_balance(assignor, counts, subscriptions, owned, assignment)


@BOTH
@pytest.mark.parametrize("seed", range(3))
def test_large_assignment_with_multiple_consumers_leaving_and_random_subscription(assignor: Assignor, seed: int) -> None:
    """testLargeAssignmentWithMultipleConsumersLeavingAndRandomSubscription (40 topics, 200
    members, 50 random removals — as in Kafka, with a seeded random)."""
    rng = random.Random(seed)
    topic_count, consumer_count = 40, 200
    counts = {name("t", i, topic_count): rng.randint(1, 10) for i in range(topic_count)}
    subscriptions: dict[str, list[str]] = {}
    for i in range(consumer_count):
        # Kafka re-evaluates rand.nextInt(20) on each loop test; the members may repeat a topic.
        topics: list[str] = []
        j = 0
        while j < rng.randrange(20):
            topics.append(name("t", rng.randrange(topic_count), topic_count))
            j += 1
        subscriptions[name("c", i, consumer_count)] = topics
    assignment = assignor(counts, subscriptions)
    verify_validity_and_balance(assignor, counts, subscriptions, None, assignment)

    owned = {m: list(assignment[m]) for m in subscriptions if m != name("c", 0, consumer_count)}
    generations = {m: GENERATION for m in owned}
    for _ in range(50):
        subscriptions.pop(name("c", rng.randrange(consumer_count), consumer_count), None)
    owned = {m: tps for m, tps in owned.items() if m in subscriptions}
    assignment = assignor(counts, subscriptions, owned, generations)
    verify_validity_and_balance(assignor, counts, subscriptions, owned, assignment)


@BOTH
def test_new_subscription(assignor: Assignor) -> None:
    """testNewSubscription: c0 starts with no topics, then subscribes to t1."""
    counts = {name("t", i, 5): 1 for i in range(1, 5)}
    subscriptions = {name("c", i, 3): [name("t", j, 5) for j in range(i, 3 * i - 1)] for i in range(3)}
    assignment = assignor(counts, subscriptions)
    verify_validity_and_balance(assignor, counts, subscriptions, None, assignment)
    subscriptions[name("c", 0, 3)] = [name("t", 1, 5)]
    # Kafka reuses the subscriptions without owned partitions (subscription(...)).
    assignment = assignor(counts, subscriptions)
    verify_validity_and_balance(assignor, counts, subscriptions, None, assignment)


@BOTH
def test_move_existing_assignments(assignor: Assignor) -> None:
    """testMoveExistingAssignments."""
    counts = {f"topic{i}": 1 for i in range(1, 7)}
    subscriptions = {
        "consumer1": ["topic1", "topic2"],
        "consumer2": ["topic1", "topic2", "topic3", "topic4"],
        "consumer3": ["topic2", "topic3", "topic4", "topic5", "topic6"],
    }
    owned = {
        "consumer1": [tp("topic1", 0)],
        "consumer2": [tp("topic2", 0), tp("topic3", 0)],
        "consumer3": [tp("topic4", 0), tp("topic5", 0), tp("topic6", 0)],
    }
    assignment = assignor(counts, subscriptions, owned, {m: GENERATION for m in owned})
    verify_validity_and_balance(assignor, counts, subscriptions, owned, assignment)


@BOTH
def test_stickiness(assignor: Assignor) -> None:
    """testStickiness: the members that keep running keep their partition when one leaves."""
    counts = {"topic1": 3}
    subscriptions = {f"consumer{i}": ["topic1"] for i in range(1, 5)}
    assignment = assignor(counts, subscriptions)
    verify_validity_and_balance(assignor, counts, subscriptions, None, assignment)
    assert all(len(v) <= 1 for v in assignment.values())
    before = {m: tps[0] for m, tps in assignment.items() if tps}

    del subscriptions["consumer1"]
    owned = {m: assignment[m] for m in subscriptions}
    assignment = assignor(counts, subscriptions, owned, {m: GENERATION for m in owned})
    assignment = verify_validity_and_balance(assignor, counts, subscriptions, owned, assignment)
    for member, tps in assignment.items():
        assert len(tps) == 1
        assert member not in before or before[member] in tps, f"stickiness was not honoured for {member}"


@BOTH
def test_assignment_updated_for_deleted_topic(assignor: Assignor) -> None:
    """testAssignmentUpdatedForDeletedTopic: topic2 is subscribed to but does not exist."""
    assignment = assignor({"topic1": 1, "topic3": 100}, {"consumer": ["topic1", "topic2", "topic3"]})
    assert list(assignment) == ["consumer"] and len(assignment["consumer"]) == 101


@BOTH
def test_no_exception_thrown_when_only_subscribed_topic_deleted(assignor: Assignor) -> None:
    """testNoExceptionThrownWhenOnlySubscribedTopicDeleted."""
    assignment = assignor({"topic": 3}, {"consumer": ["topic"]})
    assert assignor({}, {"consumer": ["topic"]}, *owned_after(assignment)) == {"consumer": []}


@BOTH
@pytest.mark.parametrize("seed", range(10))
def test_reassignment_with_random_subscriptions_and_changes(assignor: Assignor, seed: int) -> None:
    """testReassignmentWithRandomSubscriptionsAndChanges (Kafka runs 100 unseeded rounds)."""
    rng = random.Random(seed)

    def random_sublist(items: list[str]) -> list[str]:  # AbstractStickyAssignorTest.getRandomSublist
        chosen = list(items)
        for _ in range(rng.randrange(len(items))):
            chosen.pop(rng.randrange(len(chosen)))
        return sorted(chosen)

    topics = [name("t", i, 20) for i in range(10 + rng.randrange(10))]
    counts = {t: i + 1 for i, t in enumerate(topics)}
    members = [name("c", i, 40) for i in range(20 + rng.randrange(20))]
    subscriptions = {m: random_sublist(topics) for m in members}
    assignment = assignor(counts, subscriptions)
    verify_validity_and_balance(assignor, counts, subscriptions, None, assignment)

    owned, generations = owned_after(assignment)
    subscriptions = {m: random_sublist(topics) for m in members}
    assignment = assignor(counts, subscriptions, owned, generations)
    verify_validity_and_balance(assignor, counts, subscriptions, owned, assignment)


@BOTH
def test_owned_partitions_are_invalidated_for_consumer_with_multiple_generation(assignor: Assignor) -> None:
    """testOwnedPartitionsAreInvalidatedForConsumerWithMultipleGeneration."""
    counts = {"topic": 3, "topic2": 3}
    subscriptions = {"consumer1": ["topic", "topic2"], "consumer2": ["topic", "topic2"]}
    owned = {
        "consumer1": [tp("topic", 0), tp("topic2", 1), tp("topic", 1)],
        "consumer2": [tp("topic", 0), tp("topic2", 1), tp("topic2", 2)],
    }
    assignment = assignor(counts, subscriptions, owned, {"consumer1": 10, "consumer2": 8})
    assert set(assignment["consumer1"]) == {tp("topic", 0), tp("topic2", 1), tp("topic", 1)}
    assert set(assignment["consumer2"]) == {tp("topic", 2), tp("topic2", 2), tp("topic2", 0)}
    assert is_fully_balanced(assignment)


@BOTH
def test_partitions_transferring_ownership_include_the_partition_claimed_by_multiple_consumers(assignor: Assignor) -> None:
    """testPartitionsTransferringOwnershipIncludeThePartitionClaimedByMultipleConsumersInSameGeneration
    (and, for cooperative, CooperativeStickyAssignorTest's
    testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithEqualPartitionsPerConsumer)."""
    counts = {"topic": 3}
    subscriptions = {m: ["topic"] for m in ("consumer1", "consumer2", "consumer3")}
    owned = {"consumer1": [tp("topic", 0), tp("topic", 1)], "consumer2": [tp("topic", 0), tp("topic", 2)], "consumer3": []}
    assignment = assignor(counts, subscriptions, owned, {m: GENERATION for m in owned})
    assert assignment["consumer1"] == [tp("topic", 1)]
    assert assignment["consumer2"] == [tp("topic", 2)]
    # topic-0 transfers ownership: cooperative holds it back until both claimants revoked it.
    assert assignment["consumer3"] == ([tp("topic", 0)] if assignor is sticky_assign else [])
    verify_validity_and_balance(assignor, counts, subscriptions, owned, assignment)


@BOTH
def test_claimed_by_multiple_consumers_with_unequal_partitions_per_consumer(assignor: Assignor) -> None:
    """testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithUnequalPartitionsPerConsumer
    (StickyAssignorTest and CooperativeStickyAssignorTest)."""
    counts = {"topic": 4}
    subscriptions = {m: ["topic"] for m in ("consumer1", "consumer2", "consumer3")}
    owned = {"consumer1": [tp("topic", 0), tp("topic", 1)], "consumer2": [tp("topic", 0), tp("topic", 2)], "consumer3": []}
    assignment = assignor(counts, subscriptions, owned, {m: GENERATION for m in owned})
    assert assignment["consumer1"] == [tp("topic", 1), tp("topic", 3)]
    assert assignment["consumer2"] == [tp("topic", 2)]
    assert assignment["consumer3"] == ([tp("topic", 0)] if assignor is sticky_assign else [])
    verify_validity_and_balance(assignor, counts, subscriptions, owned, assignment)


@BOTH
def test_subscription_not_equal_and_assign_same_partition_with_3_generation(assignor: Assignor) -> None:
    """testSubscriptionNotEqualAndAssignSamePartitionWith3Generation."""
    counts = {"topic": 6, "topic1": 1}
    for g1, g2, g3 in [(1, 2, 3), (1, 3, 2), (2, 1, 3), (2, 3, 1), (3, 1, 2), (3, 2, 1)]:
        subscriptions = {"consumer1": ["topic"], "consumer2": ["topic"], "consumer3": ["topic"], "consumer4": ["topic1"]}
        owned = {
            "consumer1": [tp("topic", 0), tp("topic", 2)],
            "consumer2": [tp("topic", 1), tp("topic", 2), tp("topic", 3)],
            "consumer3": [tp("topic", 2), tp("topic", 4), tp("topic", 5)],
            "consumer4": [tp("topic1", 0)],
        }
        generations = {"consumer1": g1, "consumer2": g2, "consumer3": g3, "consumer4": 2}
        assignment = assignor(counts, subscriptions, owned, generations)
        given = [p for tps in assignment.values() for p in tps]
        assert len(given) == len(set(given))
        if assignor is sticky_assign:
            assert all(1 <= len(tps) <= 2 for tps in assignment.values())


# -- StickyAssignorTest (generations) --------------------------------------------------------------


@pytest.mark.parametrize("all_equal", [True, False])
def test_assignment_with_multiple_generations_1(all_equal: bool) -> None:
    """StickyAssignorTest.testAssignmentWithMultipleGenerations1."""
    all_topics = ["topic", "topic2"]
    c2_topics = all_topics if all_equal else ["topic"]
    counts = {"topic": 6, "topic2": 6}
    subscriptions = {"consumer1": all_topics, "consumer2": c2_topics, "consumer3": all_topics}
    r1 = sticky_assign(counts, subscriptions)
    assert [len(r1[m]) for m in subscriptions] == [4, 4, 4]
    _verify_eager(subscriptions, r1)

    subscriptions = {"consumer1": all_topics, "consumer2": c2_topics}
    owned = {"consumer1": r1["consumer1"], "consumer2": r1["consumer2"]}
    r2 = sticky_assign(counts, subscriptions, owned, {"consumer1": GENERATION, "consumer2": GENERATION})
    assert len(r2["consumer1"]) == 6 and len(r2["consumer2"]) == 6
    if all_equal:
        assert set(r1["consumer1"]) <= set(r2["consumer1"])
    assert set(r1["consumer2"]) <= set(r2["consumer2"])
    assert set(r2["consumer2"]) & set(r1["consumer3"])
    _verify_eager(subscriptions, r2)

    # consumer1 leaves; consumer3 comes back claiming its generation-1 partitions.
    subscriptions = {"consumer2": c2_topics, "consumer3": all_topics}
    owned = {"consumer2": r2["consumer2"], "consumer3": r1["consumer3"]}
    r3 = sticky_assign(counts, subscriptions, owned, {"consumer2": 2, "consumer3": 1})
    assert len(r3["consumer2"]) == 6 and len(r3["consumer3"]) == 6
    assert not set(r3["consumer2"]) & set(r3["consumer3"])
    _verify_eager(subscriptions, r3)


@pytest.mark.parametrize("all_equal", [True, False])
def test_assignment_with_multiple_generations_2(all_equal: bool) -> None:
    """StickyAssignorTest.testAssignmentWithMultipleGenerations2."""
    all_topics = ["topic", "topic2", "topic3"]
    c1_topics = all_topics if all_equal else ["topic"]
    c3_topics = all_topics if all_equal else ["topic", "topic2"]
    counts = {"topic": 4, "topic2": 4, "topic3": 4}
    subscriptions = {"consumer1": c1_topics, "consumer2": all_topics, "consumer3": c3_topics}
    r1 = sticky_assign(counts, subscriptions)
    assert [len(r1[m]) for m in subscriptions] == [4, 4, 4]

    r2 = sticky_assign(counts, {"consumer2": all_topics}, {"consumer2": r1["consumer2"]}, {"consumer2": 1})
    assert len(r2["consumer2"]) == 12 and set(r1["consumer2"]) <= set(r2["consumer2"])

    owned = {"consumer1": r1["consumer1"], "consumer2": r2["consumer2"], "consumer3": r1["consumer3"]}
    r3 = sticky_assign(counts, subscriptions, owned, {"consumer1": 1, "consumer2": 2, "consumer3": 1})
    assert [len(r3[m]) for m in subscriptions] == [4, 4, 4]
    _verify_eager(subscriptions, r3)


@pytest.mark.parametrize("all_equal", [True, False])
def test_assignment_with_conflicting_previous_generations(all_equal: bool) -> None:
    """StickyAssignorTest.testAssignmentWithConflictingPreviousGenerations."""
    counts = {"topic": 4, "topic2": 4, "topic3": 4}
    all_topics = ["topic", "topic2", "topic3"]
    subscriptions = {
        "consumer1": all_topics if all_equal else ["topic"],
        "consumer2": all_topics if all_equal else ["topic", "topic2"],
        "consumer3": all_topics,
    }
    t1, t2, t3 = (lambda p: tp("topic", p)), (lambda p: tp("topic2", p)), (lambda p: tp("topic3", p))
    c1 = [t1(0), t1(1), t1(2), t2(2), t2(3), t3(0)] if all_equal else [t1(0), t1(1), t1(2), t1(3)]
    c2 = [t1(0), t1(1), t2(0), t2(1), t2(2), t2(3)]
    c3 = [t1(2), t1(3), t3(0), t3(1), t3(2), t3(3)]
    owned = {"consumer1": c1, "consumer2": c2, "consumer3": c3}
    assignment = sticky_assign(counts, subscriptions, owned, {"consumer1": 1, "consumer2": 2, "consumer3": 2})
    assert [len(assignment[m]) for m in subscriptions] == [4, 4, 4]
    assert set(assignment["consumer2"]) <= set(c2)
    assert set(assignment["consumer3"]) <= set(c3)
    _verify_eager(subscriptions, assignment)


def test_schema_backward_compatibility() -> None:
    """StickyAssignorTest.testSchemaBackwardCompatibility: consumer2's old user data has no generation."""
    counts = {"topic": 3}
    subscriptions = {m: ["topic"] for m in ("consumer1", "consumer2", "consumer3")}
    owned = {"consumer1": [tp("topic", 0), tp("topic", 2)], "consumer2": [tp("topic", 1)]}
    assignment = sticky_assign(counts, subscriptions, owned, {"consumer1": 1})
    assert all(len(v) == 1 for v in assignment.values())
    assert set(assignment["consumer1"]) <= set(owned["consumer1"])
    assert assignment["consumer2"] == [tp("topic", 1)]


@BOTH
def test_assignor_with_old_version_subscriptions(assignor: Assignor) -> None:
    """testAssignorWithOldVersionSubscriptions (StickyAssignorTest and CooperativeStickyAssignorTest)."""
    subscriptions = {m: ["topic1"] for m in ("consumer1", "consumer2", "consumer3")}
    owned = {"consumer1": [tp("topic1", 0)], "consumer2": [tp("topic1", 1)], "consumer3": []}
    assignment = assignor({"topic1": 3}, subscriptions, owned, {m: GENERATION for m in owned})
    assert assignment == {"consumer1": [tp("topic1", 0)], "consumer2": [tp("topic1", 1)], "consumer3": [tp("topic1", 2)]}


# -- properties over random groups ----------------------------------------------------------------


def _random_group(rng: random.Random, equal: bool) -> tuple[dict[str, int], dict[str, list[str]]]:
    topics = [f"t{i}" for i in range(rng.randint(1, 5))]
    counts = {t: rng.randint(1, 12) for t in topics}
    members = [f"m{i}" for i in range(rng.randint(1, 8))]
    if equal:
        chosen = sorted(rng.sample(topics, rng.randint(1, len(topics))))
        return counts, {m: chosen for m in members}
    return counts, {m: sorted(rng.sample(topics, rng.randint(1, len(topics)))) for m in members}


def _check_complete(counts: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]], assignment: Assignment) -> None:
    given = [p for tps in assignment.values() for p in tps]
    subscribed = {t for ts in subscriptions.values() for t in ts}
    assert sorted(given) == sorted((t, p) for t in counts if t in subscribed for p in range(counts[t]))
    for member, tps in assignment.items():
        assert all(t in subscriptions[member] for t, _ in tps)


@pytest.mark.parametrize("seed", range(150))
def test_sticky_properties(seed: int) -> None:
    """Every subscribed partition exactly once, only to subscribers, balanced; then, for identical
    subscriptions, one member joining moves only the partitions it must (no shuffling)."""
    rng = random.Random(seed)
    equal = seed % 2 == 0
    counts, subscriptions = _random_group(rng, equal)
    first = sticky_assign(counts, subscriptions)
    _check_complete(counts, subscriptions, first)
    _verify_eager(subscriptions, first)
    if equal:
        assert is_fully_balanced(first)

    # A random round of churn with owned partitions keeps everything valid.
    churned = {m: sorted(rng.sample(list(counts), rng.randint(1, len(counts)))) for m in subscriptions}
    if equal:
        churned = dict(subscriptions)
    second = sticky_assign(counts, churned, *owned_after(first))
    _check_complete(counts, churned, second)
    _verify_eager(churned, second)

    if equal:
        # Stickiness: the fewest moves any balanced assignment could make when "new" joins.
        joined = {**subscriptions, "new": subscriptions[next(iter(subscriptions))]}
        third = sticky_assign(counts, joined, *owned_after(first))
        assert is_fully_balanced(third)
        moved = sum(1 for m, tps in third.items() for p in tps if p not in set(first.get(m, ())))
        total, n = sum(len(v) for v in first.values()), len(joined)
        min_quota, extra = divmod(total, n)
        # Keep as much as possible: `extra` members may keep min_quota + 1, the rest min_quota.
        owned_sizes = sorted((len(v) for v in first.values()), reverse=True)
        kept = sum(min(s, min_quota + 1) if i < extra else min(s, min_quota) for i, s in enumerate(owned_sizes))
        assert moved == total - kept


@pytest.mark.parametrize("seed", range(150))
def test_cooperative_properties(seed: int) -> None:
    """No partition goes straight from one member to another in one rebalance, and a follow-up
    rebalance (owned = the first result) completes the assignment."""
    rng = random.Random(1000 + seed)
    equal = seed % 2 == 0
    counts, subscriptions = _random_group(rng, equal)
    start = sticky_assign(counts, subscriptions)
    owned, generations = owned_after(start)
    # Membership changes: a member leaves and two join (same topics when subscriptions are equal).
    members = list(subscriptions)
    leaving = rng.choice(members)
    changed = {m: ts for m, ts in subscriptions.items() if m != leaving}
    for new in ("x1", "x2"):
        changed[new] = subscriptions[members[0]] if equal else sorted(rng.sample(list(counts), rng.randint(1, len(counts))))
    owned = {m: tps for m, tps in owned.items() if m in changed}

    first = cooperative_sticky_assign(counts, changed, owned, generations)
    revoked = {p for m in first for p in owned.get(m, ()) if p not in first[m]}
    added = {p for m, tps in first.items() for p in tps if p not in owned.get(m, ())}
    assert not revoked & added
    # The eager assignment is the target; cooperative gives a subset of it.
    target = sticky_assign(counts, changed, owned, generations)
    for member in first:
        assert set(first[member]) <= set(target[member])

    second = cooperative_sticky_assign(counts, changed, *owned_after(first))
    _check_complete(counts, changed, second)
    _verify_eager(changed, second)
    for member in first:
        assert set(first[member]) <= set(second[member]), "the follow-up rebalance revoked something"
    if equal:
        assert is_fully_balanced(second)


def test_large_uniform_group_is_fast() -> None:
    """2000 partitions x 20 members, then a 21st joins: both rounds, eager and cooperative."""
    counts = {f"t{i}": 200 for i in range(10)}
    subscriptions = {f"c{i:02d}": sorted(counts) for i in range(20)}
    first = sticky_assign(counts, subscriptions)
    assert is_fully_balanced(first)
    subscriptions["c20"] = sorted(counts)
    second = cooperative_sticky_assign(counts, subscriptions, *owned_after(first))
    assert second["c20"] == []  # everything it will get still belongs to someone else
    third = cooperative_sticky_assign(counts, subscriptions, *owned_after(second))
    assert is_fully_balanced(third) and len(third["c20"]) >= 95


# -- corner cases where Java's GeneralAssignmentBuilder misbehaves --------------------------------


def test_previous_owner_set_aside_as_fixed() -> None:
    """P owned topic t1-0 in an older generation but now only consumes t2 (it alone): Java's
    ``currentAssignment.get(prevAssignment.get(partition).consumer)`` is null."""
    counts = {"t1": 4, "t2": 1}
    subscriptions = {"B": ["t1"], "C": ["t1"], "P": ["t2"]}
    owned = {"B": [("t1", i) for i in range(4)], "C": [], "P": [("t1", 0)]}
    assignment = sticky_assign(counts, subscriptions, owned, {"B": 2, "C": 2, "P": 1})
    _check_complete(counts, subscriptions, assignment)


def test_previous_owner_no_longer_subscribed() -> None:
    counts = {"t1": 4, "t2": 2}
    subscriptions = {"B": ["t1"], "C": ["t1"], "P": ["t2"], "Q": ["t2"]}
    owned = {"B": [("t1", i) for i in range(4)], "C": [], "P": [("t1", 0)], "Q": []}
    assignment = sticky_assign(counts, subscriptions, owned, {"B": 2, "C": 2, "P": 1, "Q": 2})
    _check_complete(counts, subscriptions, assignment)
