"""Hidden checks for ex07_assignors: large groups and members that subscribe to nothing."""

from __future__ import annotations

from types import ModuleType

from kafkalab.consumer.assignors import range_assign as reference_range
from kafkalab.consumer.assignors import roundrobin_assign as reference_roundrobin
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import expect_equal


def _normalized(assignment: object) -> object:
    return {member: sorted(tuple(tp) for tp in tps) for member, tps in dict(assignment).items()}  # type: ignore[call-overload]


EXERCISE = "ex07_assignors"
PARTITIONS = {"orders": 7, "payments": 3, "audit": 1}
SUBSCRIPTIONS = {f"consumer-{i:02d}": (["orders", "payments"] if i % 3 else ["audit"]) for i in range(12)}
SUBSCRIPTIONS["idle"] = []


@check(EXERCISE, points=2)
def a_dozen_members_and_an_idle_one(impl: ModuleType) -> None:
    """range and roundrobin match Kafka for a 13-member group with mixed and empty subscriptions"""
    expect_equal(_normalized(impl.range_assign(PARTITIONS, SUBSCRIPTIONS)), _normalized(reference_range(PARTITIONS, SUBSCRIPTIONS)),
                 "range_assign", input="13 members, 3 topics")
    expect_equal(_normalized(impl.roundrobin_assign(PARTITIONS, SUBSCRIPTIONS)), _normalized(reference_roundrobin(PARTITIONS, SUBSCRIPTIONS)),
                 "roundrobin_assign", input="13 members, 3 topics")
