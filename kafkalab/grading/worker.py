"""The grading worker: runs checks for the parent process, one JSON line in, one JSON line out.

The parent (runner.py) enforces timeouts by killing this process. Whatever the learner's code
prints is captured (and capped) instead of being mixed with the protocol, and ``sys.exit`` in
learner code is reported as an error, not obeyed.

    python -m kafkalab.grading.worker <token>
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from kafkalab.grading.runner import run_one_check

MAX_OUTPUT_CHARS = 2000


def main() -> None:
    token = sys.argv[1]
    protocol = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        captured = io.StringIO()
        sys.stdout = sys.stderr = captured
        try:
            result = run_one_check(request["exercise"], request["check"], Path(request["file"]))
        finally:
            sys.stdout, sys.stderr = protocol, sys.__stderr__
        output = captured.getvalue()
        if len(output) > MAX_OUTPUT_CHARS:
            output = output[:MAX_OUTPUT_CHARS] + f"\n… ({len(output) - MAX_OUTPUT_CHARS} more characters cut)"
        protocol.write(token + json.dumps({**result, "output": output}) + "\n")
        protocol.flush()


if __name__ == "__main__":
    main()
