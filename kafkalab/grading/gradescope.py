"""Gradescope: build an autograder zip, and the script that grades one submission inside it.

    kafkalab gradescope build --out autograder.zip [--hidden instructor/hidden_checks]

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when the image is
built, then ``run_autograder`` for every submission, which must leave
``/autograder/results/results.json`` (https://gradescope-autograders.readthedocs.io/en/latest/specs/).
Our ``run_autograder`` calls ``python -m kafkalab.grading.gradescope``, which grades
``/autograder/submission`` exactly as ``kafkalab class grade`` grades one learner: the exercise files
found anywhere in the upload, isolated workers, the limits, the sandbox, public and hidden checks,
and learner-safe messages in results.json. The zip holds the package and the hidden checks, never
the solutions; its bytes depend only on its contents.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from kafkalab.grading.classroom import DEFAULT_LIMITS, Submission, grade_submission
from kafkalab.release import ROOT, write_archive

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu 22.04 base image: Python 3.11 and kafkalab's core.
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends python3.11 python3.11-venv
python3.11 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes /autograder/results/results.json.
set -euo pipefail
cd /autograder/source
exec /autograder/venv/bin/python -m kafkalab.grading.gradescope --root /autograder{exercises}
"""

PACKAGED = ("kafkalab/", "pyproject.toml", "README.md")


def build_autograder(out: Path, hidden: Path | None = None, exercises: list[str] | None = None, root: Path = ROOT) -> list[str]:
    """Write the autograder zip (grading ``exercises``, or all); the names it holds."""
    from kafkalab.release import _tracked_files

    contents: dict[str, bytes] = {}
    for name in _tracked_files(root):
        if any(name == p or name.startswith(p) for p in PACKAGED):
            contents[name] = (root / name).read_bytes()
    if hidden is not None:
        for path in sorted(hidden.glob("*.py")):
            contents[f"hidden_checks/{path.name}"] = path.read_bytes()
    contents["setup.sh"] = SETUP_SH.encode()
    chosen = " --exercise " + " ".join(exercises) if exercises else ""
    contents["run_autograder"] = RUN_AUTOGRADER.format(exercises=chosen).encode()
    write_archive(out, contents, top="", executables=("setup.sh", "run_autograder"))
    return sorted(contents)


def run(root: Path, exercises: list[str] | None = None) -> dict:
    """Grade ``root/submission`` into ``root/results/results.json`` (Gradescope's layout); the results."""
    hidden = root / "source" / "hidden_checks"
    workspace = Path(tempfile.mkdtemp(prefix="kafkalab-gradescope-"))
    protected = (root / "source", root / "results", workspace)
    try:
        result = grade_submission(
            Submission("submission", root / "submission"), workspace, exercises or [], hidden if hidden.is_dir() else None,
            DEFAULT_LIMITS, protected,
        )
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    results = result.report.to_gradescope()
    if result.problem:
        results["output"] = f"{result.problem}\n{results['output']}"
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kafkalab.grading.gradescope", description="grade one Gradescope submission")
    parser.add_argument("--root", default="/autograder", help="Gradescope's folder (submission/, source/, results/)")
    parser.add_argument("--exercise", action="extend", nargs="+", metavar="ID", help="the exercises this assignment grades (default: all)")
    args = parser.parse_args(argv)
    results = run(Path(args.root), args.exercise)
    print(results["output"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
