"""Grade a folder of exercise files: each check run in a worker process with a timeout, or in-process.

A learner's code may loop forever, raise, call ``sys.exit``, print megabytes or fail to import; none
of that may crash the grader or cost another check its points. The default mode starts a worker
process (``python -m kafkalab.grading.worker``) and sends it one check at a time; when a check
overruns its timeout the worker is killed, the check scores 0 ("timed out"), and a fresh worker
takes the remaining checks. ``in_process=True`` runs checks directly (for environments without
processes, such as the browser edition) and cannot stop an infinite loop.

This module is the only place in kafkalab that starts processes or threads.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from kafkalab.exercises.catalog import EXERCISES, get_exercise
from kafkalab.grading.checks import Check, checks_for, find_check
from kafkalab.grading.feedback import describe_exception
from kafkalab.grading.loader import LoadError, load_learner_module
from kafkalab.grading.report import ERROR, FAILED, PASSED, TIMEOUT, CheckResult, ExerciseReport, Report

_loaded: dict[str, Any] = {}


def run_one_check(exercise: str, check_name: str, path: Path) -> dict[str, str]:
    """Load the learner's file (once per process) and run one check; a plain-data verdict."""
    key = str(path.resolve())
    try:
        if key not in _loaded:
            _loaded[key] = load_learner_module(path)
        module = _loaded[key]
    except LoadError as error:
        return {"status": ERROR, "message": str(error), "load_error": True}
    chosen = find_check(exercise, check_name)
    try:
        chosen.function(module)
    except AssertionError as failed:
        return {"status": FAILED, "message": str(failed) or "assertion failed"}
    except BaseException as error:  # noqa: BLE001 - the learner's code may raise anything
        if isinstance(error, KeyboardInterrupt):
            raise
        if isinstance(error, SystemExit):
            return {"status": ERROR, "message": f"your code called sys.exit({error.code})"}
        return {"status": ERROR, "message": describe_exception(error, str(path))}
    return {"status": PASSED, "message": ""}


class Worker:
    """A worker process and a reader thread feeding its answers into a queue."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(8)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kafkalab.grading.worker", self.token],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        )
        self.answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(self.token):
                self.answers.put(json.loads(line[len(self.token):]))
        self.answers.put(None)  # the process ended

    def run(self, exercise: str, check: Check, path: Path) -> dict[str, Any]:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps({"exercise": exercise, "check": check.name, "file": str(path)}) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return {"status": ERROR, "message": "the grading process died before this check (your code may have ended it)"}
        try:
            answer = self.answers.get(timeout=check.timeout_s)
        except queue.Empty:
            self.stop()
            return {"status": TIMEOUT, "message": f"timed out after {check.timeout_s:g} s (an infinite loop?)"}
        if answer is None:
            return {"status": ERROR, "message": "the grading process died during this check (os._exit, a crash, or running out of memory?)"}
        return answer

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait()


def grade_exercise(folder: Path, exercise_id: str, in_process: bool = False) -> ExerciseReport:
    exercise = get_exercise(exercise_id)
    path = (folder / exercise.file_name).resolve()
    report = ExerciseReport(exercise.id, exercise.title, str(folder / exercise.file_name))
    checks = checks_for(exercise.id)
    if not path.exists():
        report.load_error = f"file not found: {folder / exercise.file_name} (regenerate it with `python -m kafkalab exercises generate`)"
        report.results = [CheckResult(exercise.id, c.name, c.description, c.points, ERROR, report.load_error) for c in checks]
        return report
    worker: Worker | None = None
    try:
        for chosen in checks:
            if in_process:
                answer: dict[str, Any] = run_one_check(exercise.id, chosen.name, path)
            else:
                if worker is None or not worker.alive:
                    worker = Worker()
                answer = worker.run(exercise.id, chosen, path)
            if answer.get("load_error"):
                report.load_error = answer["message"]
            report.results.append(
                CheckResult(exercise.id, chosen.name, chosen.description, chosen.points, answer["status"], answer.get("message", ""), answer.get("output", ""))
            )
    finally:
        if worker is not None:
            worker.stop()
    return report


def grade(folder: str | Path, exercises: list[str] | None = None, in_process: bool = False) -> Report:
    """Grade the exercise files in ``folder`` (all exercises, or the ids given)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no such folder: {folder}")
    ids = exercises or [exercise.id for exercise in EXERCISES]
    report = Report(str(folder))
    for exercise_id in ids:
        report.exercises.append(grade_exercise(folder, exercise_id, in_process=in_process))
    return report


__all__ = ["grade", "grade_exercise", "run_one_check", "PASSED", "FAILED"]
