"""Grading reports: per check, per exercise and in total — as text, HTML and Gradescope JSON."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

PASSED, FAILED, ERROR, TIMEOUT = "passed", "failed", "error", "timeout"


@dataclass(frozen=True)
class CheckResult:
    exercise: str
    name: str
    description: str
    max_points: int
    status: str
    message: str = ""
    output: str = ""

    @property
    def points(self) -> int:
        return self.max_points if self.status == PASSED else 0


@dataclass
class ExerciseReport:
    exercise: str
    title: str
    file: str
    results: list[CheckResult] = field(default_factory=list)
    load_error: str | None = None

    @property
    def points(self) -> int:
        return sum(result.points for result in self.results)

    @property
    def max_points(self) -> int:
        return sum(result.max_points for result in self.results)


@dataclass
class Report:
    folder: str
    exercises: list[ExerciseReport] = field(default_factory=list)
    execution_time_s: float = 0.0

    @property
    def points(self) -> int:
        return sum(exercise.points for exercise in self.exercises)

    @property
    def max_points(self) -> int:
        return sum(exercise.max_points for exercise in self.exercises)

    @property
    def percent(self) -> float:
        return 100.0 * self.points / self.max_points if self.max_points else 0.0

    def __repr__(self) -> str:
        return f"Report({self.points}/{self.max_points} points, {len(self.exercises)} exercise(s))"

    def to_text(self) -> str:
        lines = [f"kafkalab grade {self.folder}"]
        for exercise in self.exercises:
            lines.append("")
            lines.append(f"{exercise.exercise}  {exercise.points}/{exercise.max_points}  {exercise.title}  ({exercise.file})")
            if exercise.load_error:
                lines.append(f"  ! {exercise.load_error}")
            for result in exercise.results:
                mark = "✓" if result.status == PASSED else "✗"
                lines.append(f"  {mark} {result.points}/{result.max_points}  {result.description}")
                if result.status != PASSED and result.message and result.message != exercise.load_error:
                    lines.extend(f"        {line}" for line in result.message.splitlines())
        lines.append("")
        lines.append(f"total: {self.points}/{self.max_points} ({self.percent:.0f}%)")
        return "\n".join(lines)

    def to_gradescope(self) -> dict[str, Any]:
        """Gradescope's ``results.json``: a total ``score`` and one test per check.

        The shape follows https://gradescope-autograders.readthedocs.io/en/latest/specs/ — top level
        ``score``, ``execution_time`` (whole seconds), ``output``, ``visibility``, ``extra_data``,
        ``tests``; each test ``name``, ``number``, ``score``, ``max_score``, ``status``, ``output``.
        Gradescope has no top-level maximum (it sums the tests'), so ours goes in ``extra_data``.
        """
        tests = []
        for exercise_number, exercise in enumerate(self.exercises, start=1):
            for check_number, result in enumerate(exercise.results, start=1):
                output = "passed" if result.status == PASSED else result.message
                if result.output:
                    output += f"\n--- your code printed:\n{result.output}"
                tests.append(
                    {
                        "name": f"{exercise.exercise}: {result.description}",
                        "number": f"{exercise_number}.{check_number}",
                        "score": result.points,
                        "max_score": result.max_points,
                        "status": "passed" if result.status == PASSED else "failed",
                        "output": output,
                    }
                )
        return {
            "score": self.points,
            "execution_time": round(self.execution_time_s),
            "output": f"{self.points}/{self.max_points} points ({self.percent:.0f}%)",
            "visibility": "visible",
            "extra_data": {"max_score": self.max_points, "exercises": {e.exercise: [e.points, e.max_points] for e in self.exercises}},
            "tests": tests,
        }

    def _repr_html_(self) -> str:
        rows = []
        for exercise in self.exercises:
            rows.append(
                f"<tr><th colspan=3 style='text-align:left'>{html.escape(exercise.exercise)} — {html.escape(exercise.title)}"
                f" &nbsp; {exercise.points}/{exercise.max_points}</th></tr>"
            )
            for result in exercise.results:
                color = "#1b5e20" if result.status == PASSED else "#b71c1c"
                mark = "✓" if result.status == PASSED else "✗"
                message = "" if result.status == PASSED else f"<pre style='margin:0;white-space:pre-wrap'>{html.escape(result.message)}</pre>"
                rows.append(
                    f"<tr><td style='color:{color}'>{mark}</td><td>{result.points}/{result.max_points}</td>"
                    f"<td style='text-align:left'>{html.escape(result.description)}{message}</td></tr>"
                )
        return (
            f"<div><table>{''.join(rows)}</table><b>total: {self.points}/{self.max_points} ({self.percent:.0f}%)</b></div>"
        )
