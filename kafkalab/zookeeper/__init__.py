"""ZooKeeper, modelled for the controllers chapter: what Kafka's ZooKeeper mode stood on.

* :mod:`kafkalab.zookeeper.data_tree` — znodes (persistent, ephemeral, sequential) with their
  versions and zxids, the transactions that change them, and one-shot watches.
* :mod:`kafkalab.zookeeper.zab` — one ensemble member (QuorumPeer): fast leader election, ZAB's
  discovery and synchronisation, atomic broadcast (a proposal commits when a majority acknowledges),
  local (possibly stale) reads, ``sync``, sessions that expire and take their ephemeral znodes along.
* :mod:`kafkalab.zookeeper.ensemble` — an ensemble and its clients on the simulator.

Kafka used ZooKeeper until 3.x; Kafka 4.0 removed ZooKeeper mode (KIP-833). ZooKeeper: Apache
ZooKeeper 3.8 (org.apache.zookeeper.server.DataTree, quorum.QuorumPeer, FastLeaderElection, Leader,
Follower, SessionTrackerImpl, WatchManager); Junqueira, Reed, Serafini, "Zab: High-performance
broadcast for primary-backup systems" (DSN 2011).
"""
