"""The graders can fail: solutions score 100%, stubs 0%, known-wrong code is caught with useful
feedback, and broken learner code (loops, crashes, exits, syntax errors) never breaks the grader."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from kafkalab.exercises.catalog import EXERCISES
from kafkalab.grading import grade
from kafkalab.grading.checks import checks_for
from kafkalab.grading.report import PASSED, TIMEOUT

ROOT = Path(__file__).resolve().parents[2]


def learner_folder(tmp_path: Path, exercise: str, replace: str, by: str) -> Path:
    """A copy of the solution with one deliberate bug (the text must exist: no vacuous tests)."""
    source = (ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
    assert source.count(replace) >= 1, f"the solution no longer contains {replace!r}: update this wrong implementation"
    folder = tmp_path / "learner"
    folder.mkdir(exist_ok=True)
    (folder / f"{exercise}.py").write_text(source.replace(replace, by), encoding="utf-8")
    return folder


def test_solutions_score_100_percent() -> None:
    report = grade(ROOT / "solutions")
    assert report.points == report.max_points > 0, report.to_text()
    assert [e.exercise for e in report.exercises] == [e.id for e in EXERCISES]
    for exercise in report.exercises:
        assert exercise.points == exercise.max_points, report.to_text()


def test_untouched_stubs_score_0_and_say_not_implemented() -> None:
    report = grade(ROOT / "exercises")
    assert report.points == 0
    for exercise in report.exercises:
        assert exercise.results, exercise.exercise
        for result in exercise.results:
            assert "not implemented yet" in result.message, (exercise.exercise, result.message)


_EX17_TRUNCATION = ("    local = end_offset_for_epoch(epoch_starts, log_end_offset, diverging.epoch)\n"
                    "    if local.epoch == diverging.epoch:\n"
                    "        return min(local.offset, diverging.offset)\n")

WRONG = [
    ("ex04_sticky_partitioner", "if (produced >= self.sticky_batch_size and enable_switch) or produced >= 2 * self.sticky_batch_size:",
     "if produced > self.sticky_batch_size:", "switch", "exactly batch.size"),
    ("ex04_sticky_partitioner", "running += max_plus_one - size", "running += size", "frequency table", "[0, 3, 1]"),
    ("ex05_accumulator", "expired = waited >= wait_limit", "expired = True", "linger.ms", "ready nodes at 3 ms"),
    ("ex05_accumulator", "self._drain_index[node] = (start + step + 1) % len(partitions)", "pass", "round-robin", "the other partition's turn"),
    ("ex06_idempotence", "                return seen\n", "                pass\n", "a repeat", "2 (incoming seq. number)"),
    ("ex06_idempotence", "        if batch.base_sequence != expected:", "        if False:", "gap", "sequence 5 after 0–1"),
    ("ex02_partitioner", "return number & 0x7FFFFFFF", "return abs(number)", "to_positive", "for input -1"),
    ("ex02_partitioner", "return to_positive(murmur2(bytes(key))) % num_partitions",
     "return abs(murmur2(bytes(key))) % max(num_partitions - 1, 1)", "partition_for_key", "1000"),
    ("ex02_partitioner", "return to_signed_32(h)", "return h", "murmur2", "b'21'"),
    ("ex02_partitioner", "    if tail >= 1:\n        h ^= data[tail_start]\n", "    if tail >= 1:\n        h ^= data[tail_start] << 1\n", "murmur2", "b'21'"),
    ("ex01_partition_log", "if offset < fetch_offset:", "if offset <= fetch_offset:", "offsets read from 0", "expected [0, 1"),
    ("ex01_partition_log", "            self.roll(now_ms)\n        self.active_segment.append", "            pass\n        self.active_segment.append", "segment", "segment.bytes=300"),
    ("ex01_partition_log", "too_big = self.config.retention_bytes >= 0 and", "too_big = False and", "retention.bytes", "600"),
    # Counting the records still kept instead of remembering the log end offset reuses offsets after retention.
    ("ex01_partition_log", "self.log_end_offset = batch.next_offset", "self.log_end_offset = sum(s.record_count for s in self.segments)", "offset", "never reused"),
    ("ex03_record_batch", "crc32c(covered)", "crc32c(covered[:-1])", "crc", "CRC"),
    # A record's length written as one plain byte instead of a zigzag varint: the field is named.
    ("ex03_record_batch", "return encode_varint(len(body)) + bytes(body)", "return bytes([len(body)]) + bytes(body)",
     "first wrong field: records[0].length", "expected 6 (bytes 0c)"),
    ("ex03_record_batch", "body += _encode_nullable(record.key)\n", "body += _encode_nullable(record.key or b'')\n",
     "records[0].key", "expected None, got b''"),
    ("ex03_record_batch", "body += _encode_nullable(record.key)", "body += _encode_nullable(record.key or b'')", "encode_record", "bytes differ"),
    ("ex03_record_batch", "            len(batch.records),\n", "            len(batch.records) + 1,\n", "records_count", "first wrong field"),
    # The remainder forgotten: the last member of each topic would get nothing more.
    ("ex07_assignors", "start = per_member * index + min(index, extra)", "start = per_member * index", "range_assign", "testTwoConsumersTwoTopicsSixPartitions"),
    # Dealing to every member in turn, subscribed or not (the round robin's CircularIterator skips them).
    ("ex07_assignors", "            while topic not in subscriptions[members[position % len(members)]]:\n                position += 1\n",
     "", "roundrobin_assign", "testMultipleConsumersMixedTopics"),
    ("ex08_at_least_once", "    for record in records:\n        process(record)\n    commit()",
     "    commit()\n    for record in records:\n        process(record)", "no record is ever lost", "committed before it was processed"),
    ("ex08_at_least_once", "        process(record)\n    commit()", "        process(record)", "repeats at most", "commit after each poll"),
    ("ex09_read_committed", "        if record.is_transactional and record.producer_id in aborted_producers:",
     "        if False:", "aborted transaction", "expected [1, 3]"),
    ("ex09_read_committed", "aborted_producers.discard(record.producer_id)", "pass", "abort marker", "expected [2, 3]"),
    ("ex10_sticky_assignor", "transferring[tp] = member", "pass", "partitions changing owner", "testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers"),
    ("ex10_sticky_assignor", "under_min.sort()", "under_min.sort(reverse=True)", "assignment", "testTwoConsumersTwoTopicsSixPartitions"),
    # Off by one: the high watermark one past what every in-sync replica has.
    ("ex11_high_watermark_isr", "candidate = min(ends)", "candidate = min(ends) + 1", "high watermark", "expected 4, got 5"),
    ("ex11_high_watermark_isr", "        stale = [r for r in self.isr if r != self.broker_id and now_ms",
     "        stale = [] and [r for r in self.isr if r != self.broker_id and now_ms", "ISR to shrink", "expected (0, 1), got None"),
    # Electing outside the ISR: the first live replica, in sync or not.
    ("ex12_leader_election", "if replica in isr and replica not in fenced:", "if replica not in fenced:", "choose_leader", "expected 2, got 1"),
    # The start of the epoch instead of its end.
    ("ex13_epoch_truncation", "return epoch_cache[index - 1][0], epoch_cache[index][1]",
     "return epoch_cache[index - 1][0], epoch_cache[index - 1][1]", "epoch_end_offset", "expected (0, 5), got (0, 0)"),
    # Voting twice in an epoch: two candidates each get the voter between them, two leaders of epoch 1.
    ("ex14_raft_vote", "        return voter.voted_id == request.candidate_id  # one vote per epoch",
     "        return up_to_date  # one vote per epoch", "single leader per epoch", "two leaders in epoch 1"),
    # Comparing offsets only: a longer log from an older epoch wins the vote.
    ("ex14_raft_vote", "return (candidate_last_epoch, candidate_end_offset) >= (voter_last_epoch, voter_end_offset)",
     "return candidate_end_offset >= voter_end_offset", "is_log_up_to_date", "expected False, got True"),
    # Figure 8: committing by counting replicas of an entry from an earlier epoch.
    ("ex15_raft_commit", "if majority_offset > epoch_start_offset and majority_offset > high_watermark:",
     "if majority_offset > high_watermark:", "Figure 8", "committed as 'a'"),
    # The smallest end offset instead of the majority's: safe, but one voter down stops every commit.
    ("ex15_raft_commit", "majority_offset = offsets[len(offsets) // 2]", "majority_offset = offsets[-1]",
     "one voter down", "never committed"),
    # No watch on /controller: nobody hears that the controller's znode went away.
    ("ex16_zk_controller_election", 'broker.zk.exists("/controller", on_exists, watcher=broker.on_controller_change)',
     'broker.zk.exists("/controller", on_exists)', "takes over", "did elect leave a watch"),
    # Never resigning: a controller keeps acting after /controller names another broker.
    ("ex16_zk_controller_election", '                broker.resign(f"broker {broker.active_controller_id} is the controller now")',
     "                pass", "resigns", "still acts as controller"),
    # Comparing offsets only: a follower whose last entry is of an epoch the leader never had, at an offset
    # the leader's log reaches, is taken for a prefix; it keeps its entry and appends the leader's after it.
    ("ex17_raft_log_agreement", "    if end.epoch != last_fetched_epoch or end.offset < fetch_offset:",
     "    if end.offset < fetch_offset:", "log matching", "their logs differ below offset 5"),
    # Ignoring the follower's own version of the epoch: it cuts where the leader's version ends, keeping its
    # own later entries, and is sent the same diverging epoch forever.
    ("ex17_raft_log_agreement", _EX17_TRUNCATION, "    return diverging.offset  # where the leader's version of the epoch ends\n",
     "still differ from leader 2's", "truncates to offset 5 (its log ended at 4: nothing dropped)"),
    # Truncating to the fetch offset, i.e. where the follower's log already ends: nothing is ever dropped.
    ("ex17_raft_log_agreement", _EX17_TRUNCATION, "    return log_end_offset  # the offset it fetched from\n",
     "truncation_offset", "expected 2, got 4"),
]


@pytest.mark.parametrize("exercise,replace,by,mentions,detail", WRONG, ids=[f"{w[0]}:{w[3]}" for w in WRONG])
def test_known_wrong_implementations_are_caught_with_feedback(tmp_path: Path, exercise: str, replace: str, by: str, mentions: str, detail: str) -> None:
    report = grade(learner_folder(tmp_path, exercise, replace, by), [exercise])
    result = report.exercises[0]
    assert 0 <= result.points < result.max_points, report.to_text()
    failed = [r for r in result.results if r.status != PASSED]
    text = "\n".join(f"{r.description}\n{r.message}" for r in failed)
    assert mentions.lower() in text.lower() and detail.lower() in text.lower(), text


@pytest.fixture
def two_second_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check's timeout cut to 2 s (the parent enforces timeouts, so patching it here is enough)."""
    import kafkalab.grading.checks as checks_module

    for exercise in EXERCISES:
        checks_for(exercise.id)  # registered before they are shortened
    shortened = {name: [replace(c, timeout_s=2.0) for c in found] for name, found in checks_module._REGISTRY.items()}
    monkeypatch.setattr(checks_module, "_REGISTRY", shortened)


