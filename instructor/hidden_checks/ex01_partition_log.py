"""Hidden checks for ex01_partition_log: the learner's log against the reference on random operations."""

from __future__ import annotations

import random
from types import ModuleType

from kafkalab.config import TopicConfig
from kafkalab.errors import OffsetOutOfRangeError
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import expect_equal
from kafkalab.log.partition_log import PartitionLog as Reference
from kafkalab.record import Record

EXERCISE = "ex01_partition_log"
SEED = 1125


def _observe(log, action):
    """What an operation shows from outside: its result, or the Kafka error it raised."""
    try:
        return action(log)
    except OffsetOutOfRangeError:
        return "OFFSET_OUT_OF_RANGE"


@check(EXERCISE, points=2)
def agrees_with_kafkas_log_on_random_operations(impl: ModuleType) -> None:
    """on 300 random appends, reads and retention passes, offsets, reads and log start/end agree with Kafka's log"""
    rng = random.Random(SEED)
    config = {"segment.bytes": 500, "retention.ms": 40_000, "retention.bytes": 2_000}
    theirs = impl.PartitionLog("orders", 0, TopicConfig(config), 0)
    ours = Reference("orders", 0, TopicConfig(config), 0)
    now = 0
    for step in range(300):
        now += rng.randint(0, 900)
        kind = rng.choice(["append", "append", "read", "retention"])
        if kind == "append":
            records = [Record(rng.choice([None, b"k"]), rng.randbytes(rng.randint(0, 60)), timestamp=now) for _ in range(rng.randint(1, 4))]
            action = lambda log: (lambda info: (info.first_offset, info.last_offset))(log.append(records, now_ms=now))  # noqa: E731
            what = f"step {step}: append of {len(records)} record(s) at {now} ms"
        elif kind == "read":
            offset, limit = rng.randint(-1, ours.log_end_offset + 1), rng.choice([None, 1, 3])
            action = lambda log: [(r.offset, r.value) for r in log.read(offset, max_records=limit)]  # noqa: E731
            what = f"step {step}: read({offset}, max_records={limit})"
        else:
            action = lambda log: log.delete_retention_breached_segments(now)  # noqa: E731
            what = f"step {step}: retention pass at {now} ms (deleted segments)"
        expect_equal(_observe(theirs, action), _observe(ours, action), what, seed=SEED)
        expect_equal((theirs.log_start_offset, theirs.log_end_offset), (ours.log_start_offset, ours.log_end_offset),
                     f"(log start offset, log end offset) after {what}", seed=SEED)
