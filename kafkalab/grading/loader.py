"""Load a learner's exercise file by path, as a fresh module with a unique name."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

_counter = itertools.count()


class LoadError(Exception):
    """The learner's file could not be loaded; the message says why, for the learner."""


def load_learner_module(path: Path) -> ModuleType:
    if not path.exists():
        raise LoadError(f"file not found: {path} (regenerate it with `python -m kafkalab exercises generate`)")
    name = f"kafkalab_learner_{path.stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LoadError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise LoadError(f"syntax error in {path.name}, line {error.lineno}: {error.msg}\n  {(error.text or '').rstrip()}") from None
    except SystemExit as error:
        raise LoadError(f"{path.name} called sys.exit({error.code}) while being imported") from None
    except BaseException as error:  # noqa: BLE001 - anything the learner's import does is reported
        raise LoadError(f"{path.name} failed to import: {type(error).__name__}: {error}") from None
    return module
