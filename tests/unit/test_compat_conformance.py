"""dce's BACKWARD verdicts against Confluent Schema Registry's own JSON Schema test data.

The data (131 cases, draft 2020-12) lives outside the repository, in the
shared conformance directory; it is read, never copied. Each case says whether
Confluent, in its strict reading, lets ``update_schema`` follow
``original_schema`` under BACKWARD.

dce must agree on every case except the ones in ``DISAGREEMENTS``, each a
deliberate choice explained in docs/compatibility.md. The list is kept honest
both ways: an unlisted disagreement fails, and so does a listed one that
starts agreeing.

Schemas are compared directly, not wrapped as a property of an event object:
several cases use root-relative references (``#/definitions/someRef``) that
wrapping would break, and ``test_wrapping_in_an_event_gives_the_same_verdict``
shows that wrapping changes no verdict where it is possible.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streamprocs.contracts.compat import check_compatibility
from streamprocs.contracts.model import Compatibility

ENV_VAR = "DCE_CONFORMANCE_DIR"
DEFAULT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
FILES = {
    "diff": "confluent-diff-schema-examples-2020-12.json",
    "combined": "confluent-diff-combined-schema-examples-2020-12.json",
}
CLOSER = re.compile(r"\s*[\]}]")  # what makes the comma before it a trailing one
EXPECTED_CASES = 131
EXPECTED_AGREEMENT = 128

# Case description -> why dce's BACKWARD verdict differs from Confluent's.
DISAGREEMENTS: dict[str, str] = {
    "Detect property added to open content model": (
        "dce: compatible. Declaring an optional property in an open content model says"
        " nothing new about events old producers were allowed to send; Confluent's own"
        " lenient mode agrees."
    ),
    "Detect changes to remove properties": (
        "dce: compatible. Renaming an optional property of an open content model is one"
        " removal (widens) plus one declaration in an open model (see above); Confluent's"
        " lenient mode agrees."
    ),
    "Detect required array to be changed": (
        "dce: incompatible. Requiring `bar` rejects old events that omit it, whether or not"
        " `bar` is declared in `properties`; Confluent only checks declared properties."
    ),
}


@dataclass(frozen=True)
class Case:
    source: str
    index: int
    description: str
    original: Any
    update: Any
    compatible: bool

    @property
    def id(self) -> str:
        return f"{self.source}-{self.index:03d} {self.description}"


def conformance_dir() -> Path:
    override = os.environ.get(ENV_VAR)
    return Path(override) if override else DEFAULT_DIR


def lenient_json(text: str) -> Any:
    """Parse JSON that may carry trailing commas (one case in the data does)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    out: list[str] = []
    in_string = escaped = False
    for position, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "," and CLOSER.match(text, position + 1):
            continue  # a trailing comma outside any string
        out.append(char)
    return json.loads("".join(out))


def load_cases() -> list[Case]:
    """Every case, or [] when the directory is missing (test_data_is_present fails then)."""
    directory = conformance_dir()
    cases = []
    for source, name in FILES.items():
        path = directory / name
        if not path.is_file():
            return []
        for index, raw in enumerate(lenient_json(path.read_text(encoding="utf-8"))):
            cases.append(
                Case(
                    source,
                    index,
                    raw["description"],
                    raw["original_schema"],
                    raw["update_schema"],
                    raw["compatible"],
                )
            )
    return cases


CASES = load_cases()


def dce_backward_ok(original: Any, update: Any) -> bool:
    return check_compatibility(original, update, Compatibility.BACKWARD) == []


def test_data_is_present() -> None:
    """CI always has the data: a missing directory is a failure, never a skip."""
    directory = conformance_dir()
    missing = [name for name in FILES.values() if not (directory / name).is_file()]
    assert not missing, (
        f"conformance data not found: {', '.join(missing)} in {directory}. "
        f"Check out the shared directory next to the repository, or point {ENV_VAR} at it."
    )
    assert len(CASES) == EXPECTED_CASES, f"expected {EXPECTED_CASES} cases, read {len(CASES)}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_verdict_matches_confluent_or_is_a_listed_disagreement(case: Case) -> None:
    findings = check_compatibility(case.original, case.update, Compatibility.BACKWARD)
    ours = findings == []
    if case.description in DISAGREEMENTS:
        assert ours != case.compatible, (
            f"dce now agrees with Confluent on {case.description!r}: remove it from"
            " DISAGREEMENTS and from docs/compatibility.md, and update the figures"
        )
    else:
        assert ours == case.compatible, (
            f"Confluent says compatible={case.compatible}, dce says {ours}: "
            + "; ".join(f.message for f in findings)
        )


def test_each_disagreement_names_exactly_one_case() -> None:
    descriptions = [case.description for case in CASES]
    for description in DISAGREEMENTS:
        assert descriptions.count(description) == 1, description


def test_agreement_figure(record_property: Any) -> None:
    """The headline figure, recorded in the JUnit report and printed with -s / -rA."""
    agreed = sum(dce_backward_ok(case.original, case.update) == case.compatible for case in CASES)
    figure = f"dce agrees with Confluent on {agreed} of {len(CASES)} cases"
    record_property("confluent_agreement", f"{agreed}/{len(CASES)}")
    print(figure)
    assert (agreed, len(CASES)) == (EXPECTED_AGREEMENT, EXPECTED_CASES), figure
    assert len(CASES) - agreed == len(DISAGREEMENTS)


def test_docs_state_the_figure_and_every_disagreement() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert f"dce agrees with Confluent on {EXPECTED_AGREEMENT} of {EXPECTED_CASES}" in text
    for description in DISAGREEMENTS:
        assert description in text, f"docs/compatibility.md does not explain {description!r}"


def _mentions_ref(schema: Any) -> bool:
    return '"$ref"' in json.dumps(schema)


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if not (_mentions_ref(case.original) or _mentions_ref(case.update))],
    ids=lambda case: case.id,
)
def test_wrapping_in_an_event_gives_the_same_verdict(case: Case) -> None:
    """Comparing a schema directly and as the optional property of an event agree."""

    def wrap(schema: Any) -> dict[str, Any]:
        return {"type": "object", "properties": {"value": schema}}

    direct = dce_backward_ok(case.original, case.update)
    assert dce_backward_ok(wrap(case.original), wrap(case.update)) == direct
