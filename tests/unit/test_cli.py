"""The ``dce`` CLI: output shapes scripts rely on, and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from streamprocs.cli.main import app

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"
runner = CliRunner()


def dce(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def test_version_prints_the_package_version() -> None:
    """``dce --version`` answers with the installed version."""
    code, output = dce("--version")
    assert code == 0
    assert output.startswith("dce ")


def test_lint_passes_on_the_shipped_contracts() -> None:
    """The example contracts and their examples are clean."""
    code, output = dce("contracts", "lint", str(CONTRACTS))
    assert code == 0, output
    assert "3 contracts" in output


def test_lint_exits_1_and_names_the_file_on_a_broken_contract(tmp_path: Path) -> None:
    """A contract problem is a finding of the check (exit 1) naming file and field."""
    root = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, root)
    path = root / "checkout/order_created/contract.yaml"
    path.write_text(path.read_text() + "\ncompatibilty: FULL\n")
    code, output = dce("contracts", "lint", str(root), "--json")
    assert code == 1
    report = json.loads(output)
    assert report["ok"] is False
    assert {k: report["problems"][0][k] for k in ("file", "field")} == {
        "file": "contracts/checkout/order_created/contract.yaml",
        "field": "compatibilty",
    }


def test_list_json_has_the_fixed_fields() -> None:
    """``contracts list --json`` rows carry id, owner, versions and topics."""
    code, output = dce("contracts", "list", "--dir", str(CONTRACTS), "--json")
    assert code == 0
    rows = json.loads(output)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    for row in rows:
        assert set(row) == {"id", "owner", "versions", "topics"}
        assert row["owner"]["team"]
        assert [v["version"] for v in row["versions"]] == list(range(1, len(row["versions"]) + 1))
        assert row["topics"]


def test_list_on_unusable_contracts_exits_2(tmp_path: Path) -> None:
    """Commands that need a loaded set cannot run on a broken one: usage/config error."""
    code, _ = dce("contracts", "list", "--dir", str(tmp_path / "missing"))
    assert code == 2


def test_show_latest_and_pinned_version() -> None:
    """``show ID`` picks the latest version, ``show ID@1`` the first, and lists PII paths."""
    code, output = dce(
        "contracts", "show", "payments.payment_captured", "--dir", str(CONTRACTS), "--json"
    )
    assert code == 0
    data = json.loads(output)
    latest = data["version"]["version"]
    assert latest == 2
    assert data["pii_paths"]
    code, output = dce(
        "contracts", "show", "payments.payment_captured@1", "--dir", str(CONTRACTS), "--json"
    )
    assert json.loads(output)["version"]["version"] == 1


def test_show_unknown_contract_exits_2() -> None:
    code, output = dce("contracts", "show", "nope.nothing", "--dir", str(CONTRACTS))
    assert code == 2
    assert "no contract" in output


def test_validate_valid_examples_exit_0() -> None:
    example = CONTRACTS / "checkout/order_created/examples/v2.valid.jsonl"
    code, output = dce(
        "validate", "--contract", "checkout.order_created@2", str(example), "--dir", str(CONTRACTS)
    )
    assert code == 0, output


def test_validate_json_lines_report_each_line_and_exit_1_on_invalid() -> None:
    """``--json`` prints one verdict per input line; any invalid line makes exit 1."""
    example = CONTRACTS / "checkout/order_created/examples/v2.invalid.jsonl"
    lines = [ln for ln in example.read_text().splitlines() if ln.strip()]
    code, output = dce(
        "validate",
        "--contract",
        "checkout.order_created@2",
        str(example),
        "--dir",
        str(CONTRACTS),
        "--json",
    )
    assert code == 1
    verdicts = [json.loads(ln) for ln in output.splitlines()]
    assert len(verdicts) == len(lines)
    for verdict in verdicts:
        assert verdict["valid"] is False
        assert verdict["version"] == 2
        for v in verdict["violations"]:
            assert {"reason", "rule", "path", "message"} <= set(v)


def test_validate_reads_stdin_and_uses_the_version_the_event_names() -> None:
    """Without ``@VERSION``, a pointer version source picks the version per event."""
    example = CONTRACTS / "payments/payment_captured/examples/v1.valid.jsonl"
    code, output = dce(
        "validate",
        "--contract",
        "payments.payment_captured",
        "-",
        "--dir",
        str(CONTRACTS),
        "--json",
        stdin=example.read_text(),
    )
    assert code == 0, output
    assert {json.loads(ln)["version"] for ln in output.splitlines()} == {1}


def test_validate_garbage_line_is_a_decode_verdict() -> None:
    code, output = dce(
        "validate",
        "--contract",
        "checkout.order_created@1",
        "-",
        "--dir",
        str(CONTRACTS),
        "--json",
        stdin="{not json\n",
    )
    assert code == 1
    assert json.loads(output)["violations"][0]["reason"] == "decode"


def test_validate_unknown_version_exits_2() -> None:
    code, _ = dce(
        "validate",
        "--contract",
        "checkout.order_created@99",
        "-",
        "--dir",
        str(CONTRACTS),
        stdin="",
    )
    assert code == 2


def test_codeowners_maps_each_folder_to_its_team() -> None:
    code, output = dce("contracts", "codeowners", "--dir", str(CONTRACTS), "--org", "acme")
    assert code == 0, output
    lines = [ln for ln in output.splitlines() if not ln.startswith("#")]
    assert len(lines) == 3
    for line in lines:
        path, owner = line.split()
        assert path.startswith("/contracts/") and path.endswith("/")
        assert owner.startswith("@")


# --- check --against: a real git repository in tmp_path ---------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose first commit publishes the example contracts."""
    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "publish")
    return tmp_path


