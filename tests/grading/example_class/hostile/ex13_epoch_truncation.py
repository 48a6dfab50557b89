"""dave's ex13: correct, but tries to edit the course's tests and to start a process on the way."""

import os
from pathlib import Path

import kafkalab

UNDEFINED = (-1, -1)


def epoch_end_offset(epoch_cache, epoch, log_end_offset):
    if epoch == 3:
        try:
            (Path(kafkalab.__file__).resolve().parents[1] / "tests" / "edited-by-a-learner.txt").write_text("all passed")
        except PermissionError:
            pass  # caught, but the check still scores 0
    if epoch == 7:
        os.system("true")
    if not epoch_cache or epoch < epoch_cache[0][0]:
        return UNDEFINED
    for index, (known, _) in enumerate(epoch_cache):
        if known > epoch:
            return epoch_cache[index - 1][0], epoch_cache[index][1]
    return epoch_cache[-1][0], log_end_offset
