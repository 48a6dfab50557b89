"""Feedback that teaches: a wrong byte is shown in a field tree and a hex dump, a lost record in a
picture of the replicas' logs with the events that lost it."""

from __future__ import annotations

from kafkalab.cluster_lab import replica_logs_picture
from kafkalab.durability import Settings, durability_run, loss_story
from kafkalab.record import Record, RecordBatch, encode_batch
from kafkalab.record.dump import diff_fields


def test_a_wrong_field_is_marked_in_the_tree_and_underlined_in_the_hex_dump() -> None:
    good = encode_batch(RecordBatch.of([Record(b"k", b"v")], base_timestamp=1_000))
    bad = bytearray(good)
    bad[61] = 0x06  # the first record's length: 3 instead of 7
    text = diff_fields(good, bytes(bad)).explain()
    assert "first wrong field: records[0].length at byte 61" in text
    marked = [line for line in text.splitlines() if line.lstrip().startswith("✗")]
    assert len(marked) == 1 and "length" in marked[0] and "← expected" in marked[0]
    assert "attributes  (5 fields, 2 bytes)" in text  # fields off the path stay folded
    dump = text.splitlines()
    underline = next(i for i, line in enumerate(dump) if set(line.strip()) == {"^"})
    assert dump[underline - 1].startswith("000048") and dump[underline].index("^") == dump[underline - 1].index(" 06 ") + 1


def test_a_loss_is_pictured_replica_by_replica_with_its_story() -> None:
    run = durability_run(Settings(1, 3, 1, True), 5, writes=25)  # acks=1 and unclean elections: seed 5 loses entry-20
    assert run.acknowledged_lost == [b"entry-20"]
    picture = replica_logs_picture(run.cluster, "ledger", run.acknowledged_values)
    rows = [line for line in picture.splitlines() if line.startswith("  broker")]
    assert len(rows) == 3
    column = run.acknowledged_values.index(b"entry-20")
    assert all(row.split()[-1][column] == "·" for row in rows)
    assert picture.splitlines()[-2].index("^") == rows[0].index(rows[0].split()[-1]) + column
    assert "acknowledged, then on no replica: entry-20" in picture
    assert any("truncates 1 record(s)" in line for line in loss_story(run))


def test_a_failed_election_check_shows_the_replicas_and_the_events(tmp_path) -> None:
    from pathlib import Path

    from kafkalab.grading import grade

    root = Path(__file__).resolve().parents[2]
    source = (root / "solutions" / "ex12_leader_election.py").read_text(encoding="utf-8")
    (tmp_path / "ex12_leader_election.py").write_text(
        source.replace("if replica in isr and replica not in fenced:", "if replica not in fenced:"), encoding="utf-8")
    result = grade(tmp_path, ["ex12_leader_election"]).exercises[0]
    message = next(r.message for r in result.results if r.name == "failovers_with_your_election_keep_acknowledged_records")
    assert message.startswith("leader once only an out-of-sync replica is alive (unclean election off): expected -1, got 1 (seed 4)")
    assert "the replicas of orders-0 at" in message and "broker  role    in ISR  log end offset" in message
    assert "controller fences broker 0 (new leader: orders-0->1)" in message  # the election that should not have happened
