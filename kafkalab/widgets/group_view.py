"""Chapter 04's widgets: a consumer group you can change, and a delivery-semantics lab.

``GroupView``: pick the assignor, add / kill / pause / close members at a chosen time, and look
at the group at any moment: who owns which partition, the lag of each partition, and a timeline
with one lane per member (a bar while it owns a partition) and the rebalances shaded.

``DeliveryLab``: pick a commit strategy and where the application crashes; see every record as
processed once (green), processed again (red) or never processed (grey).

Both only render what :mod:`kafkalab.consumer.group_lab` and :mod:`kafkalab.consumer.delivery`
compute; ``*_html`` functions are plain and tested without a browser.
"""

from __future__ import annotations

from html import escape

from kafkalab.consumer.delivery import DeliveryRun, run_delivery_scenario
from kafkalab.consumer.group_lab import GroupLab, GroupSnapshot

PALETTE = ["#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#4e342e", "#558b2f"]


def _color(member: str) -> str:
    return PALETTE[(int(member[1:]) - 1) % len(PALETTE)] if member[1:].isdigit() else "#555"


def group_html(snapshot: GroupSnapshot, duration_ms: int, width_px: int = 760) -> str:
    """The group at ``snapshot.time_ms``: owners and lag per partition, then the ownership timeline."""
    rows = []
    for partition, members in sorted(snapshot.owners.items()):
        owner = ", ".join(members) or "—"
        style = "color:#c62828;font-weight:bold" if len(members) > 1 else ""
        lag = snapshot.lag.get(partition, 0)
        bar = f"<span style='display:inline-block;height:9px;width:{min(lag, 300)}px;background:#90a4ae'></span>"
        rows.append(f"<tr><td>orders-{partition}</td><td style='{style}'>{escape(owner)}</td><td style='text-align:right'>{lag}</td><td>{bar}</td></tr>")
    status = ", ".join(f"{m}: {s}" for m, s in sorted(snapshot.members.items(), key=lambda kv: int(kv[0][1:])))
    header = (f"<div style='font-family:monospace'>t = {snapshot.time_ms / 1000:.1f} s · generation {snapshot.generation} · "
              f"{snapshot.state} · {escape(status)}</div>")
    table = ("<table style='font-family:monospace;font-size:smaller'><tr><th>partition</th><th>owner</th><th>lag</th><th></th></tr>"
             + "".join(rows) + "</table>")
    return header + table + timeline_html(snapshot, duration_ms, width_px)


def timeline_html(snapshot: GroupSnapshot, duration_ms: int, width_px: int = 760) -> str:
    """One lane per member; a thin bar per owned partition; rebalances shaded."""
    members = sorted({o.member for o in snapshot.ownership} | set(snapshot.members), key=lambda m: int(m[1:]) if m[1:].isdigit() else 0)
    scale = (width_px - 60) / max(duration_ms, 1)
    lane_height = 6 * 4 + 8
    parts = []
    for start, end in snapshot.rebalances:
        stop = snapshot.time_ms if end is None else end
        parts.append(f"<div title='rebalance {start / 1000:.1f}–{stop / 1000:.1f} s' style='position:absolute;left:{60 + int(start * scale)}px;"
                     f"top:0;width:{max(2, int((stop - start) * scale))}px;height:{lane_height * max(1, len(members))}px;background:#eceff1'></div>")
    for lane, member in enumerate(members):
        top = lane * lane_height
        parts.append(f"<div style='position:absolute;left:0;top:{top + 4}px;font-family:monospace;font-size:smaller'>{escape(member)}</div>")
        for owned in (o for o in snapshot.ownership if o.member == member):
            end = snapshot.time_ms if owned.end_ms is None else owned.end_ms
            parts.append(
                f"<div title='{escape(member)} owns orders-{owned.partition} {owned.start_ms / 1000:.1f}–{end / 1000:.1f} s' "
                f"style='position:absolute;left:{60 + int(owned.start_ms * scale)}px;top:{top + 2 + (owned.partition % 6) * 4}px;"
                f"width:{max(1, int((end - owned.start_ms) * scale))}px;height:3px;background:{_color(member)}'></div>")
    now = 60 + int(snapshot.time_ms * scale)
    parts.append(f"<div style='position:absolute;left:{now}px;top:0;width:1px;height:{lane_height * max(1, len(members))}px;background:#c62828'></div>")
    events = "<br>".join(escape(e) for e in snapshot.events[-8:])
    return (f"<div style='position:relative;height:{lane_height * max(1, len(members)) + 4}px;width:{width_px}px;margin-top:6px'>"
            f"{''.join(parts)}</div><div style='font-family:monospace;font-size:smaller'>0 … {duration_ms / 1000:.0f} s · grey: a rebalance "
            f"· red line: now</div><div style='font-family:monospace;font-size:smaller;margin-top:4px'>{events}</div>")


