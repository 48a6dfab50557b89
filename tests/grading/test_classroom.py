"""Class grading: the worked example class (tests/grading/example_class) gets its expected gradebook,
hostile code is contained with reasons, learners never see hidden checks' details, and archives
that escape their folder or explode are refused."""

from __future__ import annotations

import csv
import importlib.util
import json
import zipfile
from pathlib import Path

import pytest

from kafkalab.grading.classroom import SubmissionError, find_submissions, grade_class, unpack
from kafkalab.grading.runner import Limits

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = ROOT / "instructor" / "hidden_checks"


def _example_class():
    spec = importlib.util.spec_from_file_location("example_class_build", ROOT / "tests" / "grading" / "example_class" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    example = _example_class()
    submissions = example.build(tmp_path_factory.mktemp("class") / "submissions")
    out = tmp_path_factory.mktemp("graded")
    # A generous wall limit, so the CPU limit is what stops the infinite loop even on a loaded machine.
    grade_class(submissions, out, hidden=HIDDEN, limits=Limits(cpu_s=5, memory_mb=2048, wall_s=60), jobs=2)
    return out


def test_the_example_class_gets_its_expected_gradebook(graded: Path) -> None:
    expected = _example_class().EXPECTED_GRADEBOOK.read_text(encoding="utf-8")
    assert (graded / "gradebook.csv").read_text(encoding="utf-8") == expected
    rows = {row["learner"]: row for row in csv.DictReader(expected.splitlines())}
    assert rows["alice"]["percent"] == "100.0" and rows["frank"]["total"] == "0"
    assert int(rows["bob"]["ex02_partitioner"]) < int(rows["alice"]["ex02_partitioner"])  # a bug only hidden checks catch


def test_hostile_code_is_contained_and_scored_zero_with_reasons(graded: Path) -> None:
    report = (graded / "instructor" / "dave.txt").read_text(encoding="utf-8")
    for reason in (
        "refused: your code tried to read solutions/ex02_partitioner.py",
        "refused: your code tried to read instructor/hidden_checks/ex02_partitioner.py",
        "refused: your code tried to write tests/edited-by-a-learner.txt",
        "refused: your code tried to start a process (os.system)",
        "your code ran out of memory (the limit is 2048 MiB)",
        "your code used more than 5 s of CPU time",
        "your code printed 2,520,006 characters; the limit is 1,000,000",
    ):
        assert reason in report, reason
    assert not (ROOT / "tests" / "edited-by-a-learner.txt").exists()
    assert "✓ 1/1  to_positive" in report  # the honest part of a hostile file still earns its points


def test_learners_see_what_a_hidden_check_tests_but_not_its_details(graded: Path) -> None:
    learner = (graded / "feedback" / "bob.txt").read_text(encoding="utf-8")
    instructor = (graded / "instructor" / "bob.txt").read_text(encoding="utf-8")
    assert "✗ 0/2 (hidden)  murmur2 agrees with Kafka on long random keys" in learner
    assert "wrong answer (a hidden check: its inputs and details are in your instructor's report)" in learner
    assert "murmur2: expected" in instructor and "murmur2: expected" not in learner
    results = json.loads((graded / "gradescope" / "bob" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == sum(t["score"] for t in results["tests"])
    assert "murmur2: expected" not in json.dumps(results)
    assert results["output"].startswith("total: ") and "hidden checks" in results["output"]


def test_outputs_name_no_temporary_paths(graded: Path) -> None:
    for path in graded.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "kafkalab-class-" not in text and "/tmp/" not in text, path


def test_an_archive_escaping_its_folder_or_too_large_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    escaping = tmp_path / "mallory.zip"
    with zipfile.ZipFile(escaping, "w") as archive:
        archive.writestr("../evil.py", "x = 1\n")
    with pytest.raises(SubmissionError, match="unsafe path '../evil.py'"):
        unpack(escaping, tmp_path / "out")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ex02_partitioner.py", b"#" * 2_000_000)
    monkeypatch.setattr("kafkalab.grading.classroom.MAX_ARCHIVE_BYTES", 1_000_000)
    with pytest.raises(SubmissionError, match="too large unpacked"):
        unpack(bomb, tmp_path / "bomb-out")
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "bomb-out" / "ex02_partitioner.py").exists()


def test_two_submissions_for_one_learner_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "zoe").mkdir()
    (tmp_path / "zoe.zip").write_bytes(b"")
    with pytest.raises(SubmissionError, match="two submissions for 'zoe'"):
        find_submissions(tmp_path)


def test_the_gradescope_autograder_grades_one_upload_into_results_json(tmp_path: Path) -> None:
    from kafkalab.grading.gradescope import build_autograder, run

    zipped = tmp_path / "autograder.zip"
    names = build_autograder(zipped, HIDDEN, ["ex02_partitioner", "ex13_epoch_truncation"])
    assert {"setup.sh", "run_autograder", "pyproject.toml", "kafkalab/grading/gradescope.py", "hidden_checks/ex02_partitioner.py"} <= set(names)
    assert not any(name.startswith(("solutions/", "exercises/", "tests/")) for name in names)
    build_autograder(tmp_path / "again.zip", HIDDEN, ["ex02_partitioner", "ex13_epoch_truncation"])
    assert zipped.read_bytes() == (tmp_path / "again.zip").read_bytes()
    with zipfile.ZipFile(zipped) as archive:
        assert "--exercise ex02_partitioner ex13_epoch_truncation" in archive.read("run_autograder").decode()
        archive.extractall(tmp_path / "autograder" / "source")
    upload = tmp_path / "autograder" / "submission" / "my-work"
    upload.mkdir(parents=True)
    (upload / "ex02_partitioner.py").write_text(_example_class().learners()["bob"]["ex02_partitioner.py"], encoding="utf-8")
    results = run(tmp_path / "autograder", ["ex02_partitioner", "ex13_epoch_truncation"])
    written = json.loads((tmp_path / "autograder" / "results" / "results.json").read_text(encoding="utf-8"))
    assert written == results
    by_name = {t["name"]: t for t in results["tests"]}
    assert by_name["ex02_partitioner: murmur2 agrees with Kafka on long random keys (up to 4 KiB) (hidden)"]["score"] == 0
    assert results["score"] == 12 and results["extra_data"]["max_score"] == 26  # ex02 10 + 2 hidden; ex13 not handed in
    assert "not handed in: no ex13_epoch_truncation.py" in json.dumps(results)


def test_solutions_score_100_and_stubs_0_with_the_hidden_checks_too() -> None:
    from kafkalab.grading import grade
    from kafkalab.grading.checks import load_hidden_checks

    hidden = load_hidden_checks(HIDDEN)
    assert len(hidden) >= 8 and all(c.hidden for checks in hidden.values() for c in checks)
    solutions = grade(ROOT / "solutions", hidden=HIDDEN)
    assert solutions.points == solutions.max_points and solutions.hidden_counts[0] == sum(len(c) for c in hidden.values())
    stubs = grade(ROOT / "exercises", hidden=HIDDEN)
    assert stubs.points == 0
    assert all("not implemented yet" in r.message for e in stubs.exercises for r in e.results if r.hidden)


def test_gradebook_cells_are_never_spreadsheet_formulas() -> None:
    from kafkalab.grading.classroom import LearnerResult, gradebook_csv
    from kafkalab.grading.report import Report

    rows = gradebook_csv([LearnerResult("=HYPERLINK(\"x\")", Report("x")), LearnerResult("ann", Report("ann"))], []).splitlines()
    assert rows[1].startswith("\"'=HYPERLINK(\"\"x\"\")\"") and rows[2].startswith("ann,")