@pytest.mark.usefixtures("two_second_timeouts")
@pytest.mark.parametrize("loop", ["pass", "print('x' * 1000)"], ids=["busy", "printing"])
def test_an_infinite_loop_times_out_and_the_other_checks_still_run(tmp_path: Path, loop: str) -> None:
    # to_positive(-5) never returns; no other check happens to hash to -5.
    looping = f"if number == -5:\n        while True:\n            {loop}\n    return number & 0x7FFFFFFF"
    folder = learner_folder(tmp_path, "ex02_partitioner", "return number & 0x7FFFFFFF", looping)
    report = grade(folder, ["ex02_partitioner"])
    statuses = {r.name: r.status for r in report.exercises[0].results}
    assert [name for name, status in statuses.items() if status != PASSED] == ["to_positive_clears_the_sign_bit"], report.to_text()
    assert statuses["to_positive_clears_the_sign_bit"] == TIMEOUT
    assert "timed out after 2 s (an infinite loop?)" in next(r.message for r in report.exercises[0].results if r.status == TIMEOUT)
    # the checks after the timeout ran in a fresh worker and passed


def test_an_exception_shows_its_type_message_and_only_the_learners_lines(tmp_path: Path) -> None:
    folder = learner_folder(tmp_path, "ex02_partitioner", "    return number & 0x7FFFFFFF", "    table = {}\n    return table[number]")
    result = grade(folder, ["ex02_partitioner"]).exercises[0]
    message = next(r.message for r in result.results if r.name == "to_positive_clears_the_sign_bit")
    assert message.startswith("your code raised KeyError: 0"), message
    assert "in to_positive: return table[number]" in message
    assert "kafkalab/grading" not in message and "exercise_checks" not in message
    assert 0 < result.points < result.max_points  # murmur2's checks still pass: partial credit