def GroupView(assignor: str = "range", consumers: int = 2, partitions: int = 6, seed: int = 1):  # noqa: N802 - reads like a class
    """The group widget: a time slider (first), the assignor, and buttons that add actions at that time."""
    import ipywidgets as widgets

    lab = GroupLab(partitions=partitions, consumers=consumers, assignor=assignor, seed=seed)
    at = widgets.IntSlider(value=20, min=0, max=lab.duration_ms // 1000, description="time (s)", continuous_update=False)
    strategy = widgets.Dropdown(options=["range", "roundrobin", "sticky", "cooperative-sticky"], value=assignor, description="assignor")
    member = widgets.Dropdown(options=lab.member_names(), description="member")
    buttons = {kind: widgets.Button(description=f"{kind} at this time") for kind in ("add", "kill", "pause", "close")}
    reset = widgets.Button(description="reset")
    view = widgets.HTML()

    def refresh(_=None) -> None:
        lab.assignor = strategy.value
        try:
            view.value = group_html(lab.run(at.value * 1000), lab.duration_ms)
        except Exception as error:  # noqa: BLE001 - say what went wrong in the widget itself
            view.value = f"<pre>{escape(type(error).__name__)}: {escape(str(error))}</pre>"

    def on_button(kind: str):
        def handler(_button) -> None:
            if kind == "add":
                lab.add(at.value * 1000)
                member.options = lab.member_names()
            elif member.value:
                lab.act(at.value * 1000, kind, member.value)
            refresh()
        return handler

    def on_reset(_button) -> None:
        lab.actions = [a for a in lab.actions if a.time_ms == 0 and a.kind == "add"]
        member.options = lab.member_names()
        refresh()

    for kind, button in buttons.items():
        button.on_click(on_button(kind))
    reset.on_click(on_reset)
    at.observe(refresh, names="value")
    strategy.observe(refresh, names="value")
    refresh()
    return widgets.VBox([at, strategy, widgets.HBox([member, *buttons.values(), reset]), view])


def delivery_html(run: DeliveryRun, per_row: int = 20) -> str:
    """Each produced record as a cell: processed once (green), more than once (red), never (grey)."""
    counts: dict[tuple[int, int], int] = {}
    for entry in run.history:
        counts[(entry.partition, entry.offset)] = counts.get((entry.partition, entry.offset), 0) + 1
    rows = []
    for partition in sorted({p for (p, _) in counts} | {p for (_, p, _) in run.report.lost}):
        offsets = sorted({o for (p, o) in counts if p == partition} | {o for (_, p, o) in run.report.lost if p == partition})
        cells = []
        for offset in offsets:
            seen = counts.get((partition, offset), 0)
            color = "#c8e6c9" if seen == 1 else ("#ffcdd2" if seen > 1 else "#cfd8dc")
            label = f"×{seen}" if seen > 1 else ("lost" if seen == 0 else "")
            cells.append(f"<span title='events-{partition} offset {offset}: processed {seen} time(s)' style='display:inline-block;"
                         f"width:30px;margin:1px;text-align:center;background:{color};font-size:smaller'>{offset}{label and '<br>' + label}</span>")
        rows.append(f"<div style='font-family:monospace'>events-{partition}: {''.join(cells)}</div>")
    crashes = [e for e in run.cluster.trace if e.kind == "app.crash"]
    where = ", ".join(f"{e.node} after its record #{e.detail['after_processed']} at {e.time_ms / 1000:.1f} s" for e in crashes) or "no crash"
    return (f"<div style='font-family:monospace'><b>{escape(run.report.summary())}</b></div>"
            f"<div style='font-family:monospace;font-size:smaller'>crashes: {escape(where)}</div>" + "".join(rows))


def DeliveryLab(strategy: str = "at-least-once", crash_after: int = 12, max_poll_records: int = 5, seed: int = 0):  # noqa: N802
    """The delivery widget: where app-0 crashes (first slider), max.poll.records, and the commit strategy."""
    import ipywidgets as widgets

    crash = widgets.IntSlider(value=crash_after, min=1, max=40, description="crash after record #", continuous_update=False,
                              style={"description_width": "initial"})
    batch = widgets.IntSlider(value=max_poll_records, min=1, max=20, description="max.poll.records", continuous_update=False,
                              style={"description_width": "initial"})
    choice = widgets.Dropdown(options=["at-most-once", "at-least-once", "auto-commit", "never-commit"], value=strategy, description="strategy")
    view = widgets.HTML()

    def refresh(_=None) -> None:
        run = run_delivery_scenario(choice.value, seed=seed, records=60, crashes=((0, crash.value),),
                                    config={"max.poll.records": batch.value})
        view.value = delivery_html(run)

    for control in (crash, batch, choice):
        control.observe(refresh, names="value")
    refresh()
    return widgets.VBox([crash, batch, choice, view])
