"""Checks for ex10_sticky_assignor (stretch): Kafka's ConstrainedAssignmentBuilder.

Kafka's own AbstractStickyAssignorTest expectations, the balance and stickiness properties over
random groups, and a consumer group on an embedded cluster whose leader uses the learner's builder
through the cooperative-sticky protocol.
"""

from __future__ import annotations

import random
from types import ModuleType

from kafkalab.consumer.group_lab import GroupLab
from kafkalab.consumer.sticky import _owned_partitions
from kafkalab.jvm import java_hashmap_order
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed, expect_equal, first_failure

EXERCISE = "ex10_sticky_assignor"
T, T1, T2 = "topic", "topic1", "topic2"
C1, C2, C3 = "consumer1", "consumer2", "consumer3"


def run(impl: ModuleType, counts, subscriptions, owned=None, generations=None):
    members = java_hashmap_order(list(subscriptions))
    owned_by, claimed_twice = _owned_partitions(set(counts), members, owned or {}, generations or {})
    result = impl.constrained_assign(dict(counts), members, owned_by, claimed_twice)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise CheckFailed(f"constrained_assign must return (assignment, partitions_transferring_ownership), got {result!r:.200}")
    return result


CASES = [
    ("testConsumerOwningMinQuotaExpectedMaxQuota", {T1: 2, T2: 3}, {C1: [T1, T2], C2: [T1, T2]},
     {C1: [(T1, 0), (T2, 1)], C2: [(T1, 1), (T2, 2)]}, {C1: [(T1, 0), (T2, 1), (T2, 0)], C2: [(T1, 1), (T2, 2)]}, {}),
    ("testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers", {T1: 2, T2: 2}, {C: [T1, T2] for C in (C1, C2, C3)},
     {C1: [(T1, 0), (T2, 0)], C2: [(T1, 1), (T2, 1)], C3: []},
     {C1: [(T1, 0)], C2: [(T1, 1), (T2, 1)], C3: [(T2, 0)]}, {(T2, 0): C3}),
    ("testAllConsumersAreUnderMinQuota", {T1: 2, T2: 3}, {C: [T1, T2] for C in (C1, C2, C3)},
     {C1: [(T1, 0)], C2: [(T1, 1)], C3: []}, {C1: [(T1, 0), (T2, 1)], C2: [(T1, 1), (T2, 2)], C3: [(T2, 0)]}, {}),
    ("testTwoConsumersTwoTopicsSixPartitions", {T1: 3, T2: 3}, {C1: [T1, T2], C2: [T1, T2]}, {},
     {C1: [(T1, 0), (T1, 2), (T2, 1)], C2: [(T1, 1), (T2, 0), (T2, 2)]}, {}),
    ("testPartitionsTransferringOwnershipIncludeThePartitionClaimedByMultipleConsumersInSameGeneration", {T: 3},
     {C: [T] for C in (C1, C2, C3)}, {C1: [(T, 0), (T, 1)], C2: [(T, 0), (T, 2)], C3: []},
     {C1: [(T, 1)], C2: [(T, 2)], C3: [(T, 0)]}, {(T, 0): C3}),
]


@check(EXERCISE, points=4)
def matches_kafkas_test_cases(impl: ModuleType) -> None:
    """constrained_assign gives Kafka's exact assignments and ownership transfers (AbstractStickyAssignorTest)"""

    def one(case) -> None:
        name, counts, subs, owned, expected, transferring = case
        assignment, moving = run(impl, counts, subs, owned, {m: 1 for m in subs})
        given = {"partitions_per_topic": counts, "owned": owned}
        expect_equal({m: list(assignment[m]) for m in subs}, expected, f"assignment (Kafka's {name})", input=given)
        expect_equal(dict(moving), transferring, f"partitions changing owner (Kafka's {name})", input=given)

    first_failure(CASES, one)


@check(EXERCISE, points=3)
def balanced_and_sticky_on_random_groups(impl: ModuleType) -> None:
    """on 200 random groups: balanced (sizes differ by at most 1), and a new member takes only its share"""
    rng = random.Random(11)
    for number in range(200):
        topics = {f"t{i}": rng.randint(1, 9) for i in range(rng.randint(1, 3))}
        members = [f"m{i}" for i in range(rng.randint(1, 6))]
        everything = sorted((t, p) for t, n in topics.items() for p in range(n))
        first, _ = run(impl, topics, {m: sorted(topics) for m in members})
        expect_equal(sorted(tp for tps in first.values() for tp in tps), everything, "partitions assigned, each once", seed=number)
        sizes = sorted(len(first[m]) for m in members)
        if sizes[-1] - sizes[0] > 1:
            raise CheckFailed(f"unbalanced sizes {sizes} for {topics} and {len(members)} members (seed {number})")
        joined = members + ["new"]
        second, _ = run(impl, topics, {m: sorted(topics) for m in joined}, {**first, "new": []}, {m: 1 for m in joined})
        moved = sum(1 for m in members for tp in first[m] if tp not in second[m])
        expect_equal(moved, len(second["new"]), "partitions taken from the old members when one joins (only the new member's share)", seed=number)


@check(EXERCISE, points=3, timeout_s=60)
def a_cooperative_group_with_your_builder_revokes_only_what_moves(impl: ModuleType) -> None:
    """a cooperative-sticky group using your builder: a third member joins, only the two partitions it takes are revoked"""
    import kafkalab.consumer.sticky as sticky

    original = sticky.constrained_assign
    sticky.constrained_assign = impl.constrained_assign
    try:
        lab = GroupLab(assignor="cooperative-sticky", consumers=2)
        lab.add(15_000)
        snapshot = lab.run(30_000)
    finally:
        sticky.constrained_assign = original
    revoked = sorted((o.member, o.partition) for o in snapshot.ownership if o.end_ms is not None and o.end_ms >= 15_000)
    owners = {p: m for p, m in snapshot.owners.items()}
    expect_equal(len(revoked), 2, f"partitions revoked when c3 joined ({revoked})", seed=1)
    expect_equal(sorted(len([p for p, m in owners.items() if m == [name]]) for name in ("c1", "c2", "c3")), [2, 2, 2],
                 "partitions per member after the rebalances", seed=1)
