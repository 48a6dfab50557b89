"""The vote and commit rules on hand-made cases (the reference answers of exercises ex14 and ex15)."""

from __future__ import annotations

import pytest

from kafkalab.errors import ConfigError
from kafkalab.raft.config import QuorumConfig, parse_voters
from kafkalab.raft.messages import VoteRequest
from kafkalab.raft.rules import VoterState, can_grant_vote, is_log_up_to_date, leader_high_watermark


def voter(role: str = "unattached", voted: int = -1, leader: int = -1, last_epoch: int = 2, end: int = 10,
          fetched: bool = False) -> VoterState:
    return VoterState(node_id=3, epoch=5, role=role, voted_id=voted, leader_id=leader, last_epoch=last_epoch,
                      end_offset=end, fetched_from_leader=fetched)


def ask(candidate: int = 1, last_epoch: int = 2, end: int = 10, pre_vote: bool = False) -> VoteRequest:
    return VoteRequest(candidate_epoch=5, candidate_id=candidate, last_offset_epoch=last_epoch, last_offset=end, pre_vote=pre_vote)


def test_up_to_date_compares_epoch_before_offset() -> None:
    assert is_log_up_to_date(3, 1, 2, 100)
    assert not is_log_up_to_date(2, 99, 2, 100)
    assert is_log_up_to_date(2, 100, 2, 100)


def test_one_vote_per_epoch() -> None:
    assert can_grant_vote(voter(), ask(1))
    assert not can_grant_vote(voter(voted=1), ask(2))
    assert can_grant_vote(voter(voted=1), ask(1))  # the same candidate asking again (its answer was lost)


def test_no_vote_for_a_log_that_is_behind_or_while_a_leader_is_known() -> None:
    assert not can_grant_vote(voter(), ask(last_epoch=1, end=50))
    assert not can_grant_vote(voter(), ask(end=9))
    for role in ("leader", "follower", "resigned"):
        assert not can_grant_vote(voter(role=role, leader=2), ask())
    assert not can_grant_vote(voter(role="candidate", voted=3), ask())


def test_pre_votes() -> None:
    assert can_grant_vote(voter(role="follower", leader=2), ask(pre_vote=True))  # not heard from its leader yet
    assert not can_grant_vote(voter(role="follower", leader=2, fetched=True), ask(pre_vote=True))
    assert not can_grant_vote(voter(role="leader", leader=3), ask(pre_vote=True))
    assert can_grant_vote(voter(voted=2), ask(1, pre_vote=True))  # a pre-vote is not a vote
    assert not can_grant_vote(voter(), ask(end=3, pre_vote=True))


@pytest.mark.parametrize("ends, start, hw, expected", [
    ({1: 10, 2: 8, 3: 4}, 2, -1, 8),      # the second largest of three
    ({1: 10, 2: 8, 3: -1}, 9, -1, -1),    # a majority reaches 8, not past this epoch's start (9): nothing yet
    ({1: 10, 2: 10, 3: 10}, 9, -1, 10),
    ({1: 10, 2: 7, 3: 7, 4: 3, 5: -1}, 5, 6, 7),  # five voters: the third largest
    ({1: 10, 2: 5, 3: 5}, 2, 6, 6),       # never backwards
    ({1: 4}, 3, -1, 4),                   # a quorum of one
])
def test_leader_high_watermark(ends: dict[int, int], start: int, hw: int, expected: int) -> None:
    assert leader_high_watermark(ends, start, hw) == expected


def test_quorum_config_keys_and_voters() -> None:
    config = QuorumConfig({"controller.quorum.election.timeout.ms": "500"})
    assert config.election_timeout_ms == 500 and config.fetch_timeout_ms == 2000
    assert config.check_quorum_timeout_ms == 3000
    with pytest.raises(ConfigError, match="did you mean controller.quorum.fetch.timeout.ms"):
        QuorumConfig({"controller.quorum.fetch.timeout": 10})
    assert parse_voters("1@localhost:9093, 2@localhost:9094,3@h:1") == (1, 2, 3)
    with pytest.raises(ConfigError, match="id@host:port"):
        parse_voters("localhost:9093")
    with pytest.raises(ConfigError, match="twice"):
        parse_voters([1, 1])
