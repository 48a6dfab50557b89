"""The ``kafkalab`` command line.

    kafkalab grade <folder> [--exercise ID ...] [--json [FILE]] [--in-process]
    kafkalab exercises list | generate [--force] | check

``grade`` exits 0 whatever the score (the report is the result) and 2 for usage errors such as a
missing folder or an unknown exercise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kafkalab.exercises.catalog import EXERCISES, UnknownExerciseError, get_exercise


def _grade(args: argparse.Namespace) -> int:
    from kafkalab.grading.runner import grade

    folder = Path(args.folder)
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
    from kafkalab.exercises.generate import check, generate

    if args.action == "list":
        for exercise in EXERCISES:
            print(f"{exercise.id:<22} {exercise.title}  ({exercise.notebook})")
        return 0
    if args.action == "generate":
        print("\n".join(generate(force=args.force)))
        return 0
    drifted = check()
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
    grade_parser.add_argument("--exercise", action="append", metavar="ID", help="grade only this exercise (repeatable)")
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
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
