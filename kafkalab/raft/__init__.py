"""KRaft's consensus layer: Raft as KIP-595 specifies it, as a sans-IO state machine.

* :mod:`kafkalab.raft.config` — the ``controller.quorum.*`` keys and their 4.x defaults.
* :mod:`kafkalab.raft.messages` — the RPCs: Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch.
* :mod:`kafkalab.raft.log` — the replicated log with its epoch cache (``__cluster_metadata``).
* :mod:`kafkalab.raft.rules` — the two rules everything rests on: whom to vote for and when an
  offset is committed (exercises ex14 and ex15).
* :mod:`kafkalab.raft.client` — ``RaftClient``: one voter's or observer's state machine
  (KafkaRaftClient + QuorumState).
* :mod:`kafkalab.raft.simulation` — ``RaftCluster``: voters on the simulator, faults, invariants.

Kafka: the ``raft`` module (org.apache.kafka.raft.*); KIP-595, KIP-630, KIP-996.
"""
