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

This module ports both of ``AbstractStickyAssignor``'s builders: ``ConstrainedAssignmentBuilder``,
used when every member subscribes to the same topics (the usual case), and
``GeneralAssignmentBuilder`` for groups whose members subscribe to different topics — it assigns
each partition to the least loaded eligible member, then moves partitions (preferring to give one
back to its previous owner) until no member could take one from a member with two more. Where Kafka
iterates a ``HashMap`` or ``HashSet`` (which member keeps a surplus partition first, which
partition moves back) Java's iteration order is reproduced, so results match Kafka's exactly.

Kafka: org.apache.kafka.clients.consumer.internals.AbstractStickyAssignor, StickyAssignor,
CooperativeStickyAssignor; KIP-54, KIP-341, KIP-429.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from kafkalab.jvm import java_hashmap_order, java_string_hash

TopicPartition = tuple[str, int]
Assignment = dict[str, list[TopicPartition]]
DEFAULT_GENERATION = -1


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


def constrained_assign(
    partitions_per_topic: Mapping[str, int], members: list[str], owned_by: dict[str, list[TopicPartition]],
    claimed_twice: set[TopicPartition],
) -> tuple[Assignment, dict[TopicPartition, str]]:
    """ConstrainedAssignmentBuilder.build: keep owned partitions up to the quota, deal the rest round robin.

    ``members`` come in Java HashMap order; ``owned_by`` is what each still owns (claims resolved by
    generation); partitions in ``claimed_twice`` were claimed by two members of the same generation.
    Returns the assignment (each member's list in the order partitions were given) and the
    partitions changing owner, mapped to their new owner (the cooperative assignor holds them back).
    """
    # BEGIN EXERCISE ex10_sticky_assignor
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
    # END EXERCISE


class _JavaHashSet:
    """A set of TopicPartitions iterated in java.util.HashSet order (buckets, then insertion order)."""

    def __init__(self) -> None:
        self._items: dict[TopicPartition, int] = {}
        self._sequence = 0
        self._capacity = 16

    @staticmethod
    def _hash(tp: TopicPartition) -> int:
        value = (31 * (31 + tp[1]) + java_string_hash(tp[0])) & 0xFFFFFFFF  # TopicPartition.hashCode
        return value ^ (value >> 16)

    def add(self, tp: TopicPartition) -> None:
        if tp in self._items:
            return
        self._sequence += 1
        self._items[tp] = self._sequence
        if len(self._items) > self._capacity * 3 // 4:
            self._capacity *= 2

    def remove(self, tp: TopicPartition) -> None:
        self._items.pop(tp, None)

    def __len__(self) -> int:
        return len(self._items)

    def first(self) -> TopicPartition:
        return min(self._items, key=lambda tp: (self._hash(tp) & (self._capacity - 1), self._items[tp]))


