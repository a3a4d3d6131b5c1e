"""``python -m streamprocs.benchmarks``: ``dce bench`` without the CLI's registration."""

from __future__ import annotations

import typer

from streamprocs.cli.bench import bench


def main() -> None:
    typer.run(bench)


if __name__ == "__main__":
    main()
