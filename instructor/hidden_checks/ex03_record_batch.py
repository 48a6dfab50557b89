"""Hidden checks for ex03_record_batch: random records and batches, byte for byte."""

from __future__ import annotations

import random
from types import ModuleType

from kafkalab.grading.checks import check
from kafkalab.grading.feedback import CheckFailed
from kafkalab.record import CompressionType, Header, Record, RecordBatch, diff_fields
from kafkalab.record.batch import encode_batch as reference_encode_batch

EXERCISE = "ex03_record_batch"
SEED = 3


def _random_record(rng: random.Random, base: int) -> Record:
    headers = tuple(Header(f"h{i}-" + "x" * rng.randint(0, 40), rng.choice([None, rng.randbytes(rng.randint(0, 200))]))
                    for i in range(rng.randint(0, 3)))
    key = rng.choice([None, b"", rng.randbytes(rng.randint(1, 300))])
    value = rng.choice([None, b"", rng.randbytes(rng.randint(1, 3000))])
    return Record(key, value, headers, timestamp=base + rng.randint(-10**6, 10**9))


@check(EXERCISE, points=2)
def random_batches_byte_for_byte(impl: ModuleType) -> None:
    """encode_batch matches Kafka's bytes for 60 random batches (long keys and values, many headers, large timestamp deltas)"""
    rng = random.Random(SEED)
    for number in range(60):
        base = 1_700_000_000_000
        records = [_random_record(rng, base) for _ in range(rng.randint(1, 6))]
        batch = RecordBatch.of(records, base_timestamp=base, base_offset=rng.randint(0, 10**12),
                               producer_id=rng.choice([-1, rng.randint(0, 10**9)]), producer_epoch=rng.choice([-1, 3]),
                               base_sequence=rng.choice([-1, rng.randint(0, 10**6)]), compression=CompressionType.NONE)
        expected, got = reference_encode_batch(batch), bytes(impl.encode_batch(batch))
        if got != expected:
            difference = diff_fields(expected, got)
            raise CheckFailed(f"random batch {number} (seed {SEED}) differs\n{difference.explain() if difference else ''}")