class _GeneralBuilder:
    """GeneralAssignmentBuilder: members with different subscriptions."""

    def __init__(self, partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]],
                 current: dict[str, list[TopicPartition]], generations: Mapping[str, int], owned_raw: Mapping[str, Sequence[TopicPartition]],
                 max_generation: int) -> None:
        self.partitions_per_topic = dict(partitions_per_topic)
        self.total = sum(self.partitions_per_topic.values())
        self.subscriptions = {m: list(t) for m, t in subscriptions.items()}
        self.topic_consumers: dict[str, list[str]] = {t: [] for t in self.partitions_per_topic}
        self.consumer_topics: dict[str, list[str]] = {}
        self.current = current
        for member in java_hashmap_order(list(subscriptions)):
            topics = [t for t in subscriptions[member] if t in self.partitions_per_topic]
            self.consumer_topics[member] = topics
            for topic in topics:
                self.topic_consumers[topic].append(member)
            self.current.setdefault(member, [])
        self.partition_consumer: dict[TopicPartition, str] = {tp: m for m, tps in current.items() for tp in tps}
        order = sorted(self.topic_consumers, key=lambda t: (len(self.topic_consumers[t]), t))  # TopicComparator
        self.all_partitions = [(t, p) for t in order for p in range(self.partitions_per_topic[t])]
        self.in_tree: set[str] = set()
        self.revocation_required = False
        self.generations, self.owned_raw, self.max_generation = generations, owned_raw, max_generation
        self.movements: dict[TopicPartition, tuple[str, str]] = {}  # PartitionMovements
        self.movements_by_topic: dict[str, dict[tuple[str, str], _JavaHashSet]] = {}

    # -- TreeSet<String>(SubscriptionComparator): by current assignment size, then member id
    def sorted_members(self) -> list[str]:
        return sorted(self.in_tree, key=lambda m: (len(self.current[m]), m))

    def build(self) -> dict[str, list[TopicPartition]]:
        previous: dict[TopicPartition, tuple[str, int]] = {}
        for member in java_hashmap_order(list(self.subscriptions)):  # prepopulateCurrentAssignments
            generation = self.generations.get(member, DEFAULT_GENERATION)
            if generation < self.max_generation:
                for tp in self.owned_raw.get(member, ()):
                    tp = (tp[0], tp[1])
                    if tp not in previous or generation > previous[tp][1]:
                        previous[tp] = (member, generation)
        assigned = self.assign_owned()
        unassigned = self.unassigned(assigned)
        self.in_tree = set(self.current)
        self.balance(previous, unassigned)
        return self.current

    def assign_owned(self) -> list[TopicPartition]:
        assigned = []
        for member in list(self.current):
            if member not in self.subscriptions:
                for tp in self.current.pop(member):
                    self.partition_consumer.pop(tp, None)
                continue
            kept = []
            for tp in self.current[member]:
                if tp[0] not in self.topic_consumers:
                    self.partition_consumer.pop(tp, None)
                elif tp[0] not in self.subscriptions[member]:
                    self.revocation_required = True
                else:
                    kept.append(tp)
                    assigned.append(tp)
            self.current[member] = kept
        return assigned

    def unassigned(self, assigned: list[TopicPartition]) -> list[TopicPartition]:
        taken = set(assigned)
        return [tp for tp in self.all_partitions if tp not in taken]

    def max_size(self, member: str) -> int:
        topics = self.consumer_topics[member]
        if len(topics) == len(self.partitions_per_topic):
            return self.total
        return sum(self.partitions_per_topic[t] for t in topics)

    def is_balanced(self) -> bool:
        members = self.sorted_members()
        if len(self.current[members[0]]) >= len(self.current[members[-1]]) - 1:
            return True
        owner = {tp: m for m, tps in self.current.items() for tp in tps}
        for member in members:
            count = len(self.current[member])
            if count == self.max_size(member):
                continue
            mine = set(self.current[member])
            for topic in self.consumer_topics[member]:
                for p in range(self.partitions_per_topic[topic]):
                    tp = (topic, p)
                    if tp not in mine and tp in owner and count + 1 < len(self.current[owner[tp]]):
                        return False
        return True

    def balance_score(self, assignment: dict[str, list[TopicPartition]]) -> int:
        sizes = [len(v) for v in assignment.values()]
        return sum(abs(a - b) for i, a in enumerate(sizes) for b in sizes[i + 1:])

    def maybe_assign(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            if not self.topic_consumers[tp[0]]:
                continue
            for member in self.sorted_members():
                if tp[0] in self.consumer_topics[member]:
                    self.current[member].append(tp)
                    self.partition_consumer[tp] = member
                    break

    def can_topic_move(self, topic: str) -> bool:
        return len(self.topic_consumers[topic]) >= 2

    def can_member_move(self, member: str) -> bool:
        if len(self.current[member]) < self.max_size(member):
            return True
        return any(self.can_topic_move(tp[0]) for tp in self.current[member])

    def balance(self, previous: dict[TopicPartition, tuple[str, int]], unassigned: list[TopicPartition]) -> None:
        members = self.sorted_members()
        initializing = not self.current[members[-1]] if members else True
        self.maybe_assign(unassigned)
        fixed = {(t, p) for t in self.topic_consumers if not self.can_topic_move(t) for p in range(self.partitions_per_topic[t])}
        reassignable = [tp for tp in self.all_partitions if tp not in fixed]
        unassigned = [tp for tp in unassigned if tp not in fixed]
        fixed_assignments = {}
        for member in self.consumer_topics:
            if not self.can_member_move(member):
                self.in_tree.discard(member)
                fixed_assignments[member] = self.current.pop(member)
        before = {m: list(tps) for m, tps in self.current.items()}
        before_owners = dict(self.partition_consumer)
        if not self.revocation_required:
            self.perform_reassignments(unassigned, previous)
        performed = self.perform_reassignments(reassignable, previous)
        if not initializing and performed and self.balance_score(self.current) >= self.balance_score(before):
            self.current.clear()
            self.current.update({m: list(tps) for m, tps in before.items()})
            self.partition_consumer = before_owners
        for member, tps in fixed_assignments.items():
            self.current[member] = tps
            self.in_tree.add(member)

    def perform_reassignments(self, partitions: list[TopicPartition], previous: dict[TopicPartition, tuple[str, int]]) -> bool:
        performed = False
        while True:
            modified = False
            for tp in partitions:
                if self.is_balanced():
                    break
                consumer = self.partition_consumer[tp]
                owner = previous[tp][0] if tp in previous else None
                # Kafka's check, guarded: the previous owner must still take part and subscribe to the topic
                # (Java would throw a NullPointerException, or hand the partition to a non-subscriber).
                if (owner is not None and owner in self.current and tp[0] in self.consumer_topics[owner]
                        and len(self.current[consumer]) > len(self.current[owner]) + 1):
                    self.reassign(tp, owner)
                    performed = modified = True
                    continue
                for other in self.topic_consumers[tp[0]]:
                    if len(self.current[consumer]) > len(self.current[other]) + 1:
                        new_owner = next(m for m in self.sorted_members() if tp[0] in self.consumer_topics[m])
                        self.reassign(tp, new_owner)
                        performed = modified = True
                        break
            if not modified:
                return performed

    def reassign(self, tp: TopicPartition, new_owner: str) -> None:
        old_owner = self.partition_consumer[tp]
        self.move(self.actual_partition_to_move(tp, old_owner, new_owner), new_owner)

    def actual_partition_to_move(self, tp: TopicPartition, old_owner: str, new_owner: str) -> TopicPartition:
        """PartitionMovements.getTheActualPartitionToBeMoved: undo an earlier move the other way if there is one."""
        by_pair = self.movements_by_topic.get(tp[0])
        if by_pair is None:
            return tp
        if tp in self.movements:
            old_owner = self.movements[tp][0]
        reverse = by_pair.get((new_owner, old_owner))
        return tp if reverse is None or not len(reverse) else reverse.first()

    def move(self, tp: TopicPartition, new_owner: str) -> None:
        old_owner = self.partition_consumer[tp]
        self.in_tree.discard(old_owner)
        self.in_tree.discard(new_owner)
        if tp in self.movements:  # PartitionMovements.movePartition
            src, _ = self._forget_movement(tp)
            if src != new_owner:
                self._remember_movement(tp, (src, new_owner))
        else:
            self._remember_movement(tp, (old_owner, new_owner))
        self.current[old_owner].remove(tp)
        self.current[new_owner].append(tp)
        self.partition_consumer[tp] = new_owner
        self.in_tree.add(new_owner)
        self.in_tree.add(old_owner)

    def _remember_movement(self, tp: TopicPartition, pair: tuple[str, str]) -> None:
        self.movements[tp] = pair
        self.movements_by_topic.setdefault(tp[0], {}).setdefault(pair, _JavaHashSet()).add(tp)

    def _forget_movement(self, tp: TopicPartition) -> tuple[str, str]:
        pair = self.movements.pop(tp)
        by_pair = self.movements_by_topic[tp[0]]
        by_pair[pair].remove(tp)
        if not len(by_pair[pair]):
            del by_pair[pair]
        if not by_pair:
            del self.movements_by_topic[tp[0]]
        return pair


def _run(
    partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]],
    owned: Mapping[str, Sequence[TopicPartition]] | None, generations: Mapping[str, int] | None,
) -> tuple[Assignment, dict[TopicPartition, str] | None]:
    """AbstractStickyAssignor.assignPartitions: the constrained builder if all subscriptions are equal."""
    members = java_hashmap_order(list(subscriptions))
    owned, generations = owned or {}, generations or {}
    subscribed = {t for m in members for t in subscriptions[m]}
    counts = {t: n for t, n in partitions_per_topic.items() if t in subscribed}  # AbstractPartitionAssignor.assign
    owned_by, claimed_twice = _owned_partitions(set(counts), members, owned, generations)
    if len({frozenset(subscriptions[m]) for m in members}) <= 1:
        return constrained_assign(counts, members, owned_by, claimed_twice)
    max_generation = max([DEFAULT_GENERATION, *(generations.get(m, DEFAULT_GENERATION) for m in members)])
    builder = _GeneralBuilder(counts, subscriptions, owned_by, generations, owned, max_generation)
    return builder.build(), None