def test_an_infinite_loop_at_import_times_out_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kafkalab.grading.runner.LOAD_TIMEOUT_S", 1.5)
    (tmp_path / "ex02_partitioner.py").write_text("while True:\n    pass\n", encoding="utf-8")
    report = grade(tmp_path, ["ex02_partitioner"])
    result = report.exercises[0]
    assert report.points == 0 and all(r.status == TIMEOUT for r in result.results)
    assert result.load_error == "importing ex02_partitioner.py timed out after 1.5 s (an infinite loop at the top level?)"


def test_in_process_grading_sees_the_learners_latest_edit(tmp_path: Path) -> None:
    shutil.copy(ROOT / "exercises" / "ex02_partitioner.py", tmp_path / "ex02_partitioner.py")
    assert grade(tmp_path, ["ex02_partitioner"], in_process=True).points == 0
    shutil.copy(ROOT / "solutions" / "ex02_partitioner.py", tmp_path / "ex02_partitioner.py")
    report = grade(tmp_path, ["ex02_partitioner"], in_process=True)
    assert report.points == report.max_points, report.to_text()


def test_check_my_work_uses_the_exercises_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kafkalab.grading.notebook import check_my_work, exercises_folder

    assert exercises_folder() == ROOT / "exercises"
    shutil.copy(ROOT / "solutions" / "ex02_partitioner.py", tmp_path / "ex02_partitioner.py")
    monkeypatch.setenv("KAFKALAB_EXERCISES", str(tmp_path))
    report = check_my_work("ex02_partitioner")
    assert report.points == report.max_points and "✓" in report._repr_html_()


