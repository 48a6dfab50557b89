"""Chapter 08's control-plane widget and the lab behind it (no browser needed)."""

from __future__ import annotations

import pytest

from kafkalab.control_plane_lab import ControlPlaneLab
from kafkalab.widgets.control_plane_view import ControlPlaneView, control_plane_html


@pytest.mark.parametrize("mode", ["ZooKeeper", "KRaft"])
def test_crashing_the_controller_hands_over_and_replays_exactly(mode: str) -> None:
    lab = ControlPlaneLab(mode)
    before = lab.run(1_000)
    lab.add(1_000, "crash", "controller")
    after = lab.run(30_000)
    assert after == lab.run(30_000)  # the same seed, the same run
    assert after.controller not in ("nobody", before.controller)
    assert after.log != before.log  # the new controller wrote: new partition states, or a LeaderChange record
    html = control_plane_html(after)
    assert after.controller in html and "metadata log" in html


def test_a_kraft_broker_crash_shows_up_as_a_fence_record_and_new_leaders_everywhere() -> None:
    lab = ControlPlaneLab("KRaft")
    lab.add(1_000, "crash", "broker 1")
    snapshot = lab.run(20_000)
    assert any("FenceBrokerRecord(broker_id=1)" in row["change"] for row in snapshot.log)
    survivors = [row for row in snapshot.brokers if row["status"] == "up"]
    leaders = {row["leaders of orders 0..5"] for row in survivors}
    assert len(leaders) == 1 and "1" not in leaders.pop().split()  # they agree, and nobody names broker 1


def test_a_zookeeper_mode_broker_cut_off_loses_its_session_and_its_leaderships() -> None:
    lab = ControlPlaneLab("ZooKeeper")
    lab.add(1_000, "cut", "broker 3")
    snapshot = lab.run(25_000)
    assert any("closed" in row["change"] for row in snapshot.log)  # its session expired
    assert any(row["status"] == "cut off" for row in snapshot.brokers)
    others = [row for row in snapshot.brokers if row["broker"] != 3]
    assert all("3" not in row["leaders of orders 0..5"].split() for row in others)


def test_the_lab_refuses_unknown_modes_actions_and_targets() -> None:
    with pytest.raises(ValueError, match="unknown mode 'etcd'"):
        ControlPlaneLab("etcd")
    lab = ControlPlaneLab("KRaft")
    with pytest.raises(ValueError, match="unknown action 'explode'"):
        lab.add(0, "explode", "broker 1")
    with pytest.raises(ValueError, match="unknown target 'broker 9'"):
        lab.add(0, "crash", "broker 9")


def test_the_view_reacts_to_the_slider_and_the_buttons() -> None:
    view = ControlPlaneView("KRaft")
    slider, controls, actions, shown = view.children
    before = shown.value
    slider.value = 10
    assert shown.value != before
    controls.children[1].click()  # crash the active controller at 10 s; the slider jumps ahead 25 s
    assert slider.value == 35 and "crash controller at 10.0 s" in actions.value and "down" in shown.value
    controls.children[-1].click()  # reset
    assert "no faults yet" in actions.value
