"""``python -m kafkalab`` is the ``kafkalab`` command."""

from kafkalab.cli import main

raise SystemExit(main())
