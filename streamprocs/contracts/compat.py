"""Compatibility of two versions of a contract's event schema (JSON Schema 2020-12).

BACKWARD (Confluent's definition): every event valid under the old schema is
valid under the new one, so readers on the new version can read old data.
FORWARD: every event valid under the new schema is valid under the old one.

The walk here recurses through both schemas side by side; what a difference
in a keyword *means* comes from the tables in ``compat_rules``. Each finding
records one direction only, so a change that breaks both directions yields
two findings. The prose version of the rules, and where dce deliberately
differs from Confluent, is ``docs/compatibility.md``.

Pure Python: no Kafka, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from math import prod
from typing import Any, Final, TypeAlias
from urllib.parse import unquote

from streamprocs.contracts import compat_rules as rules
from streamprocs.contracts.compat_rules import BOTH, NARROWS, WIDENS, Effect, Raw, canon, emit
from streamprocs.contracts.model import Compatibility

__all__ = ["Finding", "check_compatibility", "schema_findings"]

Schema: TypeAlias = dict[str, Any] | bool

# Past this depth the schema is either absurd or a recursive $ref the pair
# guard below did not catch; either way dce stops and reports a change it could
# not analyse instead of overflowing the stack.
MAX_DEPTH: Final = 200
# Flattening anyOf/oneOf/allOf multiplies alternatives (three anyOfs of four
# branches make 64); past this the schema is compared as text.
MAX_ALTERNATIVES: Final = 64

# Which findings each mode forbids; *_TRANSITIVE uses its base (the caller
# checks the new version against every earlier one).
_FORBIDDEN: Final[Mapping[str, frozenset[str]]] = {
    "BACKWARD": frozenset({"backward"}),
    "FORWARD": frozenset({"forward"}),
    "FULL": frozenset({"backward", "forward"}),
    "NONE": frozenset(),
}
_COMBINATORS: Final = ("allOf", "anyOf", "oneOf", "$ref")
_REF_MARKERS: Final = ('"$ref"', '"$dynamicRef"')


@dataclass(frozen=True)
class Finding:
    """One way in which one version cannot read events of the other."""

    path: str  # JSON pointer into the event ("/items/*/sku"; "" is the root)
    change: str  # stable snake_case code, e.g. "required_added"
    breaks: str  # "backward" or "forward"
    message: str  # one sentence naming the path and who cannot read what


def schema_findings(
    old: Schema, new: Schema, old_label: str = "old", new_label: str = "new"
) -> list[Finding]:
    """Every incompatibility between ``old`` and ``new``, in either direction.

    Sorted by path, then direction, then change code, so the output is stable
    whatever order the schemas list their keywords in.
    """
    raws = _Walker(old, new).compare(old, new, "")
    unique: dict[tuple[str, str, Effect], Raw] = {}
    for raw in raws:
        unique.setdefault((raw.path, raw.change, raw.effect), raw)
    findings = [_render(raw, old_label, new_label) for raw in unique.values()]
    return sorted(findings, key=lambda f: (f.path, f.breaks, f.change, f.message))


def check_compatibility(
    old: Schema,
    new: Schema,
    mode: Compatibility | str,
    old_label: str = "old",
    new_label: str = "new",
) -> list[Finding]:
    """The findings that ``mode`` forbids; empty means ``new`` may follow ``old``."""
    forbidden = _FORBIDDEN[Compatibility(str(mode).upper()).base]
    if not forbidden:
        return []
    findings = schema_findings(old, new, old_label, new_label)
    return [finding for finding in findings if finding.breaks in forbidden]


def _render(raw: Raw, old_label: str, new_label: str) -> Finding:
    what = raw.what.replace("{old}", old_label).replace("{new}", new_label)
    if raw.effect == NARROWS:
        breaks, readers, writer = "backward", f"consumers reading with {new_label}", old_label
    else:
        breaks, readers, writer = "forward", f"consumers still reading with {old_label}", new_label
    events = f"{writer} events {raw.which}" if raw.which else f"some {writer} events"
    where = raw.path or "the event root"
    message = f"{where} {what}: {readers} reject {events} (breaks {breaks.upper()})."
    return Finding(raw.path, raw.change, breaks, message)


def _detail(hits: Sequence[Raw]) -> str:
    parts = list(dict.fromkeys(f"{hit.change} at {hit.path or 'the root'}" for hit in hits))
    return "; ".join(parts[:3]) + (f"; {len(parts) - 3} more" if len(parts) > 3 else "")


def _summarise(
    inner: Iterable[Raw], path: str, spec: rules.Nested, subject: str | None = None
) -> list[Raw]:
    """Fold a nested comparison into at most one finding per direction at ``path``.

    Used where the nested paths would mislead (a ``not`` or ``contains`` schema
    is not a place in the event).
    """
    hits = list(inner)
    out = []
    for outer in (NARROWS, WIDENS):
        source = (WIDENS if outer == NARROWS else NARROWS) if spec.contravariant else outer
        relevant = [hit for hit in hits if hit.effect == source]
        if relevant:
            code = spec.narrowed if outer == NARROWS else spec.widened
            what = f"changed {subject or spec.subject} ({_detail(relevant)})"
            out.append(Raw(path, code, outer, what))
    return out


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _union_keys(*mappings: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys(key for mapping in mappings for key in mapping))


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None  # an ECMA-only construct: treat as matching nothing


# --- normalisation: $ref, allOf/anyOf/oneOf -----------------------------------


def _resolve(ref: str, root: Schema) -> Schema | None:
    """A local reference ("#/$defs/x", "#anchor") inside ``root``; None when external."""
    if not ref.startswith("#"):
        return None
    fragment = unquote(ref[1:])
    if fragment == "":
        return root
    if not fragment.startswith("/"):
        return _find_anchor(root, fragment)
    node: Any = root
    for token in fragment[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node if isinstance(node, dict | bool) else None


def _find_anchor(node: Any, anchor: str) -> Schema | None:
    if isinstance(node, dict):
        if node.get("$anchor") == anchor:
            return node
        children: Iterable[Any] = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_anchor(child, anchor)
        if found is not None:
            return found
    return None


def _upgrade(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite draft-07 spellings (dependencies, items-as-list) as 2020-12."""
    out = dict(schema)
    dependencies = out.pop("dependencies", None)
    if isinstance(dependencies, dict):
        required = dict(_mapping(out.get("dependentRequired")))
        schemas = dict(_mapping(out.get("dependentSchemas")))
        for trigger, dependency in dependencies.items():
            if isinstance(dependency, list):
                required[trigger] = dependency
            else:
                schemas[trigger] = dependency
        if required:
            out["dependentRequired"] = required
        if schemas:
            out["dependentSchemas"] = schemas
    additional_items = out.pop("additionalItems", None)
    if isinstance(out.get("items"), list):
        out["prefixItems"] = out.pop("items")
        if additional_items is not None:
            out["items"] = additional_items
    return out


