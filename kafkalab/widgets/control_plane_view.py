"""Chapter 08's control-plane widget: crash, restart, cut off or heal the active controller or a
broker — in ZooKeeper mode or in KRaft — and watch who leads, what every broker believes, and the
metadata log (ZooKeeper transactions or ``__cluster_metadata`` records) at any moment.

A time slider (first), a target, buttons that act at the slider's time, and a reset. Every view is
replayed from the seeded :class:`~kafkalab.control_plane_lab.ControlPlaneLab`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from kafkalab.control_plane_lab import ControlPlaneLab, ControlPlaneSnapshot
from kafkalab.widgets.replay_controls import replay_controls

ROW_COLORS = {"leader": "#c8e6c9", "leading": "#c8e6c9", "down": "#eeeeee", "cut off": "#ffe0b2"}


def _table(rows: list[dict[str, Any]], color_of: str) -> str:
    if not rows:
        return "<div>(nothing committed yet)</div>"
    header = "".join(f"<th style='text-align:left'>{escape(column)}</th>" for column in rows[0])
    body = []
    for row in rows:
        state = str(row.get(color_of, ""))
        color = next((c for key, c in ROW_COLORS.items() if state.startswith(key)), "#fff")
        if str(row.get("role", "")).startswith("controller"):
            color = "#c8e6c9"
        cells = "".join(f"<td>{escape(str(value)).replace('; ', '<br>')}</td>" for value in row.values())
        body.append(f"<tr style='background:{color}'>{cells}</tr>")
    return f"<table style='font-family:monospace;font-size:smaller'><tr>{header}</tr>{''.join(body)}</table>"


def control_plane_html(snapshot: ControlPlaneSnapshot) -> str:
    log_name = "ZooKeeper transactions (zxid order)" if snapshot.mode == "ZooKeeper" else "__cluster_metadata (committed)"
    events = "<br>".join(escape(line) for line in snapshot.events) or "(no control-plane events yet)"
    return (f"<div style='font-family:monospace'>{escape(snapshot.mode)} · t = {snapshot.time_ms / 1000:.1f} s · "
            f"Kafka controller: {escape(snapshot.controller)}</div>"
            f"<b>controllers</b>{_table(snapshot.controllers, 'state')}"
            f"<b>brokers</b>{_table(snapshot.brokers, 'status')}"
            f"<b>metadata log: {escape(log_name)}, newest last</b>{_table(snapshot.log, 'position')}"
            f"<div style='font-family:monospace;font-size:smaller;margin-top:4px'>{events}</div>")


def ControlPlaneView(mode: str = "KRaft", seed: int = 1):  # noqa: N802 - reads like a class
    lab = ControlPlaneLab(mode, seed)
    # Each fault jumps 25 s ahead: detection alone takes 9 s (KRaft brokers) to 18 s (ZooKeeper sessions).
    return replay_controls(lab, control_plane_html, choose="target", options=list(lab.targets), start_s=0,
                           step_s=0.5, jump_s=25)
