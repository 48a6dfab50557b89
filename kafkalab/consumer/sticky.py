"""The sticky assignors: balanced like round robin, but members keep what they had.

Range and round robin compute an assignment from scratch; after a rebalance most partitions land
on a different member, each losing its caches and state. The **sticky** assignor (KIP-54) first
lets every member keep the partitions it owned (up to its fair share), then deals out the rest.
With *n* partitions and *m* members, each member gets ``minQuota = n // m`` or
``maxQuota = ceil(n / m)`` partitions, and exactly ``n % m`` members get the larger share.

The **cooperative-sticky** assignor (KIP-429) computes the same assignment but does not hand a
partition straight from one member to another: a partition that must move is left *unassigned* in
this rebalance. Its old owner sees it is gone and revokes it (while keeping everything else); that
revocation makes it rejoin, and the follow-up rebalance gives the partition to its new owner. No
member ever stops consuming the partitions that do not move — the end of stop-the-world rebalances.

Owned partitions come from each member's subscription, with the generation it owned them in:
when two members claim a partition, the higher generation wins; two claims in the *same*
generation are both ignored (KIP-341, KAFKA-12984).

This module ports ``AbstractStickyAssignor``'s ``ConstrainedAssignmentBuilder`` — the algorithm
Kafka uses when every member subscribes to the same topics (the usual case, and every group in this
course). Groups whose members subscribe to different topics use Kafka's ``GeneralAssignmentBuilder``,
which kafkalab does not have yet: :func:`sticky_assign` says so instead of guessing. Where Kafka
iterates a ``HashMap`` (which member keeps a surplus partition first) the order of Java's HashMap is
reproduced, so results match Kafka's exactly.

Kafka: org.apache.kafka.clients.consumer.internals.AbstractStickyAssignor, StickyAssignor,
CooperativeStickyAssignor; KIP-54, KIP-341, KIP-429.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from kafkalab.coordinator.offsets_topic import java_string_hash

TopicPartition = tuple[str, int]
Assignment = dict[str, list[TopicPartition]]
DEFAULT_GENERATION = -1


class UnsupportedSubscriptionsError(ValueError):
    """Members subscribed to different topics: Kafka's general sticky algorithm is not ported yet."""


def java_hashmap_order(keys: Sequence[str]) -> list[str]:
    """The iteration order of a java.util.HashMap<String, …> filled with ``keys`` in this order.

    Buckets in index order (``(h ^ h >>> 16) & (capacity - 1)``), and insertion order inside a
    bucket; the table starts at 16 and doubles when it is more than 3/4 full.
    """
    capacity = 16
    while len(keys) > capacity * 3 // 4:
        capacity *= 2

    def bucket(key: str) -> int:
        h = java_string_hash(key) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    indexed = sorted(enumerate(keys), key=lambda item: (bucket(item[1]), item[0]))
    return [key for _, key in indexed]


def _owned_partitions(
    topics: set[str], members: list[str], owned: Mapping[str, Sequence[TopicPartition]], generations: Mapping[str, int],
) -> tuple[dict[str, list[TopicPartition]], set[TopicPartition]]:
    """AbstractStickyAssignor.allSubscriptionsEqual's bookkeeping: who keeps a partition claimed twice."""
    owned_by: dict[str, list[TopicPartition]] = {}
    previous_owner: dict[TopicPartition, str] = {}
    claimed_twice: set[TopicPartition] = set()
    for member in members:
        generation = generations.get(member, DEFAULT_GENERATION)
        mine: list[TopicPartition] = []
        owned_by[member] = mine
        for tp in owned.get(member, ()):
            tp = (tp[0], tp[1])
            if tp[0] not in topics:
                continue
            other = previous_owner.get(tp)
            if other is None:
                mine.append(tp)
                previous_owner[tp] = member
                continue
            other_generation = generations.get(other, DEFAULT_GENERATION)
            if generation == other_generation:  # same generation: neither claim can be trusted
                claimed_twice.add(tp)
                if tp in owned_by[other]:
                    owned_by[other].remove(tp)
                previous_owner[tp] = member
            elif generation > other_generation:
                mine.append(tp)
                if tp in owned_by[other]:
                    owned_by[other].remove(tp)
                previous_owner[tp] = member
    return owned_by, claimed_twice


