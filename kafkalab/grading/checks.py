"""Checks: plain functions with points that grade one exercise by plugging the learner's code in.

    @check("ex02_partitioner", points=2)
    def murmur2_matches_kafka(impl):
        ...  # raise AssertionError("a message for the learner") when it is wrong

``impl`` is the learner's module (or the reference solution). Checks run the learner's code inside
the real system where they can (a cluster whose brokers use the learner's log, a producer using the
learner's partitioner), not only as unit asserts. They are importable anywhere, the browser
included; the runner decides whether to put them behind a subprocess with a timeout.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

CheckFunction = Callable[[ModuleType], None]


@dataclass(frozen=True)
class Check:
    exercise: str
    name: str
    points: int
    timeout_s: float
    function: CheckFunction
    description: str


_REGISTRY: dict[str, list[Check]] = {}


def check(exercise: str, points: int, timeout_s: float = 10.0) -> Callable[[CheckFunction], CheckFunction]:
    """Register ``fn(impl)`` as a check of ``exercise`` worth ``points``."""

    def register(function: CheckFunction) -> CheckFunction:
        doc = (function.__doc__ or function.__name__).strip().splitlines()[0]
        _REGISTRY.setdefault(exercise, []).append(Check(exercise, function.__name__, points, timeout_s, function, doc))
        return function

    return register


def checks_for(exercise: str) -> list[Check]:
    """The checks of one exercise, in the order they are defined."""
    if exercise not in _REGISTRY:
        importlib.import_module(f"kafkalab.grading.exercise_checks.{exercise}")
    return list(_REGISTRY.get(exercise, []))


def find_check(exercise: str, name: str) -> Check:
    for candidate in checks_for(exercise):
        if candidate.name == name:
            return candidate
    raise KeyError(f"no check {name!r} for {exercise}")
