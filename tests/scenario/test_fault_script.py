"""The same fault script under ZooKeeper mode and KRaft (chapter 08): the moments are in the order
they must be, each mode's detection comes from its own timeout, and the modes differ where they
must (in ZooKeeper mode the controller is a broker; KRaft's brokers pull what changed)."""

from __future__ import annotations

import pytest

from kafkalab.fault_script import FAULTS, run_fault, run_fault_script


@pytest.fixture(scope="module")
def script() -> dict[tuple[str, str], object]:
    return {(row.mode, row.fault): row for row in run_fault_script(seed=1)}


def test_every_fault_runs_under_both_modes_with_moments_in_order(script: dict) -> None:
    assert set(script) == {(mode, fault) for mode in ("ZooKeeper", "KRaft") for fault in FAULTS}
    for row in script.values():
        assert 0 < row.detected_ms <= row.decided_ms <= row.everyone_knows_ms, row
        assert (row.back_ms >= 0) == (row.fault != "controller crash"), row


def test_each_mode_notices_by_its_own_timeout(script: dict) -> None:
    for fault in FAULTS:
        zk = script[("ZooKeeper", fault)]
        assert 17_000 <= zk.detected_ms <= 21_000  # zookeeper.session.timeout.ms = 18 s
    assert 2_000 <= script[("KRaft", "controller crash")].detected_ms <= 2_500  # controller.quorum.fetch.timeout.ms
    for fault in ("broker crash", "broker cut off"):
        assert 7_000 <= script[("KRaft", fault)].detected_ms <= 9_500  # broker.session.timeout.ms = 9 s


def test_a_zookeeper_mode_controller_crash_moves_leaders_a_kraft_one_does_not(script: dict) -> None:
    assert script[("ZooKeeper", "controller crash")].leaders_moved > 0
    assert script[("KRaft", "controller crash")].leaders_moved == 0
    for mode in ("ZooKeeper", "KRaft"):
        assert script[(mode, "broker crash")].leaders_moved > 0


def test_the_script_holds_its_invariants_on_other_seeds() -> None:
    for seed in (2, 3):
        for fault in FAULTS:
            for mode in ("ZooKeeper", "KRaft"):
                row = run_fault(mode, fault, seed=seed, partitions=6)
                assert row.detected_ms <= row.decided_ms <= row.everyone_knows_ms, row


def test_unknown_modes_and_faults_are_named() -> None:
    with pytest.raises(ValueError, match="unknown mode 'Zookeeper'"):
        run_fault("Zookeeper", "broker crash")
    with pytest.raises(ValueError, match="unknown fault 'disk full'"):
        run_fault("KRaft", "disk full")
