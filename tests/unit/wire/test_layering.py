"""The simulator core stays pure Python for the browser edition: no asyncio, protocol library, Kafka client or wire layer (the stdlib may import the socket module itself)."""

from __future__ import annotations

import subprocess
import sys


def test_the_chapters_modules_never_import_the_wire_layer():
    code = (
        "import sys\n"
        "import kafkalab.cluster, kafkalab.raft.kraft_cluster, kafkalab.zookeeper.kafka_zk_mode, kafkalab.consumer, "
        "kafkalab.producer, kafkalab.cli\n"
        "kafkalab.cli.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m in ('kio', 'asyncio', 'kafka', 'confluent_kafka') "
        "or m.startswith(('kafkalab.wire', 'kafkalab.storage', 'kio.')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