def _lower(a: Any, b: Any) -> Any:
    return min(a, b)


def _higher(a: Any, b: Any) -> Any:
    return max(a, b)


def _merge_types(a: Any, b: Any) -> Any:
    left, right = rules.declared_types({"type": a}), rules.declared_types({"type": b})
    # An empty set is an unsatisfiable type (string AND number), not "no type declared".
    left = rules.ALL_TYPES if left is None else left
    right = rules.ALL_TYPES if right is None else right
    return rules.type_names(left & right)


def _merge_enums(a: Any, b: Any) -> Any:
    keys = {rules.value_key(value) for value in b}
    return [value for value in a if rules.value_key(value) in keys]


def _merge_lists(a: Any, b: Any) -> Any:
    return list(dict.fromkeys([*a, *b]))


def _merge_per_key(a: Any, b: Any) -> Any:
    merged = dict(a)
    for key, value in b.items():
        merged[key] = {"allOf": [merged[key], value]} if key in merged else value
    return merged


def _merge_lists_per_key(a: Any, b: Any) -> Any:
    merged = dict(a)
    for key, value in b.items():
        merged[key] = _merge_lists(merged.get(key, []), value)
    return merged


# How two allOf branches that set the same keyword combine into one schema.
# A keyword missing here makes the branches unmergeable, and they are compared
# as a conjunction instead.
_MERGERS: Final = {
    "type": _merge_types,
    "enum": _merge_enums,
    "required": _merge_lists,
    "uniqueItems": lambda a, b: bool(a or b),
    "properties": _merge_per_key,
    "patternProperties": _merge_per_key,
    "dependentSchemas": _merge_per_key,
    "dependentRequired": _merge_lists_per_key,
    **{b.keyword: _lower if b.upper else _higher for b in rules.BOUNDS},
    **{b.exclusive: _lower if b.upper else _higher for b in rules.BOUNDS if b.exclusive},
}
# additionalProperties only exempts its own branch's properties (and items its
# own branch's prefixItems), so merging such a branch with another branch that
# declares different ones would change the meaning.
_SCOPED: Final = {
    "additionalProperties": ("properties", "patternProperties", "additionalProperties"),
    "items": ("prefixItems", "items"),
}


