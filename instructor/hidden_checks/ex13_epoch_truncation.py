"""Hidden checks for ex13_epoch_truncation: epoch caches with gaps and a single entry."""

from __future__ import annotations

from types import ModuleType

from kafkalab.broker.partition import epoch_end_offset as reference
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import expect_equal, first_failure

EXERCISE = "ex13_epoch_truncation"
CACHES = [[(4, 0)], [(0, 0), (7, 3)], [(1, 2), (2, 2), (5, 10), (6, 40)]]


@check(EXERCISE, points=2)
def caches_with_gaps_and_empty_epochs(impl: ModuleType) -> None:
    """epoch_end_offset is right for caches with one entry, wide gaps between epochs, and empty epochs"""
    cases = [(cache, epoch) for cache in CACHES for epoch in range(-1, 9)]
    first_failure(cases, lambda case: expect_equal(impl.epoch_end_offset(list(case[0]), case[1], 50), reference(list(case[0]), case[1], 50),
                                                   f"epoch_end_offset(cache, {case[1]}, 50)", input=case[0]))
