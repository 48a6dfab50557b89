"""Show package code in a notebook without giving an exercise away.

``show_source(obj)`` prints the source of a function, method or class, with every
``# BEGIN EXERCISE`` … ``# END EXERCISE`` region replaced by a line saying which exercise it is.
Chapters show the shape of the code they narrate; the learner writes the marked part.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from kafkalab.exercises.generate import BEGIN, END


def exercise_view(source: str) -> str:
    """``source`` with its exercise regions folded into one line each."""
    lines: list[str] = []
    inside = False
    for line in source.splitlines():
        begin = BEGIN.match(line)
        if begin:
            inside = True
            lines.append(f"{begin['indent']}...  # exercise {begin['id']}: you write this part (exercises/{begin['id']}.py)")
            continue
        if END.match(line):
            inside = False
            continue
        if not inside:
            lines.append(line)
    return "\n".join(lines)


def show_source(obj: Any) -> None:
    """Print ``obj``'s source, exercise bodies folded."""
    print(exercise_view(textwrap.dedent(inspect.getsource(obj))))
