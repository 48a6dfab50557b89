"""dave's ex02: copies the answer out of the course's solutions/ folder (the grader refuses)."""

from pathlib import Path

import kafkalab

_answer = {}


def _solution():
    if not _answer:
        source = (Path(kafkalab.__file__).resolve().parents[1] / "solutions" / "ex02_partitioner.py").read_text()
        exec(compile(source, "solution", "exec"), _answer)
    return _answer


def murmur2(data):
    return _solution()["murmur2"](data)


def to_positive(number):
    return number & 0x7FFFFFFF  # honest: this check passes


def partition_for_key(key, num_partitions):
    hidden = Path(kafkalab.__file__).resolve().parents[1] / "instructor" / "hidden_checks" / "ex02_partitioner.py"
    try:
        hidden.read_text()  # a peek at the hidden checks, caught and ignored: still refused and scored 0
    except PermissionError:
        pass
    return to_positive(murmur2(bytes(key))) % num_partitions