@pytest.mark.parametrize(
    "content,expected",
    [
        ("def murmur2(data:\n", "syntax error"),
        ("def murmur2(data):\n    return int(input())\n", "your code raised EOFError"),
        ("import os\ndef murmur2(data):\n    os.write(1, b'no newline')\n    return 0\n", "expected -973932308, got 0"),
        ("import sys\nsys.exit(3)\n", "sys.exit(3)"),
        ("raise RuntimeError('boom')\n", "failed to import: RuntimeError: boom"),
        ("import os\ndef murmur2(data):\n    os._exit(1)\n", "died"),
    ],
    ids=["syntax", "reads-stdin", "writes-fd-1", "exit-at-import", "raise-at-import", "os-exit"],
)
def test_broken_files_score_zero_with_a_reason(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "ex02_partitioner.py").write_text(content, encoding="utf-8")
    report = grade(tmp_path, ["ex02_partitioner"])
    assert report.points == 0
    assert any(expected in r.message for r in report.exercises[0].results), report.to_text()


def test_a_missing_file_and_printing_do_not_break_grading(tmp_path: Path) -> None:
    report = grade(tmp_path, ["ex01_partition_log"])
    assert report.points == 0 and "file not found" in report.exercises[0].load_error
    source = (ROOT / "solutions" / "ex02_partitioner.py").read_text(encoding="utf-8")
    noisy = source.replace('"""Kafka\'s ``Utils.toPositive``', 'print("x" * 100)\n    """Kafka\'s ``Utils.toPositive``', 1)
    noisy = noisy.replace("    return number & 0x7FFFFFFF", "    print('x', end='')\n    return number & 0x7FFFFFFF")
    (tmp_path / "ex02_partitioner.py").write_text(noisy, encoding="utf-8")
    report = grade(tmp_path, ["ex02_partitioner"])
    assert report.points == report.max_points
    assert any("more characters cut" in r.output for r in report.exercises[0].results)


def test_printing_megabytes_scores_that_check_zero_with_the_reason(tmp_path: Path) -> None:
    folder = learner_folder(tmp_path, "ex02_partitioner", "    return number & 0x7FFFFFFF", "    print('x' * 200_000)\n    return number & 0x7FFFFFFF")
    result = grade(folder, ["ex02_partitioner"]).exercises[0]
    flooded = {r.name: r.message for r in result.results if r.status != PASSED}
    assert flooded["to_positive_clears_the_sign_bit"] == "your code printed 1,400,007 characters; the limit is 1,000,000 (remove debugging prints)"
    assert "murmur2_matches_kafkas_vectors" not in flooded  # checks that print little still pass


def test_in_process_mode_gives_the_same_scores() -> None:
    assert grade(ROOT / "solutions", in_process=True).points == grade(ROOT / "solutions").points


