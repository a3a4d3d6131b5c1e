"""The compatibility rule table: how a change to each JSON Schema keyword is classified.

The first half of this module is data: one row per keyword, read top to
bottom, rather than a nest of ifs (Karapace's
``core/compatibility/jsonschema/checks.py`` is the model). The second half
applies those rows to a single node, without recursion. ``compat.py`` walks the
two schemas side by side (properties, items, ``$ref``, ``allOf``/``anyOf``/
``oneOf``) and asks this module what a difference at each node means.

Every verdict is one of two set-theoretic facts about the values a schema
accepts at a node:

* ``NARROWS``: the new schema rejects some value the old one accepted, so a
  reader on the new version cannot read some events written with the old one:
  it breaks BACKWARD.
* ``WIDENS``: the new schema accepts some value the old one rejected, so a
  reader still on the old version cannot read some events written with the new
  one: it breaks FORWARD.

A change that does both (a pattern replaced by an unrelated one) breaks both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Flag, auto
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Final, TypeAlias


class Effect(Flag):
    """What a change does to the set of values a schema accepts at one node."""

    NONE = 0
    NARROWS = auto()
    WIDENS = auto()
    BOTH = NARROWS | WIDENS


NARROWS: Final = Effect.NARROWS
WIDENS: Final = Effect.WIDENS
BOTH: Final = Effect.BOTH

# --- instance types --------------------------------------------------------
# "number" is split into integers and the rest so that integer -> number is a
# plain set extension (widens) and number -> integer a plain removal (narrows).
FRACTION: Final = "fraction"
TYPE_MEMBERS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "null": frozenset({"null"}),
        "boolean": frozenset({"boolean"}),
        "object": frozenset({"object"}),
        "array": frozenset({"array"}),
        "string": frozenset({"string"}),
        "integer": frozenset({"integer"}),
        "number": frozenset({"integer", FRACTION}),
    }
)
ALL_TYPES: Final = frozenset().union(*TYPE_MEMBERS.values())
NUMBERS: Final = TYPE_MEMBERS["number"]
STRINGS: Final = TYPE_MEMBERS["string"]
ARRAYS: Final = TYPE_MEMBERS["array"]
OBJECTS: Final = TYPE_MEMBERS["object"]

# How a finding names a type to a person ("consumers reject events where it is
# a non-integer number").
TYPE_NOUNS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "null": "null",
        "boolean": "a boolean",
        "object": "an object",
        "array": "an array",
        "string": "a string",
        "integer": "an integer",
        FRACTION: "a non-integer number",
    }
)
NUMBER_NOUNS: Final = frozenset({TYPE_NOUNS["integer"], TYPE_NOUNS[FRACTION]})

# --- value sets: type, enum, const -----------------------------------------
# A value set is absent (everything allowed) or a finite list. Introducing one
# narrows, dropping one widens; within two lists, a removed member narrows and
# an added member widens.
VALUE_SET_EFFECT: Final[Mapping[str, Effect]] = MappingProxyType(
    {
        "introduced": NARROWS,
        "dropped": WIDENS,
        "member_removed": NARROWS,
        "member_added": WIDENS,
    }
)

# --- requirement sets: required, dependentRequired -------------------------
# The opposite polarity of a value set: every member is a demand on the event,
# so a new member narrows and a dropped member widens.
REQUIREMENT_EFFECT: Final[Mapping[str, Effect]] = MappingProxyType(
    {"member_added": NARROWS, "member_removed": WIDENS}
)


# --- bounds ----------------------------------------------------------------
@dataclass(frozen=True)
class Bound:
    """A numeric limit; ``exclusive`` folds the exclusive twin into the same bound."""

    code: str  # change codes are <code>_added/_removed/_increased/_decreased
    keyword: str
    exclusive: str | None
    upper: bool  # an upper bound tightens when it decreases, a lower one when it increases
    applies_to: frozenset[str]
    # The value that constrains nothing (minLength 0): writing it equals omitting it.
    default: float | None = None
    # minContains/maxContains mean nothing without ``contains`` on both sides.
    needs: str | None = None


BOUNDS: Final[tuple[Bound, ...]] = (
    Bound("minimum", "minimum", "exclusiveMinimum", upper=False, applies_to=NUMBERS),
    Bound("maximum", "maximum", "exclusiveMaximum", upper=True, applies_to=NUMBERS),
    Bound("min_length", "minLength", None, upper=False, applies_to=STRINGS, default=0),
    Bound("max_length", "maxLength", None, upper=True, applies_to=STRINGS),
    Bound("min_items", "minItems", None, upper=False, applies_to=ARRAYS, default=0),
    Bound("max_items", "maxItems", None, upper=True, applies_to=ARRAYS),
    Bound(
        "min_contains",
        "minContains",
        None,
        upper=False,
        applies_to=ARRAYS,
        default=1,
        needs="contains",
    ),
    Bound("max_contains", "maxContains", None, upper=True, applies_to=ARRAYS, needs="contains"),
    Bound("min_properties", "minProperties", None, upper=False, applies_to=OBJECTS, default=0),
    Bound("max_properties", "maxProperties", None, upper=True, applies_to=OBJECTS),
)

# The same four movements for every bound: the heart of the table.
BOUND_EFFECT: Final[Mapping[str, Effect]] = MappingProxyType(
    {"added": NARROWS, "removed": WIDENS, "tightened": NARROWS, "loosened": WIDENS}
)


# --- opaque assertions -----------------------------------------------------
@dataclass(frozen=True)
class Assertion:
    """A keyword whose values dce cannot order (two regexes): any change counts both ways."""

    code: str  # <code>_added / _removed / _changed
    keyword: str
    applies_to: frozenset[str]


ASSERTIONS: Final[tuple[Assertion, ...]] = (
    Assertion("pattern", "pattern", STRINGS),
    # Treated as an assertion, not an annotation: dce's validator may check it,
    # and a reader that does will reject values the old format allowed.
    Assertion("format", "format", STRINGS),
    # Only left in a schema when the reference could not be resolved locally.
    Assertion("ref", "$ref", ALL_TYPES),
    Assertion("dynamic_ref", "$dynamicRef", ALL_TYPES),
)
ASSERTION_EFFECT: Final[Mapping[str, Effect]] = MappingProxyType(
    {"added": NARROWS, "removed": WIDENS, "changed": BOTH}
)


# --- flags -----------------------------------------------------------------
@dataclass(frozen=True)
class Toggle:
    code: str  # <code>_added when switched on, <code>_removed when switched off
    keyword: str
    applies_to: frozenset[str]
    violators: str  # the events that break the toggle, for messages


TOGGLES: Final[tuple[Toggle, ...]] = (
    Toggle("unique_items", "uniqueItems", ARRAYS, "with duplicate items"),
)
TOGGLE_EFFECT: Final[Mapping[str, Effect]] = MappingProxyType(
    {"switched_on": NARROWS, "switched_off": WIDENS}
)

# --- multipleOf ------------------------------------------------------------
# Multiples of 10 are all multiples of 2, so 10 -> 2 widens and 2 -> 10 narrows;
# 10 -> 3 keeps some old values (30) and admits new ones (3): both.
DIVISOR_EFFECT: Final[Mapping[str, Effect]] = MappingProxyType(
    {
        "added": NARROWS,
        "removed": WIDENS,
        "new_divides_old": WIDENS,
        "old_divides_new": NARROWS,
        "unrelated": BOTH,
    }
)


# --- nested schemas summarised at their parent ------------------------------
@dataclass(frozen=True)
class Nested:
    """A subschema whose findings are reported as one finding at the parent node.

    ``contravariant``: the subschema describes what is *excluded* (``not``), so
    a narrower subschema widens the parent.
    """

    keyword: str
    applies_to: frozenset[str]
    contravariant: bool
    narrowed: str  # change code when the parent narrows
    widened: str  # change code when the parent widens
    subject: str  # how the message names it


NESTED: Final[Mapping[str, Nested]] = MappingProxyType(
    {
        "not": Nested("not", ALL_TYPES, True, "not_excludes_more", "not_excludes_less", "`not`"),
        "contains": Nested(
            "contains", ARRAYS, False, "contains_narrowed", "contains_widened", "`contains`"
        ),
        "propertyNames": Nested(
            "propertyNames",
            OBJECTS,
            False,
            "property_names_narrowed",
            "property_names_widened",
            "`propertyNames`",
        ),
        "additionalProperties": Nested(
            "additionalProperties",
            OBJECTS,
            False,
            "additional_properties_narrowed",
            "additional_properties_widened",
            "the schema of undeclared properties",
        ),
        "patternProperties": Nested(
            "patternProperties",
            OBJECTS,
            False,
            "pattern_properties_narrowed",
            "pattern_properties_widened",
            "the schema of properties matching",
        ),
        "dependentSchemas": Nested(
            "dependentSchemas",
            OBJECTS,
            False,
            "dependent_schema_narrowed",
            "dependent_schema_widened",
            "the schema that applies when it is present",
        ),
        "if": Nested(
            "if", ALL_TYPES, False, "conditional_narrowed", "conditional_widened", "`then`/`else`"
        ),
    }
)


# --- content models: a property only one version declares --------------------
# What the *other* version says about that property name decides the verdict.
#   "closed":  additionalProperties/unevaluatedProperties false -> the name was
#              forbidden there: added widens, removed narrows.
#   "partial": additionalProperties is a schema -> compare with it.
#   "pattern": a patternProperties entry matches the name -> compare with it.
#   "open":    nothing was said about the name (additionalProperties absent or
#              true). DELIBERATE DEPARTURE from Confluent's strict reading: dce
#              judges the declaration compatible both ways. Strictly, an old
#              producer could have sent that name with any value; dce presumes
#              undeclared properties carry no contract, because otherwise no
#              optional field could ever be added to an open schema under
#              BACKWARD. Declaring the name ``false`` still narrows: that
#              forbids a name, it does not describe one.
OPEN_MODEL_DECLARATION_IS_COMPATIBLE: Final = True
CONTENT_MODEL_VERDICT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "closed": "property_added widens / property_removed narrows",
        "partial": "compare with the additionalProperties schema",
        "pattern": "compare with the matching patternProperties schema",
        "open": "compatible (deliberate, see docs/compatibility.md)",
    }
)

# --- keywords that never affect which events are valid -----------------------
ANNOTATIONS: Final = frozenset(
    {
        "$schema",
        "$id",
        "$anchor",
        "$dynamicAnchor",
        "$comment",
        "$vocabulary",
        "$defs",
        "definitions",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
    }
)

# Keywords the walker reads. Anything else (annotations, ``x-pii`` and other
# ``x-`` extensions, unknown words) is dropped before comparing: JSON Schema
# ignores unknown keywords, so they cannot change which events are valid.
STRUCTURAL: Final = frozenset(
    {
        "type",
        "enum",
        "const",
        "multipleOf",
        "required",
        "dependentRequired",
        "dependencies",
        "properties",
        "patternProperties",
        "additionalProperties",
        "unevaluatedProperties",
        "items",
        "prefixItems",
        "additionalItems",
        "unevaluatedItems",
        "allOf",
        "anyOf",
        "oneOf",
        "then",
        "else",
    }
)
KNOWN_KEYWORDS: Final = (
    STRUCTURAL
    | frozenset(NESTED)
    | {b.keyword for b in BOUNDS}
    | {b.exclusive for b in BOUNDS if b.exclusive}
    | {a.keyword for a in ASSERTIONS}
    | {t.keyword for t in TOGGLES}
)


# =============================================================================
# Leaf verdicts: the tables above applied to one node. No recursion here; the
# walk in compat.py decides which nodes to compare.
# =============================================================================

# --- findings before rendering ----------------------------------------------


@dataclass(frozen=True)
class Raw:
    path: str
    change: str
    effect: Effect  # exactly NARROWS or WIDENS
    what: str  # follows the path: "became required"; may hold {old}/{new}
    which: str | None = None  # the writer's events the reader rejects: "that omit it"


def emit(
    path: str,
    change: str,
    effect: Effect,
    what: str,
    which_narrowed: str | None = None,
    which_widened: str | None = None,
) -> list[Raw]:
    """One raw finding per direction in ``effect``."""
    out = []
    if NARROWS in effect:
        out.append(Raw(path, change, NARROWS, what, which_narrowed))
    if WIDENS in effect:
        out.append(Raw(path, change, WIDENS, what, which_widened))
    return out


# --- JSON helpers -------------------------------------------------------------


def canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _plain_number(value: Any) -> Any:
    # JSON Schema equality: 1 and 1.0 are the same value; true and 1 are not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain_number(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain_number(item) for key, item in value.items()}
    return value


def value_key(value: Any) -> str:
    return canon(_plain_number(value))


def show(values: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(json.dumps(value, default=str) for value in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def number(value: Any) -> float | None:
    """``value`` if it is a JSON number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value  # kept as int or float so messages say 10, not 10.0


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else FRACTION
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# --- types and values ---------------------------------------------------------


