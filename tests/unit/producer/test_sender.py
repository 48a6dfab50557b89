"""The Sender on its own: requests per broker, in-flight limits, retries, errors by name."""

from __future__ import annotations

from kafkalab.broker.messages import PartitionProduceResponse, ProduceResponse
from kafkalab.errors import MessageTooLargeError, NotLeaderOrFollowerError
from kafkalab.producer import ProducerConfig, RecordAccumulator, Sender
from kafkalab.record import Record

LEADERS = {("t", 0): 0, ("t", 1): 1}


def setup(**config):
    producer_config = ProducerConfig({"linger.ms": 0, "enable.idempotence": "false", **config})
    accumulator = RecordAccumulator(linger_ms=0, retry_backoff_ms=100)
    ids = iter(range(1, 1000))
    return accumulator, Sender(accumulator, producer_config), lambda: next(ids)


def test_one_request_per_broker_and_the_in_flight_limit() -> None:
    accumulator, sender, ids = setup(**{"max.in.flight.requests.per.connection": 2})
    for round_ in range(3):
        accumulator.append("t", 0, Record(None, b"x"), None, now_ms=round_)
        accumulator.append("t", 1, Record(None, b"y"), None, now_ms=round_)
        result = sender.run_once(round_, LEADERS, ids)
        if round_ < 2:
            assert sorted(node for node, _ in result.requests) == [0, 1]
        else:
            assert result.requests == []  # two requests already in flight to each broker
    assert sender.in_flight_count() == 4


def test_not_leader_is_retried_after_a_metadata_refresh_and_too_large_is_final() -> None:
    accumulator, sender, ids = setup()
    accumulator.append("t", 0, Record(None, b"x"), None, now_ms=0)
    (node, request), = sender.run_once(0, LEADERS, ids).requests
    answer = ProduceResponse((PartitionProduceResponse("t", 0, NotLeaderOrFollowerError.error_code, "NOT_LEADER_OR_FOLLOWER: moved"),), request.correlation_id)
    result = sender.on_response(node, answer, now_ms=5)
    assert result.refresh_metadata and result.completions == [] and accumulator.has_undrained()
    (node, request), = sender.run_once(200, LEADERS, ids).requests  # after retry.backoff.ms
    answer = ProduceResponse((PartitionProduceResponse("t", 0, MessageTooLargeError.error_code, "MESSAGE_TOO_LARGE: big"),), request.correlation_id)
    (completion,) = sender.on_response(node, answer, now_ms=205).completions
    assert isinstance(completion.error, MessageTooLargeError) and str(completion.error) == "MESSAGE_TOO_LARGE: big"


def test_a_request_timeout_fails_every_request_on_that_connection() -> None:
    accumulator, sender, ids = setup(**{"request.timeout.ms": 100})
    accumulator.append("t", 0, Record(None, b"a"), None, now_ms=0)
    sender.run_once(0, LEADERS, ids)
    accumulator.append("t", 0, Record(None, b"b"), None, now_ms=50)
    sender.run_once(50, LEADERS, ids)
    assert sender.in_flight_count() == 2
    result = sender.run_once(100, LEADERS, ids)  # the first timed out, so the connection is closed
    assert sender.in_flight_count() == 0 and result.completions == [] and result.requests == []  # both wait out retry.backoff.ms
    assert [b.records[0].value for b in accumulator.batches[("t", 0)]] == [b"a", b"b"]
