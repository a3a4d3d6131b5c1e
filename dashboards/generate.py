"""Write the dce Grafana dashboards as JSON beside this file, or check they are current.

    python -m dashboards.generate           # regenerate dashboards/*.json
    python -m dashboards.generate --check   # exit 1 if a committed file is stale (CI)

The JSON is what Grafana imports (Dashboards > New > Import, or file provisioning);
edit the Python modules, never the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import contract, overview, team

HERE = Path(__file__).resolve().parent

BOARDS: dict[str, Callable[[], Dashboard]] = {
    "overview.json": overview.build,
    "contract.json": contract.build,
    "team.json": team.build,
}


def _add_annotation_extras(board: dict[str, Any]) -> None:
    for annotation in board.get("annotations", {}).get("list", []):
        annotation.update(overview.ANNOTATION_EXTRAS.get(annotation.get("name"), {}))


def render() -> dict[str, str]:
    """File name -> JSON text, byte-stable so that ``--check`` can compare."""
    out = {}
    for name, build in BOARDS.items():
        board = json.loads(json.dumps(build().build(), cls=JSONEncoder))
        _add_annotation_extras(board)
        out[name] = json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render().items():
        path = args.out / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            stale.append(path)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    for path in stale:
        print(f"out of date: {path} (run python -m dashboards.generate)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
