"""The "check my work" cell: grade one exercise file from a notebook and show the report."""

from __future__ import annotations

import os
from pathlib import Path

from kafkalab.grading.report import Report
from kafkalab.grading.runner import grade

REPO_ROOT = Path(__file__).resolve().parents[2]


def exercises_folder() -> Path:
    """``$KAFKALAB_EXERCISES`` if set, else the repository's ``exercises/``."""
    return Path(os.environ.get("KAFKALAB_EXERCISES", REPO_ROOT / "exercises"))


def can_start_processes() -> bool:
    """False in the browser edition (Pyodide has no subprocesses)."""
    import sys

    return sys.platform != "emscripten"


def check_my_work(exercise_id: str, folder: str | Path | None = None) -> Report:
    """Grade ``exercises/<exercise_id>.py`` and return the report (it renders as a table in Jupyter)."""
    return grade(Path(folder) if folder is not None else exercises_folder(), [exercise_id], in_process=not can_start_processes())
