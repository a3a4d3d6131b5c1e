"""Prometheus alert rules for dce, generated from one Python source of truth.

- ``static``: the platform's rules (dead-letter growth, lag, reloads, transactions,
  enforcer down, a default violation-ratio threshold);
- ``sla``: per-contract rules from each contract's ``sla:``, with the owner's team;
- ``model``: rules as data, rendered both as a plain rules file and as a
  prometheus-operator ``PrometheusRule``;
- ``files``: what ``dce alerts generate`` writes to ``deploy/prometheus/``.
"""
