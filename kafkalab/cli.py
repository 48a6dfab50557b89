"""The ``kafkalab`` command line.

    kafkalab grade <folder> [--exercise ID ...] [--json [FILE]] [--in-process] [--hidden DIR [--instructor]]
    kafkalab exercises list | generate [--force] | check
    kafkalab class grade <submissions> --out DIR [--hidden DIR] [--exercise ID ...] [--jobs N]
                         [--cpu-limit S] [--wall-limit S] [--memory-limit MiB]
    kafkalab release --out DIR [--outputs keep|clear] [--archive FILE.zip]
    kafkalab gradescope build --out autograder.zip [--hidden DIR] [--exercise ID ...]

``grade`` exits 0 whatever the score (the report is the result) and 2 for usage errors such as a
missing folder or an unknown exercise. ``exercises check`` exits 1 when ``exercises/`` or
``solutions/`` differ from what the package generates (CI runs it); ``exercises generate`` exits 1
when the package's markers are wrong (naming the exercise and the problem) or when it kept exercise
files a learner edited (``--force`` overwrites them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from kafkalab.exercises.catalog import EXERCISES, UnknownExerciseError, get_exercise


def _grade(args: argparse.Namespace) -> int:
    from kafkalab.grading.runner import grade

    folder = Path(args.folder)
    if folder.is_file():
        print(f"kafkalab grade: {folder} is a file; grade its folder: kafkalab grade {folder.parent} --exercise {folder.stem}", file=sys.stderr)
        return 2
    if not folder.is_dir():
        print(f"kafkalab grade: no such folder: {folder}", file=sys.stderr)
        return 2
    try:
        for exercise_id in args.exercise or []:
            get_exercise(exercise_id)
    except UnknownExerciseError as unknown:
        print(f"kafkalab grade: {unknown}", file=sys.stderr)
        return 2
    from kafkalab.grading.checks import HiddenChecksError
    from kafkalab.release import hidden_checks_not_run

    if args.instructor and not args.hidden:
        print("kafkalab grade: --instructor shows hidden checks' details; give the hidden checks with --hidden DIR", file=sys.stderr)
        return 2
    try:
        report = grade(folder, args.exercise or None, in_process=args.in_process, hidden=args.hidden, hidden_not_run=hidden_checks_not_run(folder, args.exercise or None))
    except HiddenChecksError as wrong:
        print(f"kafkalab grade: {wrong}", file=sys.stderr)
        return 2
    if args.json is not None:
        text = json.dumps(report.to_gradescope(), indent=2, ensure_ascii=False)
        if args.json == "-":
            print(text)
            return 0
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(report.to_text("instructor" if args.instructor else "learner"))
    return 0


def _class(args: argparse.Namespace) -> int:
    from kafkalab.grading.checks import HiddenChecksError
    from kafkalab.grading.classroom import SubmissionError, grade_class
    from kafkalab.grading.runner import Limits

    try:
        for exercise_id in args.exercise or []:
            get_exercise(exercise_id)
        limits = Limits(cpu_s=args.cpu_limit, memory_mb=args.memory_limit, wall_s=args.wall_limit)
        results = grade_class(
            args.submissions, args.out, hidden=args.hidden, exercises=args.exercise or None, limits=limits, jobs=args.jobs,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except (UnknownExerciseError, HiddenChecksError, SubmissionError, FileNotFoundError) as wrong:
        print(f"kafkalab class grade: {wrong}", file=sys.stderr)
        return 2
    out = Path(args.out)
    print((out / "summary.txt").read_text(encoding="utf-8"), end="")
    print(f"gradebook: {out / 'gradebook.csv'} ({len(results)} learners); feedback/, instructor/ and gradescope/ beside it")
    return 0


def _release(args: argparse.Namespace) -> int:
    from kafkalab.release import ReleaseError, release_student_edition

    try:
        manifest = release_student_edition(
            Path(args.out), outputs=args.outputs, archive=Path(args.archive) if args.archive else None, hidden=Path(args.hidden)
        )
    except ReleaseError as wrong:
        print(f"kafkalab release: {wrong}", file=sys.stderr)
        return 2
    print(f"student edition: {args.out} ({len(manifest['files'])} files; manifest kafkalab-edition.json)")
    if args.archive:
        print(f"archive: {args.archive}")
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from kafkalab.grading.gradescope import build_autograder

    try:
        for exercise_id in args.exercise or []:
            get_exercise(exercise_id)
    except UnknownExerciseError as unknown:
        print(f"kafkalab gradescope: {unknown}", file=sys.stderr)
        return 2
    hidden = Path(args.hidden) if args.hidden else None
    if hidden is not None and not hidden.is_dir():
        print(f"kafkalab gradescope: no such hidden-checks folder: {hidden}", file=sys.stderr)
        return 2
    names = build_autograder(Path(args.out), hidden, args.exercise or None)
    hidden_files = sum(1 for n in names if n.startswith("hidden_checks/"))
    print(f"autograder: {args.out} ({len(names)} files, {hidden_files} hidden-check files); upload it as a Gradescope programming assignment's autograder")
    return 0


def _exercises(args: argparse.Namespace) -> int:
    from kafkalab.exercises.generate import ExerciseSourceError, check, generate

    if args.action == "list":
        for exercise in EXERCISES:
            print(f"{exercise.id:<24} {exercise.points:>3} pts  {exercise.title}")
            print(f"{'':<24}          exercises/{exercise.file_name} ← {exercise.module}; read {exercise.notebook}")
        return 0
    try:
        if args.action == "generate":
            lines = generate(force=args.force)
            print("\n".join(lines))
            kept = [line for line in lines if line.startswith("KEPT")]
            if kept:
                print(f"kafkalab exercises generate: {len(kept)} edited exercise file(s) not overwritten; --force overwrites them", file=sys.stderr)
                return 1
            return 0
        drifted = check()
    except ExerciseSourceError as wrong:
        print(f"kafkalab exercises {args.action}: {wrong}", file=sys.stderr)
        return 1
    if drifted:
        print("out of date (run `python -m kafkalab exercises generate`):\n  " + "\n  ".join(drifted), file=sys.stderr)
        return 1
    print("exercises/ and solutions/ are in sync with the package")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kafkalab", description="kafkalab: learn Kafka's internals by rebuilding them.")
    commands = parser.add_subparsers(dest="command", required=True)
    grade_parser = commands.add_parser("grade", help="grade a folder of exercise files (e.g. exercises or solutions)")
    grade_parser.add_argument("folder")
    grade_parser.add_argument("--exercise", action="extend", nargs="+", metavar="ID", help="grade only these exercises (e.g. --exercise ex01_partition_log ex02_partitioner)")
    grade_parser.add_argument("--json", nargs="?", const="results.json", metavar="FILE", help="also write Gradescope's results.json (default name), or - for stdout")
    grade_parser.add_argument("--in-process", action="store_true", help="no worker process (no timeouts)")
    grade_parser.add_argument("--hidden", metavar="DIR", help="also run the instructor's hidden checks in DIR (e.g. instructor/hidden_checks)")
    grade_parser.add_argument("--instructor", action="store_true", help="with --hidden: show hidden checks' full messages")
    grade_parser.set_defaults(run=_grade)
    class_parser = commands.add_parser("class", help="grade a class: one folder or archive per learner, with a gradebook")
    class_parser.add_argument("action", choices=["grade"])
    class_parser.add_argument("submissions", help="a folder holding one sub-folder or archive (.zip, .tar.gz) per learner")
    class_parser.add_argument("--out", required=True, metavar="DIR", help="where gradebook.csv, feedback/, instructor/ and gradescope/ go")
    class_parser.add_argument("--hidden", metavar="DIR", help="the instructor's hidden checks (e.g. instructor/hidden_checks)")
    class_parser.add_argument("--exercise", action="extend", nargs="+", metavar="ID", help="grade only these exercises")
    class_parser.add_argument("--jobs", type=int, default=2, help="learners graded at once (default 2)")
    class_parser.add_argument("--cpu-limit", type=float, metavar="S", help="CPU seconds per check (default: none beyond the wall limit)")
    class_parser.add_argument("--wall-limit", type=float, metavar="S", help="wall-clock seconds per check (default: each check's own timeout)")
    class_parser.add_argument("--memory-limit", type=int, default=2048, metavar="MiB", help="memory per grading process (default 2048)")
    class_parser.set_defaults(run=_class)
    release_parser = commands.add_parser("release", help="write the student edition: no solutions, no hidden checks, solution cells stripped")
    release_parser.add_argument("--out", required=True, metavar="DIR", help="an empty or new folder for the edition")
    release_parser.add_argument("--outputs", choices=["keep", "clear"], default="keep", help="notebook outputs: keep the stored ones (default) or clear them")
    release_parser.add_argument("--archive", metavar="FILE.zip", help="also write the edition as a reproducible zip archive")
    release_parser.add_argument("--hidden", metavar="DIR", default="instructor/hidden_checks", help="hidden checks to count in the manifest (never copied)")
    release_parser.set_defaults(run=_release)
    gradescope_parser = commands.add_parser("gradescope", help="build a Gradescope autograder zip (package + hidden checks, no solutions)")
    gradescope_parser.add_argument("action", choices=["build"])
    gradescope_parser.add_argument("--out", required=True, metavar="FILE.zip")
    gradescope_parser.add_argument("--hidden", metavar="DIR", help="hidden checks to include (e.g. instructor/hidden_checks)")
    gradescope_parser.add_argument("--exercise", action="extend", nargs="+", metavar="ID", help="the exercises this assignment grades (default: all)")
    gradescope_parser.set_defaults(run=_gradescope)
    exercises_parser = commands.add_parser("exercises", help="list, generate or check the exercise stubs and solutions")
    exercises_parser.add_argument("action", choices=["list", "generate", "check"])
    exercises_parser.add_argument("--force", action="store_true", help="with generate: overwrite edited exercise files")
    exercises_parser.set_defaults(run=_exercises)
    from kafkalab.tools import add_tool_commands  # the kafka-*.sh twins (storage, server-start, topics, ...)

    add_tool_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # `kafkalab grade exercises | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
