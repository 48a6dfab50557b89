"""The student edition: no solutions or hidden checks, solution cells stripped, the same bytes every
time, and public tests that fail on stubs and pass on answers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kafkalab.release import MANIFEST, ReleaseError, release_student_edition, strip_notebook

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def edition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("first") / "student-edition"
    release_student_edition(out, archive=out.parent / "student-edition.zip")
    return out


def test_the_edition_leaves_out_solutions_hidden_checks_and_instructor_files(edition: Path) -> None:
    manifest = json.loads((edition / MANIFEST).read_text(encoding="utf-8"))
    paths = {entry["path"] for entry in manifest["files"]}
    assert {"run.py", "pyproject.toml", "README.md", "exercises/ex02_partitioner.py", "tests/test_my_exercises.py"} <= paths
    assert "notebooks/00-how-to-use-this-course.ipynb" in paths and "kafkalab/grading/exercise_checks/ex02_partitioner.py" in paths
    for left_out in ("solutions/", "instructor/", "tests/grading/", "docs/instructor.md", ".ci/"):
        assert not any(path.startswith(left_out) for path in paths), left_out
        assert not (edition / left_out.rstrip("/")).exists(), left_out
    on_disk = {p.relative_to(edition).as_posix() for p in edition.rglob("*") if p.is_file()}
    assert on_disk == paths | {MANIFEST}
    readme = (edition / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("> **Student edition.**") and "## For instructors" not in readme and "| `solutions/`" not in readme
    assert "## Exercises and grading" in readme
    hidden = {e["id"]: (e["hidden_checks"], e["hidden_points"]) for e in manifest["exercises"]}
    assert hidden["ex02_partitioner"] == (2, 4) and hidden["ex05_accumulator"] == (0, 0)
    assert "def murmur2" not in json.dumps(manifest)  # counts, never the hidden checks themselves


def test_releasing_again_gives_identical_files_and_archive(edition: Path, tmp_path: Path) -> None:
    again = tmp_path / "student-edition"
    release_student_edition(again, archive=tmp_path / "student-edition.zip")
    assert (tmp_path / "student-edition.zip").read_bytes() == (edition.parent / "student-edition.zip").read_bytes()
    first = {p.relative_to(edition): p.read_bytes() for p in edition.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first == second


def test_public_tests_fail_on_stubs_and_pass_on_answers(edition: Path) -> None:
    def public_tests() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_my_exercises.py", "-k", "ex02_partitioner"],
            cwd=edition, capture_output=True, text=True, timeout=300,
        )

    stubs = public_tests()
    assert stubs.returncode == 1 and "6 failed" in stubs.stdout and "not implemented yet" in stubs.stdout, stubs.stdout[-2000:]
    graded = subprocess.run([sys.executable, "-m", "kafkalab", "grade", "exercises", "--exercise", "ex02_partitioner"],
                            cwd=edition, capture_output=True, text=True, timeout=300)
    assert "your instructor's grading adds 2 hidden checks (4 points) not run here" in graded.stdout
    assert "public total: 0/10" in graded.stdout
    shutil.copy(ROOT / "solutions" / "ex02_partitioner.py", edition / "exercises" / "ex02_partitioner.py")
    try:
        answered = public_tests()
        assert answered.returncode == 0 and "6 passed" in answered.stdout, answered.stdout[-2000:]
    finally:
        shutil.copy(ROOT / "exercises" / "ex02_partitioner.py", edition / "exercises" / "ex02_partitioner.py")


def test_solution_cells_are_emptied_instructor_cells_removed_and_outputs_kept_or_cleared() -> None:
    def cell(kind: str, source: str, tags: list[str]) -> dict:
        made = {"cell_type": kind, "metadata": {"tags": tags}, "source": source}
        if kind == "code":
            made.update(outputs=[{"output_type": "stream", "name": "stdout", "text": "42\n"}], execution_count=3)
        return made

    notebook = {"cells": [cell("markdown", "Predict:", []), cell("code", "answer = 42", ["solution"]),
                          cell("markdown", "Tell the class about 0.11", ["instructor"]), cell("code", "print(1)", [])],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    kept = strip_notebook(notebook, "keep")
    assert [c["source"] for c in kept["cells"]] == ["Predict:", "# Your answer here\n", "print(1)"]
    assert kept["cells"][1]["outputs"] == [] and kept["cells"][1]["metadata"]["tags"] == ["answer"]
    assert kept["cells"][2]["outputs"] and kept["cells"][2]["execution_count"] == 3
    cleared = strip_notebook(notebook, "clear")
    assert cleared["cells"][2]["outputs"] == [] and cleared["cells"][2]["execution_count"] is None
    assert notebook["cells"][1]["source"] == "answer = 42"  # the course's own notebook is untouched


def test_a_folder_that_is_not_an_edition_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "my-thesis.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(ReleaseError, match="is not empty and is not a previous edition"):
        release_student_edition(tmp_path)
    assert (tmp_path / "my-thesis.tex").read_text(encoding="utf-8") == "precious"


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell assigns, names it reads), ignoring IPython magics."""
    import ast

    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    tree = ast.parse(code)
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    stored |= {a.asname or a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    stored |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return stored, loaded


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_no_later_cell_needs_what_a_solution_cell_defines(notebook: Path) -> None:
    """The student edition empties solution cells, so the cells after one must still run without it."""
    defined_only_in_solutions: set[str] = set()
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        stored, loaded = _names("".join(cell["source"]))
        if "solution" in cell.get("metadata", {}).get("tags", []):
            defined_only_in_solutions |= stored
            continue
        needed = loaded & defined_only_in_solutions
        assert not needed, f"{notebook.name}: a cell uses {sorted(needed)}, defined only in a solution cell"
        defined_only_in_solutions -= stored


def test_the_course_has_solution_and_instructor_cells_for_the_edition_to_strip(edition: Path) -> None:
    tags = [
        tag for notebook in sorted((ROOT / "notebooks").glob("*.ipynb"))
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"] for tag in cell.get("metadata", {}).get("tags", [])
    ]
    assert tags.count("solution") >= 1 and tags.count("instructor") >= 2
    for notebook in sorted((edition / "notebooks").glob("*.ipynb")):
        text = notebook.read_text(encoding="utf-8")
        assert '"instructor"' not in text and "Instructor note" not in text, notebook.name
        assert 'positive % 6 == QUESTIONS' not in text, notebook.name
