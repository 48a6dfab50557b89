"""Seed sweeps over a ZooKeeper ensemble: random crashes, restarts, partitions and writes, with
"one leader per epoch" and "every server applies the same transaction at the same zxid" checked
after every event; once healed, every server ends with the same tree and every acknowledged write
is in it."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.zookeeper.ensemble import ZooKeeperEnsemble


@settings(derandomize=True, max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), servers=st.sampled_from([1, 3, 5]))
def test_zab_agreement_under_faults(seed: int, servers: int) -> None:
    rng = random.Random(seed)
    ensemble = ZooKeeperEnsemble(servers, seed=seed, tick_ms=500)
    ensemble.wait_for_leader()
    client = ensemble.client("writer", session_timeout_ms=60_000)
    ensemble.wait_connected(client)
    acknowledged: list[str] = []
    for step in range(25):
        action = rng.random()
        down = [sid for sid in ensemble.ids if not ensemble.servers[sid].alive]
        up = [sid for sid in ensemble.ids if ensemble.servers[sid].alive]
        if action < 0.15 and len(down) < servers // 2 and len(up) > 1:
            ensemble.crash(rng.choice(up))
        elif action < 0.3 and down:
            ensemble.restart(rng.choice(down))
        elif action < 0.4 and servers > 1:
            side = rng.sample(list(ensemble.ids), rng.randint(1, servers // 2))
            ensemble.heal()
            ensemble.partition([f"zk-{sid}" for sid in side], [f"zk-{sid}" for sid in ensemble.ids if sid not in side])
        elif action < 0.5:
            ensemble.heal()
        else:
            path = f"/n{step}"
            client.create(path, b"", lambda error, result, p=path: acknowledged.append(p) if not error else None)
        ensemble.run(rng.randint(200, 2_000))
    ensemble.heal()
    for sid in ensemble.ids:
        if not ensemble.servers[sid].alive:
            ensemble.restart(sid)
    ensemble.wait_for_leader(60_000)

    def converged() -> bool:
        servers_up = [ensemble.server(sid) for sid in ensemble.ids]
        return all(s is not None and s.serving for s in servers_up) and len({s.tree.digest() for s in servers_up}) == 1

    assert ensemble.sim.run_until(converged, 60_000), ensemble.describe()
    tree = ensemble.server(ensemble.ids[0]).tree
    for path in acknowledged:
        assert tree.exists(path) is not None, f"{path} was acknowledged and is gone"
