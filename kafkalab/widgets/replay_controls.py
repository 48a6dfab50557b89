"""The controls the replay widgets share (chapters 06–08): a time slider, a choice of node, one button
per fault that acts at the slider's time, and a reset. The lab replays its seeded run to the slider's
time after every change (``lab.run(ms)``, ``lab.add(ms, action, target)``, ``lab.actions``)."""

from __future__ import annotations

from html import escape
from typing import Any, Callable

ACTIONS = ("crash", "restart", "cut", "heal")


def replay_controls(lab: Any, render: Callable[[Any], str], *, choose: str, options: list[Any], start_s: float,
                    step_s: float, jump_s: float) -> Any:
    """The widget: ``render(lab.run(ms))`` is shown under the controls; each fault button records the
    fault at the slider's time and jumps ``jump_s`` ahead to show what followed."""
    import ipywidgets as widgets

    at = widgets.FloatSlider(value=start_s, min=0, max=lab.duration_ms / 1000, step=step_s, description="time (s)",
                             continuous_update=False)
    chosen = widgets.Dropdown(options=options, value=options[0], description=choose)
    buttons = {action: widgets.Button(description=f"{action} at this time") for action in ACTIONS}
    reset = widgets.Button(description="reset")
    actions = widgets.HTML()
    view = widgets.HTML()

    def refresh(_: Any = None) -> None:
        try:
            view.value = render(lab.run(round(at.value * 1000)))
        except Exception as error:  # noqa: BLE001 - say what went wrong in the widget itself
            view.value = f"<pre>{escape(type(error).__name__)}: {escape(str(error))}</pre>"
        actions.value = "<span style='font-family:monospace'>" + (", ".join(
            f"{action} {who} at {t / 1000:.1f} s" for t, action, who in lab.actions) or "no faults yet") + "</span>"

    def on_action(action: str) -> Callable[[Any], None]:
        def handler(_button: Any) -> None:
            lab.add(round(at.value * 1000), action, chosen.value)
            at.value = min(at.max, at.value + jump_s)
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
    return widgets.VBox([at, widgets.HBox([chosen, *buttons.values(), reset]), actions, view])
