"""Grading reports: per check, per exercise and in total — as text, HTML and Gradescope JSON.

A report has two readers. The **learner** sees every public check's full message, and for a hidden
check only the property it tests and how it failed (wrong answer, an exception's type, a timeout):
never its inputs or code. The **instructor** sees everything. Every report says what it covers
(public checks only, or public and hidden), so a public 100 % never reads as "all tests passed"
while hidden checks fail or were not run.
"""

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
    hidden: bool = False

    @property
    def points(self) -> int:
        return self.max_points if self.status == PASSED else 0

    def learner_message(self) -> str:
        """What the learner may read about this result: everything for a public check, the kind of failure for a hidden one."""
        if not self.hidden or self.status == PASSED:
            return self.message
        if self.status == FAILED:
            kind = "wrong answer"
        elif self.status == TIMEOUT:
            kind = self.message.splitlines()[0] if self.message.startswith(("timed out", "importing")) else "timed out"
        else:
            first = self.message.splitlines()[0] if self.message else "an error"
            kind = first.split(":")[0] if first.startswith("your code raised") else first
        return f"{kind} (a hidden check: its inputs and details are in your instructor's report)"


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
    hidden_run: bool = False  # were the instructor's hidden checks run?
    hidden_not_run: tuple[int, int] | None = None  # (checks, points) the edition says exist but were not run

    @property
    def hidden_counts(self) -> tuple[int, int]:
        """(checks, points) of the hidden checks that ran."""
        hidden = [r for e in self.exercises for r in e.results if r.hidden]
        return len(hidden), sum(r.max_points for r in hidden)

    def scope(self) -> str:
        """One line saying which checks this report covers."""
        public = sum(1 for e in self.exercises for r in e.results if not r.hidden)
        if self.hidden_run:
            count, points = self.hidden_counts
            return f"scope: {public} public and {count} hidden checks ({points} hidden points)"
        if self.hidden_not_run:
            count, points = self.hidden_not_run
            return f"scope: public checks only ({public}); your instructor's grading adds {count} hidden checks ({points} points) not run here"
        return f"scope: public checks only ({public}); hidden checks, if your instructor has any, were not run"

    def total_line(self) -> str:
        label = "total" if self.hidden_run else "public total"
        return f"{label}: {self.points}/{self.max_points} ({self.percent:.0f}%)"

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

    def to_text(self, audience: str = "learner") -> str:
        """The report as text; ``audience="instructor"`` shows hidden checks' full messages."""
        if audience not in ("learner", "instructor"):
            raise ValueError(f"audience must be 'learner' or 'instructor', not {audience!r}")
        lines = [f"kafkalab grade {self.folder}", self.scope()]
        for exercise in self.exercises:
            lines.append("")
            lines.append(f"{exercise.exercise}  {exercise.points}/{exercise.max_points}  {exercise.title}  ({exercise.file})")
            if exercise.load_error:
                lines.append(f"  ! {exercise.load_error}")
            for result in exercise.results:
                mark = "✓" if result.status == PASSED else "✗"
                tag = " (hidden)" if result.hidden else ""
                lines.append(f"  {mark} {result.points}/{result.max_points}{tag}  {result.description}")
                message = result.message if audience == "instructor" else result.learner_message()
                if result.status != PASSED and message and message != exercise.load_error:
                    lines.extend(f"        {line}" for line in message.splitlines())
        lines.append("")
        lines.append(self.total_line())
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
                output = "passed" if result.status == PASSED else result.learner_message()
                if result.output and not result.hidden:
                    output += f"\n--- your code printed:\n{result.output}"
                tests.append(
                    {
                        "name": f"{exercise.exercise}: {result.description}" + (" (hidden)" if result.hidden else ""),
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
            "output": f"{self.total_line()}\n{self.scope()}",
            "visibility": "visible",
            "extra_data": {
                "max_score": self.max_points,
                "hidden_checks_run": self.hidden_run,
                "exercises": {e.exercise: [e.points, e.max_points] for e in self.exercises},
            },
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
                shown = result.learner_message()
                message = "" if result.status == PASSED else f"<pre style='margin:0;white-space:pre-wrap'>{html.escape(shown)}</pre>"
                rows.append(
                    f"<tr><td style='color:{color}'>{mark}</td><td>{result.points}/{result.max_points}</td>"
                    f"<td style='text-align:left'>{html.escape(result.description)}{' (hidden)' if result.hidden else ''}{message}</td></tr>"
                )
        return (
            f"<div><table>{''.join(rows)}</table><b>{html.escape(self.total_line())}</b><br><small>{html.escape(self.scope())}</small></div>"
        )
