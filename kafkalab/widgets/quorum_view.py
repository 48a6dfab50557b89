"""The election widget of chapters 06 and 07: crash, restart or cut off a node of a Raft quorum or a
ZooKeeper ensemble and watch the elections — roles, epochs, votes, zxids and logs — at any moment.

A time slider (first), a node, buttons that crash, restart, cut off or heal at the slider's time, and
a reset. Every view is replayed from the seeded :class:`~kafkalab.quorum_lab.QuorumLab`.
"""

from __future__ import annotations

from html import escape

from kafkalab.quorum_lab import QuorumLab, QuorumSnapshot

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
    import ipywidgets as widgets

    lab = QuorumLab(kind, nodes, seed)
    what = "records" if kind == "raft" else "writes"
    at = widgets.FloatSlider(value=5, min=0, max=lab.duration_ms / 1000, step=0.1, description="time (s)",
                             continuous_update=False)
    node = widgets.Dropdown(options=list(range(1, nodes + 1)), value=1, description="node")
    buttons = {action: widgets.Button(description=f"{action} at this time") for action in ("crash", "restart", "cut", "heal")}
    reset = widgets.Button(description="reset")
    actions = widgets.HTML()
    view = widgets.HTML()

    def refresh(_=None) -> None:
        try:
            view.value = quorum_html(lab.run(round(at.value * 1000)), what)
        except Exception as error:  # noqa: BLE001 - say what went wrong in the widget itself
            view.value = f"<pre>{escape(type(error).__name__)}: {escape(str(error))}</pre>"
        actions.value = "<span style='font-family:monospace'>" + (", ".join(
            f"{action} {n} at {t / 1000:.1f} s" for t, action, n in lab.actions) or "no faults yet") + "</span>"

    def on_action(action: str):
        def handler(_button) -> None:
            lab.add(round(at.value * 1000), action, node.value)
            at.value = min(at.max, at.value + 5)  # jump ahead to see what followed
            refresh()
        return handler

    def on_reset(_button) -> None:
        lab.actions.clear()
        refresh()

    for action, button in buttons.items():
        button.on_click(on_action(action))
    reset.on_click(on_reset)
    at.observe(refresh, names="value")
    refresh()
    return widgets.VBox([at, widgets.HBox([node, *buttons.values(), reset]), actions, view])
