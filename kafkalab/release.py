"""The student edition: the course as a learner receives it from an instructor.

    kafkalab release --out student-edition/ [--outputs keep|clear] [--archive student-edition.zip]

What it holds: the package, the notebooks, the exercise stubs, ``run.py``/``pyproject.toml``/
``README.md`` and a ``tests/`` folder of **public tests** (each public check of each exercise, as a
pytest case over ``exercises/``). What it leaves out: ``solutions/``, ``instructor/`` (the hidden
checks), the repository's own ``tests/`` (they read the solutions), ``.ci/``, ``docs/instructor.md``
and the class-grading benchmark.

Notebook cells can carry two tags for this: ``solution`` (the cell is replaced by an empty cell of the
same kind saying "your answer here") and ``instructor`` (the cell is removed: notes for the teacher).
``--outputs clear`` also empties every code cell's stored output.

``kafkalab-edition.json`` at the edition's root lists every file with its SHA-256, what was left out,
and how many hidden checks (and points) each exercise has, so the learner's ``kafkalab grade`` can say
that its public score is not the whole grade. Nothing depends on time or on the machine: releasing an
unchanged course again gives identical files, and the zip archive is byte-for-byte identical too.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = "kafkalab-edition.json"
LEFT_OUT = ("solutions/", "instructor/", "tests/", ".ci/", ".github/", "docs/instructor.md", "benchmarks/bench_class_grading.py")
KEPT_FROM_TESTS = ("tests/notebooks/sanitize.cfg", "tests/notebooks/ipython/")  # run.py's nbval settings
NEVER = ("__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".venv", ".git", ".egg-info")
SOLUTION_TAG, INSTRUCTOR_TAG = "solution", "instructor"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

PUBLIC_TESTS = '''"""Your exercises, checked by the public checks: the same ones `kafkalab grade exercises` runs.

Each public check of each exercise is one test here, so `python3 run.py test` shows what is left to
do. Your instructor's grade may also include hidden checks (see kafkalab-edition.json).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkalab.exercises.catalog import EXERCISES
from kafkalab.grading import grade
from kafkalab.grading.checks import checks_for
from kafkalab.grading.report import ExerciseReport

EXERCISES_FOLDER = Path(__file__).resolve().parents[1] / "exercises"
CASES = [(exercise.id, check.name) for exercise in EXERCISES for check in checks_for(exercise.id)]
_graded: dict[str, ExerciseReport] = {}


@pytest.mark.parametrize("exercise,check", CASES, ids=[f"{e}:{c}" for e, c in CASES])
def test_public_check(exercise: str, check: str) -> None:
    if exercise not in _graded:  # one grading run per exercise, shared by its checks
        _graded[exercise] = grade(EXERCISES_FOLDER, [exercise]).exercises[0]
    result = next(r for r in _graded[exercise].results if r.name == check)
    if result.status != "passed":
        pytest.fail(f"{result.description}\\n{result.message}", pytrace=False)
