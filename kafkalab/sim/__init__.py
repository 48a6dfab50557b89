"""The deterministic simulator every chapter runs on: virtual time, seeded randomness, an
in-memory network with faults, nodes that crash and restart, invariants and a trace.

Same seed, same run: ``Simulator(seed=7).trace.digest()`` is identical in every process.
"""

from kafkalab.sim.network import LinkConfig, Network, Verdict
from kafkalab.sim.node import Node
from kafkalab.sim.simulator import Event, InvariantViolation, SimulationError, Simulator
from kafkalab.sim.trace import Trace, TraceRecord

__all__ = [
    "Event",
    "InvariantViolation",
    "LinkConfig",
    "Network",
    "Node",
    "SimulationError",
    "Simulator",
    "Trace",
    "TraceRecord",
    "Verdict",
]
