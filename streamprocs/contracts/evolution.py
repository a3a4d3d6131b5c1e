"""How a contract set may change against a published one: the rules of ``contracts check``.

A published version is immutable except for ``status`` and ``description``;
versions are never deleted (retire them instead) and are numbered 1..N; a new
version must keep its contract's compatibility mode with the previous
version, or with every previous one for ``_TRANSITIVE`` modes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamprocs.contracts.compat import check_compatibility
from streamprocs.contracts.errors import ContractError
from streamprocs.contracts.loader import CONTRACT_FILE, VERSION_FILE, ContractSet, contract_folders
from streamprocs.contracts.model import MUTABLE_VERSION_FIELDS, Compatibility
from streamprocs.contracts.yamlfile import YamlFileError, load_mapping

# (contract folder relative to the root, version) -> the version file's data
Published = dict[tuple[str, int], dict[str, Any]]


def read_published(root: Path) -> Published:
    """The version files of a published tree, read as plain data.

    Only YAML parsing is required of them: a published tree is history, and a
    lint rule added since must not make it unreadable.
    """
    published: Published = {}
    if not root.is_dir():
        return published
    for folder in contract_folders(root):
        rel = str(folder.relative_to(root))
        for path in folder.iterdir():
            match = VERSION_FILE.match(path.name)
            if not match:
                continue
            try:
                published[(rel, int(match.group(1)))] = load_mapping(path)
            except YamlFileError:
                continue
    return published


def _immutable_part(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in MUTABLE_VERSION_FIELDS}


def _changed_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [k for k in keys if old.get(k) != new.get(k)]


def check_evolution(current: ContractSet, published: Published, ref: str) -> list[ContractError]:
    """Every way ``current`` breaks the promises made by the ``published`` tree at ``ref``."""
    problems: list[ContractError] = []
    root = current.root
    display_root = root.name
    current_by_folder = {str(c.folder.relative_to(root)): c for c in current.contracts.values()}
    for (rel, number), old_data in sorted(published.items()):
        file = f"{display_root}/{rel}/v{number}.yaml"
        contract = current_by_folder.get(rel)
        if contract is None or number not in contract.versions:
            problems.append(
                ContractError(
                    file,
                    "",
                    f"was published at {ref} and is deleted; consumers may still read "
                    "this version: restore it and set 'status: retired' instead",
                )
            )
            continue
        new_data = load_mapping(contract.files[number])
        changed = _changed_keys(_immutable_part(old_data), _immutable_part(new_data))
        if changed:
            problems.append(
                ContractError(
                    file,
                    ", ".join(changed),
                    f"was published at {ref} and may change only in "
                    f"{' and '.join(sorted(MUTABLE_VERSION_FIELDS))}; "
                    f"put this change in a new version v{contract.latest + 1}.yaml",
                )
            )
    for rel, contract in sorted(current_by_folder.items()):
        mode = contract.spec.compatibility
        if mode is Compatibility.NONE:
            continue
        for number in sorted(contract.versions):
            if number == 1 or (rel, number) in published:
                continue
            against = range(1, number) if mode.transitive else [number - 1]
            new_schema = contract.versions[number].schema_
            for old_number in against:
                findings = check_compatibility(
                    contract.versions[old_number].schema_,
                    new_schema,
                    mode,
                    old_label=f"v{old_number}",
                    new_label=f"v{number}",
                )
                for finding in findings:
                    problems.append(
                        ContractError(
                            f"{display_root}/{rel}/v{number}.yaml",
                            f"schema{finding.path.replace('/', '.')}" if finding.path else "schema",
                            f"{finding.message} [{mode.value} against v{old_number}; "
                            f"declared in {CONTRACT_FILE}]",
                        )
                    )
    return problems
