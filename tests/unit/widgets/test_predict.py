"""Predict-then-run: nothing runs before a committed answer, a committed answer never changes, and
every course question's experiment gives one of its choices (the one Kafka's rules predict)."""

from __future__ import annotations

import pytest

from kafkalab.partitioner import partition_for_key
from kafkalab.predictions import QUESTIONS
from kafkalab.widgets.predict import PredictionModel, Question, outcome_html


def test_the_experiment_runs_only_after_a_commit_and_the_answer_is_locked() -> None:
    runs: list[int] = []
    question = Question("q", "How many?", run=lambda: runs.append(1) or 2, choices=(1, 2, 3), why="because")
    model = PredictionModel(question)
    with pytest.raises(ValueError, match=r"choose one of \[1, 2, 3\] first \(got None\)"):
        model.commit(None)
    assert runs == []
    outcome = model.commit(3)
    assert runs == [1] and outcome.predicted == 3 and outcome.actual == 2 and not outcome.correct
    with pytest.raises(RuntimeError, match="already committed to 3"):
        model.commit(2)
    assert "✗ not quite" in outcome_html(question, outcome) and "because" in outcome_html(question, outcome)


def test_the_course_questions_answer_with_one_of_their_choices() -> None:
    assert QUESTIONS["key-to-partition"].run() == partition_for_key(b"customer-42", 6)
    assert QUESTIONS["resume-after-crash"].run() == 4  # the committed offset is the next one to read
    for question in QUESTIONS.values():
        assert question.run() in question.choices, question.id


def test_the_widget_locks_after_the_run() -> None:
    pytest.importorskip("ipywidgets")
    from kafkalab.widgets.predict import Predict

    box = Predict(QUESTIONS["key-to-partition"])
    choice, button = box.children[1].children
    assert button.disabled
    choice.value = 3
    assert not button.disabled
    button.click()
    assert choice.disabled and button.disabled and "✓ right" in box.children[2].value


def test_every_question_is_asked_in_a_notebook_and_answers_as_kafka_would() -> None:
    from pathlib import Path

    assert QUESTIONS["offset-after-retention"].run() == 24  # offsets are never reused
    assert QUESTIONS["too-few-in-sync"].run() == "refused: NOT_ENOUGH_REPLICAS"
    assert QUESTIONS["linger-requests"].run() == 4
    assert QUESTIONS["linger-requests"].run.__defaults__ == (5,)  # the 4.0 default, as the question says
    notebooks = "".join(p.read_text(encoding="utf-8") for p in (Path(__file__).resolve().parents[3] / "notebooks").glob("*.ipynb"))
    for question_id in QUESTIONS:
        assert f'QUESTIONS[\\"{question_id}\\"]' in notebooks, question_id