def declared_types(schema: Mapping[str, Any]) -> frozenset[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    if isinstance(declared, str):
        names = [declared]
    elif isinstance(declared, list):
        names = [name for name in declared if isinstance(name, str)]
    else:
        names = []
    return frozenset().union(*(TYPE_MEMBERS.get(name, frozenset()) for name in names))


def type_names(members: frozenset[str]) -> list[str]:
    names = [name for name, group in TYPE_MEMBERS.items() if group <= members]
    return [name for name in names if not (name == "integer" and "number" in names)]


def _type_nouns(members: frozenset[str]) -> str:
    nouns = [noun for member, noun in TYPE_NOUNS.items() if member in members]
    if members >= NUMBERS:
        nouns = [noun for noun in nouns if noun not in NUMBER_NOUNS] + ["a number"]
    return " or ".join(nouns)


def _explicit_values(schema: Mapping[str, Any]) -> list[Any] | None:
    enum = schema.get("enum")
    values: list[Any] | None = list(enum) if isinstance(enum, list) else None
    if "const" in schema:
        const = value_key(schema["const"])
        values = (
            [schema["const"]]
            if values is None
            else [value for value in values if value_key(value) == const]
        )
    return values


def _allowed(schema: Mapping[str, Any]) -> tuple[list[Any], str] | None:
    """The finite set of values a node accepts, if it has one, and the keyword behind it."""
    declared = declared_types(schema)
    values = _explicit_values(schema)
    label = "const" if "const" in schema and "enum" not in schema else "enum"
    if values is None:
        # {"type": "boolean"} is the enum [true, false]: comparing it with a
        # const should not report a type change.
        if declared is None or not declared <= {"boolean", "null"}:
            return None
        values = [value for value in (True, False, None) if json_type(value) in declared]
        label = "type"
    if declared is not None:
        values = [value for value in values if json_type(value) in declared]
    return values, label


def effective_types(schema: Mapping[str, Any]) -> frozenset[str]:
    declared = declared_types(schema)
    types = ALL_TYPES if declared is None else declared
    values = _explicit_values(schema)
    if values is not None:
        types = types & {json_type(value) for value in values}
    return types


# --- keyword comparisons driven by the tables ---------------------------------


def classify_types_and_values(old: dict[str, Any], new: dict[str, Any], path: str) -> list[Raw]:
    out: list[Raw] = []
    old_values, new_values = _allowed(old), _allowed(new)
    if old_values is None or new_values is None:
        # With value lists on both sides the value findings below say it all.
        old_types, new_types = effective_types(old), effective_types(new)
        lost, gained = old_types - new_types, new_types - old_types
        # Going to or from "any type" reads better as a restriction than as a
        # list of six types.
        if lost and old_types == ALL_TYPES:
            what, which = f"became restricted to {_type_nouns(new_types)}", "anything else"
        else:
            what, which = f"no longer accepts {_type_nouns(lost)}", _type_nouns(lost)
        if lost:
            out += emit(
                path,
                "type_narrowed",
                VALUE_SET_EFFECT["member_removed"],
                what,
                f"where it is {which}",
            )
        if gained and new_types == ALL_TYPES:
            what, which = f"is no longer restricted to {_type_nouns(old_types)}", "anything else"
        else:
            what, which = f"now also accepts {_type_nouns(gained)}", _type_nouns(gained)
        if gained:
            out += emit(
                path,
                "type_widened",
                VALUE_SET_EFFECT["member_added"],
                what,
                None,
                f"where it is {which}",
            )
    out += _classify_values(old_values, new_values, path)
    return out


def _classify_values(
    old: tuple[list[Any], str] | None, new: tuple[list[Any], str] | None, path: str
) -> list[Raw]:
    if old is None and new is None:
        return []
    # A value list synthesised from {"type": "boolean"} against no list at all
    # is a pure type change, which the type findings already report.
    if old is None:
        assert new is not None
        values, label = new
        if label == "type":
            return []
        code = "const" if label == "const" else "enum"
        return emit(
            path,
            f"{code}_added",
            VALUE_SET_EFFECT["introduced"],
            f"became restricted to {show(values)}",
            "with any other value",
        )
    if new is None:
        values, label = old
        if label == "type":
            return []
        code = "const" if label == "const" else "enum"
        return emit(
            path,
            f"{code}_removed",
            VALUE_SET_EFFECT["dropped"],
            f"is no longer restricted to {show(values)}",
            None,
            f"with a value other than {show(values)}",
        )
    old_keys = {value_key(value) for value in old[0]}
    new_keys = {value_key(value) for value in new[0]}
    removed = [value for value in old[0] if value_key(value) not in new_keys]
    added = [value for value in new[0] if value_key(value) not in old_keys]
    out: list[Raw] = []
    if old[1] == new[1] == "const":
        if removed or added:
            effect = (NARROWS if removed else Effect.NONE) | (WIDENS if added else Effect.NONE)
            out += emit(
                path,
                "const_changed",
                effect,
                f"const changed from {show(old[0])} to {show(new[0])}",
                f"with value {show(removed)}",
                f"with value {show(added)}",
            )
        return out
    if removed:
        out += emit(
            path,
            "enum_value_removed",
            VALUE_SET_EFFECT["member_removed"],
            f"no longer allows {show(removed)}",
            f"with value {show(removed)}",
        )
    if added:
        out += emit(
            path,
            "enum_value_added",
            VALUE_SET_EFFECT["member_added"],
            f"now also allows {show(added)}",
            None,
            f"with value {show(added)}",
        )
    return out


_Limit: TypeAlias = tuple[float, bool, str]  # value, exclusive, keyword


def _limit(schema: Mapping[str, Any], bound: Bound) -> _Limit | None:
    candidates: list[_Limit] = []
    value = number(schema.get(bound.keyword))
    if value is not None and value != bound.default:
        candidates.append((value, False, bound.keyword))
    exclusive = number(schema.get(bound.exclusive)) if bound.exclusive else None
    if bound.exclusive and exclusive is not None:
        candidates.append((exclusive, True, bound.exclusive))
    if not candidates:
        return None
    # The tightest limit is the one that counts; at equal values the exclusive one.
    if bound.upper:
        return min(candidates, key=lambda c: (c[0], not c[1]))
    return max(candidates, key=lambda c: (c[0], c[1]))


def _tighter(bound: Bound, a: _Limit, b: _Limit) -> bool:
    if bound.upper:
        return (a[0], not a[1]) < (b[0], not b[1])
    return (a[0], a[1]) > (b[0], b[1])


def _classify_bound(bound: Bound, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Raw]:
    if bound.needs and not (bound.needs in old and bound.needs in new):
        return []
    before, after = _limit(old, bound), _limit(new, bound)
    verb = "exceed" if bound.upper else "fall below"
    if before is None and after is None:
        return []
    if before is None:
        assert after is not None
        return emit(
            path,
            f"{bound.code}_added",
            BOUND_EFFECT["added"],
            f"gained {after[2]} {after[0]}",
            f"that {verb} {after[2]} {after[0]}",
        )
    if after is None:
        return emit(
            path,
            f"{bound.code}_removed",
            BOUND_EFFECT["removed"],
            f"lost {before[2]} {before[0]}",
            None,
            f"that {verb} {before[2]} {before[0]}",
        )
    if _tighter(bound, after, before):
        movement = "tightened"
    elif _tighter(bound, before, after):
        movement = "loosened"
    else:
        return []
    decreased = (movement == "tightened") == bound.upper
    direction = "decreased" if decreased else "increased"
    if before[2] == after[2]:
        what = f"{after[2]} {direction} from {before[0]} to {after[0]}"
    else:
        what = f"{before[2]} {before[0]} became {after[2]} {after[0]}"
    return emit(
        path,
        f"{bound.code}_{direction}",
        BOUND_EFFECT[movement],
        what,
        f"that {verb} {after[2]} {after[0]}",
        f"that {verb} {before[2]} {before[0]}",
    )


def _classify_assertion(
    assertion: Assertion, old: dict[str, Any], new: dict[str, Any], path: str
) -> list[Raw]:
    keyword = assertion.keyword
    before, after = old.get(keyword), new.get(keyword)
    if canon(before) == canon(after):
        return []
    if before is None:
        movement, what = "added", f"gained {keyword} {json.dumps(after)}"
    elif after is None:
        movement, what = "removed", f"lost {keyword} {json.dumps(before)}"
    else:
        movement = "changed"
        what = f"{keyword} changed from {json.dumps(before)} to {json.dumps(after)}"
    return emit(
        path,
        f"{assertion.code}_{movement}",
        ASSERTION_EFFECT[movement],
        what,
        f"that fail {keyword} {json.dumps(after)}",
        f"that fail {keyword} {json.dumps(before)}",
    )


def _classify_toggle(
    toggle: Toggle, old: dict[str, Any], new: dict[str, Any], path: str
) -> list[Raw]:
    before, after = bool(old.get(toggle.keyword)), bool(new.get(toggle.keyword))
    if before == after:
        return []
    movement = "switched_on" if after else "switched_off"
    suffix = "added" if after else "removed"
    state = "now requires" if after else "no longer requires"
    return emit(
        path,
        f"{toggle.code}_{suffix}",
        TOGGLE_EFFECT[movement],
        f"{state} {toggle.keyword}",
        toggle.violators,
        toggle.violators,
    )


def _classify_multiple_of(old: dict[str, Any], new: dict[str, Any], path: str) -> list[Raw]:
    before, after = number(old.get("multipleOf")), number(new.get("multipleOf"))
    # multipleOf must be positive; anything else is a broken schema, not a limit.
    before = before if before is not None and before > 0 else None
    after = after if after is not None and after > 0 else None
    if before is None and after is None:
        return []
    if before is None:
        relation, code = "added", "multiple_of_added"
    elif after is None:
        relation, code = "removed", "multiple_of_removed"
    else:
        # Exact arithmetic: 0.1 is not a float multiple of 0.01 but is a decimal one.
        ratio = Fraction(str(before)) / Fraction(str(after))
        if ratio == 1:
            return []
        if ratio.denominator == 1:
            relation, code = "new_divides_old", "multiple_of_reduced"
        elif ratio.numerator == 1:
            relation, code = "old_divides_new", "multiple_of_increased"
        else:
            relation, code = "unrelated", "multiple_of_changed"
    if before is None:
        what = f"gained multipleOf {after}"
    elif after is None:
        what = f"lost multipleOf {before}"
    else:
        what = f"multipleOf changed from {before} to {after}"
    return emit(
        path,
        code,
        DIVISOR_EFFECT[relation],
        what,
        f"that are not multiples of {after}",
        f"that are not multiples of {before}",
    )


def classify_leaves(
    old: dict[str, Any], new: dict[str, Any], path: str, scope: frozenset[str]
) -> list[Raw]:
    """Every bound, assertion, toggle and multipleOf row that applies to ``scope``.

    ``scope`` holds the instance types both versions accept at this node: a
    maxLength change means nothing where no string is valid.
    """
    out: list[Raw] = []
    for bound in BOUNDS:
        if bound.applies_to & scope:
            out += _classify_bound(bound, old, new, path)
    for assertion in ASSERTIONS:
        if assertion.applies_to & scope:
            out += _classify_assertion(assertion, old, new, path)
    for toggle in TOGGLES:
        if toggle.applies_to & scope:
            out += _classify_toggle(toggle, old, new, path)
    if NUMBERS & scope:
        out += _classify_multiple_of(old, new, path)
    return out