'''

EDITION_NOTE = """> **Student edition.** This copy of the course has the exercise stubs and their public checks
> (`tests/`, and `kafkalab grade exercises`), but no `solutions/` and no instructor files.
> `python3 run.py test` runs the public checks of every exercise — they fail until you solve them —
> and the notebooks.

"""


class ReleaseError(Exception):
    """The edition cannot be written; the message says why."""


def _tracked_files(root: Path) -> list[str]:
    """The course's files: what git tracks, or (outside a git clone) every file but build debris."""
    if (root / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root, capture_output=True, check=False)
        if listed.returncode == 0:
            return sorted(name for name in listed.stdout.decode().split("\0") if name and (root / name).is_file())
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not any(part in NEVER or part.endswith(".egg-info") for part in path.relative_to(root).parts):
            found.append(relative)
    return sorted(found)


def _included(name: str) -> bool:
    if any(name.startswith(kept) for kept in KEPT_FROM_TESTS):
        return True
    return not any(name == left or name.startswith(left) for left in LEFT_OUT)


def strip_notebook(notebook: dict[str, Any], outputs: str) -> dict[str, Any]:
    """The student's copy of a notebook: solution cells emptied, instructor cells removed, outputs as chosen."""
    cells = []
    for cell in notebook["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if INSTRUCTOR_TAG in tags:
            continue
        if SOLUTION_TAG in tags:
            kept_tags = [t for t in tags if t != SOLUTION_TAG] + ["answer"]
            cell = {**cell, "metadata": {**cell.get("metadata", {}), "tags": kept_tags}}
            if cell["cell_type"] == "code":
                cell.update(source="# Your answer here\n", outputs=[], execution_count=None)
            else:
                cell["source"] = "*Your answer here.*"
        elif cell["cell_type"] == "code" and outputs == "clear":
            cell = {**cell, "outputs": [], "execution_count": None}
        cells.append(cell)
    return {**notebook, "cells": cells}


def student_readme(text: str) -> str:
    """The README with the edition note on top, without the instructors' section and the rows for folders left out."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            skipping = line.strip() == "## For instructors"
        if skipping or line.startswith(("| `solutions/`", "| `instructor/`")):
            continue
        kept.append(line)
    return EDITION_NOTE + "".join(kept)


def _notebook_text(notebook: dict[str, Any]) -> str:
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"  # nbformat's own layout


def hidden_summary(hidden: Path | None) -> dict[str, dict[str, int]]:
    """Per exercise: how many hidden checks and points the instructor's folder holds (no names, no code)."""
    if hidden is None or not hidden.is_dir():
        return {}
    from kafkalab.grading.checks import load_hidden_checks

    return {exercise: {"checks": len(checks), "points": sum(c.points for c in checks)} for exercise, checks in sorted(load_hidden_checks(hidden).items())}


def release_student_edition(out: Path, outputs: str = "keep", archive: Path | None = None, hidden: Path | None = None, root: Path = ROOT) -> dict[str, Any]:
    """Write the student edition into ``out`` (new, empty, or a previous edition); the manifest."""
    from kafkalab.exercises.catalog import EXERCISES
    from kafkalab.exercises.generate import check as exercises_out_of_date
    from kafkalab.grading.checks import checks_for

    if outputs not in ("keep", "clear"):
        raise ReleaseError(f"--outputs must be keep or clear, not {outputs!r}")
    out = out.resolve()
    if out == root or root in out.parents and not out.is_relative_to(root / "build"):
        raise ReleaseError(f"--out {out} is inside the course; choose a folder outside it (or under build/)")
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise ReleaseError(f"--out {out} exists, is not empty and is not a previous edition; choose a new folder")
    drifted = exercises_out_of_date()
    if drifted:
        raise ReleaseError("exercises/ are out of date with the package (run `kafkalab exercises generate`): " + ", ".join(drifted))
    hidden = hidden if hidden is not None else root / "instructor" / "hidden_checks"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    contents: dict[str, bytes] = {}
    for name in _tracked_files(root):
        if not _included(name):
            continue
        data = (root / name).read_bytes()
        if name.endswith(".ipynb"):
            data = _notebook_text(strip_notebook(json.loads(data), outputs)).encode("utf-8")
        elif name == "README.md":
            data = student_readme(data.decode("utf-8")).encode("utf-8")
        contents[name] = data
    contents["tests/test_my_exercises.py"] = PUBLIC_TESTS.encode("utf-8")

    hidden_counts = hidden_summary(hidden)
    manifest: dict[str, Any] = {
        "edition": "student",
        "notebook_outputs": outputs,
        "left_out": list(LEFT_OUT),
        "exercises": [
            {
                "id": exercise.id,
                "public_checks": len(checks_for(exercise.id)),
                "public_points": exercise.points,
                "hidden_checks": hidden_counts.get(exercise.id, {}).get("checks", 0),
                "hidden_points": hidden_counts.get(exercise.id, {}).get("points", 0),
            }
            for exercise in EXERCISES
        ],
        "files": [{"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for name, data in sorted(contents.items())],
    }
    contents[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    for name, data in sorted(contents.items()):
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if name in ("run.py", ".ci/run"):
            target.chmod(0o755)
    if archive is not None:
        write_archive(archive, contents, top=out.name)
    return manifest


def write_archive(archive: Path, contents: dict[str, bytes], top: str, executables: tuple[str, ...] = ("run.py",)) -> None:
    """A zip whose bytes depend only on the contents: sorted entries, fixed times and permissions.

    Entries go under the folder ``top`` (at the zip's root when ``top`` is empty)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, data in sorted(contents.items()):
            info = zipfile.ZipInfo(f"{top}/{name}" if top else name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name in executables else 0o644) << 16
            zipped.writestr(info, data)


def read_edition_manifest(start: Path) -> dict[str, Any] | None:
    """The edition manifest of the course holding ``start`` (a folder), if this is a released edition."""
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / MANIFEST
        if candidate.is_file():
            try:
                return json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
    return None


def hidden_checks_not_run(folder: Path, exercise_ids: list[str] | None = None) -> tuple[int, int] | None:
    """(checks, points) of hidden checks a released edition says exist for these exercises (all if ``None``)."""
    manifest = read_edition_manifest(folder)
    if not manifest:
        return None
    entries = [e for e in manifest.get("exercises", []) if exercise_ids is None or e.get("id") in exercise_ids]
    checks = sum(e.get("hidden_checks", 0) for e in entries)
    points = sum(e.get("hidden_points", 0) for e in entries)
    return (checks, points) if checks else None
