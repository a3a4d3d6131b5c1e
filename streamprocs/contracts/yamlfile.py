"""Reading contract YAML strictly: a duplicated key is an error, not a silent override."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from streamprocs.contracts.errors import field_path


class YamlFileError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def _check_keys(node: yaml.Node, path: list[str | int]) -> None:
    """Refuse duplicated and non-scalar keys, naming the full field path.

    Walks the composed node tree before construction: PyYAML itself keeps the
    last of two equal keys silently, and a list used as a key would crash.
    """
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            where = f"line {key_node.start_mark.line + 1}"
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlFileError(
                    field_path(path), f"{where}: keys must be plain names, not lists or mappings"
                )
            key = key_node.value
            if key in seen:
                raise YamlFileError(
                    field_path([*path, key]),
                    f"{where}: key {key!r} appears twice (first on line {seen[key] + 1}); "
                    "YAML would silently keep only the last one",
                )
            seen[key] = key_node.start_mark.line
            _check_keys(value_node, [*path, key])
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_keys(item, [*path, i])


def load_mapping(path: Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file; ``YamlFileError`` says what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlFileError("", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_keys(node, [])
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlFileError("", f"not valid YAML: {where}{problem}") from exc
    finally:
        loader.dispose()
    if data is None:
        raise YamlFileError("", "the file is empty; it must hold a YAML mapping")
    if not isinstance(data, dict):
        raise YamlFileError(
            "", f"the top level must be a mapping of keys to values, not a {type(data).__name__}"
        )
    return data