def test_cli_grade_writes_gradescope_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "kafkalab", "grade", str(ROOT / "solutions"), "--json", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text(encoding="utf-8"))
    # https://gradescope-autograders.readthedocs.io/en/latest/specs/ — the top level and each test
    assert set(results) <= {"score", "execution_time", "output", "output_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
    assert isinstance(results["execution_time"], int) and results["visibility"] == "visible"
    maximum = sum(t["max_score"] for t in results["tests"])
    assert results["score"] == maximum == results["extra_data"]["max_score"] == sum(e.points for e in EXERCISES)
    for test in results["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags", "visibility", "extra_data"}
        assert {"name", "score", "max_score", "output"} <= set(test) and test["status"] == "passed"
    assert len({t["number"] for t in results["tests"]}) == len(results["tests"])
    assert f"total: {results['score']}/{maximum} (100%)" in done.stdout


def test_cli_json_for_stubs_scores_zero_and_exits_0() -> None:
    done = subprocess.run([sys.executable, "-m", "kafkalab", "grade", str(ROOT / "exercises"), "--json", "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["score"] == 0 and all(t["status"] == "failed" and "not implemented" in t["output"] for t in results["tests"])


def test_cli_usage_errors_exit_2() -> None:
    missing = subprocess.run([sys.executable, "-m", "kafkalab", "grade", "no-such-folder"], capture_output=True, text=True)
    assert missing.returncode == 2 and "no such folder" in missing.stderr
    typo = subprocess.run([sys.executable, "-m", "kafkalab", "grade", str(ROOT / "exercises"), "--exercise", "ex02_partitoner"], capture_output=True, text=True)
    assert typo.returncode == 2 and "did you mean ex02_partitioner" in typo.stderr


def test_stubs_keep_signatures_and_docstrings(tmp_path: Path) -> None:
    shutil.copy(ROOT / "exercises" / "ex02_partitioner.py", tmp_path / "stub.py")
    text = (tmp_path / "stub.py").read_text(encoding="utf-8")
    assert "def partition_for_key(key: bytes, num_partitions: int) -> int:" in text
    assert "Kafka's ``BuiltInPartitioner.partitionForKey``" in text
    assert "GENERATED by `python -m kafkalab exercises generate`" in text


def test_a_failing_scenario_names_its_simulation_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    import kafkalab.grading.checks as checks_module
    from kafkalab.cluster import EmbeddedCluster
    from kafkalab.grading.checks import Check

    def a_scenario(impl) -> None:
        EmbeddedCluster(seed=77, brokers=1)
        raise AssertionError("the cluster lost a record")

    extra = Check("ex02_partitioner", "a_scenario", 1, 10.0, a_scenario, "a seeded scenario")
    registry = {**checks_module._REGISTRY, "ex02_partitioner": checks_for("ex02_partitioner") + [extra]}
    monkeypatch.setattr(checks_module, "_REGISTRY", registry)
    result = grade(ROOT / "solutions", ["ex02_partitioner"], in_process=True).exercises[0]
    message = next(r.message for r in result.results if r.name == "a_scenario")
    assert message == "the cluster lost a record\n(simulation seed 77: the same seed replays the same run)"


@pytest.mark.parametrize(
    "body,reason",
    [
        ("    os.rename(os.path.join(os.getcwd(), 'tmp'), '/tmp/kafkalab-moved-by-a-learner')\n", "tried os.rename("),
        ("    import socket\n    socket.create_connection(('127.0.0.1', 9))\n", "open a network connection (socket.connect)"),
        ("    import ctypes\n    ctypes.CDLL(None)\n", "load a C library (ctypes.dlopen)"),
        ("    import subprocess\n    subprocess.run(['true'])\n", "start a process (subprocess.Popen)"),
    ],
    ids=["rename-outside", "socket", "ctypes", "subprocess"],
)
def test_the_sandbox_refuses_and_scores_zero_even_when_the_error_is_caught(tmp_path: Path, body: str, reason: str) -> None:
    from kafkalab.grading.runner import Limits, Sandbox

    scratch = tmp_path / "learner"
    (scratch / "tmp").mkdir(parents=True)
    (scratch / "ex12_leader_election.py").write_text(
        "import os\n\n\ndef choose_leader(replicas, isr, fenced, unclean_allowed):\n    try:\n"
        + "\n".join("    " + line for line in body.splitlines()) + "\n    except Exception:\n        pass\n    return -1\n",
        encoding="utf-8",
    )
    report = grade(scratch, ["ex12_leader_election"], limits=Limits(cpu_s=10, memory_mb=2048), sandbox=Sandbox(scratch, (ROOT / "solutions",)))
    first = report.exercises[0].results[0]
    assert first.points == 0 and first.message.startswith("refused: your code tried") and reason in first.message, report.to_text()
    assert not Path("/tmp/kafkalab-moved-by-a-learner").exists() and (scratch / "tmp").is_dir()