def _constrained_assign(
    partitions_per_topic: Mapping[str, int], members: list[str], owned_by: dict[str, list[TopicPartition]],
    claimed_twice: set[TopicPartition],
) -> tuple[Assignment, dict[TopicPartition, str]]:
    """ConstrainedAssignmentBuilder.build: keep owned partitions up to the quota, deal the rest round robin.

    Returns the assignment and the partitions changing owner (for the cooperative protocol).
    """
    total = sum(partitions_per_topic.values())
    min_quota = total // len(members)
    max_quota = math.ceil(total / len(members))
    expected_over_min = total % len(members)
    over_min = 0
    assignment: Assignment = {member: [] for member in members}
    assigned: list[TopicPartition] = []
    maybe_revoked: dict[TopicPartition, str] = {}
    under_min: list[str] = []
    exactly_min: list[str] = []
    transferring: dict[TopicPartition, str] = {}

    # assignOwnedPartitions: each member keeps up to its quota (lowest partition numbers first)
    for member in members:
        mine = sorted((tp for tp in owned_by[member] if tp not in claimed_twice), key=lambda tp: (tp[1], tp[0]))
        if len(mine) < min_quota:
            assignment[member] += mine
            assigned += mine
            under_min.append(member)
        elif len(mine) >= max_quota and over_min < expected_over_min:
            over_min += 1
            if over_min == expected_over_min:
                exactly_min.clear()
            assignment[member] += mine[:max_quota]
            assigned += mine[:max_quota]
            for tp in mine[max_quota:]:
                maybe_revoked[tp] = member
        else:
            assignment[member] += mine[:min_quota]
            assigned += mine[:min_quota]
            for tp in mine[min_quota:]:
                maybe_revoked[tp] = member
            if over_min < expected_over_min:
                exactly_min.append(member)

    taken = set(assigned)
    unassigned = [(topic, p) for topic in sorted(partitions_per_topic) for p in range(partitions_per_topic[topic]) if (topic, p) not in taken]
    under_min.sort()
    exactly_min.sort()

    def give(tp: TopicPartition, member: str) -> int:
        assignment[member].append(tp)
        if (tp in maybe_revoked and maybe_revoked[tp] != member) or tp in claimed_twice:
            transferring[tp] = member
        return len(assignment[member])

    # assignRoundRobin: first fill members under minQuota in turn, then up to maxQuota
    position = 0
    for tp in unassigned:
        if position < len(under_min):
            member = under_min[position]
        elif not under_min and not exactly_min:
            raise AssertionError("No more unfilled consumers to be assigned.")
        elif not under_min:
            member = exactly_min.pop(0)
        else:
            position = 0
            member = under_min[0]
        count = give(tp, member)
        if count == min_quota and member in under_min:
            under_min.remove(member)  # the iterator's remove(): the next member slides into this position
            exactly_min.append(member)
        else:
            if count == max_quota:
                over_min += 1
            if member in under_min:
                position += 1
    return assignment, transferring


def _prepare(
    partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]],
    owned: Mapping[str, Sequence[TopicPartition]] | None, generations: Mapping[str, int] | None,
) -> tuple[dict[str, int], list[str]]:
    members = java_hashmap_order(list(subscriptions))
    topic_sets = {frozenset(t for t in subscriptions[m]) for m in members}
    if len(topic_sets) > 1:
        raise UnsupportedSubscriptionsError(
            "sticky assignment of members with different subscriptions needs Kafka's GeneralAssignmentBuilder, "
            f"which kafkalab has not ported yet (subscriptions: {dict(sorted((m, sorted(t)) for m, t in subscriptions.items()))})")
    topics = set(next(iter(topic_sets))) if topic_sets else set()
    return {t: n for t, n in partitions_per_topic.items() if t in topics}, members


def sticky_assign(
    partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]],
    owned: Mapping[str, Sequence[TopicPartition]] | None = None, generations: Mapping[str, int] | None = None,
) -> Assignment:
    """StickyAssignor (eager): the balanced assignment that moves as few owned partitions as possible."""
    if not subscriptions:
        return {}
    counts, members = _prepare(partitions_per_topic, subscriptions, owned, generations)
    owned_by, claimed_twice = _owned_partitions(set(counts), members, owned or {}, generations or {})
    assignment, _ = _constrained_assign(counts, members, owned_by, claimed_twice)
    return {member: assignment[member] for member in subscriptions}


def cooperative_sticky_assign(
    partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]],
    owned: Mapping[str, Sequence[TopicPartition]] | None = None, generations: Mapping[str, int] | None = None,
) -> Assignment:
    """CooperativeStickyAssignor: the sticky assignment minus partitions that would change owner now
    (they are revoked first and assigned in the follow-up rebalance)."""
    if not subscriptions:
        return {}
    counts, members = _prepare(partitions_per_topic, subscriptions, owned, generations)
    owned_by, claimed_twice = _owned_partitions(set(counts), members, owned or {}, generations or {})
    assignment, transferring = _constrained_assign(counts, members, owned_by, claimed_twice)
    for tp, new_owner in transferring.items():  # adjustAssignment
        assignment[new_owner].remove(tp)
    return {member: assignment[member] for member in subscriptions}
