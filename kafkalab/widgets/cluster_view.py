"""Chapter 05's widget: break a replicated partition and watch leaders, the ISR, LEOs and the HW.

A time slider (first) with buttons that step to the previous or next event of the run (an action,
a fencing, an ISR change, a truncation), the producer's ``acks``, ``min.insync.replicas`` and
unclean election, and buttons that crash, restart, wipe (lose the disk of) or cut off a broker at
the slider's time. The view shows each replica of ``orders-0`` at that moment and what the producer
got: acknowledged writes and refused ones. Everything is replayed from the seeded lab, so moving
back in time shows exactly what was there.
"""

from __future__ import annotations

from html import escape

from kafkalab.cluster_lab import ClusterLab, LabSnapshot

ROLE_COLORS = {"leader": "#c8e6c9", "follower": "#e3f2fd", "down": "#eeeeee"}


def cluster_html(snapshot: LabSnapshot) -> str:
    rows = []
    for replica in snapshot.replicas:
        color = ROLE_COLORS.get(replica["role"], "#fff")
        lag = replica["log end offset"] - replica["high watermark"]
        rows.append(
            f"<tr style='background:{color}'><td>broker {replica['broker']}</td><td>{replica['role']}</td>"
            f"<td>{'yes' if replica['in ISR'] else 'no'}</td><td style='text-align:right'>{replica['log end offset']}</td>"
            f"<td style='text-align:right'>{replica['high watermark']}</td><td style='text-align:right'>{lag}</td></tr>")
    header = (f"<div style='font-family:monospace'>t = {snapshot.time_ms / 1000:.1f} s · leader "
              f"{snapshot.leader if snapshot.leader >= 0 else 'none (offline)'} · leader epoch {snapshot.leader_epoch} · "
              f"ISR {list(snapshot.isr)} · writes acknowledged {snapshot.acknowledged}, refused {snapshot.refused}</div>")
    table = ("<table style='font-family:monospace'><tr><th>replica</th><th>role</th><th>in ISR</th><th>log end</th>"
             "<th>high watermark</th><th>behind</th></tr>" + "".join(rows) + "</table>")
    events = "<br>".join(escape(e) for e in snapshot.events[-10:])
    return header + table + f"<div style='font-family:monospace;font-size:smaller;margin-top:4px'>{events}</div>"


def ClusterView(seed: int = 1):  # noqa: N802 - reads like a class
    import ipywidgets as widgets

    lab = ClusterLab(seed=seed)
    at = widgets.FloatSlider(value=20, min=0, max=lab.duration_ms / 1000, step=0.001, readout_format=".3f",
                             description="time (s)", continuous_update=False)
    previous_event = widgets.Button(description="◀ previous event")
    next_event = widgets.Button(description="next event ▶")
    acks = widgets.Dropdown(options=[("all", -1), ("1", 1)], value=-1, description="acks")
    min_isr = widgets.Dropdown(options=[1, 2, 3], value=2, description="min.insync")
    unclean = widgets.Checkbox(value=False, description="unclean election")
    broker = widgets.Dropdown(options=[0, 1, 2], value=lab.run(0).leader, description="broker")  # the leader first
    buttons = {kind: widgets.Button(description=f"{kind} at this time") for kind in ("crash", "restart", "wipe", "cut", "heal")}
    reset = widgets.Button(description="reset")
    view = widgets.HTML()

    def refresh(_=None) -> None:
        lab.acks, lab.min_insync_replicas, lab.unclean = acks.value, min_isr.value, unclean.value
        try:
            view.value = cluster_html(lab.run(round(at.value * 1000)))
        except Exception as error:  # noqa: BLE001 - say what went wrong in the widget itself
            view.value = f"<pre>{escape(type(error).__name__)}: {escape(str(error))}</pre>"

    def on_button(kind: str):
        def handler(_button) -> None:
            lab.act(round(at.value * 1000), kind, broker.value)
            refresh()
        return handler

    def on_reset(_button) -> None:
        lab.actions = []
        refresh()

    def stepper(direction: int):
        def handler(_button) -> None:
            at.value = lab.step(round(at.value * 1000), direction) / 1000  # refresh() follows from the slider
        return handler

    previous_event.on_click(stepper(-1))
    next_event.on_click(stepper(1))
    for kind, button in buttons.items():
        button.on_click(on_button(kind))
    reset.on_click(on_reset)
    for control in (at, acks, min_isr, unclean):
        control.observe(refresh, names="value")
    refresh()
    return widgets.VBox([at, widgets.HBox([previous_event, next_event]), widgets.HBox([acks, min_isr, unclean]),
                         widgets.HBox([broker, *buttons.values(), reset]), view])
