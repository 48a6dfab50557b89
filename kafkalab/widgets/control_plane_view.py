"""Chapter 08's control-plane widget: crash, restart, cut off or heal the active controller or a
broker — in ZooKeeper mode or in KRaft — and watch who leads, what every broker believes, and the
metadata log (ZooKeeper transactions or ``__cluster_metadata`` records) at any moment.

A time slider (first), a target, buttons that act at the slider's time, and a reset. Every view is
replayed from the seeded :class:`~kafkalab.control_plane_lab.ControlPlaneLab`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from kafkalab.control_plane_lab import ACTIONS, ControlPlaneLab, ControlPlaneSnapshot

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
    import ipywidgets as widgets

    lab = ControlPlaneLab(mode, seed)
    at = widgets.FloatSlider(value=0, min=0, max=lab.duration_ms / 1000, step=0.5, description="time (s)",
                             continuous_update=False)
    target = widgets.Dropdown(options=list(lab.targets), value=lab.targets[0], description="target")
    buttons = {action: widgets.Button(description=f"{action} at this time") for action in ACTIONS}
    reset = widgets.Button(description="reset")
    actions = widgets.HTML()
    view = widgets.HTML()

    def refresh(_: Any = None) -> None:
        try:
            view.value = control_plane_html(lab.run(round(at.value * 1000)))
        except Exception as error:  # noqa: BLE001 - say what went wrong in the widget itself
            view.value = f"<pre>{escape(type(error).__name__)}: {escape(str(error))}</pre>"
        actions.value = "<span style='font-family:monospace'>" + (", ".join(
            f"{action} {who} at {t / 1000:.1f} s" for t, action, who in lab.actions) or "no faults yet") + "</span>"

    def on_action(action: str) -> Any:
        def handler(_button: Any) -> None:
            lab.add(round(at.value * 1000), action, target.value)
            at.value = min(at.max, at.value + 25)  # jump ahead: detection takes 9 to 18 s
            refresh()
        return handler

    def on_reset(_button: Any) -> None:
        lab.actions.clear()
        refresh()

    for action, button in buttons.items():
        button.on_click(on_action(action))
    reset.on_click(on_reset)
    at.observe(refresh, names="value")
    refresh()
    return widgets.VBox([at, widgets.HBox([target, *buttons.values(), reset]), actions, view])
