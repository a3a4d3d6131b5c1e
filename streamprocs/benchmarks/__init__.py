"""``dce bench``: the enforcer's throughput, latency and memory next to its ceiling and rivals.

One invocation produces the same realistic input (the example contracts' mix,
~3% invalid) once, then runs every scenario on it, each in its own process:

- ``ceiling``: a confluent-kafka consume -> produce passthrough, no validation;
- ``dce_at_least_once`` / ``dce_exactly_once``: the real :class:`Enforcer`;
- ``faust``: a faust-streaming agent forwarding every event;
- ``naive_jsonschema``: the ceiling's loop validating with pure-Python ``jsonschema``.

Modules: :mod:`scenarios` (what runs), :mod:`runner` (the whole session),
:mod:`child` (a worker process), :mod:`worker` and the loops
it runs (:mod:`loops`, :mod:`naive`, :mod:`enforcer_run`, :mod:`faust_run`),
:mod:`inputs` / :mod:`topics` / :mod:`readback` (Kafka plumbing), and the pure
:mod:`stats` / :mod:`results` / :mod:`report`.
"""