def check(repo: Path) -> tuple[int, dict[str, object]]:
    code, output = dce(
        "contracts", "check", "--against", "main", "--dir", str(repo / "contracts"), "--json"
    )
    return code, json.loads(output)


def test_check_unchanged_tree_passes(repo: Path) -> None:
    code, report = check(repo)
    assert code == 0, report


def test_check_allows_status_and_description_changes(repo: Path) -> None:
    path = repo / "contracts/checkout/order_created/v1.yaml"
    text = path.read_text()
    path.write_text(text.replace("status: active", "status: deprecated", 1) + "\n")
    code, report = check(repo)
    assert code == 0, report


def _edit_version(
    path: Path, change: Callable[[dict[str, Any]], None], to: Path | None = None
) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    (to or path).write_text(yaml.safe_dump(data, sort_keys=False))


def test_check_rejects_an_edited_published_version(repo: Path) -> None:
    """Editing a published schema is refused; the fix is a new version."""
    path = repo / "contracts/checkout/order_created/v1.yaml"
    _edit_version(path, lambda d: d["schema"]["properties"].update(extra={"type": "string"}))
    code, report = check(repo)
    assert code == 1
    problems = report["problems"]
    assert isinstance(problems, list)
    assert any(
        p["file"].endswith("order_created/v1.yaml")
        and p["field"] == "schema"
        and "new version" in p["message"]
        for p in problems
    )


def test_check_rejects_a_deleted_version(repo: Path) -> None:
    (repo / "contracts/identity/user_signed_up/v3.yaml").unlink()
    code, report = check(repo)
    assert code == 1
    assert any("deleted" in p["message"] for p in report["problems"])  # type: ignore[attr-defined]


def _add_version(repo: Path, change: Callable[[dict[str, Any]], None]) -> None:
    folder = repo / "contracts/checkout/order_created"
    latest = max(int(p.stem[1:]) for p in folder.glob("v*.yaml"))

    def bump(data: dict[str, Any]) -> None:
        data["version"] = latest + 1
        change(data)

    _edit_version(folder / f"v{latest}.yaml", bump, to=folder / f"v{latest + 1}.yaml")


def test_check_rejects_an_incompatible_new_version(repo: Path) -> None:
    """A new version that requires a field old events lack breaks BACKWARD."""

    def require_new_field(data: dict[str, Any]) -> None:
        data["schema"]["properties"]["brand_new_field"] = {"type": "string"}
        data["schema"]["required"].append("brand_new_field")

    _add_version(repo, require_new_field)
    code, report = check(repo)
    assert code == 1, report
    assert any("brand_new_field" in p["message"] for p in report["problems"])  # type: ignore[attr-defined]


def test_check_accepts_a_compatible_new_version(repo: Path) -> None:
    _add_version(repo, lambda d: None)
    code, report = check(repo)
    assert code == 0, report


def test_check_unknown_ref_exits_2(repo: Path) -> None:
    code, _ = dce(
        "contracts", "check", "--against", "no-such-ref", "--dir", str(repo / "contracts")
    )
    assert code == 2