def sticky_assign(
    partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]],
    owned: Mapping[str, Sequence[TopicPartition]] | None = None, generations: Mapping[str, int] | None = None,
) -> Assignment:
    """StickyAssignor (eager): the balanced assignment that moves as few owned partitions as possible."""
    if not subscriptions:
        return {}
    assignment, _ = _run(partitions_per_topic, subscriptions, owned, generations)
    return {member: assignment[member] for member in subscriptions}


def cooperative_sticky_assign(
    partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]],
    owned: Mapping[str, Sequence[TopicPartition]] | None = None, generations: Mapping[str, int] | None = None,
) -> Assignment:
    """CooperativeStickyAssignor: the sticky assignment minus partitions that would change owner now
    (they are revoked first and assigned in the follow-up rebalance)."""
    if not subscriptions:
        return {}
    assignment, transferring = _run(partitions_per_topic, subscriptions, owned, generations)
    if transferring is None:  # computePartitionsTransferringOwnership: added here, revoked elsewhere
        added = {tp: m for m, tps in assignment.items() for tp in tps if tp not in {(t[0], t[1]) for t in (owned or {}).get(m, ())}}
        revoked = {(tp[0], tp[1]) for m, tps in (owned or {}).items() if m in assignment for tp in tps
                   if (tp[0], tp[1]) not in set(assignment[m])}
        transferring = {tp: m for tp, m in added.items() if tp in revoked}
    for tp, new_owner in transferring.items():  # adjustAssignment
        assignment[new_owner].remove(tp)
    return {member: assignment[member] for member in subscriptions}
