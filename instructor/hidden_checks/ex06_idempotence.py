"""Hidden checks for ex06_idempotence: random batch streams from several producers against the reference."""

from __future__ import annotations

import random
from types import ModuleType

from kafkalab.broker.producer_state import ProducerStateManager as Reference
from kafkalab.errors import KafkaError
from kafkalab.grading.checks import check
from kafkalab.grading.feedback import expect_equal
from kafkalab.record import Record, RecordBatch

EXERCISE = "ex06_idempotence"
SEED = 66


def _verdict(state, batch: RecordBatch):
    try:
        found = state.check(batch)
    except KafkaError as refused:
        return refused.error_name
    return None if found is None else ("duplicate of", found.first_offset, found.last_offset)


@check(EXERCISE, points=2)
def random_streams_from_three_producers(impl: ModuleType) -> None:
    """for 400 random batches from 3 producers (repeats, gaps, epoch bumps), accept/duplicate/refuse exactly as Kafka"""
    rng = random.Random(SEED)
    theirs, ours = impl.ProducerStateManager(), Reference()
    next_sequence = {7: 0, 8: 0, 9: 0}
    epoch = {7: 0, 8: 0, 9: 0}
    sent: list[tuple[int, int, int, int]] = []
    offset = 0
    for step in range(400):
        producer = rng.choice([7, 8, 9])
        roll = rng.random()
        if roll < 0.2 and sent:
            pid, ep, seq, count = rng.choice(sent[-8:])  # a retry of a recent batch
        elif roll < 0.27:
            pid, ep, seq, count = producer, epoch[producer], next_sequence[producer] + rng.randint(1, 3), 1  # a gap
        elif roll < 0.3:
            epoch[producer] += 1
            next_sequence[producer] = 0
            pid, ep, seq, count = producer, epoch[producer], 0, rng.randint(1, 3)
        else:
            pid, ep, seq, count = producer, epoch[producer], next_sequence[producer], rng.randint(1, 3)
        batch = RecordBatch.of([Record(None, b"x")] * count, producer_id=pid, producer_epoch=ep, base_sequence=seq)
        verdict = _verdict(ours, batch)
        expect_equal(_verdict(theirs, batch), verdict, f"step {step}: batch pid {pid} epoch {ep} sequences {seq}–{seq + count - 1}", seed=SEED)
        if verdict is None:
            for state in (theirs, ours):
                state.update(batch, offset, offset + count - 1)
            offset += count
            sent.append((pid, ep, seq, count))
            if ep == epoch[pid]:
                next_sequence[pid] = max(next_sequence[pid], seq + count)
