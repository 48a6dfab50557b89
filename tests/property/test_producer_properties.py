"""Seed sweeps over a lossy network: an idempotent producer writes every acknowledged record exactly
once and in order; without idempotence the same faults can duplicate records."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.cluster import EmbeddedCluster


def lossy_run(seed: int, drop_rate: float, idempotent: bool, records: int = 30, acks: str = "all"):
    cluster = EmbeddedCluster(seed=seed)
    cluster.create_topic("t", partitions=1)
    cluster.network.set_default(latency_ms=2, jitter_ms=3, drop_rate=drop_rate)
    producer = cluster.producer({"acks": acks, "enable.idempotence": str(idempotent).lower(), "request.timeout.ms": 500, "linger.ms": 1})
    futures = []
    for i in range(records):
        futures.append(producer.send("t", f"r{i}"))
        cluster.advance(3)  # a record every 3 ms: many small requests, several in flight
    producer.flush()
    cluster.network.set_default(drop_rate=0.0)
    return futures, [r.value for r in cluster.fetch("t", 0, 0)]


@settings(derandomize=True, max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), drop_rate=st.floats(0.0, 0.3))
def test_idempotent_producer_exactly_once_in_order(seed: int, drop_rate: float) -> None:
    futures, log = lossy_run(seed, drop_rate, idempotent=True)
    acknowledged = [f"r{i}".encode() for i, f in enumerate(futures) if f.exception is None]
    assert len(log) == len(set(log)), f"seed {seed}: duplicates in {log}"
    assert log == sorted(log, key=lambda v: int(v[1:])), f"seed {seed}: out of order: {log}"
    assert set(acknowledged) <= set(log), f"seed {seed}: an acknowledged record is missing"
    for future in futures:
        if future.exception is None:
            assert log[future.metadata.offset] == f"r{futures.index(future)}".encode()


def test_the_sweep_really_loses_messages_and_retries() -> None:
    cluster_runs = [lossy_run(seed, 0.2, idempotent=True) for seed in range(3)]
    assert all(len(log) == 30 for _, log in cluster_runs)


def test_without_idempotence_losses_make_duplicates_for_some_seed() -> None:
    duplicated = [seed for seed in range(10) if (lambda log: len(log) != len(set(log)))(lossy_run(seed, 0.2, idempotent=False)[1])]
    assert duplicated, "with 20% loss and retries, some seed should write a record twice"


@pytest.mark.parametrize("acks,idempotent", [("0", False), ("1", False), ("all", False), ("all", True)])
def test_what_callbacks_report_against_what_the_log_holds(acks: str, idempotent: bool) -> None:
    """Every acks level over a lossy network: acks=0 claims records the log never got; with acks=1
    and all, every reported success is in the log (duplicates and reordering only without idempotence)."""
    missing_somewhere = False
    for seed in range(6):
        futures, log = lossy_run(seed, 0.2, idempotent, acks=acks)
        reported = {f"r{i}".encode() for i, f in enumerate(futures) if f.exception is None}
        missing = reported - set(log)
        if acks == "0":
            assert len(reported) == len(futures), f"seed {seed}: acks=0 callbacks always report success"
            missing_somewhere |= bool(missing)
        else:
            assert not missing, f"seed {seed}: acks={acks} reported {sorted(missing)} but the log lacks them"
    if acks == "0":
        assert missing_somewhere, "with 20% loss, acks=0 should report some record the log never got"
