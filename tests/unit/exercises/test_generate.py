"""Stubs and solutions come from the package: no drift, clear errors, learners' edits kept."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from pathlib import Path

import pytest

from kafkalab.exercises.catalog import EXERCISES, Exercise, UnknownExerciseError, get_exercise
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
    return Exercise("ex99_fake", "Fake", "notebooks/99.ipynb", "fakepkg.mod", ("double",), "Write double.", 1)


def test_generation_is_deterministic() -> None:
    from kafkalab.exercises.generate import render

    for exercise in EXERCISES:
        assert [f.content for f in render(exercise)] == [f.content for f in render(exercise)]


def test_catalog_points_match_the_checks_and_files_exist() -> None:
    from kafkalab.grading.checks import checks_for

    root = Path(__file__).resolve().parents[3]
    for exercise in EXERCISES:
        checks = checks_for(exercise.id)
        assert len(checks) >= 3, f"{exercise.id}: give partial credit with several checks"
        assert sum(c.points for c in checks) == exercise.points, f"{exercise.id}: catalog points differ from its checks'"
        assert (root / exercise.notebook).exists(), exercise.notebook
        assert (root / "exercises" / exercise.file_name).exists() and (root / "solutions" / exercise.file_name).exists()


def test_only_needed_imports_are_kept_and_relative_ones_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exercise = fake_module(tmp_path, monkeypatch, '''
        from __future__ import annotations

        import json
        import struct
        from collections import OrderedDict, deque

        from .helpers import BASE, unused_helper

        LIMIT = 3


        def traced(function):
            return function


        @traced
        def double(x: deque) -> int:
            """Twice x."""
            # BEGIN EXERCISE ex99_fake
            return struct.unpack(">i", struct.pack(">i", 2 * x))[0] + BASE + LIMIT
            # END EXERCISE
        ''')
    solution, stub = extract(exercise)
    preamble = solution.split("\n\n\n")[0]
    assert preamble == (
        "from __future__ import annotations\n\n"
        "import struct\n"
        "from collections import deque\n\n"
        "from fakepkg.helpers import BASE\n"
        "from fakepkg.mod import LIMIT, traced"
    ), preamble
    assert '@traced\ndef double(x: deque) -> int:\n    """Twice x."""' in solution and stub.startswith(preamble)


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
    assert "import math" not in solution and "from fakepkg.mod import FACTOR" in solution
    assert "return x * FACTOR" in solution and "BEGIN EXERCISE" not in solution
    assert 'raise NotImplementedError("Exercise ex99_fake — see notebooks/99.ipynb")' in stub
    assert "return x * FACTOR" not in stub and '"""Twice x."""' in stub


def test_every_listed_symbol_needs_a_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exercise = fake_module(tmp_path, monkeypatch, "def double(x):\n    # BEGIN EXERCISE ex99_fake\n    return 2 * x\n    # END EXERCISE\n\n\ndef half(x):\n    return x / 2\n")
    with pytest.raises(ExerciseSourceError, match="no '# BEGIN EXERCISE ex99_fake' marker in half"):
        extract(dataclasses.replace(exercise, symbols=("double", "half")))


@pytest.mark.parametrize(
    "body,message",
    [
        ("def double(x):\n    return x\n", "no '# BEGIN EXERCISE"),
        ("def double(x):\n    # BEGIN EXERCISE ex99_fake\n    return x\n", "without END"),
        ("def other(x):\n    return x\n", "not defined"),
        ("def double(x):\n    # BEGIN EXERCISE ex98\n    return x\n    # END EXERCISE\n", "marker for 'ex98' found at mod.py:2"),
        ("def double(x):\n    return x\n    # END EXERCISE\n", "END EXERCISE without BEGIN at mod.py:3"),
        (
            "def double(x):\n    # BEGIN EXERCISE ex99_fake\n    return x\n    # END EXERCISE\n\n\n"
            "def triple(x):\n    # BEGIN EXERCISE ex99_fake\n    return 3 * x\n    # END EXERCISE\n",
            r"marker at mod.py:8 is outside the catalog's symbols \(double\)",
        ),
        ("def double(x):\n# BEGIN EXERCISE ex99_fake\n    return x\n# END EXERCISE\n", "generated stub is not valid Python"),
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


def test_cli_lists_and_checks_exercises(capsys) -> None:
    from kafkalab.cli import main

    assert main(["exercises", "list"]) == 0
    listed = capsys.readouterr().out
    assert all(exercise.id in listed and f"exercises/{exercise.file_name}" in listed for exercise in EXERCISES)
    assert main(["exercises", "check"]) == 0
    assert "in sync" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        main(["exercises", "regenerate"])
    assert usage.value.code == 2


def test_cli_names_a_bad_marker_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from kafkalab.cli import main

    exercise = fake_module(tmp_path, monkeypatch, "def double(x):\n    return x\n")
    monkeypatch.setattr("kafkalab.exercises.generate.check", lambda: check(tmp_path, (exercise,)))
    assert main(["exercises", "check"]) == 1
    assert "ex99_fake: no '# BEGIN EXERCISE ex99_fake' marker in double" in capsys.readouterr().err
