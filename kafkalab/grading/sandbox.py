"""The grading worker's guard rails: what a learner's code may not do while it is being graded.

A class is graded on the instructor's machine, next to ``solutions/`` and the hidden checks, so the
worker process that runs a learner's file watches what that file's code does:

* **Files.** Reading the solutions, the hidden checks, the tests or other learners' submissions, and
  writing, deleting or renaming anything outside the submission's own scratch folder, is
  refused (``PermissionError``) and recorded. A Python audit hook (PEP 578) sees every ``open`` and
  file operation; it acts only when a frame of the learner's file is on the stack, so the grader's own
  imports and tracebacks are never affected.
* **Processes, sockets, C.** Starting a process, ``os.system``, ``fork``, a network connection, or
  loading a C library with ``ctypes`` from the learner's code is refused and recorded. (Python 3.11
  has no audit event for starting a thread; a thread's frames still count as the learner's.)
* **Copying the reference.** ``reference_use`` finds exercise functions or classes that are the
  package's own (imported, aliased, subclassed, or fetched from the reference module at run time)
  rather than written in the learner's file.

A recorded violation scores the check it happened in 0 with the reason, even if the learner's code
caught the ``PermissionError``. This contains accidents and casual cheating; it is not a security
boundary against deliberate attacks (``ctypes`` can do anything). For an untrusted class, run the
grader in a container as Gradescope does (docs/instructor.md).
"""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES = {"os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.chmod", "os.chown", "os.truncate", "os.mkdir", "os.link", "os.symlink", "os.utime"}
_TWO_PATHS = {"os.rename", "os.link", "os.symlink"}  # (source, destination, ...): both must stay inside
_PROCESSES = {"subprocess.Popen", "os.system", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.kill", "pty.spawn"}
_NETWORK = {"socket.connect", "socket.bind"}
_OTHER = {"ctypes.dlopen": "to load a C library", "ctypes.cdata": "to read raw memory"}


@dataclass
class Guard:
    """The audit hook's settings and what it has seen (one per worker process)."""

    learner_file: str = ""
    scratch: Path | None = None
    protected: list[Path] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def take_violations(self) -> list[str]:
        taken, self.violations = self.violations, []
        return taken


GUARD = Guard()
_installed = False


def install(scratch: Path, protected: list[Path]) -> Guard:
    """Start guarding (once per process): writes only under ``scratch``, no reads under ``protected``."""
    global _installed
    GUARD.scratch = scratch.resolve()
    GUARD.protected = [p.resolve() for p in protected]
    if not _installed:
        sys.addaudithook(_audit)
        _installed = True
    return GUARD


def _learner_running() -> bool:
    if not GUARD.learner_file:
        return False
    try:
        frame = sys._getframe(2)
    except ValueError:  # raised from C with no Python caller
        return False
    while frame is not None:
        if frame.f_code.co_filename == GUARD.learner_file:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _as_path(value: Any) -> Path | None:
    if isinstance(value, (str, bytes, os.PathLike)):
        try:
            return Path(os.fsdecode(value)).resolve()
        except (OSError, ValueError):
            return None
    return None  # a file descriptor


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _shown(path: Path) -> str:
    for root in GUARD.protected:
        if _inside(path, root):
            return f"{root.name}/{path.relative_to(root)}" if path != root else root.name
    return str(path)


def _refuse(reason: str) -> None:
    GUARD.violations.append(reason)
    raise PermissionError(f"kafkalab grading: {reason}")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open":
        path = _as_path(args[0])
        if path is None or _inside_scratch(path):  # the submission's own folder: anything goes
            return
        mode, flags = args[1], args[2]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS)
        reading_protected = any(_inside(path, root) for root in GUARD.protected)
        if not (writing and not _inside_scratch(path)) and not reading_protected:
            return
        if not _learner_running():
            return
        if writing:
            _refuse(f"your code tried to write {_shown(path)}; code being graded may only write in its own folder")
        _refuse(f"your code tried to read {_shown(path)}, which is not part of your submission")
    elif event in _CHANGES:
        paths = [_as_path(a) for a in args[: 2 if event in _TWO_PATHS else 1]]
        if all(path is not None and _inside_scratch(path) for path in paths):
            return
        if _learner_running():
            _refuse(f"your code tried {event}({args[0]!r}); code being graded may only change files in its own folder")
    elif event in _PROCESSES or event.startswith("os.exec") or event.startswith("os.spawn"):
        if _learner_running():
            _refuse(f"your code tried to start a process ({event}); graded code runs without processes")
    elif event in _NETWORK:
        if _learner_running():
            _refuse(f"your code tried to open a network connection ({event}); graded code runs without a network")
    elif event in _OTHER:
        if _learner_running():
            _refuse(f"your code tried {_OTHER[event]} ({event}); graded code may not")


def _inside_scratch(path: Path) -> bool:
    return GUARD.scratch is not None and _inside(path, GUARD.scratch)


# --- copying the reference -------------------------------------------------------------------------


def reference_use(module: ModuleType, learner_file: Path, reference_module: str, symbols: tuple[str, ...]) -> str | None:
    """Why the learner's module uses the reference for an exercise symbol, or ``None`` if it does not.

    Caught: a symbol that is the package's object (``from kafkalab.partitioner.murmur2 import murmur2``),
    a function whose code is not in the learner's file, a class with a base from the reference module,
    and, in the source, attribute access like ``murmur2_module.murmur2`` on a name bound to the
    reference module or ``import_module("kafkalab.partitioner.murmur2")``. Helpers that the stubs
    themselves import from the same module (constants, data classes) are allowed.
    """
    learner = str(learner_file)
    for symbol in symbols:
        value = getattr(module, symbol, None)
        if value is None:
            continue
        origin = getattr(value, "__module__", None)
        if origin == reference_module:
            return f"{symbol} is {reference_module}.{symbol} from the package, not your own code; write it in {learner_file.name}"
        code = getattr(value, "__code__", None)
        if code is not None and code.co_filename != learner:
            return f"{symbol} is not defined in {learner_file.name} (its code is in {code.co_filename})"
        if isinstance(value, type):
            for base in value.__mro__[1:]:
                if base.__module__ == reference_module and base.__name__ in symbols:
                    return f"{symbol} subclasses the package's {reference_module}.{base.__name__}; write the class itself"
    try:
        tree = ast.parse(learner_file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    return _source_uses_reference(tree, reference_module, symbols)


def _source_uses_reference(tree: ast.AST, reference_module: str, symbols: tuple[str, ...]) -> str | None:
    package, _, last = reference_module.rpartition(".")
    module_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == reference_module and alias.asname:
                    module_names.add(alias.asname)
        elif isinstance(node, ast.ImportFrom) and node.module == package:
            for alias in node.names:
                if alias.name == last:
                    module_names.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in symbols:
            base = node.value
            if isinstance(base, ast.Name) and base.id in module_names:
                return f"your code uses {base.id}.{node.attr}, the package's {reference_module}.{node.attr}; write it yourself"
            if ast.unparse(base) == reference_module:
                return f"your code uses {reference_module}.{node.attr} from the package; write it yourself"
        if isinstance(node, ast.Call) and any(isinstance(a, ast.Constant) and a.value == reference_module for a in node.args):
            return f"your code loads the module {reference_module} at run time; write the exercise yourself"
    return None
