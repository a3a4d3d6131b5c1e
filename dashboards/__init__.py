"""Grafana dashboards for dce, generated with the Grafana Foundation SDK (see generate.py)."""
