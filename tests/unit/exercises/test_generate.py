"""Stubs and solutions come from the package: no drift, clear errors, learners' edits kept."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from kafkalab.exercises.catalog import Exercise, get_exercise, UnknownExerciseError
from kafkalab.exercises.generate import ExerciseSourceError, check, extract, generate, learner_edited


def test_exercises_and_solutions_are_in_sync_with_the_package() -> None:
    assert check() == [], "run `python -m kafkalab exercises generate` and commit the result"


def fake_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Exercise:
    package = tmp_path / "fakepkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("fakepkg", None)
    sys.modules.pop("fakepkg.mod", None)
    return Exercise("ex99_fake", "Fake", "notebooks/99.ipynb", "fakepkg.mod", ("double",), "Write double.")


def test_extract_replaces_marked_bodies_and_imports_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exercise = fake_module(tmp_path, monkeypatch, '''
        import math

        FACTOR = 2


        def double(x: int) -> int:
            """Twice x."""
            # BEGIN EXERCISE ex99_fake
            return x * FACTOR
            # END EXERCISE
        ''')
    solution, stub = extract(exercise)
    assert "import math" in solution and "from fakepkg.mod import FACTOR" in solution
    assert "return x * FACTOR" in solution and "BEGIN EXERCISE" not in solution
    assert 'raise NotImplementedError("Exercise ex99_fake — see notebooks/99.ipynb")' in stub
    assert "return x * FACTOR" not in stub and '"""Twice x."""' in stub


@pytest.mark.parametrize(
    "body,message",
    [
        ("def double(x):\n    return x\n", "no '# BEGIN EXERCISE"),
        ("def double(x):\n    # BEGIN EXERCISE ex99_fake\n    return x\n", "without END"),
        ("def other(x):\n    return x\n", "not defined"),
        ("def double(x):\n    # BEGIN EXERCISE ex98\n    return x\n    # END EXERCISE\n", "marker for 'ex98'"),
    ],
)
def test_bad_markers_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str) -> None:
    exercise = fake_module(tmp_path, monkeypatch, body)
    with pytest.raises(ExerciseSourceError, match=message):
        extract(exercise)


def test_generate_keeps_a_learners_edits_unless_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exercise = fake_module(tmp_path, monkeypatch, "def double(x):\n    # BEGIN EXERCISE ex99_fake\n    return 2 * x\n    # END EXERCISE\n")
    monkeypatch.setattr("kafkalab.exercises.generate._relative_module_file", lambda e: "fakepkg/mod.py")
    root = tmp_path / "repo"
    generate(root, exercises=(exercise,))
    stub = root / "exercises" / "ex99_fake.py"
    assert not learner_edited(stub)
    assert generate(root, exercises=(exercise,)) == ["unchanged  solutions/ex99_fake.py", "unchanged  exercises/ex99_fake.py"]
    stub.write_text(stub.read_text().replace("raise NotImplementedError", "return x + x  #"))
    assert learner_edited(stub)
    (tmp_path / "fakepkg" / "mod.py").write_text("def double(x):\n    '''Twice.'''\n    # BEGIN EXERCISE ex99_fake\n    return 2 * x\n    # END EXERCISE\n")
    sys.modules.pop("fakepkg.mod", None)
    assert any(line.startswith("KEPT") for line in generate(root, exercises=(exercise,)))
    assert "return x + x" in stub.read_text()
    generate(root, force=True, exercises=(exercise,))
    assert "return x + x" not in stub.read_text()


def test_unknown_exercise_suggests_the_closest() -> None:
    with pytest.raises(UnknownExerciseError, match="did you mean ex01_partition_log"):
        get_exercise("ex01_partitionlog")


def test_show_source_folds_exercise_bodies(capsys) -> None:
    from kafkalab.exercises.show import show_source
    from kafkalab.partitioner import murmur2

    show_source(murmur2)
    shown = capsys.readouterr().out
    assert "def murmur2(data: bytes) -> int:" in shown
    assert "you write this part (exercises/ex02_partitioner.py)" in shown
    assert "0x" not in shown.split('"""')[-1] and "MASK_32" not in shown
