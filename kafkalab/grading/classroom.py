"""Grade a whole class: one folder or archive per learner, isolated, limited, with a gradebook.

    kafkalab class grade submissions/ --out graded/ --hidden instructor/hidden_checks

``submissions/`` holds one entry per learner: a folder, or a ``.zip`` / ``.tar`` / ``.tar.gz`` /
``.tgz`` archive (what an LMS exports). The learner's name is the entry's name without extension.
Inside it, the exercise files (``ex02_partitioner.py``, …) may sit at the top, in ``exercises/``, or
deeper: the shallowest copy of each is graded.

Each learner's exercise files are copied into a scratch folder of their own; each check runs in a
worker process whose working directory is that folder, under CPU-time, wall-time and memory limits,
and with the sandbox's rules (no reading solutions, hidden checks, tests or other submissions; no
writing outside the scratch folder; no processes or sockets). The outputs, in ``--out``:

    gradebook.csv                    learner × exercise points, totals, percent (sorted by learner)
    feedback/<learner>.txt           what the learner may read (hidden checks: the property only)
    instructor/<learner>.txt         everything, hidden checks' messages included
    gradescope/<learner>/results.json  Gradescope's format, learner-safe
    summary.txt                      class averages per exercise and the checks failed most often

Grading the same submissions again gives the same files (the checks are seeded; nothing depends on
time except ``execution_time`` inside results.json).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tarfile
import tempfile
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from kafkalab.exercises.catalog import EXERCISES, get_exercise
from kafkalab.grading.checks import load_hidden_checks
from kafkalab.grading.report import PASSED, ExerciseReport, Report
from kafkalab.grading.runner import Limits, Sandbox, grade

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
MAX_ARCHIVE_BYTES = 50 * 1024 * 1024  # uncompressed; a zip bomb stops here
MAX_ARCHIVE_FILES = 5000
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LIMITS = Limits(cpu_s=None, memory_mb=2048, wall_s=None)


class SubmissionError(Exception):
    """A submission that cannot be graded at all (a broken or oversized archive); the message says why."""


@dataclass
class Submission:
    learner: str
    source: Path


@dataclass
class LearnerResult:
    learner: str
    report: Report
    problem: str = ""  # why nothing could be graded, if so
    seconds: float = 0.0


def find_submissions(folder: Path) -> list[Submission]:
    """One submission per folder or archive in ``folder``, sorted by learner name."""
    if not folder.is_dir():
        raise FileNotFoundError(f"no such submissions folder: {folder}")
    found: dict[str, Submission] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        name = next((entry.name[: -len(s)] for s in ARCHIVE_SUFFIXES if entry.name.endswith(s)), None)
        if entry.is_dir():
            name = entry.name
        if name is None:
            continue
        if name in found:
            raise SubmissionError(f"two submissions for {name!r}: {found[name].source.name} and {entry.name}")
        found[name] = Submission(name, entry)
    return list(found.values())


def _check_member(name: str, size: int, total: list[int]) -> None:
    path = Path(name)
    if path.is_absolute() or ".." in path.parts:
        raise SubmissionError(f"the archive holds an unsafe path {name!r}")
    total[0] += size
    total[1] += 1
    if total[0] > MAX_ARCHIVE_BYTES or total[1] > MAX_ARCHIVE_FILES:
        raise SubmissionError(f"the archive is too large unpacked (limit {MAX_ARCHIVE_BYTES // 2**20} MiB, {MAX_ARCHIVE_FILES} files)")


def unpack(source: Path, into: Path) -> Path:
    """A folder holding the submission: ``source`` itself, or ``into`` with the archive safely unpacked."""
    if source.is_dir():
        return source
    total = [0, 0]
    try:
        if source.name.endswith(".zip"):
            with zipfile.ZipFile(source) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                for member in members:
                    _check_member(member.filename, member.file_size, total)
                for member in members:
                    target = into / member.filename
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.open(member) as data, open(target, "wb") as out:
                        shutil.copyfileobj(data, out)
        else:
            with tarfile.open(source) as archive:
                members = [m for m in archive.getmembers() if m.isfile()]  # links and devices are skipped
                for member in members:
                    _check_member(member.name, member.size, total)
                for member in members:
                    target = into / member.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    extracted = archive.extractfile(member)
                    if extracted is not None:
                        with extracted, open(target, "wb") as out:
                            shutil.copyfileobj(extracted, out)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as broken:
        raise SubmissionError(f"cannot unpack {source.name}: {broken}") from None
    return into


def collect_exercise_files(folder: Path, into: Path) -> list[str]:
    """Copy the shallowest copy of each exercise file under ``folder`` into ``into``; the ids found."""
    into.mkdir(parents=True, exist_ok=True)
    found = []
    for exercise in EXERCISES:
        candidates = sorted(folder.rglob(exercise.file_name), key=lambda p: (len(p.relative_to(folder).parts), str(p)))
        candidates = [c for c in candidates if c.is_file() and not c.is_symlink()]
        if candidates:
            shutil.copyfile(candidates[0], into / exercise.file_name)
            found.append(exercise.id)
    return found


def grade_submission(
    submission: Submission, workspace: Path, exercises: list[str], hidden: Path | None, limits: Limits, protected: tuple[Path, ...]
) -> LearnerResult:
    """Grade one learner in ``workspace/<learner>`` (their scratch folder)."""
    started = time.monotonic()
    scratch = workspace / submission.learner
    (scratch / "tmp").mkdir(parents=True)
    problem = ""
    try:
        unpacked = unpack(submission.source, scratch / "unpacked")
        found = collect_exercise_files(unpacked, scratch / "exercises")
        if not found:
            problem = "no exercise files found in this submission (expected files such as ex02_partitioner.py)"
    except SubmissionError as error:
        problem = str(error)
        (scratch / "exercises").mkdir(exist_ok=True)
        found = []
    report = grade(scratch / "exercises", exercises, hidden=hidden, limits=limits, sandbox=Sandbox(scratch, protected))
    _make_portable(report, submission.learner, scratch, problem, found)
    return LearnerResult(submission.learner, report, problem, time.monotonic() - started)


def _make_portable(report: Report, learner: str, scratch: Path, problem: str, handed_in: list[str]) -> None:
    """No temporary paths in what is written (the same submission gives the same files); say what was not handed in."""
    report.folder = learner
    for exercise in report.exercises:
        exercise.file = f"{learner}/{Path(exercise.file).name}"
        reason = problem or (None if exercise.exercise in handed_in else f"not handed in: no {Path(exercise.file).name} in this submission")
        if reason:
            exercise.load_error = reason
        exercise.results = [
            replace(result, message=reason or result.message.replace(str(scratch), learner), output=result.output.replace(str(scratch), learner))
            for result in exercise.results
        ]


def grade_class(
    submissions_folder: str | Path,
    out: str | Path,
    hidden: str | Path | None = None,
    exercises: list[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    jobs: int = 2,
    progress: Callable[[str], None] = lambda line: None,
) -> list[LearnerResult]:
    """Grade every submission; write the gradebook, feedback, instructor reports and results.json files."""
    folder, out = Path(submissions_folder).resolve(), Path(out).resolve()
    ids = [get_exercise(e).id for e in exercises] if exercises else [e.id for e in EXERCISES]
    hidden_path = Path(hidden).resolve() if hidden is not None else None
    if hidden_path is not None:
        load_hidden_checks(hidden_path)  # a broken hidden folder fails before any learner is graded
    submissions = find_submissions(folder)
    if not submissions:
        raise SubmissionError(f"no submissions (folders or archives) in {folder}")
    if out == folder or folder in out.parents:
        raise SubmissionError(f"--out {out} must not be inside the submissions folder")
    out.mkdir(parents=True, exist_ok=True)
    workspace = Path(tempfile.mkdtemp(prefix="kafkalab-class-"))
    protected = tuple(p for p in (REPO_ROOT / "solutions", REPO_ROOT / "tests", REPO_ROOT / "instructor", hidden_path, folder, out, workspace) if p)
    results: list[LearnerResult] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(grade_submission, s, workspace, ids, hidden_path, limits, protected) for s in submissions]
            for done, future in enumerate(as_completed(futures), start=1):
                result = future.result()
                results.append(result)
                note = f" — {result.problem}" if result.problem else ""
                progress(f"[{done}/{len(submissions)}] {result.learner}: {result.report.points}/{result.report.max_points}{note}")
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    results.sort(key=lambda r: r.learner)
    write_outputs(results, ids, out)
    return results


def gradebook_csv(results: list[LearnerResult], ids: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["learner", *ids, "total", "max", "percent", "hidden_points", "note"])
    for result in results:
        by_id = {e.exercise: e for e in result.report.exercises}
        hidden_points = sum(r.points for e in result.report.exercises for r in e.results if r.hidden)
        writer.writerow([
            _cell(result.learner), *(by_id[i].points for i in ids), result.report.points, result.report.max_points,
            f"{result.report.percent:.1f}", hidden_points, _cell(result.problem),
        ])
    return buffer.getvalue()


def _cell(text: str) -> str:
    """A spreadsheet shows text, never runs it: a leading =, +, - or @ would make a file name a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def summary_text(results: list[LearnerResult], ids: list[str]) -> str:
    """Averages per exercise and the checks most often failed: where the class needs help."""
    lines = [f"{len(results)} learner(s)"]
    for exercise_id in ids:
        reports: list[ExerciseReport] = [e for r in results for e in r.report.exercises if e.exercise == exercise_id]
        maximum = reports[0].max_points if reports else 0
        mean = sum(e.points for e in reports) / len(reports) if reports else 0.0
        lines.append(f"  {exercise_id:<26} mean {mean:5.1f}/{maximum}")
    failures = Counter(
        (e.exercise, c.description + (" (hidden)" if c.hidden else ""))
        for r in results for e in r.report.exercises for c in e.results if c.status != PASSED and not e.load_error
    )
    if failures:
        lines.append("checks failed most often (by learners who handed the file in):")
        for (exercise_id, description), count in sorted(failures.items(), key=lambda item: (-item[1], item[0]))[:10]:
            lines.append(f"  {count:>3} × {exercise_id}: {description}")
    return "\n".join(lines) + "\n"


def write_outputs(results: list[LearnerResult], ids: list[str], out: Path) -> None:
    (out / "gradebook.csv").write_text(gradebook_csv(results, ids), encoding="utf-8")
    (out / "summary.txt").write_text(summary_text(results, ids), encoding="utf-8")
    for folder in ("feedback", "instructor", "gradescope"):
        (out / folder).mkdir(exist_ok=True)
    for result in results:
        (out / "feedback" / f"{result.learner}.txt").write_text(result.report.to_text("learner") + "\n", encoding="utf-8")
        (out / "instructor" / f"{result.learner}.txt").write_text(result.report.to_text("instructor") + "\n", encoding="utf-8")
        (out / "gradescope" / result.learner).mkdir(exist_ok=True)
        gradescope = json.dumps(result.report.to_gradescope(), indent=2, ensure_ascii=False)
        (out / "gradescope" / result.learner / "results.json").write_text(gradescope + "\n", encoding="utf-8")
