"""Checks: plain functions with points that grade one exercise by plugging the learner's code in.

    @check("ex02_partitioner", points=2)
    def murmur2_matches_kafka(impl):
        ...  # raise AssertionError("a message for the learner") when it is wrong

``impl`` is the learner's module (or the reference solution). Checks run the learner's code inside
the real system where they can (a cluster whose brokers use the learner's log, a producer using the
learner's partitioner), not only as unit asserts. They are importable anywhere, the browser
included; the runner decides whether to put them behind a subprocess with a timeout.

Public checks live in ``kafkalab/grading/exercise_checks/<exercise>.py`` and ship with every edition.
An instructor's **hidden checks** are the same kind of functions, written the same way, in files of
a folder kept outside the student edition (``instructor/hidden_checks/`` in this repository).
``load_hidden_checks(folder)`` imports such a folder; everything it registers is marked hidden, so a
learner's feedback names the property a hidden check tests (its docstring's first line) but never
its inputs or code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
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
    hidden: bool = False


class HiddenChecksError(Exception):
    """A hidden-checks folder could not be loaded; the message names the file and the problem."""


_REGISTRY: dict[str, list[Check]] = {}
_HIDDEN: dict[Path, dict[str, list[Check]]] = {}
_loading_hidden_into: dict[str, list[Check]] | None = None
_hidden_module_prefix = "kafkalab_hidden_checks_"  # the names hidden-check files are imported under


def check(exercise: str, points: int, timeout_s: float = 10.0) -> Callable[[CheckFunction], CheckFunction]:
    """Register ``fn(impl)`` as a check of ``exercise`` worth ``points`` (hidden when loaded from a hidden folder)."""

    def register(function: CheckFunction) -> CheckFunction:
        doc = (function.__doc__ or function.__name__).strip().splitlines()[0]
        # Hidden only if defined in a hidden-checks file: one may import helpers from a public check module.
        hidden = _loading_hidden_into is not None and function.__module__.startswith(_hidden_module_prefix)
        registry = _loading_hidden_into if hidden and _loading_hidden_into is not None else _REGISTRY
        registry.setdefault(exercise, []).append(Check(exercise, function.__name__, points, timeout_s, function, doc, hidden))
        return function

    return register


def load_hidden_checks(folder: str | Path) -> dict[str, list[Check]]:
    """Import every ``*.py`` of ``folder`` (once per process); the hidden checks by exercise."""
    global _loading_hidden_into
    from kafkalab.exercises.catalog import EXERCISES_BY_ID

    where = Path(folder).resolve()
    if where in _HIDDEN:
        return _HIDDEN[where]
    if not where.is_dir():
        raise HiddenChecksError(f"no such hidden-checks folder: {folder}")
    found: dict[str, list[Check]] = {}
    _loading_hidden_into = found
    try:
        for number, path in enumerate(sorted(where.glob("*.py"))):
            if path.name.startswith("_"):
                continue
            name = f"{_hidden_module_prefix}{number}_{path.stem}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise HiddenChecksError(f"cannot load hidden checks from {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except Exception as error:  # noqa: BLE001 - the instructor's file: say which and why
                raise HiddenChecksError(f"hidden checks {path} failed to import: {type(error).__name__}: {error}") from error
    finally:
        _loading_hidden_into = None
    for exercise, checks in found.items():
        if exercise not in EXERCISES_BY_ID:
            raise HiddenChecksError(f"hidden checks in {where} are for an unknown exercise {exercise!r}")
        public_names = {c.name for c in checks_for(exercise)}
        for hidden in checks:
            if hidden.name in public_names:
                raise HiddenChecksError(f"hidden check {exercise}.{hidden.name} has the name of a public check; rename it")
    _HIDDEN[where] = found
    return found


def checks_for(exercise: str, hidden_folder: str | Path | None = None) -> list[Check]:
    """The public checks of one exercise in the order they are defined, then its hidden ones if a folder is given."""
    if exercise not in _REGISTRY:
        importlib.import_module(f"kafkalab.grading.exercise_checks.{exercise}")
    public = list(_REGISTRY.get(exercise, []))
    if hidden_folder is None:
        return public
    return public + list(load_hidden_checks(hidden_folder).get(exercise, []))


def find_check(exercise: str, name: str, hidden_folder: str | Path | None = None) -> Check:
    for candidate in checks_for(exercise, hidden_folder):
        if candidate.name == name:
            return candidate
    raise KeyError(f"no check {name!r} for {exercise}")
