"""The striped placer against Kafka's StripedReplicaPlacerTest (same MockRandom, same lists)."""

from collections import Counter

import pytest

from kafkalab.broker.placement import BrokerList, RackList, StripedReplicaPlacer, UsableBroker
from kafkalab.errors import InvalidReplicationFactorError
from kafkalab.jvm import JavaRandom, MockRandom


def test_java_random_matches_the_jvm():
    # new Random(42).nextInt(10) x5 and new Random(0).nextInt(), values printed by a JVM
    rng = JavaRandom(42)
    assert [rng.next_int(10) for _ in range(5)] == [0, 3, 8, 4, 0]
    assert JavaRandom(0).next(32) == -1155484576


def test_broker_list():
    assert BrokerList().next(1) == -1
    brokers = BrokerList().add(0).add(1).add(2).add(3)
    assert [brokers.next(0) for _ in range(6)] == [0, 1, 2, 3, -1, -1]
    assert [brokers.next(1) for _ in range(5)] == [1, 2, 3, 0, -1]


def test_avoid_fenced_replica_if_possible_on_single_rack():
    racks = RackList(MockRandom(), [UsableBroker(3), UsableBroker(1, fenced=True), UsableBroker(0), UsableBroker(4), UsableBroker(2)])
    assert (racks.num_total_brokers, racks.num_unfenced_brokers, racks.rack_names) == (5, 4, [None])
    for bad in (0, -1):
        with pytest.raises(InvalidReplicationFactorError):
            racks.place(bad)
    assert [racks.place(4) for _ in range(5)] == [[3, 4, 0, 2], [4, 0, 2, 3], [0, 2, 3, 4], [2, 3, 4, 0], [0, 4, 3, 2]]


def test_placement_on_fenced_replica_on_single_rack():
    racks = RackList(MockRandom(), [UsableBroker(3), UsableBroker(1, fenced=True), UsableBroker(2)])
    assert [racks.place(3) for _ in range(4)] == [[3, 2, 1], [2, 3, 1], [3, 2, 1], [2, 3, 1]]


def test_rack_list_with_multiple_racks():
    racks = RackList(MockRandom(), [
        UsableBroker(11, "1"), UsableBroker(10, "1"), UsableBroker(30, "3"),
        UsableBroker(31, "3"), UsableBroker(21, "2"), UsableBroker(20, "2", fenced=True)])
    assert racks.rack_names == ["1", "2", "3"]
    assert [racks.place(4) for _ in range(3)] == [[11, 21, 31, 10], [21, 30, 10, 20], [31, 11, 21, 30]]


def test_rack_list_with_invalid_racks():
    racks = RackList(MockRandom(), [
        UsableBroker(11, "1"), UsableBroker(10, "1"), UsableBroker(30, "3", True), UsableBroker(31, "3", True),
        UsableBroker(20, "2", True), UsableBroker(21, "2", True), UsableBroker(41, "4"), UsableBroker(40, "4", True)])
    assert (racks.num_total_brokers, racks.num_unfenced_brokers) == (8, 3)
    assert [racks.place(4) for _ in range(3)] == [[41, 11, 21, 30], [10, 20, 31, 41], [41, 21, 30, 11]]


def test_successful_placement():
    placer = StripedReplicaPlacer(MockRandom())
    assert placer.place(5, 3, [UsableBroker(0), UsableBroker(3), UsableBroker(2), UsableBroker(1)]) == [
        (2, 3, 0), (3, 0, 1), (0, 1, 2), (1, 2, 3), (1, 0, 2)]


def test_even_distribution():
    placer = StripedReplicaPlacer(MockRandom())
    counts = Counter(placer.place(200, 2, [UsableBroker(b) for b in range(4)]))
    assert counts == {(0, 1): 14, (0, 2): 22, (0, 3): 14, (1, 0): 17, (1, 2): 17, (1, 3): 16,
                      (2, 0): 13, (2, 1): 17, (2, 3): 20, (3, 0): 20, (3, 1): 19, (3, 2): 11}


def test_single_unfenced_broker_does_not_loop():
    placer = StripedReplicaPlacer(MockRandom())
    assert placer.place(3, 1, [UsableBroker(0), UsableBroker(1, fenced=True)]) == [(0,), (0,), (0,)]


@pytest.mark.parametrize("rf, brokers, message", [
    (1, [UsableBroker(11, "1", True), UsableBroker(10, "1", True)], "All brokers are currently fenced."),
    (3, [UsableBroker(11, "1"), UsableBroker(10, "1")],
     "The target replication factor of 3 cannot be reached because only 2 broker(s) are registered."),
    (0, [UsableBroker(11, "1"), UsableBroker(10, "1")], "Invalid replication factor 0: the replication factor must be positive."),
])
def test_refusals_name_the_problem(rf, brokers, message):
    with pytest.raises(InvalidReplicationFactorError) as refused:
        StripedReplicaPlacer(MockRandom()).place(1, rf, brokers)
    assert refused.value.detail == message


def test_rack_list_all_brokers_fenced():
    racks = RackList(MockRandom(), [UsableBroker(0, None, True), UsableBroker(1, None, True), UsableBroker(2, None, True)])
    with pytest.raises(InvalidReplicationFactorError, match="All brokers are currently fenced."):
        racks.place(3)


def test_racks_get_one_replica_each_before_any_gets_two():
    brokers = [UsableBroker(b, "abc"[b % 3]) for b in range(9)]
    rack_of = {b.id: b.rack for b in brokers}
    for replicas in StripedReplicaPlacer(JavaRandom(7)).place(30, 3, brokers):
        assert len({rack_of[r] for r in replicas}) == 3


def test_the_placer_and_the_rack_list_check_in_kafkas_two_orders():
    fenced_pair = [UsableBroker(0, None, True), UsableBroker(1, None, True)]
    with pytest.raises(InvalidReplicationFactorError) as placer_says:
        StripedReplicaPlacer(MockRandom()).place(1, 3, fenced_pair)
    assert placer_says.value.detail == "All brokers are currently fenced."
    with pytest.raises(InvalidReplicationFactorError) as rack_list_says:
        RackList(MockRandom(), fenced_pair).place(3)
    assert rack_list_says.value.detail.startswith("The target replication factor of 3 cannot be reached")
