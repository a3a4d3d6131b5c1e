"""Dead letters: ``dce dlq inspect`` (what is in a dead-letter topic) and ``dce dlq replay``
(send back what the current contracts accept, exactly once). Guide: docs/dlq.md.

The pure parts never import a Kafka client, so they are unit-testable:
``record`` (a dead-letter record and its envelope), ``filters``, ``inspect``
(the summary as data), ``decision`` (what replay does with one record, and the
headers it writes), ``options``, ``bucket`` (rate limiting), ``audit`` (the
run's report and audit record) and ``render`` (rich output). Kafka I/O lives
in ``reader`` (reading a topic without moving any consumer group),
``transactions`` (the transactional producer) and ``replay`` (the engine).
"""
