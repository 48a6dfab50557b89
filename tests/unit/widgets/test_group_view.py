"""Chapter 04's widgets and the group lab behind them (no browser needed)."""

from __future__ import annotations

import pytest

from kafkalab.consumer.delivery import run_delivery_scenario
from kafkalab.consumer.group_lab import GroupLab
from kafkalab.widgets.group_view import DeliveryLab, GroupView, delivery_html, group_html


def test_the_lab_replays_actions_deterministically_and_reports_owners_and_lag() -> None:
    lab = GroupLab(consumers=2)
    lab.act(10_000, "kill", "c1")
    first, second = lab.run(30_000), lab.run(30_000)
    assert first.events == second.events and first.owners == second.owners
    assert all(owners == ["c2"] for owners in first.owners.values())  # c1's partitions moved after its session timeout
    assert any("session timeout: c1" in e for e in first.events)
    assert set(first.lag) == set(range(6)) and all(lag >= 0 for lag in first.lag.values())
    assert first.rebalances and all(end is not None for _, end in first.rebalances)


def test_the_lab_refuses_unknown_members_and_actions() -> None:
    lab = GroupLab()
    with pytest.raises(ValueError, match="no member 'c9'"):
        lab.act(0, "kill", "c9")
    with pytest.raises(ValueError, match="unknown action 'explode'"):
        lab.act(0, "explode", "c1")


def test_group_html_marks_owners_and_the_timeline() -> None:
    lab = GroupLab(consumers=3)
    html = group_html(lab.run(20_000), lab.duration_ms)
    assert "orders-5" in html and "generation 1" in html and "c3" in html and "rebalance" in html


def test_delivery_html_colours_lost_and_repeated_records() -> None:
    lossy = delivery_html(run_delivery_scenario("at-most-once", crashes=((0, 12),)))
    assert "lost" in lossy and "#cfd8dc" in lossy
    repeated = delivery_html(run_delivery_scenario("at-least-once", crashes=((0, 12),)))
    assert "×2" in repeated and "0 lost" in repeated


def test_the_widgets_react_to_their_first_slider() -> None:
    view = GroupView()
    before = view.children[-1].value
    view.children[0].value = 45
    assert view.children[-1].value != before
    lab = DeliveryLab(strategy="at-most-once", crash_after=12)
    before = lab.children[-1].value
    lab.children[0].value = 3
    assert lab.children[-1].value != before


def test_the_cluster_view_reacts_and_the_lab_replays_failures() -> None:
    from kafkalab.cluster_lab import ClusterLab
    from kafkalab.widgets.cluster_view import ClusterView, cluster_html

    lab = ClusterLab()
    first_leader = lab.run(0).leader
    lab.act(10_000, "crash", first_leader)
    snapshot = lab.run(30_000)
    assert snapshot.leader not in (first_leader, -1) and snapshot.leader_epoch == 1 and snapshot.refused <= 5
    assert any(f"controller fences broker {first_leader}" in e for e in snapshot.events)
    assert "down" in cluster_html(snapshot)
    with pytest.raises(ValueError, match="no broker 7"):
        lab.act(0, "crash", 7)
    view = ClusterView()
    before = view.children[-1].value
    view.children[0].value = 45
    assert view.children[-1].value != before
    # Step through the trace: crash the leader at 10 s, then walk from 0 s to each event in turn.
    slider, (previous_event, next_event) = view.children[0], view.children[1].children
    buttons = view.children[3].children
    slider.value = 10
    buttons[1].click()  # crash (the broker dropdown starts on the leader)
    slider.value = 0
    next_event.click()
    assert slider.value == 10 and "crash broker" in view.children[-1].value
    next_event.click()
    assert slider.value > 10 and "fences" in view.children[-1].value  # the controller noticed, seconds later
    fenced_at = slider.value
    previous_event.click()
    assert slider.value == 10
    assert lab.step(fenced_at * 1000, -1) <= fenced_at * 1000
