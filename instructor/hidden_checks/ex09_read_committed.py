"""Hidden checks for ex09_read_committed: random interleaved transactions against the reference filter."""

from __future__ import annotations

import random
from types import ModuleType

from kafkalab.broker.transactions import AbortedTransaction
from kafkalab.consumer.read_committed import visible_records as reference
from kafkalab.grading.checks import check
from kafkalab.grading.exercise_checks.ex09_read_committed import data, marker
from kafkalab.grading.feedback import expect_equal

EXERCISE = "ex09_read_committed"
SEED = 9


@check(EXERCISE, points=2)
def random_interleaved_transactions(impl: ModuleType) -> None:
    """on 100 random logs of 4 producers' interleaved transactions, exactly Kafka's records are visible"""
    rng = random.Random(SEED)
    for case in range(100):
        records, aborted, open_since = [], [], {}
        for offset in range(rng.randint(1, 30)):
            pid = rng.choice([-1, 4, 5, 6, 7])
            if pid == -1:
                records.append(data(offset))
            elif pid in open_since and rng.random() < 0.3:
                committed = rng.random() < 0.5
                records.append(marker(offset, pid, committed))
                if not committed:
                    aborted.append(AbortedTransaction(pid, open_since[pid], offset))
                del open_since[pid]
            else:
                open_since.setdefault(pid, offset)
                records.append(data(offset, pid, True))
        shown = [(r.offset, r.producer_id, "marker" if r.is_control else "data") for r in records]
        expect_equal([r.offset for r in impl.visible_records(list(records), list(aborted))],
                     [r.offset for r in reference(list(records), list(aborted))], f"visible offsets (case {case})", input=shown, seed=SEED)
