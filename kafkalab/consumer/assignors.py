"""Partition assignors: how a consumer group's leader shares the partitions among the members.

In the classic group protocol, every member sends its subscription in JoinGroup; the leader runs
the assignor and sends the result back in SyncGroup. Each partition goes to exactly one member of
the group; a member subscribed to nothing, or one too many for the partitions, gets nothing.

* **range** (``RangeAssignor``, the Java default before 3.x paired it with cooperative-sticky):
  per topic, sort the members subscribed to it and give each a contiguous range; the first
  ``partitions % members`` members get one extra. With several topics the *same* members get the
  extras every time — range can be unbalanced across topics.
* **roundrobin** (``RoundRobinAssignor``): all subscribed partitions, sorted by topic and
  partition, dealt to the sorted members in turn, skipping members not subscribed to the topic.

``sticky`` and ``cooperative-sticky`` keep what members ``owned`` (see :mod:`kafkalab.consumer.sticky`).

Kafka: org.apache.kafka.clients.consumer.RangeAssignor, RoundRobinAssignor,
internals.AbstractPartitionAssignor; ``partition.assignment.strategy``.
"""

from __future__ import annotations

from typing import Mapping, Sequence

TopicPartition = tuple[str, int]
Assignment = dict[str, list[TopicPartition]]

SUPPORTED = ("range", "roundrobin", "sticky", "cooperative-sticky")


def range_assign(partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]]) -> Assignment:
    """RangeAssignor.assign: contiguous ranges per topic; the first members get the remainder."""
    # BEGIN EXERCISE ex07_assignors
    assignment: Assignment = {member: [] for member in subscriptions}
    for topic in sorted(partitions_per_topic):
        members = sorted(member for member, topics in subscriptions.items() if topic in topics)
        if not members:
            continue
        count = partitions_per_topic[topic]
        per_member, extra = divmod(count, len(members))
        for index, member in enumerate(members):
            start = per_member * index + min(index, extra)
            length = per_member + (1 if index < extra else 0)
            assignment[member] += [(topic, partition) for partition in range(start, start + length)]
    return assignment
    # END EXERCISE


def roundrobin_assign(partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, Sequence[str]]) -> Assignment:
    """RoundRobinAssignor.assign: deal sorted partitions to sorted members, skipping the unsubscribed."""
    # BEGIN EXERCISE ex07_assignors
    assignment: Assignment = {member: [] for member in subscriptions}
    members = sorted(subscriptions)
    if not members:
        return assignment
    subscribed_topics = sorted({topic for topics in subscriptions.values() for topic in topics if topic in partitions_per_topic})
    position = 0
    for topic in subscribed_topics:
        for partition in range(partitions_per_topic[topic]):
            # Kafka's CircularIterator: move on until a member subscribed to this topic comes round.
            while topic not in subscriptions[members[position % len(members)]]:
                position += 1
            assignment[members[position % len(members)]].append((topic, partition))
            position += 1
    return assignment
    # END EXERCISE


def assign(
    strategy: str,
    partitions_per_topic: Mapping[str, int],
    subscriptions: Mapping[str, Sequence[str]],
    owned: Mapping[str, Sequence[TopicPartition]] | None = None,
    generations: Mapping[str, int] | None = None,
) -> Assignment:
    """Assign partitions to members with one of Kafka's strategies; every member id appears in the result.

    ``owned``: what each member owned in the previous generation (the sticky assignors keep it);
    ``generations``: the generation each member owned it in (default: all the same).
    """
    if strategy == "range":
        return range_assign(partitions_per_topic, subscriptions)
    if strategy == "roundrobin":
        return roundrobin_assign(partitions_per_topic, subscriptions)
    if strategy in ("sticky", "cooperative-sticky"):
        from kafkalab.consumer.sticky import cooperative_sticky_assign, sticky_assign

        function = sticky_assign if strategy == "sticky" else cooperative_sticky_assign
        generations = {member: 1 for member in (owned or {})} if generations is None else generations
        return function(partitions_per_topic, subscriptions, owned, generations)
    raise ValueError(f"unknown assignment strategy {strategy!r}; kafkalab supports {', '.join(SUPPORTED)} so far")
