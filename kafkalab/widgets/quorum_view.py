"""The election widget of chapters 06 and 07: crash, restart or cut off a node of a Raft quorum or a
ZooKeeper ensemble and watch the elections — roles, epochs, votes, zxids and logs — at any moment.

A time slider (first), a node, buttons that crash, restart, cut off or heal at the slider's time, and
a reset. Every view is replayed from the seeded :class:`~kafkalab.quorum_lab.QuorumLab`.
"""

from __future__ import annotations

from html import escape

from kafkalab.quorum_lab import QuorumLab, QuorumSnapshot
from kafkalab.widgets.replay_controls import replay_controls

STATE_COLORS = {"leader": "#c8e6c9", "leading": "#c8e6c9", "follower": "#e3f2fd", "following": "#e3f2fd",
                "candidate": "#fff3e0", "prospective": "#fffde7", "looking": "#fff3e0", "resigned": "#f3e5f5",
                "down": "#eeeeee"}


def quorum_html(snapshot: QuorumSnapshot, what: str) -> str:
    header = "".join(f"<th>{escape(column)}</th>" for column in snapshot.columns)
    rows = []
    for row in snapshot.rows:
        state = str(row.get("role", row.get("state")))
        cells = "".join(f"<td>{escape(str(value))}</td>" for value in row.values())
        rows.append(f"<tr style='background:{STATE_COLORS.get(state, '#fff')}'>{cells}</tr>")
    events = "<br>".join(escape(line) for line in snapshot.events[-12:]) or "(no election events yet)"
    return (f"<div style='font-family:monospace'>t = {snapshot.time_ms / 1000:.1f} s · {what} committed: {snapshot.committed}</div>"
            f"<table style='font-family:monospace'><tr>{header}</tr>{''.join(rows)}</table>"
            f"<div style='font-family:monospace;font-size:smaller;margin-top:4px'>{events}</div>")


def QuorumView(kind: str = "raft", nodes: int = 3, seed: int = 1):  # noqa: N802 - reads like a class
    lab = QuorumLab(kind, nodes, seed)
    what = "records" if kind == "raft" else "writes"
    return replay_controls(lab, lambda snapshot: quorum_html(snapshot, what), choose="node",
                           options=list(range(1, nodes + 1)), start_s=5, step_s=0.1, jump_s=5)
