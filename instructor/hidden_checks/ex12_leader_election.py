"""Hidden checks for ex12_leader_election: every small case, against the reference rule."""

from __future__ import annotations

import itertools
from types import ModuleType

from kafkalab.broker.controller import choose_leader as reference
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import expect_equal

EXERCISE = "ex12_leader_election"


@check(EXERCISE, points=2)
def every_case_with_up_to_three_replicas(impl: ModuleType) -> None:
    """choose_leader agrees with Kafka on every replica order, ISR, fenced set and unclean setting with up to 3 replicas"""
    brokers = (1, 2, 3)
    for size in (1, 2, 3):
        for replicas in itertools.permutations(brokers, size):
            subsets = [s for n in range(size + 1) for s in itertools.combinations(replicas, n)]
            for isr in subsets:
                for fenced in subsets:
                    for unclean in (False, True):
                        given = {"replicas": replicas, "isr": isr, "fenced": sorted(fenced), "unclean": unclean}
                        expect_equal(impl.choose_leader(replicas, isr, set(fenced), unclean),
                                     reference(replicas, isr, set(fenced), unclean), "choose_leader", input=given)
