"""Where a new topic's replicas go: Kafka's striped, rack-aware replica placer.

Goals, most important first: spread each partition's replicas over as many racks as possible,
spread replicas (and so leaders) evenly over brokers, and prefer brokers that are not fenced. The
one hard rule besides "one replica per broker": a partition's first replica — its preferred leader
— must be an unfenced broker.

How: racks are visited round-robin from a random starting rack, and inside a rack brokers are
taken round-robin from a random starting broker. Each partition starts one rack further on, which
gives the characteristic "striped" layout (A B C, B C A, C A B). Once as many partitions have been
placed as there are unfenced brokers, the rack and broker lists are shuffled so that the same
replica sets do not repeat. Without racks (``broker.rack`` unset) every broker is in one rack and
the rule reduces to leaders striped over the brokers, followers next to them.

The randomness is a ``java.util.Random``; kafkalab seeds it from the simulator, so a seed gives one
layout — and with Kafka's ``MockRandom`` the placer gives exactly the lists in Kafka's
StripedReplicaPlacerTest.

Kafka: org.apache.kafka.metadata.placement.StripedReplicaPlacer (KIP-660 for the fenced brokers
rule), KIP-36 (rack-aware replica assignment).
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.errors import InvalidReplicationFactorError
from kafkalab.jvm import JavaRandom, java_hashmap_order, java_string_hash


@dataclass(frozen=True)
class UsableBroker:
    """A registered broker as the placer sees it."""

    id: int
    rack: str | None = None
    fenced: bool = False


class BrokerList:
    """The brokers of one rack (fenced or not), handed out round-robin once per iteration epoch."""

    def __init__(self) -> None:
        self.brokers: list[int] = []
        self.index = 0  # how many were handed out in this epoch
        self.offset = 0  # where this epoch starts in the list
        self.epoch = 0

    def add(self, broker: int) -> "BrokerList":
        self.brokers.append(broker)
        return self

    def initialize(self, random: JavaRandom) -> None:
        if self.brokers:
            self.brokers.sort()
            self.offset = random.next_int(len(self.brokers))

    def shuffle(self, random: JavaRandom) -> None:
        random.shuffle(self.brokers)

    def next(self, epoch: int) -> int:
        """The next broker of this epoch, or -1 when every broker has been handed out in it."""
        if not self.brokers:
            return -1
        if self.epoch != epoch:  # a new partition: start one broker further on
            self.epoch = epoch
            self.index = 0
            self.offset = (self.offset + 1) % len(self.brokers)
        if self.index >= len(self.brokers):
            return -1
        broker = self.brokers[(self.index + self.offset) % len(self.brokers)]
        self.index += 1
        return broker


class Rack:
    def __init__(self) -> None:
        self.fenced = BrokerList()
        self.unfenced = BrokerList()

    def initialize(self, random: JavaRandom) -> None:
        self.fenced.initialize(random)
        self.unfenced.initialize(random)

    def shuffle(self, random: JavaRandom) -> None:
        self.fenced.shuffle(random)
        self.unfenced.shuffle(random)

    def next_unfenced(self, epoch: int) -> int:
        return self.unfenced.next(epoch)

    def next(self, epoch: int) -> int:
        """Unfenced brokers first; fenced ones only when the rack has no unfenced broker left."""
        broker = self.unfenced.next(epoch)
        return broker if broker >= 0 else self.fenced.next(epoch)


def _rack_sort_key(rack: str | None) -> tuple[int, str]:
    return (0, "") if rack is None else (1, rack)  # OptionalStringComparator: no rack first


def _optional_hash(rack: str | None) -> int:
    return 0 if rack is None else java_string_hash(rack)  # Optional<String>#hashCode


class RackList:
    """All racks, visited round-robin from a random rack; ``place`` gives one partition's replicas."""

    def __init__(self, random: JavaRandom, brokers: list[UsableBroker]) -> None:
        self.random = random
        self.racks: dict[str | None, Rack] = {}
        self.rack_names: list[str | None] = []
        for broker in brokers:
            rack = self.racks.get(broker.rack)
            if rack is None:
                self.rack_names.append(broker.rack)
                rack = self.racks[broker.rack] = Rack()
            (rack.fenced if broker.fenced else rack.unfenced).add(broker.id)
        # Kafka initializes the racks in its HashMap's order; the order decides who draws which number.
        for name in java_hashmap_order(list(self.racks), _optional_hash):
            self.racks[name].initialize(random)
        self.rack_names.sort(key=_rack_sort_key)
        self.num_total_brokers = len(brokers)
        self.num_unfenced_brokers = sum(1 for b in brokers if not b.fenced)
        self.epoch = 0
        self.offset = random.next_int(len(self.rack_names)) if self.rack_names else 0

    def place(self, replication_factor: int) -> list[int]:
        refuse_non_positive(replication_factor)
        refuse_too_few_brokers(replication_factor, self.num_total_brokers)
        refuse_all_fenced(self.num_unfenced_brokers)
        # As many partitions placed as there are unfenced brokers: reshuffle so the sets do not repeat
        # (not with a single unfenced broker, which would loop forever).
        if self.epoch == self.num_unfenced_brokers and self.num_unfenced_brokers > 1:
            self.shuffle()
            self.epoch = 0
        if self.offset == len(self.rack_names):
            self.offset = 0
        # The first replica (the preferred leader) must be unfenced: walk the racks until one has one.
        first_rack = self.offset
        while True:
            leader = self.racks[self.rack_names[first_rack]].next_unfenced(self.epoch)
            if leader >= 0:
                break
            first_rack = (first_rack + 1) % len(self.rack_names)
        replicas = [leader]
        rack_index = self.offset
        for _ in range(1, replication_factor):
            broker = -1
            while broker < 0:
                if rack_index == first_rack:
                    first_rack = -1  # the leader's rack already gave one replica this round
                else:
                    broker = self.racks[self.rack_names[rack_index]].next(self.epoch)
                rack_index = (rack_index + 1) % len(self.rack_names)
            replicas.append(broker)
        self.epoch += 1
        self.offset += 1
        return replicas

    def shuffle(self) -> None:
        self.random.shuffle(self.rack_names)
        for rack in self.racks.values():
            rack.shuffle(self.random)


# The placer's three refusals, with Kafka's messages (RackList and StripedReplicaPlacer check them in
# different orders, so each is its own function, as in Kafka).
def refuse_non_positive(replication_factor: int) -> None:
    if replication_factor <= 0:
        raise InvalidReplicationFactorError(
            f"Invalid replication factor {replication_factor}: the replication factor must be positive.")


def refuse_too_few_brokers(replication_factor: int, total_brokers: int) -> None:
    if replication_factor > total_brokers:
        raise InvalidReplicationFactorError(
            f"The target replication factor of {replication_factor} cannot be reached because only "
            f"{total_brokers} broker(s) are registered.")


def refuse_all_fenced(unfenced_brokers: int) -> None:
    if unfenced_brokers == 0:
        raise InvalidReplicationFactorError("All brokers are currently fenced.")


class StripedReplicaPlacer:
    """Places every partition of a new topic; one RackList per topic, so each topic starts afresh."""

    def __init__(self, random: JavaRandom) -> None:
        self.random = random

    def place(self, num_partitions: int, replication_factor: int, brokers: list[UsableBroker]) -> list[tuple[int, ...]]:
        racks = RackList(self.random, brokers)
        refuse_non_positive(replication_factor)
        refuse_all_fenced(racks.num_unfenced_brokers)
        refuse_too_few_brokers(replication_factor, racks.num_total_brokers)
        return [tuple(racks.place(replication_factor)) for _ in range(num_partitions)]
