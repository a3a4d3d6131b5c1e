"""Reading contract YAML strictly: a duplicated key is an error, not a silent override."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class YamlFileError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class _StrictLoader(yaml.SafeLoader):
    pass


class _KeyError(yaml.constructor.ConstructorError):
    """A problem with one key, which then names the field of the error."""

    def __init__(self, key: str, problem: str, mark: yaml.Mark) -> None:
        super().__init__(None, None, problem, mark)
        self.key = key


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict | set):
            raise _KeyError(
                "", "keys must be plain names, not lists or mappings", key_node.start_mark
            )
        if key in seen:
            raise _KeyError(
                str(key),
                f"key {key!r} appears twice (first on line {seen[key] + 1}); "
                "YAML would silently keep only the last one",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def load_mapping(path: Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file; ``YamlFileError`` says what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlFileError("", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlFileError(getattr(exc, "key", ""), f"not valid YAML: {where}{problem}") from exc
    if data is None:
        raise YamlFileError("", "the file is empty; it must hold a YAML mapping")
    if not isinstance(data, dict):
        raise YamlFileError(
            "", f"the top level must be a mapping of keys to values, not a {type(data).__name__}"
        )
    return data
