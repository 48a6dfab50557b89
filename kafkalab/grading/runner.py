"""Grade a folder of exercise files: each check run in a worker process with a timeout, or in-process.

A learner's code may loop forever, raise, call ``sys.exit``, print megabytes or fail to import; none
of that may crash the grader or cost another check its points. The default mode starts a worker
process (``python -m kafkalab.grading.worker``) and talks to it in JSON lines:

    parent → worker   {"op": "load", "file": ...}                  worker → parent  {"status": ...}
    parent → worker   {"op": "check", "exercise": ..., "check": ...}              {"status", "message", "output"}

Every answer line starts with a random token, so whatever the learner's code writes to the real
stdout cannot be mistaken for an answer. The parent waits for the worker's "ready" line (startup is
not charged to any check), gives the import of the learner's file ``LOAD_TIMEOUT_S``, and each check
its own ``timeout_s``; when one overruns, the worker is killed, that check scores 0 ("timed out"),
and a fresh worker (which loads the file again) takes the remaining checks.

Class grading adds ``Limits`` (CPU seconds per check, the worker's memory, a wall-clock override)
and a ``Sandbox`` (a scratch folder the learner's code may write in, folders it may not read); the
worker enforces both (worker.py, sandbox.py). ``hidden`` names a folder of the instructor's hidden
checks, run after the public ones (checks.py).

``in_process=True`` runs checks directly, for environments without processes (the browser edition):
the learner's file is loaded afresh on every ``grade`` call, so a notebook sees the learner's latest
edit, but an infinite loop cannot be stopped.

This module is the only place in kafkalab that starts processes or threads.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

from kafkalab.exercises.catalog import EXERCISES, get_exercise
from kafkalab.grading.checks import Check, checks_for, find_check, load_hidden_checks
from kafkalab.grading.feedback import describe_exception
from kafkalab.grading.loader import LoadError, load_learner_module
from kafkalab.grading.report import ERROR, FAILED, PASSED, TIMEOUT, CheckResult, ExerciseReport, Report
from kafkalab.sim.simulator import Simulator

STARTUP_TIMEOUT_S = 60.0
LOAD_TIMEOUT_S = 10.0
STDERR_TAIL_CHARS = 4000
PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])

Verdict = dict[str, Any]


@dataclass(frozen=True)
class Limits:
    """Per-check limits for class grading (``None``: the check's own timeout, no CPU or memory limit)."""

    cpu_s: float | None = None
    memory_mb: int | None = None
    wall_s: float | None = None

    def wall_for(self, chosen: Check) -> float:
        return self.wall_s if self.wall_s is not None else chosen.timeout_s


@dataclass(frozen=True)
class Sandbox:
    """Where the learner's code may write (``scratch``) and which folders it may not read."""

    scratch: Path
    protected: tuple[Path, ...] = field(default_factory=tuple)


@contextmanager
def _recording_seeds() -> Iterator[list[int]]:
    """The seeds of every simulator a check starts, so a failure can name them (same seed, same run)."""
    seeds: list[int] = []
    original = Simulator.__init__

    def recording(self: Simulator, seed: int = 0) -> None:
        seeds.append(seed)
        original(self, seed)

    Simulator.__init__ = recording  # type: ignore[method-assign]
    try:
        yield seeds
    finally:
        Simulator.__init__ = original  # type: ignore[method-assign]


def _with_seeds(message: str, seeds: list[int]) -> str:
    if not seeds or "seed" in message:
        return message
    shown = ", ".join(str(s) for s in list(dict.fromkeys(seeds))[:5])
    return f"{message}\n(simulation seed {shown}: the same seed replays the same run)"


def run_check(exercise: str, check_name: str, module: ModuleType, learner_file: str, hidden: str | Path | None = None) -> Verdict:
    """Run one check against a loaded learner module; a plain-data verdict (never raises)."""
    chosen = find_check(exercise, check_name, hidden)
    with _recording_seeds() as seeds:
        try:
            chosen.function(module)
        except AssertionError as failed:
            return {"status": FAILED, "message": _with_seeds(str(failed) or "assertion failed", seeds)}
        except KeyboardInterrupt:
            raise
        except SystemExit as exiting:
            return {"status": ERROR, "message": f"your code called sys.exit({exiting.code})"}
        except BaseException as error:  # noqa: BLE001 - the learner's code may raise anything
            message = describe_exception(error, learner_file)
            return {"status": ERROR, "message": message if message.startswith("not implemented") else _with_seeds(message, seeds)}
    return {"status": PASSED, "message": ""}


class Worker:
    """A worker process and a reader thread feeding its answers into a queue."""

    def __init__(self, scratch: Path | None = None) -> None:
        self.token = secrets.token_hex(8)
        python_path = os.pathsep.join(p for p in (PACKAGE_PARENT, os.environ.get("PYTHONPATH", "")) if p)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": python_path}
        if scratch is not None:  # the learner's temporary files stay in its scratch folder
            env.update(TMPDIR=str(scratch), HOME=str(scratch))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kafkalab.grading.worker", self.token],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            cwd=scratch,
        )
        self.answers: queue.Queue[Verdict | None] = queue.Queue()
        self.stderr_tail = ""
        threading.Thread(target=self._read, daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_reader.start()
        try:
            self.ready = self.answers.get(timeout=STARTUP_TIMEOUT_S) is not None
        except queue.Empty:
            self.ready = False
            self.stop()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            at = line.find(self.token)  # the learner may have written a partial line to fd 1 just before
            if at >= 0:
                self.answers.put(json.loads(line[at + len(self.token):]))
        self.answers.put(None)  # the process ended

    def _drain_stderr(self) -> None:
        """Keep the end of what reached the worker's real stderr (a crash's last words), never blocking it."""
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr_tail = (self.stderr_tail + line)[-STDERR_TAIL_CHARS:]

    def last_words(self) -> str:
        """The end of the worker's stderr, indented, for a message about its death ("" if none)."""
        self.stop()
        self._stderr_reader.join(timeout=2.0)  # the pipe ends with the process
        tail = self.stderr_tail.strip()
        return "\n" + "\n".join(f"    {line}" for line in tail.splitlines()[-8:]) if tail else ""

    def ask(self, request: dict[str, Any], timeout_s: float) -> Verdict | None:
        """Send one request; the answer, ``None`` if the worker died, or a TIMEOUT verdict (worker killed)."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        try:
            return self.answers.get(timeout=timeout_s)
        except queue.Empty:
            self.stop()
            return {"status": TIMEOUT, "message": f"timed out after {timeout_s:g} s (an infinite loop?)"}

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait()
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass


DIED = "the grading process died during this check (os._exit, a crash, or running out of memory?)"


def _death_message(worker: Worker, limits: Limits) -> str:
    try:  # its output closed first: give the kernel a moment to report how it ended (a loaded machine is slow)
        code = worker.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        code = worker.process.poll()
    if code == -getattr(signal, "SIGXCPU", -1000) and limits.cpu_s:
        return f"your code used more than {limits.cpu_s:g} s of CPU time in this check (an infinite loop?)"
    return DIED + worker.last_words()


def _load_failure(report: ExerciseReport, checks: list[Check], message: str, status: str = ERROR) -> ExerciseReport:
    """Score the checks not yet run 0, with why the file could not be loaded."""
    report.load_error = message
    done = {result.name for result in report.results}
    report.results += [
        CheckResult(report.exercise, c.name, c.description, c.points, status, message, hidden=c.hidden) for c in checks if c.name not in done
    ]
    return report


def _grade_in_worker(
    report: ExerciseReport, checks: list[Check], path: Path, hidden: Path | None, limits: Limits, box: Sandbox | None
) -> ExerciseReport:
    worker: Worker | None = None
    load_request: dict[str, Any] = {
        "op": "load", "file": str(path), "exercise": report.exercise,
        "hidden": str(hidden) if hidden else None, "memory_mb": limits.memory_mb,
    }
    if box is not None:
        load_request.update(scratch=str(box.scratch), protected=[str(p) for p in box.protected])
    try:
        for chosen in checks:
            if worker is None or not worker.alive:
                worker = Worker(box.scratch if box else None)
                if not worker.ready:
                    return _load_failure(report, checks, "the grading process could not start (is kafkalab installed?)" + worker.last_words())
                loaded = worker.ask(load_request, LOAD_TIMEOUT_S)
                if loaded is None:
                    return _load_failure(report, checks, f"the grading process died while importing {path.name} (os._exit?)" + worker.last_words())
                if loaded["status"] == TIMEOUT:
                    message = f"importing {path.name} timed out after {LOAD_TIMEOUT_S:g} s (an infinite loop at the top level?)"
                    return _load_failure(report, checks, message, TIMEOUT)
                if loaded["status"] != PASSED:
                    return _load_failure(report, checks, loaded["message"])
            request = {"op": "check", "exercise": report.exercise, "check": chosen.name, "cpu_s": limits.cpu_s}
            answer = worker.ask(request, limits.wall_for(chosen))
            if answer is None:
                answer = {"status": ERROR, "message": _death_message(worker, limits)}
            report.results.append(
                CheckResult(
                    report.exercise, chosen.name, chosen.description, chosen.points, answer["status"],
                    answer.get("message", ""), answer.get("output", ""), chosen.hidden,
                )
            )
    finally:
        if worker is not None:
            worker.stop()
    return report


def _grade_in_process(report: ExerciseReport, checks: list[Check], path: Path, hidden: Path | None) -> ExerciseReport:
    try:
        module = load_learner_module(path)  # afresh each time: the learner may have just edited the file
    except LoadError as error:
        return _load_failure(report, checks, str(error))
    for chosen in checks:
        answer = run_check(report.exercise, chosen.name, module, str(path), hidden)
        report.results.append(
            CheckResult(report.exercise, chosen.name, chosen.description, chosen.points, answer["status"], answer["message"], hidden=chosen.hidden)
        )
    return report


def grade_exercise(
    folder: Path, exercise_id: str, in_process: bool = False, hidden: str | Path | None = None,
    limits: Limits | None = None, sandbox: Sandbox | None = None,
) -> ExerciseReport:
    """Grade ``folder/<exercise file>`` against the exercise's checks (public, then hidden ones if given)."""
    exercise = get_exercise(exercise_id)
    path = (folder / exercise.file_name).resolve()
    report = ExerciseReport(exercise.id, exercise.title, str(folder / exercise.file_name))
    hidden_path = Path(hidden).resolve() if hidden is not None else None
    checks = checks_for(exercise.id, hidden_path)
    if not path.exists():
        return _load_failure(report, checks, f"file not found: {folder / exercise.file_name} (regenerate it with `python -m kafkalab exercises generate`)")
    if in_process:
        return _grade_in_process(report, checks, path, hidden_path)
    return _grade_in_worker(report, checks, path, hidden_path, limits or Limits(), sandbox)


def grade(
    folder: str | Path, exercises: list[str] | None = None, in_process: bool = False, hidden: str | Path | None = None,
    limits: Limits | None = None, sandbox: Sandbox | None = None, hidden_not_run: tuple[int, int] | None = None,
) -> Report:
    """Grade the exercise files in ``folder`` (all exercises, or the ids given).

    ``hidden``: a folder of the instructor's hidden checks to run too. ``hidden_not_run``: how many
    hidden checks (and points) exist but are not run here, for the report's scope line.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no such folder: {folder}")
    ids = list(dict.fromkeys(exercises)) if exercises else [exercise.id for exercise in EXERCISES]
    for exercise_id in ids:
        get_exercise(exercise_id)  # an unknown id fails before any grading starts
    if hidden is not None:
        load_hidden_checks(hidden)  # a broken hidden-checks folder fails before any grading starts
    started = time.monotonic()  # the grader's own duration, reported to Gradescope; never used by checks
    report = Report(str(folder), hidden_run=hidden is not None, hidden_not_run=None if hidden is not None else hidden_not_run)
    for exercise_id in ids:
        report.exercises.append(grade_exercise(folder, exercise_id, in_process=in_process, hidden=hidden, limits=limits, sandbox=sandbox))
    report.execution_time_s = time.monotonic() - started
    return report


__all__ = ["grade", "grade_exercise", "run_check", "Limits", "Sandbox", "PASSED", "FAILED", "ERROR", "TIMEOUT"]
