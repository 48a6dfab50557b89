"""The "check my work" cell: grade one exercise file from a notebook and show the report.

    from kafkalab.grading.notebook import check_my_work
    check_my_work("ex02_partitioner")      # the last expression of a cell: renders as an HTML table

The file graded is ``<exercises folder>/<exercise id>.py``. The folder is ``$KAFKALAB_EXERCISES`` if
set, else the repository's ``exercises/`` next to the package (an editable install, the usual
case), else the first ``exercises/`` found from the current directory upwards (a notebook running
in ``notebooks/`` of a copy of the course). Checks run in a worker process with timeouts where
processes exist, in-process otherwise (the browser edition, Pyodide).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kafkalab.exercises.catalog import get_exercise
from kafkalab.grading.report import Report
from kafkalab.grading.runner import grade

REPO_ROOT = Path(__file__).resolve().parents[2]


def exercises_folder() -> Path:
    """Where the learner's exercise files are (see the module note for the order)."""
    if os.environ.get("KAFKALAB_EXERCISES"):
        return Path(os.environ["KAFKALAB_EXERCISES"])
    candidates = [REPO_ROOT / "exercises"] + [folder / "exercises" for folder in (Path.cwd(), *Path.cwd().parents)]
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("ex*.py")):
            return candidate
    return REPO_ROOT / "exercises"


def can_start_processes() -> bool:
    """False in the browser edition (Pyodide has no subprocesses)."""
    return sys.platform != "emscripten"


def check_my_work(exercise_id: str, folder: str | Path | None = None) -> Report:
    """Grade ``exercises/<exercise_id>.py`` and return the report (it renders as a table in Jupyter)."""
    get_exercise(exercise_id)  # a typo names the closest exercise id
    where = Path(folder) if folder is not None else exercises_folder()
    from kafkalab.release import hidden_checks_not_run

    return grade(where, [exercise_id], in_process=not can_start_processes(), hidden_not_run=hidden_checks_not_run(where, [exercise_id]))