def _merge(parts: Sequence[Schema]) -> Schema | None:
    """The conjunction of ``parts`` as one schema, or None when it cannot be one."""
    if any(part is False for part in parts):
        return False
    dicts = [part for part in parts if isinstance(part, dict) and part]
    if not dicts:
        return True
    if len(dicts) == 1:
        return dicts[0]
    for index, branch in enumerate(dicts):
        others = dicts[:index] + dicts[index + 1 :]
        for keyword, neighbours in _SCOPED.items():
            if keyword in branch and any(
                key in other and canon(other[key]) != canon(branch.get(key))
                for other in others
                for key in neighbours
            ):
                return None
    merged: dict[str, Any] = {}
    for branch in dicts:
        for key, value in branch.items():
            if key not in merged or canon(merged[key]) == canon(value):
                merged.setdefault(key, value)
                continue
            merger = _MERGERS.get(key)
            if merger is None:
                return None
            try:
                merged[key] = merger(merged[key], value)
            except (TypeError, AttributeError):
                return None  # a malformed keyword value: keep the branches apart
    return merged


def _member(schema: Mapping[str, Any], name: str) -> tuple[Schema, str]:
    """What ``schema`` says about property ``name``, and which part of it says so."""
    parts: list[Schema] = []
    properties = _mapping(schema.get("properties"))
    if name in properties:
        parts.append(properties[name])
    for pattern, subschema in _mapping(schema.get("patternProperties")).items():
        compiled = _regex(pattern)
        if compiled is not None and compiled.search(name):
            parts.append(subschema)
    if parts:
        kind = "declared" if name in properties else "pattern"
        return (parts[0] if len(parts) == 1 else {"allOf": parts}), kind
    return _extra(schema)


def _extra(schema: Mapping[str, Any]) -> tuple[Schema, str]:
    """The schema of undeclared properties and the content model it makes."""
    if "additionalProperties" in schema:
        extra = schema["additionalProperties"]
    else:
        # Without allOf/$ref siblings left (they were merged in), unevaluated-
        # Properties sees exactly the properties additionalProperties would.
        extra = schema.get("unevaluatedProperties", True)
    if extra is True or extra == {}:
        return True, "open"
    if extra is False:
        return False, "closed"
    return extra, "partial"


def _array_model(schema: Mapping[str, Any]) -> tuple[list[Schema], Schema]:
    prefix = schema.get("prefixItems")
    prefix_list = list(prefix) if isinstance(prefix, list) else []
    if "items" in schema:
        return prefix_list, schema["items"]
    return prefix_list, schema.get("unevaluatedItems", True)


# --- the walk -----------------------------------------------------------------


