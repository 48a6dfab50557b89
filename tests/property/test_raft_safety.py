"""Seed sweeps over random crashes, restarts, partitions and appends, for quorums of 1 to 7 voters,
with RaftEventSimulationTest's invariants after every event: one leader per epoch, epochs and high
watermarks that never go back, committed data never lost. Afterwards the quorum must recover."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.raft.scenarios import logs_picture, random_faults
from kafkalab.raft.simulation import RaftCluster


@settings(derandomize=True, max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), voters=st.sampled_from([1, 3, 4, 5, 7]), unreliable=st.booleans(),
       pre_vote=st.booleans())
def test_raft_safety_and_recovery(seed: int, voters: int, unreliable: bool, pre_vote: bool) -> None:
    cluster = RaftCluster(voters=voters, seed=seed, pre_vote=pre_vote)
    if unreliable:
        cluster.set_unreliable(drop_rate=0.05, jitter_ms=20, reorder=True)
    actions = random_faults(cluster, seed, steps=30)
    committed_before = dict(cluster.committed)
    cluster.heal()
    cluster.network.set_default(drop_rate=0.0, jitter_ms=0, reorder=False)
    for node in cluster.voter_ids:
        if not cluster.nodes[node].alive:
            cluster.restart(node)
    for _attempt in range(5):  # an append can be lost with its leader, uncommitted: a client retries
        cluster.check_one_leader(30_000)
        offset = cluster.append("after the storm")
        if offset is not None and cluster.wait_committed(offset, 10_000, value="after the storm"):
            break
    else:
        raise AssertionError("the quorum never committed a record after healing\n" + "\n".join(actions) + "\n" + logs_picture(cluster))

    def converged() -> bool:
        clients = [cluster.client(node) for node in cluster.voter_ids]
        return len({(c.high_watermark, c.log.end_offset) for c in clients}) == 1

    assert cluster.run_until(converged, 30_000), logs_picture(cluster)
    for node in cluster.voter_ids:
        client = cluster.client(node)
        for committed_offset, entry in committed_before.items():
            assert client.log.entries[committed_offset] == entry
