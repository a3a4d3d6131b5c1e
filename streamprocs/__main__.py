"""``python -m streamprocs`` is ``dce``."""

from streamprocs.cli.main import app

app()
