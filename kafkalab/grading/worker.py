"""The grading worker: loads a learner's file and runs checks for the parent, JSON lines both ways.

    python -m kafkalab.grading.worker <token>

It answers ``<token>{"ready": true}`` once imported, then one ``<token>{...}`` line per request
(``load`` the learner's file, or run one ``check``; see runner.py). The parent enforces wall-clock
timeouts by killing this process. While the learner's code runs, ``sys.stdout``/``sys.stderr`` go to a
capped buffer (the first ``MAX_OUTPUT_CHARS`` are reported, the rest only counted, so a print loop
cannot exhaust memory), ``sys.stdin`` is empty (the protocol is not the learner's to read), file
descriptor 1 is the worker's stderr (whose tail the parent keeps), and ``sys.exit`` is reported as
an error rather than obeyed.

When the parent asks (class grading), the worker also limits itself: its address space to
``memory_mb`` (``RLIMIT_AS``), each check's CPU time (``RLIMIT_CPU``, so a runaway check dies of
SIGXCPU), and what the learner's code may touch (``sandbox.py``).
"""

from __future__ import annotations

import importlib
import io
import json
import math
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from kafkalab.exercises.catalog import get_exercise
from kafkalab.grading import sandbox
from kafkalab.grading.checks import checks_for
from kafkalab.grading.loader import LoadError, load_learner_module
from kafkalab.grading.report import ERROR, PASSED
from kafkalab.grading.runner import run_check

try:
    import resource
except ImportError:  # not on Windows: no limits there, only the parent's wall-clock timeouts
    resource = None  # type: ignore[assignment]

MAX_OUTPUT_CHARS = 2000  # shown to the learner
MAX_PRINTED_CHARS = 1_000_000  # beyond this, the check scores 0


class CappedOutput(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters written to it and counts the rest."""

    def __init__(self, limit: int = MAX_OUTPUT_CHARS) -> None:
        self.limit = limit
        self.kept: list[str] = []
        self.kept_chars = 0
        self.dropped_chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = self.limit - self.kept_chars
        if room > 0:
            self.kept.append(text[:room])
            self.kept_chars += min(room, len(text))
        self.dropped_chars += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        kept = "".join(self.kept)
        return kept + (f"\n… ({self.dropped_chars} more characters cut)" if self.dropped_chars else "")


def _isolated(action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``action`` with the learner's view of stdin/stdout/stderr; add what it printed.

    Printing more than ``MAX_PRINTED_CHARS`` scores the check 0: a flood of output hides everything
    else in a grading log (and in Gradescope's page), so the learner is told to remove it.
    """
    captured = CappedOutput()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(""), captured, captured
    try:
        result = action()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    printed = captured.kept_chars + captured.dropped_chars
    if printed > MAX_PRINTED_CHARS:
        result = {**result, "status": ERROR, "message": f"your code printed {printed:,} characters; the limit is {MAX_PRINTED_CHARS:,} (remove debugging prints)"}
    return {**result, "output": captured.text()}


def limit_memory(memory_mb: int | None) -> None:
    if memory_mb and resource is not None:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a process killed by a limit leaves no core file behind


def limit_cpu_for_next_check(cpu_s: float | None) -> None:
    """Allow ``cpu_s`` more seconds of CPU from now (the kernel sends SIGXCPU past it)."""
    if cpu_s and resource is not None:
        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = math.ceil(used.ru_utime + used.ru_stime + cpu_s)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _with_guard(verdict: dict[str, Any], memory_mb: int | None) -> dict[str, Any]:
    """A check that broke a sandbox rule scores 0 whatever it returned; MemoryError names the limit."""
    refused = sandbox.GUARD.take_violations()
    if refused:
        return {**verdict, "status": ERROR, "message": "\n".join("refused: " + reason for reason in dict.fromkeys(refused))}
    if memory_mb and verdict.get("message", "").startswith("your code raised MemoryError"):
        return {**verdict, "message": f"your code ran out of memory (the limit is {memory_mb} MiB)\n" + verdict["message"]}
    return verdict


def main() -> None:
    token = sys.argv[1]
    # Answers go to a private copy of fd 1; fd 1 itself becomes stderr, so os.write(1, ...) from the
    # learner's code can neither corrupt the protocol nor make the parent hold megabytes of one line.
    protocol_in = sys.stdin
    protocol_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    module: ModuleType | None = None
    learner_file = ""
    memory_mb: int | None = None
    hidden: str | None = None

    def answer(result: dict[str, Any]) -> None:
        protocol_out.write(token + json.dumps(result) + "\n")
        protocol_out.flush()

    def load(request: dict[str, Any]) -> dict[str, Any]:
        nonlocal module
        exercise = get_exercise(request["exercise"])
        checks_for(exercise.id, hidden)  # the checks are imported before any learner code runs
        if request.get("scratch"):
            reference_file = Path(importlib.import_module(exercise.module).__file__ or "")  # its source is the answer
            sandbox.install(Path(request["scratch"]), [Path(p) for p in request.get("protected", [])] + [reference_file])
            sandbox.GUARD.learner_file = learner_file
        try:
            module = load_learner_module(Path(learner_file))
        except LoadError as error:
            return {"status": ERROR, "message": str(error)}
        if request.get("scratch"):
            copied = sandbox.reference_use(module, Path(learner_file), exercise.module, exercise.symbols)
            if copied:
                sandbox.GUARD.violations.append(copied)
        return {"status": PASSED}

    answer({"ready": True})
    for line in protocol_in:
        request = json.loads(line)
        if request["op"] == "load":
            learner_file = request["file"]
            memory_mb = request.get("memory_mb")
            hidden = request.get("hidden")
            limit_memory(memory_mb)
            answer(_with_guard(_isolated(lambda: load(request)), memory_mb))
        elif module is None:
            answer({"status": ERROR, "message": "internal: check before load"})
        else:
            loaded = module
            limit_cpu_for_next_check(request.get("cpu_s"))
            verdict = _isolated(lambda: run_check(request["exercise"], request["check"], loaded, learner_file, hidden))
            answer(_with_guard(verdict, memory_mb))


if __name__ == "__main__":
    main()
