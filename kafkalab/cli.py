"""The ``kafkalab`` command line.

    kafkalab grade <folder> [--exercise ID ...] [--json [FILE]] [--in-process]
    kafkalab exercises list | generate [--force] | check

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
    report = grade(folder, args.exercise or None, in_process=args.in_process)
    if args.json is not None:
        text = json.dumps(report.to_gradescope(), indent=2, ensure_ascii=False)
        if args.json == "-":
            print(text)
            return 0
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(report.to_text())
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
    grade_parser.set_defaults(run=_grade)
    exercises_parser = commands.add_parser("exercises", help="list, generate or check the exercise stubs and solutions")
    exercises_parser.add_argument("action", choices=["list", "generate", "check"])
    exercises_parser.add_argument("--force", action="store_true", help="with generate: overwrite edited exercise files")
    exercises_parser.set_defaults(run=_exercises)
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
