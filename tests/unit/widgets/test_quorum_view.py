"""Chapters 06 and 07's election widget and the quorum lab behind it (no browser needed)."""

from __future__ import annotations

import pytest

from kafkalab.quorum_lab import QuorumLab
from kafkalab.widgets.quorum_view import QuorumView, quorum_html


@pytest.mark.parametrize("kind, leading, state", [("raft", "leader", "role"), ("zookeeper", "leading", "state")])
def test_crashing_the_leader_elects_another_in_a_newer_epoch_and_replays_exactly(kind: str, leading: str, state: str) -> None:
    lab = QuorumLab(kind)
    before = lab.run(5_000)
    leader = next(row for row in before.rows if row[state] == leading)
    leader_id = next(iter(leader.values()))
    lab.add(5_000, "crash", leader_id)
    after = lab.run(30_000)
    assert after.rows == lab.run(30_000).rows and after.events == lab.run(30_000).events  # the same seed, the same run
    new_leader = next(row for row in after.rows if row[state] == leading)
    assert next(iter(new_leader.values())) != leader_id
    epoch = "epoch" if kind == "raft" else "current epoch"
    assert new_leader[epoch] > leader[epoch]
    assert after.committed > before.committed  # the survivors kept committing
    assert "down" in quorum_html(after, "records")


def test_the_lab_refuses_unknown_kinds_actions_and_nodes() -> None:
    with pytest.raises(ValueError, match="unknown quorum kind 'etcd'"):
        QuorumLab("etcd")
    lab = QuorumLab("raft")
    with pytest.raises(ValueError, match="unknown action 'explode'"):
        lab.add(0, "explode", 1)
    with pytest.raises(ValueError, match="no node 9"):
        lab.add(0, "crash", 9)


def test_the_view_reacts_to_the_slider_and_the_buttons() -> None:
    view = QuorumView("raft")
    slider, controls, actions, shown = view.children
    before = shown.value
    slider.value = 20
    assert shown.value != before
    controls.children[1].click()  # crash node 1 at 20 s; the slider jumps ahead 5 s
    assert slider.value == 25 and "crash 1 at 20.0 s" in actions.value and "down" in shown.value
    controls.children[-1].click()  # reset
    assert "no faults yet" in actions.value
