"""Contract files on disk -> a compiled ``ContractSet``, with every error at once.

Layout: ``<root>/<domain>/<event>/contract.yaml`` plus ``v<N>.yaml`` per
version. Everything is checked before anything is used: file syntax, the
pydantic models, the folder/id match, version numbering, JSON Schema
meta-validation, CEL compilation and conflicts between contracts' bindings.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from streamprocs.contracts.compiler import (
    CompiledVersion,
    Limits,
    SchemaCompileError,
    compile_schema,
    compile_version,
    top_level_properties,
)
from streamprocs.contracts.errors import ContractError, ContractSetError, field_path
from streamprocs.contracts.model import ContractFile, Status, VersionFile
from streamprocs.contracts.rules import RuleCompileError, compile_rule
from streamprocs.contracts.yamlfile import YamlFileError, load_mapping

CONTRACT_FILE = "contract.yaml"
VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.yaml$")
# Folders inside a contract folder that are not versions.
AUX_DIRS = frozenset({"examples"})
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Contract:
    spec: ContractFile
    folder: Path
    versions: dict[int, VersionFile] = field(repr=False)
    compiled: dict[int, CompiledVersion] = field(repr=False)
    files: dict[int, Path] = field(default_factory=dict, repr=False)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def team(self) -> str:
        return self.spec.owner.team

    @property
    def latest(self) -> int:
        return max(self.versions)

    def default_version(self) -> int | None:
        """The version an event that names none is judged by (None: every version retired)."""
        if self.spec.default_version is not None:
            return self.spec.default_version
        usable = [n for n, v in self.versions.items() if v.status is not Status.RETIRED]
        return max(usable) if usable else None


@dataclass(frozen=True)
class ContractSet:
    root: Path
    contracts: dict[str, Contract]
    revision: str

    def get(self, contract_id: str) -> Contract | None:
        return self.contracts.get(contract_id)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _pydantic_errors(exc: ValidationError, file: str) -> list[ContractError]:
    out = []
    for err in exc.errors():
        loc = field_path(err["loc"])
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (a typo?); remove it or fix its spelling"
        elif err["type"] == "missing":
            message = "required key is missing; add it"
        elif err["type"] == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            message = f"{err['input']!r} is not allowed; use one of {expected}"
        out.append(ContractError(file, loc, message))
    return out


def revision_of(root: Path) -> str:
    """A content hash of every YAML file under ``root``: same files, same revision."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def _load_model(path: Path, model: type[Any], root: Path, errors: list[ContractError]) -> Any:
    file = _rel(path, root)
    try:
        data = load_mapping(path)
    except YamlFileError as exc:
        errors.append(ContractError(file, exc.field, str(exc)))
        return None
    except OSError as exc:
        errors.append(ContractError(file, "", f"cannot read the file: {exc.strerror}"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors.extend(_pydantic_errors(exc, file))
        return None


def _check_schema(version: VersionFile, file: str, errors: list[ContractError]) -> bool:
    schema = version.schema_
    ok = True
    dialect = schema.get("$schema")
    if dialect is not None and dialect != DRAFT_2020_12:
        errors.append(
            ContractError(file, "schema.$schema", f"must be {DRAFT_2020_12!r} (or left out)")
        )
        ok = False
    if schema.get("type") != "object":
        errors.append(
            ContractError(
                file, "schema.type", "an event schema must declare 'type: object' at the top"
            )
        )
        ok = False
    _check_pii_flags(schema, "schema", file, errors)
    try:
        compile_schema(schema)
    except SchemaCompileError as exc:
        errors.append(ContractError(file, "schema", str(exc)))
        ok = False
    return ok


# Keywords whose value maps *names* (of properties, definitions) to subschemas:
# their keys are data, so a property called "x-pii" is not a flag.
_NAMED_SUBSCHEMAS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)


def _check_pii_flags(node: Any, where: str, file: str, errors: list[ContractError]) -> None:
    if isinstance(node, dict):
        if "x-pii" in node and not isinstance(node["x-pii"], bool):
            errors.append(
                ContractError(file, f"{where}.x-pii", "must be true or false (a YAML boolean)")
            )
        for key, sub in node.items():
            if key in _NAMED_SUBSCHEMAS and isinstance(sub, dict):
                for name, schema in sub.items():
                    _check_pii_flags(schema, f"{where}.{key}.{name}", file, errors)
            else:
                _check_pii_flags(sub, f"{where}.{key}", file, errors)
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            _check_pii_flags(sub, f"{where}[{i}]", file, errors)


def _check_rules(version: VersionFile, file: str, errors: list[ContractError]) -> bool:
    known = top_level_properties(version.schema_)
    ok = True
    for i, rule in enumerate(version.rules):
        try:
            compile_rule(rule, known)
        except RuleCompileError as exc:
            errors.append(ContractError(file, f"rules[{i}].expr", f"rule {rule.id!r} {exc}"))
            ok = False
    return ok


def _load_contract(
    folder: Path, root: Path, limits: Limits, errors: list[ContractError]
) -> tuple[ContractFile | None, Contract | None]:
    """The folder's contract.yaml (when it parses) and the whole contract (when all is well)."""
    contract_path = folder / CONTRACT_FILE
    before = len(errors)
    spec: ContractFile | None = _load_model(contract_path, ContractFile, root, errors)
    expected_id = f"{folder.parent.name}.{folder.name}"
    if spec is not None and spec.id != expected_id:
        errors.append(
            ContractError(
                _rel(contract_path, root),
                "id",
                f"is {spec.id!r} but the folder says {expected_id!r}; "
                "the id must be <domain>.<event> of its folder",
            )
        )
    versions: dict[int, VersionFile] = {}
    files: dict[int, Path] = {}
    # Numbering is judged on the file names, so a gap is reported even when
    # some version file has errors of its own.
    numbered: set[int] = set()
    for path in sorted(folder.iterdir()):
        if path.name == CONTRACT_FILE or (path.is_dir() and path.name in AUX_DIRS):
            continue
        file = _rel(path, root)
        match = VERSION_FILE.match(path.name)
        if not match:
            errors.append(
                ContractError(
                    file,
                    "",
                    "unexpected file in a contract folder; only contract.yaml, v<N>.yaml "
                    f"and {', '.join(sorted(AUX_DIRS))}/ belong here",
                )
            )
            continue
        number = int(match.group(1))
        numbered.add(number)
        version: VersionFile | None = _load_model(path, VersionFile, root, errors)
        if version is None:
            continue
        if version.version != number:
            errors.append(
                ContractError(
                    file,
                    "version",
                    f"is {version.version} but the file is named v{number}.yaml; make them agree",
                )
            )
            continue
        schema_ok = _check_schema(version, file, errors)
        if schema_ok:
            _check_rules(version, file, errors)
        versions[number] = version
        files[number] = path
    contract_file = _rel(contract_path, root)
    if not numbered:
        errors.append(
            ContractError(contract_file, "", "the contract has no version; add v1.yaml beside it")
        )
    else:
        missing = sorted(set(range(1, max(numbered) + 1)) - numbered)
        if missing:
            errors.append(
                ContractError(
                    contract_file,
                    "",
                    f"versions must be numbered 1..N without gaps; missing "
                    f"{', '.join(f'v{n}.yaml' for n in missing)}",
                )
            )
    if spec is not None and spec.default_version is not None and versions:
        dv = versions.get(spec.default_version)
        if dv is None:
            errors.append(
                ContractError(
                    contract_file,
                    "default_version",
                    f"names v{spec.default_version}, which does not exist",
                )
            )
        elif dv.status is Status.RETIRED:
            errors.append(
                ContractError(
                    contract_file,
                    "default_version",
                    f"names v{spec.default_version}, which is retired; pick a live version",
                )
            )
    if spec is None or len(errors) != before:
        return spec, None
    compiled = {n: compile_version(spec.id, v, limits) for n, v in versions.items()}
    contract = Contract(spec=spec, folder=folder, versions=versions, compiled=compiled, files=files)
    return spec, contract


def _check_bindings(
    specs: list[tuple[ContractFile, Path]], root: Path, errors: list[ContractError]
) -> None:
    """Topics bound by several contracts must tell them apart; outputs must not be inputs.

    Runs on every contract.yaml that parsed, even when its versions have
    errors, so that one lint run reports binding conflicts too.
    """
    by_topic: dict[str, list[tuple[ContractFile, Path, int]]] = {}
    for spec, folder in specs:
        for i, binding in enumerate(spec.bindings):
            by_topic.setdefault(binding.topic, []).append((spec, folder, i))
    for spec, folder in specs:
        file = _rel(folder / CONTRACT_FILE, root)
        for i, binding in enumerate(spec.bindings):
            for kind, topic in (("output", binding.output), ("dead_letter", binding.dead_letter)):
                if topic in by_topic:
                    errors.append(
                        ContractError(
                            file,
                            f"bindings[{i}].{kind}",
                            f"{topic!r} is also a topic the enforcer reads "
                            f"(bound by {by_topic[topic][0][0].id}); events would loop",
                        )
                    )
    outputs = {b.output: spec.id for spec, _ in specs for b in spec.bindings}
    for spec, folder in specs:
        for i, binding in enumerate(spec.bindings):
            if binding.dead_letter in outputs:
                errors.append(
                    ContractError(
                        _rel(folder / CONTRACT_FILE, root),
                        f"bindings[{i}].dead_letter",
                        f"{binding.dead_letter!r} is the output topic of "
                        f"{outputs[binding.dead_letter]}; invalid events would reach consumers "
                        "of valid ones",
                    )
                )
    for topic, users in by_topic.items():
        if len(users) < 2:
            continue
        seen: dict[tuple[str | None, str | None, str], str] = {}
        for spec, folder, i in users:
            binding = spec.bindings[i]
            file = _rel(folder / CONTRACT_FILE, root)
            disc = binding.discriminator
            if disc is None:
                errors.append(
                    ContractError(
                        file,
                        f"bindings[{i}].discriminator",
                        f"topic {topic!r} is bound by {len(users)} contracts, so each binding "
                        "needs a discriminator (a header or JSON pointer and its value)",
                    )
                )
                continue
            key = (disc.header, disc.pointer, disc.value)
            if key in seen and seen[key] != spec.id:
                errors.append(
                    ContractError(
                        file,
                        f"bindings[{i}].discriminator",
                        f"same discriminator as {seen[key]} on topic {topic!r}; "
                        "give each contract its own value",
                    )
                )
            seen[key] = spec.id


def contract_folders(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob(f"*/*/{CONTRACT_FILE}"))


def load_contract_set(root: Path, limits: Limits | None = None) -> ContractSet:
    """Load and compile every contract under ``root``; ``ContractSetError`` lists all problems."""
    root = root.resolve()
    if not root.is_dir():
        raise ContractSetError([ContractError(str(root), "", "no such directory")])
    errors: list[ContractError] = []
    limits = limits or Limits()
    for stray in sorted(root.rglob(CONTRACT_FILE)):
        if stray.parent.parent.parent != root:
            errors.append(
                ContractError(
                    _rel(stray, root),
                    "",
                    "contract.yaml must sit exactly two levels down: "
                    "<domain>/<event>/contract.yaml",
                )
            )
    for folder in sorted(p for p in root.glob("*/*") if p.is_dir()):
        if not (folder / CONTRACT_FILE).is_file() and any(folder.glob("v*.y*ml")):
            errors.append(
                ContractError(
                    _rel(folder, root) + "/",
                    "",
                    f"holds version files but no {CONTRACT_FILE} (exactly that name); "
                    "add it or move the versions",
                )
            )
    specs: list[tuple[ContractFile, Path]] = []
    contracts: list[Contract] = []
    for folder in contract_folders(root):
        spec, contract = _load_contract(folder, root, limits, errors)
        if spec is not None:
            specs.append((spec, folder))
        if contract is not None:
            contracts.append(contract)
    _check_bindings(specs, root, errors)
    if errors:
        raise ContractSetError(errors)
    return ContractSet(
        root=root, contracts={c.id: c for c in contracts}, revision=revision_of(root)
    )
