"""``isolation.level=read_committed``: which fetched records a consumer may return.

The broker already stops a read_committed fetch at the **last stable offset**, so every
transaction in the answer is finished — committed or aborted. What is left for the consumer is
to drop the records of *aborted* transactions and the markers themselves. The fetch response
lists the aborted transactions that overlap it: (producer id, first offset). Walking the records
in offset order:

* once the walk reaches an aborted transaction's first offset, that producer's transactional
  records are aborted — until its ABORT marker, which ends the range;
* control records (COMMIT/ABORT markers) are never returned to the application;
* everything else is returned: non-transactional records, and committed transactions.

With ``read_uncommitted`` (the default) only the markers are dropped: aborted records are
returned like any other.

Kafka: org.apache.kafka.clients.consumer.internals.CompletedFetch (abortedProducerIds,
consumeAbortedTransactionsUpTo, isBatchAborted), FetchCollector; KIP-98.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from kafkalab.broker.transactions import AbortedTransaction, parse_control_key
from kafkalab.log import StoredRecord


def visible_records(records: Sequence[StoredRecord], aborted_transactions: Iterable[AbortedTransaction]) -> list[StoredRecord]:
    """The records a read_committed consumer returns, in offset order (markers and aborted records dropped)."""
    # BEGIN EXERCISE ex09_read_committed
    upcoming = sorted(aborted_transactions, key=lambda a: (a.first_offset, a.producer_id))
    aborted_producers: set[int] = set()
    visible = []
    for record in sorted(records, key=lambda r: r.offset):
        while upcoming and upcoming[0].first_offset <= record.offset:
            aborted_producers.add(upcoming.pop(0).producer_id)
        if record.is_control:
            if not parse_control_key(record.key or b"") and record.producer_id in aborted_producers:
                aborted_producers.discard(record.producer_id)  # the ABORT marker ends the aborted range
            continue
        if record.is_transactional and record.producer_id in aborted_producers:
            continue
        visible.append(record)
    return visible
    # END EXERCISE
