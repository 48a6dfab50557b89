"""Feedback that points: expected versus got, the input, the seed, and only the learner's own frames.

Checks walk their inputs from small to large and stop at the first failure, so the input a
message shows is the smallest one that fails. An untouched stub's NotImplementedError becomes
"not implemented yet: <function>" (the 0% case still says what to do next); any other exception
shows its type, message and the traceback lines from the learner's file only.
"""

from __future__ import annotations

import traceback
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
_NOTHING: Any = object()


class CheckFailed(AssertionError):
    """A check's verdict: the learner's code gave a wrong answer (the message says which)."""


def expect_equal(
    got: Any, expected: Any, what: str, input: Any = _NOTHING, seed: int | None = None, *, given: Any = _NOTHING
) -> None:
    """Fail with "what: expected X, got Y for input I (seed S)" unless ``got == expected``.

    ``input`` (or its older name ``given``) is the input that produced ``got``; ``None`` is shown too.
    """
    if got == expected:
        return
    shown = input if input is not _NOTHING else given
    parts = [f"{what}: expected {expected!r}, got {got!r}"]
    if shown is not _NOTHING:
        parts.append(f"for input {shown!r}")
    if seed is not None:
        parts.append(f"(seed {seed})")
    raise CheckFailed(" ".join(parts))


def expect_raises(action: Callable[[], Any], error: type[Exception], what: str) -> None:
    """Fail unless ``action()`` raises ``error`` (Kafka's error, named in the message).

    NotImplementedError passes through, so an untouched stub is reported as "not implemented".
    """
    name = getattr(error, "error_name", error.__name__)
    try:
        action()
    except error:
        return
    except NotImplementedError:
        raise
    except Exception as other:  # noqa: BLE001 - the learner's code may raise anything
        raise CheckFailed(f"{what}: expected {name} ({error.__name__}), got {type(other).__name__}: {other}") from None
    raise CheckFailed(f"{what}: expected {name} ({error.__name__}), but nothing was raised")


@contextmanager
def explained_by(story: Callable[[], str]) -> Iterator[None]:
    """Add ``story()`` to a check failure raised inside: the state of the system when it failed (the
    replicas, the events that led there), so a scenario's feedback is a picture, not just two values."""
    try:
        yield
    except CheckFailed as failed:
        raise CheckFailed(f"{failed}\n{story()}") from None


def first_failure(inputs: Iterable[T], test: Callable[[T], None]) -> None:
    """Run ``test`` on each input in order (smallest first); the first failure is the one reported."""
    for given in inputs:
        test(given)


def describe_exception(error: BaseException, learner_file: str | None) -> str:
    """The message for an exception the learner's code raised, with the traceback lines of their file only."""
    if isinstance(error, NotImplementedError):
        where = _innermost_learner_function(error, learner_file)
        return f"not implemented yet: {where or 'a function'} still raises NotImplementedError"
    if "NotImplementedError" in str(error):
        return f"not implemented yet: the system called your code and got NotImplementedError ({type(error).__name__}: {error})"
    lines = [f"your code raised {type(error).__name__}: {error}"]
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if learner_file is not None and frame.filename == learner_file
    ]
    for frame in frames[-5:]:
        lines.append(f"  line {frame.lineno}, in {frame.name}: {frame.line}")
    return "\n".join(lines)


def _innermost_learner_function(error: BaseException, learner_file: str | None) -> str | None:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if learner_file is not None and f.filename == learner_file]
    return frames[-1].name if frames else None