class _Walker:
    """Compares two schemas node by node; ``old``/``new`` keep their roots for $ref."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self._old_root = old_root
        self._new_root = new_root
        # Pairs of schemas being compared that involve a $ref. Meeting one again
        # means a recursive schema came round: assume the pair compatible
        # (co-induction); a real difference shows up at the first unfolding.
        self._active: set[tuple[str, str]] = set()
        self._depth = 0

    def compare(self, old: Schema, new: Schema, path: str) -> list[Raw]:
        old_text, new_text = canon(old), canon(new)
        with_refs = any(marker in text for marker in _REF_MARKERS for text in (old_text, new_text))
        if old_text == new_text and not with_refs:
            return []
        key = (old_text, new_text)
        if with_refs and key in self._active:
            return []
        if self._depth >= MAX_DEPTH:
            return emit(path, "too_deep_to_compare", BOTH, "is nested too deeply to compare")
        if with_refs:
            self._active.add(key)
        self._depth += 1
        try:
            olds = self._alternatives(old, self._old_root, frozenset())
            news = self._alternatives(new, self._new_root, frozenset())
            if olds is None or news is None:
                return emit(path, "unanalysed_change", BOTH, "changed in a way dce cannot analyse")
            if len(olds) == 1 and len(news) == 1:
                return self._compare_one(olds[0], news[0], path)
            if olds == [False] or news == [False]:
                # Nothing valid on one side: no alternative-by-alternative detail to give.
                return self._compare_one(olds[0], news[0], path)
            return self._compare_unions(olds, news, path)
        finally:
            self._depth -= 1
            if with_refs:
                self._active.discard(key)

    def _alternatives(
        self, schema: Schema, root: Schema, expanding: frozenset[str]
    ) -> list[Schema] | None:
        """``schema`` as a union of alternatives free of $ref/anyOf/oneOf/allOf.

        allOf branches are merged into one schema where that is exact (see
        ``_merge``); otherwise they stay as a leftover ``{"allOf": [...]}``.
        oneOf is read as anyOf: dce does not prove alternatives disjoint.
        None means the flattening grew too large.
        """
        if not isinstance(schema, dict):
            return [schema] if isinstance(schema, bool) else [True]
        schema = _upgrade(schema)
        base = {
            key: value
            for key, value in schema.items()
            if key in rules.KNOWN_KEYWORDS and key not in _COMBINATORS
        }
        factors: list[list[Schema]] = [[base]]
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = None if ref in expanding else _resolve(ref, root)
            if target is None:
                base["$ref"] = ref  # compared as text by the "ref" assertion row
            else:
                expanded = self._alternatives(target, root, expanding | {ref})
                if expanded is None:
                    return None
                factors.append(expanded)
        branches = schema.get("allOf")
        for part in branches if isinstance(branches, list) else []:
            expanded = self._alternatives(part, root, expanding)
            if expanded is None:
                return None
            factors.append(expanded)
        for keyword in ("anyOf", "oneOf"):
            if isinstance(schema.get(keyword), list):
                union: list[Schema] = []
                for part in schema[keyword]:
                    expanded = self._alternatives(part, root, expanding)
                    if expanded is None:
                        return None
                    union.extend(expanded)
                factors.append(union)
        if prod(len(factor) for factor in factors) > MAX_ALTERNATIVES:
            return None
        alternatives: dict[str, Schema] = {}
        for combination in product(*factors):
            merged = _merge(combination)
            if merged is None:
                merged = {"allOf": [part for part in combination if part not in (True, {})]}
            elif isinstance(merged, dict) and not rules.effective_types(merged):
                merged = False  # e.g. allOf string and number: nothing is valid
            if merged is not False:
                alternatives.setdefault(canon(merged), merged)
        return list(alternatives.values()) or [False]

    def _compare_one(self, old: Schema, new: Schema, path: str) -> list[Raw]:
        if old is False and new is False:
            return []
        if old is False:
            return emit(
                path,
                "became_allowed",
                WIDENS,
                "accepted no value at all and now accepts some",
                None,
                "that carry a value here",
            )
        if new is False:
            return emit(
                path,
                "became_forbidden",
                NARROWS,
                "now accepts no value at all",
                "that carry a value here",
            )
        old_schema = old if isinstance(old, dict) else {}
        new_schema = new if isinstance(new, dict) else {}
        if "allOf" in old_schema or "allOf" in new_schema:
            return self._compare_conjunctions(old_schema, new_schema, path)
        out = rules.classify_types_and_values(old_schema, new_schema, path)
        scope = rules.effective_types(old_schema) & rules.effective_types(new_schema)
        if not scope:
            return out  # disjoint types: the type finding says everything
        out += rules.classify_leaves(old_schema, new_schema, path, scope)
        if "object" in scope:
            out += self._compare_object(old_schema, new_schema, path)
        if "array" in scope:
            out += self._compare_array(old_schema, new_schema, path)
        out += self._compare_not(old_schema, new_schema, path)
        out += self._compare_conditional(old_schema, new_schema, path)
        return out

    def _covering(
        self, sources: Sequence[Schema], targets: Sequence[Schema], direction: Effect, path: str
    ) -> list[tuple[int, list[Raw]]]:
        """Sources that no single target covers in ``direction``, with the closest misses.

        NARROWS: sources are old schemas; each must be accepted whole by some new one.
        WIDENS: sources are new schemas; each must be accepted whole by some old one.
        """
        uncovered = []
        for index, source in enumerate(sources, 1):
            closest: list[Raw] | None = None
            for target in targets:
                if direction == NARROWS:
                    inner = self.compare(source, target, path)
                else:
                    inner = self.compare(target, source, path)
                hits = [raw for raw in inner if raw.effect == direction]
                if not hits:
                    break
                if closest is None or len(hits) < len(closest):
                    closest = hits
            else:
                uncovered.append((index, closest or []))
        return uncovered

    def _compare_unions(self, olds: list[Schema], news: list[Schema], path: str) -> list[Raw]:
        # A union accepts a value if any alternative does: every old alternative
        # must fit inside some new one (BACKWARD) and vice versa (FORWARD).
        out: list[Raw] = []
        for index, closest in self._covering(olds, news, NARROWS, path):
            if len(olds) == 1:
                out += closest
            else:
                what = (
                    f"no longer accepts everything alternative {index} of {{old}} accepted"
                    f" (closest: {_detail(closest)})"
                )
                out.append(Raw(path, "alternative_narrowed", NARROWS, what))
        for index, closest in self._covering(news, olds, WIDENS, path):
            if len(news) == 1:
                out += closest
            else:
                what = (
                    f"gained in alternative {index} of {{new}} values that {{old}} rejects"
                    f" (closest: {_detail(closest)})"
                )
                out.append(Raw(path, "alternative_widened", WIDENS, what))
        return out

    def _compare_conjunctions(
        self, old: dict[str, Any], new: dict[str, Any], path: str
    ) -> list[Raw]:
        # Branches that could not be merged: old = A1 and A2..., new = B1 and B2...
        # Each new branch must contain some old branch (BACKWARD), each old branch
        # some new branch (FORWARD). Sufficient, not necessary: when only the
        # branches together imply a constraint, dce may over-report.
        olds: list[Schema] = list(old["allOf"]) if "allOf" in old else [old]
        news: list[Schema] = list(new["allOf"]) if "allOf" in new else [new]
        out: list[Raw] = []
        for direction, sources, targets in ((NARROWS, news, olds), (WIDENS, olds, news)):
            for target_index, target in enumerate(sources, 1):
                closest: list[Raw] | None = None
                for candidate in targets:
                    pair = (candidate, target) if direction == NARROWS else (target, candidate)
                    hits = [r for r in self.compare(*pair, path) if r.effect == direction]
                    if not hits:
                        break
                    if closest is None or len(hits) < len(closest):
                        closest = hits
                else:
                    if len(sources) == 1:
                        out += closest or []
                        continue
                    side = "{new}" if direction == NARROWS else "{old}"
                    code = "all_of_narrowed" if direction == NARROWS else "all_of_widened"
                    what = (
                        f"has allOf branch {target_index} of {side} that the other version"
                        f" does not imply (closest: {_detail(closest or [])})"
                    )
                    out.append(Raw(path, code, direction, what))
        return out

    def _compare_object(self, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Raw]:
        out: list[Raw] = []
        old_properties = _mapping(old.get("properties"))
        new_properties = _mapping(new.get("properties"))
        for name in _union_keys(old_properties, new_properties):
            child = f"{path}/{_escape(name)}"
            old_member, old_kind = _member(old, name)
            new_member, new_kind = _member(new, name)
            if name in old_properties and name in new_properties:
                out += self.compare(old_member, new_member, child)
            elif name in new_properties:
                out += self._one_sided(old_kind, old_member, new_member, child, added=True)
            else:
                out += self._one_sided(new_kind, new_member, old_member, child, added=False)

        old_patterns = _mapping(old.get("patternProperties"))
        new_patterns = _mapping(new.get("patternProperties"))
        old_extra, old_model = _extra(old)
        new_extra, new_model = _extra(new)
        for pattern in _union_keys(old_patterns, new_patterns):
            child = f"{path}/*"
            if pattern in old_patterns and pattern in new_patterns:
                inner = self.compare(old_patterns[pattern], new_patterns[pattern], child)
            elif pattern in new_patterns:
                inner = self._one_sided(
                    old_model, old_extra, new_patterns[pattern], child, added=True
                )
            else:
                inner = self._one_sided(
                    new_model, new_extra, old_patterns[pattern], child, added=False
                )
            spec = rules.NESTED["patternProperties"]
            out += _summarise(inner, path, spec, f"{spec.subject} {json.dumps(pattern)}")

        inner = self.compare(old_extra, new_extra, f"{path}/*")
        out += _summarise(inner, path, rules.NESTED["additionalProperties"])

        old_required, new_required = _names(old.get("required")), _names(new.get("required"))
        for name in new_required:
            if name not in old_required:
                out += emit(
                    f"{path}/{_escape(name)}",
                    "required_added",
                    rules.REQUIREMENT_EFFECT["member_added"],
                    "became required",
                    "that omit it",
                )
        for name in old_required:
            if name not in new_required:
                out += emit(
                    f"{path}/{_escape(name)}",
                    "required_removed",
                    rules.REQUIREMENT_EFFECT["member_removed"],
                    "is no longer required",
                    None,
                    "that omit it",
                )
        out += self._compare_dependencies(old, new, path)
        inner = self.compare(old.get("propertyNames", True), new.get("propertyNames", True), path)
        out += _summarise(inner, path, rules.NESTED["propertyNames"])
        return out

    def _one_sided(
        self, model: str, other: Schema, declared: Schema, path: str, *, added: bool
    ) -> list[Raw]:
        """A property (or pattern) that only one version declares.

        ``model`` and ``other`` are what the version without the declaration
        says about the name; the verdict follows CONTENT_MODEL_VERDICT.
        """
        if model == "open" and declared is not False and rules.OPEN_MODEL_DECLARATION_IS_COMPATIBLE:
            return []
        if model == "closed":
            if declared is False:
                return []  # forbidding a name the closed model already forbade
            if added:
                return emit(
                    path,
                    "property_added",
                    WIDENS,
                    "was added although the content model around it was closed",
                    None,
                    "that carry it",
                )
            return emit(
                path,
                "property_removed",
                NARROWS,
                "was removed and the content model around it is closed",
                "that carry it",
            )
        return self.compare(other, declared, path) if added else self.compare(declared, other, path)

    def _compare_dependencies(
        self, old: dict[str, Any], new: dict[str, Any], path: str
    ) -> list[Raw]:
        out: list[Raw] = []
        old_required = _mapping(old.get("dependentRequired"))
        new_required = _mapping(new.get("dependentRequired"))
        for trigger in _union_keys(old_required, new_required):
            before, after = _names(old_required.get(trigger)), _names(new_required.get(trigger))
            gained = [name for name in after if name not in before]
            lost = [name for name in before if name not in after]
            where = f"{path}/{_escape(trigger)}"
            if gained:
                out += emit(
                    where,
                    "dependent_required_added",
                    rules.REQUIREMENT_EFFECT["member_added"],
                    f"now requires {', '.join(gained)} whenever it is present",
                    f"that carry it without {', '.join(gained)}",
                )
            if lost:
                out += emit(
                    where,
                    "dependent_required_removed",
                    rules.REQUIREMENT_EFFECT["member_removed"],
                    f"no longer requires {', '.join(lost)} when it is present",
                    None,
                    f"that carry it without {', '.join(lost)}",
                )
        old_schemas = _mapping(old.get("dependentSchemas"))
        new_schemas = _mapping(new.get("dependentSchemas"))
        for trigger in _union_keys(old_schemas, new_schemas):
            # An absent dependent schema constrains nothing: it is `true`.
            inner = self.compare(
                old_schemas.get(trigger, True), new_schemas.get(trigger, True), path
            )
            where = f"{path}/{_escape(trigger)}"
            out += _summarise(inner, where, rules.NESTED["dependentSchemas"])
        return out

    def _compare_array(self, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Raw]:
        out: list[Raw] = []
        old_prefix, old_tail = _array_model(old)
        new_prefix, new_tail = _array_model(new)
        for index in range(max(len(old_prefix), len(new_prefix))):
            before = old_prefix[index] if index < len(old_prefix) else old_tail
            after = new_prefix[index] if index < len(new_prefix) else new_tail
            out += self.compare(before, after, f"{path}/{index}")
        out += self.compare(old_tail, new_tail, f"{path}/*")

        before_contains, after_contains = old.get("contains"), new.get("contains")
        if before_contains is None and after_contains is not None:
            out += emit(path, "contains_added", NARROWS, "gained `contains`", "with no such item")
        elif before_contains is not None and after_contains is None:
            out += emit(
                path, "contains_removed", WIDENS, "lost `contains`", None, "with no such item"
            )
        elif before_contains is not None and after_contains is not None:
            inner = self.compare(before_contains, after_contains, f"{path}/*")
            if inner and ("maxContains" in old or "maxContains" in new):
                # maxContains caps the matches, so a wider `contains` also rejects more.
                out += emit(path, "contains_changed", BOTH, "changed `contains` under maxContains")
            else:
                out += _summarise(inner, path, rules.NESTED["contains"])
        return out

    def _compare_not(self, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Raw]:
        if "not" not in old and "not" not in new:
            return []
        # No `not` excludes nothing: it is `not: false`.
        inner = self.compare(old.get("not", False), new.get("not", False), path)
        return _summarise(inner, path, rules.NESTED["not"])

    def _compare_conditional(
        self, old: dict[str, Any], new: dict[str, Any], path: str
    ) -> list[Raw]:
        if "if" not in old and "if" not in new:
            return []  # then/else without if are ignored by JSON Schema
        if "if" not in old:
            return emit(path, "conditional_added", NARROWS, "gained an if/then/else condition")
        if "if" not in new:
            return emit(path, "conditional_removed", WIDENS, "lost its if/then/else condition")
        if canon(old["if"]) != canon(new["if"]):
            # Two different conditions route values differently: dce cannot order them.
            return emit(path, "conditional_changed", BOTH, "changed its if/then/else condition")
        inner = self.compare(old.get("then", True), new.get("then", True), path)
        inner += self.compare(old.get("else", True), new.get("else", True), path)
        return _summarise(inner, path, rules.NESTED["if"])
