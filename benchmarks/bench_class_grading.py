"""How long grading a class takes: 30 submissions (five copies of the worked example class's six
learners: correct, partial, broken, hostile, a refused archive, no files), public and hidden checks,
isolated worker processes with limits, two learners at a time.

    .venv/bin/python benchmarks/bench_class_grading.py [--learners 30] [--jobs 2]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import tempfile
import time
from pathlib import Path

from machine import print_header

from kafkalab.grading.classroom import grade_class
from kafkalab.grading.runner import Limits

ROOT = Path(__file__).resolve().parents[1]


def build_class(into: Path, learners: int) -> Path:
    spec = importlib.util.spec_from_file_location("example_class_build", ROOT / "tests" / "grading" / "example_class" / "build.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    template = example.build(into / "template")
    entries = sorted(template.iterdir())
    submissions = into / "submissions"
    submissions.mkdir()
    for number in range(learners):
        entry = entries[number % len(entries)]
        suffix = "".join(entry.suffixes)
        target = submissions / f"learner{number:02d}-{entry.name[: len(entry.name) - len(suffix)] if suffix else entry.name}{suffix}"
        (shutil.copytree if entry.is_dir() else shutil.copyfile)(entry, target)
    return submissions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    print_header("class grading")
    work = Path(tempfile.mkdtemp(prefix="kafkalab-bench-class-"))
    try:
        submissions = build_class(work, args.learners)
        started = time.monotonic()
        results = grade_class(submissions, work / "graded", hidden=ROOT / "instructor" / "hidden_checks",
                              limits=Limits(cpu_s=5, memory_mb=2048), jobs=args.jobs)
        elapsed = time.monotonic() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    checks = sum(len(e.results) for r in results for e in r.report.exercises)
    slowest = max(results, key=lambda r: r.seconds)
    print(f"{len(results)} submissions, {checks} check results, {args.jobs} at a time: {elapsed:.1f} s "
          f"({elapsed / len(results):.1f} s per submission, {60 * len(results) / elapsed:.1f} submissions/min)")
    print(f"slowest submission: {slowest.learner} {slowest.seconds:.1f} s")


if __name__ == "__main__":
    main()
