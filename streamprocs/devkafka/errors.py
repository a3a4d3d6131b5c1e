"""Errors of the dev broker, each carrying a message a person can act on."""

from __future__ import annotations


class DevKafkaError(Exception):
    """A dev-broker operation failed at run time (the broker died, did not answer, ...)."""


class DevKafkaConfigError(DevKafkaError):
    """This machine or these arguments cannot run the broker.

    A missing JDK or Maven, bad ports, or a port held by another process: nothing a retry fixes.
    The CLI maps it to exit code 2 (usage/config error) and every other `DevKafkaError` to 1.
    """
