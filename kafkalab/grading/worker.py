"""The grading worker: loads a learner's file and runs checks for the parent, JSON lines both ways.

    python -m kafkalab.grading.worker <token>

It answers ``<token>{"ready": true}`` once imported, then one ``<token>{...}`` line per request
(``load`` the learner's file, or run one ``check``; see runner.py). The parent enforces timeouts by
killing this process. While the learner's code runs, ``sys.stdout``/``sys.stderr`` go to a capped
buffer (the first ``MAX_OUTPUT_CHARS`` are reported, the rest only counted, so a print loop cannot
exhaust memory), ``sys.stdin`` is empty (the protocol is not the learner's to read), and
``sys.exit`` is reported as an error rather than obeyed.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from kafkalab.grading.loader import LoadError, load_learner_module
from kafkalab.grading.report import ERROR, PASSED
from kafkalab.grading.runner import run_check

MAX_OUTPUT_CHARS = 2000


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
    """Run ``action`` with the learner's view of stdin/stdout/stderr; add what it printed."""
    captured = CappedOutput()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(""), captured, captured
    try:
        result = action()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return {**result, "output": captured.text()}


def main() -> None:
    token = sys.argv[1]
    protocol_in, protocol_out = sys.stdin, sys.stdout
    module: ModuleType | None = None
    learner_file = ""

    def answer(result: dict[str, Any]) -> None:
        protocol_out.write(token + json.dumps(result) + "\n")
        protocol_out.flush()

    def load() -> dict[str, Any]:
        nonlocal module
        try:
            module = load_learner_module(Path(learner_file))
        except LoadError as error:
            return {"status": ERROR, "message": str(error)}
        return {"status": PASSED}

    answer({"ready": True})
    for line in protocol_in:
        request = json.loads(line)
        if request["op"] == "load":
            learner_file = request["file"]
            answer(_isolated(load))
        elif module is None:
            answer({"status": ERROR, "message": "internal: check before load"})
        else:
            loaded = module
            answer(_isolated(lambda: run_check(request["exercise"], request["check"], loaded, learner_file)))


if __name__ == "__main__":
    main()
