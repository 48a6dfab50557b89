"""The worked example class: six synthetic learners, built from the solutions, the stubs and a few
hand-written files, graded in CI against expected_gradebook.csv (docs/instructor.md walks through it).

    alice   everything correct (a folder)                                      → 100 %
    bob     six exercises done, one bug only the hidden checks catch, the rest untouched stubs (a folder)
    carol   partially correct: known mistakes, a syntax error, a crash, a file not handed in (a .zip)
    dave    hostile: reads the solutions and hidden checks, loops, hogs memory, edits the tests,
            starts a process, prints megabytes (a .tar.gz)
    erin    an archive with a path escaping its folder (refused as a whole)
    frank   handed in a notebook and no exercise files

Built at test time from ``solutions/`` and ``exercises/``, so the class never drifts from the
package (and the repository holds no second copy of the solutions).
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HOSTILE = Path(__file__).resolve().parent / "hostile"
EXPECTED_GRADEBOOK = Path(__file__).resolve().parent / "expected_gradebook.csv"

# (exercise, text in the solution, replacement): one mistake each, the text must exist.
MURMUR2_SHORT_LENGTH = ("ex02_partitioner", "h = (SEED ^ length) & MASK_32", "h = (SEED ^ (length & 0xFF)) & MASK_32")
ABS_NOT_TO_POSITIVE = ("ex02_partitioner", "return number & 0x7FFFFFFF", "return abs(number)")
RANGE_WITHOUT_REMAINDER = ("ex07_assignors", "start = per_member * index + min(index, extra)", "start = per_member * index")
HW_OFF_BY_ONE = ("ex11_high_watermark_isr", "candidate = min(ends)", "candidate = min(ends) + 1")


def _solution(exercise: str) -> str:
    return (ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")


def _stub(exercise: str) -> str:
    return (ROOT / "exercises" / f"{exercise}.py").read_text(encoding="utf-8")


def _mistake(exercise: str, text: str, replacement: str) -> str:
    source = _solution(exercise)
    assert text in source, f"the solution of {exercise} no longer contains {text!r}: update the example class"
    return source.replace(text, replacement, 1)


def _printing_log() -> str:
    """A correct partition log that prints 400 KB of debugging output on every read."""
    source = _solution("ex01_partition_log")
    marker = "    def read("
    assert marker in source
    head, tail = source.split(marker, 1)
    signature, body = tail.split(":\n", 1)
    return head + marker + signature + ":\n        print('debug ' * 70_000)\n" + body


def learners() -> dict[str, dict[str, str]]:
    """Each learner's files: file name → content."""
    every = [p.stem for p in sorted((ROOT / "solutions").glob("ex*.py"))]
    alice = {f"{e}.py": _solution(e) for e in every}
    bob = {f"{e}.py": (_solution(e) if e < "ex07" else _stub(e)) for e in every}
    bob["ex02_partitioner.py"] = _mistake(*MURMUR2_SHORT_LENGTH)
    carol = {f"{e}.py": _solution(e) for e in ("ex04_sticky_partitioner", "ex05_accumulator", "ex12_leader_election")}
    carol["ex02_partitioner.py"] = _mistake(*ABS_NOT_TO_POSITIVE)
    carol["ex07_assignors.py"] = _mistake(*RANGE_WITHOUT_REMAINDER)
    carol["ex11_high_watermark_isr.py"] = _mistake(*HW_OFF_BY_ONE)
    carol["ex03_record_batch.py"] = _solution("ex03_record_batch") + "\n\ndef a_helper(batch:\n    return batch\n"  # a syntax error
    carol["ex06_idempotence.py"] = _solution("ex06_idempotence") + "\nraise ImportError('half-finished: a helper module I forgot to hand in')\n"
    dave = {p.name: p.read_text(encoding="utf-8") for p in sorted(HOSTILE.glob("ex*.py"))}
    dave["ex01_partition_log.py"] = _printing_log()
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave}


def build(into: Path) -> Path:
    """Write the class into ``into`` (one entry per learner) and return it."""
    into.mkdir(parents=True, exist_ok=True)
    files = learners()
    for name in ("alice", "bob"):
        folder = into / name / "exercises"
        folder.mkdir(parents=True)
        for file_name, content in files[name].items():
            (folder / file_name).write_text(content, encoding="utf-8")
    with zipfile.ZipFile(into / "carol.zip", "w") as archive:
        for file_name, content in sorted(files["carol"].items()):
            archive.writestr(f"carol-kafkalab/exercises/{file_name}", content)
    with tarfile.open(into / "dave.tar.gz", "w:gz") as archive:
        for file_name, content in sorted(files["dave"].items()):
            data = content.encode("utf-8")
            info = tarfile.TarInfo(file_name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(into / "erin.zip", "w") as archive:
        archive.writestr("exercises/ex02_partitioner.py", _solution("ex02_partitioner"))
        archive.writestr("../../outside.py", "print('escaped')\n")
    (into / "frank").mkdir()
    (into / "frank" / "my-notes.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n', encoding="utf-8")
    return into
