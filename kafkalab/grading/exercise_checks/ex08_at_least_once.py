"""Checks for ex08_at_least_once: a commit strategy run by consumer applications that crash.

Each check runs the learner's strategy inside simulated applications (poll → the strategy's
process/commit steps, each taking simulated time) and crashes them at chosen points, then
compares what was produced with what was processed.
"""

from __future__ import annotations

from types import ModuleType

from kafkalab.consumer.delivery import run_delivery_scenario
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed

EXERCISE = "ex08_at_least_once"
MAX_POLL_RECORDS = 5  # run_delivery_scenario's max.poll.records
SCHEDULES = [((0, 12), (1, 23)), ((0, 3),), ((1, 7), (1, 18), (0, 31))]


def _run(impl: ModuleType, seed: int, crashes) -> object:
    return run_delivery_scenario(impl.at_least_once, seed=seed, crashes=crashes, strict=True)


@check(EXERCISE, points=3, timeout_s=30)
def nothing_is_lost_without_crashes(impl: ModuleType) -> None:
    """with no crash, two applications process all 60 records, each exactly once"""
    report = _run(impl, 0, ()).report
    if not report.exactly_once:
        raise CheckFailed(f"without any crash: {report.summary()} (expected every record processed once)")


@check(EXERCISE, points=4, timeout_s=60)
def nothing_is_lost_across_crash_schedules(impl: ModuleType) -> None:
    """applications crash mid-poll (3 schedules): no record is ever lost"""
    for seed, crashes in enumerate(SCHEDULES):
        report = _run(impl, seed, crashes).report
        if report.lost:
            first = report.lost[0]
            raise CheckFailed(f"crashes after records {[n for _, n in crashes]} (seed {seed}): {report.summary()}; "
                              f"for example {first[0]}-{first[1]} offset {first[2]} was never processed — "
                              "was it committed before it was processed?")


@check(EXERCISE, points=3, timeout_s=60)
def a_crash_repeats_at_most_one_poll(impl: ModuleType) -> None:
    """each crash repeats at most the records of the poll it interrupted (commit after every poll)"""
    for seed, crashes in enumerate(SCHEDULES):
        report = _run(impl, seed, crashes).report
        allowed = MAX_POLL_RECORDS * len(crashes)
        if report.duplicates > allowed:
            raise CheckFailed(f"crashes after records {[n for _, n in crashes]} (seed {seed}): {report.summary()}; "
                              f"at most {allowed} duplicates expected ({MAX_POLL_RECORDS} records per poll, one poll per crash) "
                              "— does the strategy commit after each poll?")
