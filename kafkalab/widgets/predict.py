"""Predict, then run: the learner commits to an answer before the simulator shows what Kafka does.

    from kafkalab.predictions import QUESTIONS
    from kafkalab.widgets.predict import Predict
    Predict(QUESTIONS["key-to-partition"])

The answer box locks when the learner commits; only then does the seeded experiment run and the
widget show Kafka's answer, whether the prediction was right, and why. Committing first is the
point: a wrong prediction, seen as wrong, is what the learner remembers. ``PredictionModel`` holds
the rules and is tested without a browser; ``Predict`` only draws it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Question:
    id: str
    prompt: str
    run: Callable[[], Any]  # the experiment: a seeded simulation that returns Kafka's answer
    choices: tuple[Any, ...]  # what the learner picks from (the answer is one of them)
    why: str  # shown after the run, right or wrong


@dataclass(frozen=True)
class Outcome:
    predicted: Any
    actual: Any

    @property
    def correct(self) -> bool:
        return self.predicted == self.actual


class PredictionModel:
    """One prediction: nothing runs until an answer is committed, and a committed answer never changes."""

    def __init__(self, question: Question) -> None:
        self.question = question
        self.outcome: Outcome | None = None

    def commit(self, answer: Any) -> Outcome:
        if self.outcome is not None:
            raise RuntimeError(f"already committed to {self.outcome.predicted!r}: a prediction cannot change after the run")
        if answer not in self.question.choices:
            raise ValueError(f"choose one of {list(self.question.choices)} first (got {answer!r})")
        self.outcome = Outcome(answer, self.question.run())
        return self.outcome


def outcome_html(question: Question, outcome: Outcome) -> str:
    verdict = ("<b style='color:#1b5e20'>✓ right</b>" if outcome.correct else "<b style='color:#b71c1c'>✗ not quite</b>")
    return (
        f"<div>you predicted <b>{html.escape(str(outcome.predicted))}</b>; the simulation gives "
        f"<b>{html.escape(str(outcome.actual))}</b> — {verdict}<br>{html.escape(question.why)}</div>"
    )


def Predict(question: Question):  # noqa: N802 - reads like a class
    """The widget: the question, a choice, a "commit and run" button, then the result."""
    import ipywidgets as widgets

    model = PredictionModel(question)
    prompt = widgets.HTML(f"<b>Predict, then run.</b> {html.escape(question.prompt)}")
    choice = widgets.Dropdown(options=[("— your prediction —", None)] + [(str(c), c) for c in question.choices], value=None)
    button = widgets.Button(description="commit and run", disabled=True, button_style="primary")
    result = widgets.HTML("")

    def chosen(change: Any) -> None:
        button.disabled = change["new"] is None or model.outcome is not None

    def run(_: Any) -> None:
        choice.disabled = button.disabled = True  # committed: no second guess
        result.value = outcome_html(question, model.commit(choice.value))

    choice.observe(chosen, names="value")
    button.on_click(run)
    return widgets.VBox([prompt, widgets.HBox([choice, button]), result])
