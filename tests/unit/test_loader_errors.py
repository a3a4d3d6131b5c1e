"""Contract-file mistakes: each one is refused with the file, the field and a way out.

Every test writes a small contracts tree into ``tmp_path`` -- a known-good
contract with exactly one mutation -- and asserts that ``load_contract_set``
raises ``ContractSetError`` with an error naming the file (path relative to
the contracts root's parent), the field, and a message that says what to do.
``TestKnownGoodTree`` proves the unmutated trees load, so each failure below is
caused by its mutation and nothing else.
"""

from __future__ import annotations

import copy
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from streamprocs.contracts.errors import ContractError, ContractSetError
from streamprocs.contracts.loader import load_contract_set

# --------------------------------------------------------------------------- helpers

DOMAIN, EVENT = "shop", "order"
CONTRACT_PATH = f"{DOMAIN}/{EVENT}/contract.yaml"
V1_PATH = f"{DOMAIN}/{EVENT}/v1.yaml"


def good_contract(
    domain: str = DOMAIN, event: str = EVENT, topic: str | None = None
) -> dict[str, Any]:
    """A valid ``contract.yaml`` for ``<domain>/<event>`` reading its own topic."""
    topic = topic or f"{domain}.{event}s"
    return {
        "id": f"{domain}.{event}",
        "owner": {"team": domain, "contact": f"#{domain}-oncall"},
        "description": f"A {event} happened in {domain}.",
        "compatibility": "BACKWARD",
        "enforcement": "enforce",
        "version_source": {"header": "contract-version"},
        "bindings": [
            {
                "topic": topic,
                "output": f"{topic}.valid",
                "dead_letter": f"{topic}.dlq",
            }
        ],
    }


def good_version(number: int = 1, status: str = "active") -> dict[str, Any]:
    """A valid ``v<N>.yaml`` with a schema, a PII field and one rule."""
    return {
        "version": number,
        "status": status,
        "description": f"Version {number}.",
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["order_id", "total_cents"],
            "properties": {
                "order_id": {"type": "string", "pattern": "^ORD-[0-9]{4}$"},
                "total_cents": {"type": "integer", "minimum": 0},
                "discount_cents": {"type": "integer", "minimum": 0},
                "email": {"type": "string", "format": "email", "x-pii": True},
            },
        },
        "rules": [
            {
                "id": "discount_not_above_total",
                "expr": "discount_cents <= total_cents",
                "message": "The discount must not exceed the total.",
                "severity": "error",
            }
        ],
    }


class Tree:
    """A contracts tree under ``tmp_path/contracts``, written file by file."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "contracts"
        self.root.mkdir()

    def write(self, rel: str, content: str | bytes | dict[str, Any] | list[Any]) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
        return path

    def contract(
        self,
        domain: str = DOMAIN,
        event: str = EVENT,
        spec: dict[str, Any] | None = None,
        versions: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        """Write one contract folder: ``contract.yaml`` plus its version files."""
        self.write(f"{domain}/{event}/contract.yaml", spec or good_contract(domain, event))
        for number, doc in (versions if versions is not None else {1: good_version(1)}).items():
            self.write(f"{domain}/{event}/v{number}.yaml", doc)

    def errors(self) -> list[ContractError]:
        """The errors of loading the tree; fails the test if it loads."""
        with pytest.raises(ContractSetError) as info:
            load_contract_set(self.root)
        errors = info.value.errors
        assert errors, "ContractSetError raised with an empty error list"
        for error in errors:
            # Every error names a file relative to the tree, never an absolute path.
            assert error.file.startswith("contracts/"), error
            assert error.message.strip(), error
        return errors


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def _describe(errors: list[ContractError]) -> str:
    return "\n".join(f"  {e.file} | {e.field!r} | {e.message}" for e in errors)


def assert_reported(
    errors: list[ContractError], file: str, field: str, *phrases: str, prefix: bool = False
) -> ContractError:
    """Some error names ``file`` (a path ending) and ``field`` and says every phrase."""
    candidates = [
        e
        for e in errors
        if (e.file == file or e.file.endswith("/" + file))
        and (e.field.startswith(field) if prefix else e.field == field)
    ]
    assert candidates, f"no error for {file} field {field!r}; got:\n{_describe(errors)}"
    for error in candidates:
        if all(p.lower() in error.message.lower() for p in phrases):
            return error
    raise AssertionError(f"no error for {file} {field!r} says {phrases}; got:\n{_describe(errors)}")


def mutated_contract(**changes: Any) -> dict[str, Any]:
    doc = good_contract()
    doc.update(changes)
    return doc


def mutated_version(**changes: Any) -> dict[str, Any]:
    doc = good_version()
    doc.update(changes)
    return doc


def mutated_schema(mutate: Any) -> dict[str, Any]:
    doc = good_version()
    mutate(doc["schema"])
    return doc


def mutated_rule(**changes: Any) -> dict[str, Any]:
    doc = good_version()
    doc["rules"][0].update(changes)
    return doc


# --------------------------------------------------------------------------- control


class TestKnownGoodTree:
    """The unmutated trees load: every failure below is caused by its one mutation."""

    def test_one_good_contract_loads(self, tree: Tree) -> None:
        tree.contract()
        loaded = load_contract_set(tree.root)
        assert list(loaded.contracts) == ["shop.order"]
        assert (
            loaded.contracts["shop.order"]
            .compiled[1]
            .check(b'{"order_id": "ORD-0001", "total_cents": 5}')
            .valid
        )

    def test_two_good_contracts_with_discriminators_on_one_topic_load(self, tree: Tree) -> None:
        for event, value in (("order", "order_placed"), ("refund", "refund_issued")):
            spec = good_contract(event=event, topic="shop.events")
            spec["bindings"][0]["discriminator"] = {"header": "event-type", "value": value}
            tree.contract(event=event, spec=spec)
        tree.write("shop/order/examples/v1.valid.jsonl", '{"order_id": "ORD-0001"}\n')
        tree.write("shop/order/v2.yaml", good_version(2))
        tree.write("shop/order/v1.yaml", good_version(1, status="retired"))
        loaded = load_contract_set(tree.root)
        assert sorted(loaded.contracts) == ["shop.order", "shop.refund"]


# --------------------------------------------------------------------------- YAML level


class TestYamlSyntax:
    """Files that are not a YAML mapping are refused before any model checks run."""

    def test_duplicate_key_names_the_key_as_field_and_both_lines(self, tree: Tree) -> None:
        tree.contract()
        text = (tree.root / CONTRACT_PATH).read_text()
        tree.write(CONTRACT_PATH, text + "compatibility: FULL\n")
        first_line = text.splitlines().index("compatibility: BACKWARD") + 1
        last_line = len(text.splitlines()) + 1
        assert_reported(
            tree.errors(),
            CONTRACT_PATH,
            "compatibility",
            "'compatibility' appears twice",
            f"line {last_line}",
            f"first on line {first_line}",
        )

    def test_duplicate_nested_key_is_an_error(self, tree: Tree) -> None:
        tree.contract()
        text = (tree.root / CONTRACT_PATH).read_text()
        tree.write(CONTRACT_PATH, text.replace("  team: shop\n", "  team: shop\n  team: other\n"))
        errors = tree.errors()
        assert any(
            e.file.endswith(CONTRACT_PATH)
            and e.field.endswith("team")
            and "appears twice" in e.message
            for e in errors
        ), _describe(errors)

    @pytest.mark.parametrize(
        ("rel", "old", "new", "field"),
        [
            (CONTRACT_PATH, "  team: shop\n", "  team: shop\n  team: other\n", "owner.team"),
            (V1_PATH, "  severity: error\n", "  severity: error\n  id: again\n", "rules[0].id"),
        ],
        ids=["owner.team", "rules[0].id"],
    )
    def test_duplicate_nested_key_field_is_its_full_path(
        self, tree: Tree, rel: str, old: str, new: str, field: str
    ) -> None:
        tree.contract()
        text = (tree.root / rel).read_text()
        assert old in text
        tree.write(rel, text.replace(old, new))
        assert_reported(tree.errors(), rel, field, "appears twice")

    def test_syntax_error_names_line_and_column(self, tree: Tree) -> None:
        tree.contract()
        tree.write(V1_PATH, "version: 1\nschema: [\n  type: object\n")
        assert_reported(tree.errors(), V1_PATH, "", "not valid YAML", "line ")

    def test_tab_indentation_is_a_syntax_error(self, tree: Tree) -> None:
        tree.contract()
        tree.write(CONTRACT_PATH, "id: shop.order\nowner:\n\tteam: shop\n")
        assert_reported(tree.errors(), CONTRACT_PATH, "", "not valid YAML", "line 3")

    @pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n", "~\n"])
    def test_empty_file_is_an_error(self, tree: Tree, content: str) -> None:
        tree.contract()
        tree.write(CONTRACT_PATH, content)
        assert_reported(tree.errors(), CONTRACT_PATH, "", "empty", "mapping")

    @pytest.mark.parametrize(
        ("content", "kind"), [("- id: shop.order\n", "list"), ("just a string\n", "str")]
    )
    def test_top_level_must_be_a_mapping(self, tree: Tree, content: str, kind: str) -> None:
        tree.contract()
        tree.write(V1_PATH, content)
        assert_reported(tree.errors(), V1_PATH, "", "must be a mapping", f"not a {kind}")

    def test_non_utf8_file_is_an_error(self, tree: Tree) -> None:
        tree.contract()
        tree.write(CONTRACT_PATH, b"id: shop.order\ndescription: caf\xe9\n")
        assert_reported(tree.errors(), CONTRACT_PATH, "", "not UTF-8")

    def test_unhashable_yaml_key_is_reported_not_a_crash(self, tree: Tree) -> None:
        tree.contract()
        text = (tree.root / CONTRACT_PATH).read_text()
        tree.write(CONTRACT_PATH, "? [a, b]\n: 1\n" + text)
        assert_reported(tree.errors(), CONTRACT_PATH, "", "line 1", "plain names", prefix=True)


# --------------------------------------------------------------------------- model level


class TestUnknownKeys:
    """A typo'd key is an error naming the key, never a silently ignored setting."""

    def test_typo_in_contract_yaml(self, tree: Tree) -> None:
        spec = good_contract()
        spec["compatibilty"] = spec.pop("compatibility")
        tree.contract(spec=spec)
        assert_reported(tree.errors(), CONTRACT_PATH, "compatibilty", "unknown key", "spelling")

    def test_typo_in_nested_owner(self, tree: Tree) -> None:
        spec = good_contract()
        spec["owner"]["contacts"] = spec["owner"].pop("contact")
        tree.contract(spec=spec)
        errors = tree.errors()
        assert_reported(errors, CONTRACT_PATH, "owner.contacts", "unknown key")
        assert_reported(errors, CONTRACT_PATH, "owner.contact", "required key is missing")

    def test_typo_in_binding(self, tree: Tree) -> None:
        spec = good_contract()
        spec["bindings"][0]["deadletter"] = spec["bindings"][0].pop("dead_letter")
        tree.contract(spec=spec)
        assert_reported(tree.errors(), CONTRACT_PATH, "bindings[0].deadletter", "unknown key")

    def test_typo_in_version_file(self, tree: Tree) -> None:
        doc = good_version()
        doc["stauts"] = doc.pop("status")
        tree.contract(versions={1: doc})
        assert_reported(tree.errors(), V1_PATH, "stauts", "unknown key")

    def test_typo_in_rule(self, tree: Tree) -> None:
        doc = good_version()
        doc["rules"][0]["severty"] = doc["rules"][0].pop("severity")
        tree.contract(versions={1: doc})
        assert_reported(tree.errors(), V1_PATH, "rules[0].severty", "unknown key")


class TestMissingKeys:
    """A required key that is absent is named, with 'add it'."""

    def test_missing_owner(self, tree: Tree) -> None:
        spec = good_contract()
        del spec["owner"]
        tree.contract(spec=spec)
        assert_reported(tree.errors(), CONTRACT_PATH, "owner", "required key is missing", "add")

    def test_missing_owner_contact(self, tree: Tree) -> None:
        spec = good_contract()
        del spec["owner"]["contact"]
        tree.contract(spec=spec)
        assert_reported(tree.errors(), CONTRACT_PATH, "owner.contact", "required key is missing")

    def test_missing_schema(self, tree: Tree) -> None:
        doc = good_version()
        del doc["schema"]
        tree.contract(versions={1: doc})
        assert_reported(tree.errors(), V1_PATH, "schema", "required key is missing")

    def test_missing_rule_expr(self, tree: Tree) -> None:
        doc = good_version()
        del doc["rules"][0]["expr"]
        tree.contract(versions={1: doc})
        assert_reported(tree.errors(), V1_PATH, "rules[0].expr", "required key is missing")


class TestBadValues:
    """An enum-like value outside its set is named with the allowed choices."""

    def test_bad_compatibility(self, tree: Tree) -> None:
        tree.contract(spec=mutated_contract(compatibility="backwards"))
        assert_reported(
            tree.errors(),
            CONTRACT_PATH,
            "compatibility",
            "'backwards' is not allowed",
            "BACKWARD_TRANSITIVE",
            "NONE",
        )

    def test_bad_enforcement(self, tree: Tree) -> None:
        tree.contract(spec=mutated_contract(enforcement="block"))
        assert_reported(
            tree.errors(), CONTRACT_PATH, "enforcement", "'block' is not allowed", "'shadow'"
        )

    def test_bad_status(self, tree: Tree) -> None:
        tree.contract(versions={1: mutated_version(status="archived")})
        assert_reported(tree.errors(), V1_PATH, "status", "'archived' is not allowed", "retired")

    def test_bad_rule_severity(self, tree: Tree) -> None:
        tree.contract(versions={1: mutated_rule(severity="fatal")})
        assert_reported(
            tree.errors(), V1_PATH, "rules[0].severity", "'fatal' is not allowed", "'warn'"
        )

    def test_good_sla_loads(self, tree: Tree) -> None:
        sla = {"max_silence": "15m", "max_violation_ratio": 0.05, "window": "1h"}
        tree.contract(spec=mutated_contract(sla=sla))
        assert "shop.order" in load_contract_set(tree.root).contracts

    @pytest.mark.parametrize(
        ("sla", "field", "phrase"),
        [
            ({"max_silence": "15 minutes"}, "sla.max_silence", "pattern"),
            ({"window": "0m"}, "sla.window", "pattern"),
            ({"max_violation_ratio": 1.5}, "sla.max_violation_ratio", "less than or equal to 1"),
            ({"max_violation_ratio": 0}, "sla.max_violation_ratio", "greater than 0"),
            ({"max_silence": "15m", "windw": "1h"}, "sla.windw", "unknown key"),
        ],
    )
    def test_bad_sla(self, tree: Tree, sla: dict[str, Any], field: str, phrase: str) -> None:
        tree.contract(spec=mutated_contract(sla=sla))
        assert_reported(tree.errors(), CONTRACT_PATH, field, phrase)


class TestContractId:
    """The id is ``<domain>.<event>`` and agrees with the folder it sits in."""

    def test_id_for_another_folder(self, tree: Tree) -> None:
        tree.contract(spec=mutated_contract(id="shop.orders"))
        assert_reported(
            tree.errors(), CONTRACT_PATH, "id", "'shop.orders'", "folder says 'shop.order'"
        )

    @pytest.mark.parametrize("bad_id", ["shop_order", "shop.order.created", "Shop.Order", ".x"])
    def test_id_not_domain_dot_event(self, tree: Tree, bad_id: str) -> None:
        tree.contract(spec=mutated_contract(id=bad_id))
        assert_reported(tree.errors(), CONTRACT_PATH, "id", "pattern")


# --------------------------------------------------------------------------- versions


class TestVersionFiles:
    """Versions are v1..vN, each file's ``version`` is its name, nothing else is in the folder."""

    def test_version_field_disagrees_with_file_name(self, tree: Tree) -> None:
        tree.contract(versions={1: good_version(2)})
        assert_reported(tree.errors(), V1_PATH, "version", "is 2", "named v1.yaml")

    def test_version_gap(self, tree: Tree) -> None:
        tree.contract(versions={1: good_version(1), 3: good_version(3)})
        assert_reported(tree.errors(), CONTRACT_PATH, "", "without gaps", "missing v2.yaml")

    def test_no_versions_at_all(self, tree: Tree) -> None:
        tree.contract(versions={})
        assert_reported(tree.errors(), CONTRACT_PATH, "", "no version", "add v1.yaml")

    @pytest.mark.parametrize("name", ["notes.txt", "v1.yml", "v01.yaml", "v0.yaml", "V2.yaml"])
    def test_stray_file_in_contract_folder(self, tree: Tree, name: str) -> None:
        tree.contract()
        tree.write(f"{DOMAIN}/{EVENT}/{name}", good_version(2))
        assert_reported(
            tree.errors(), f"{DOMAIN}/{EVENT}/{name}", "", "unexpected file", "v<N>.yaml"
        )

    def test_default_version_names_a_missing_version(self, tree: Tree) -> None:
        tree.contract(spec=mutated_contract(default_version=3))
        assert_reported(tree.errors(), CONTRACT_PATH, "default_version", "v3", "does not exist")

    def test_default_version_names_a_retired_version(self, tree: Tree) -> None:
        tree.contract(
            spec=mutated_contract(default_version=1),
            versions={1: good_version(1, status="retired"), 2: good_version(2)},
        )
        assert_reported(tree.errors(), CONTRACT_PATH, "default_version", "retired", "live version")


# --------------------------------------------------------------------------- rules


class TestRules:
    """CEL rules compile, read declared fields, read at least one field, have unique ids."""

    def test_bad_cel_syntax(self, tree: Tree) -> None:
        tree.contract(versions={1: mutated_rule(expr="discount_cents <== total_cents")})
        assert_reported(
            tree.errors(),
            V1_PATH,
            "rules[0].expr",
            "'discount_not_above_total'",
            "CEL does not compile",
        )

    def test_rule_reads_an_undeclared_field(self, tree: Tree) -> None:
        tree.contract(versions={1: mutated_rule(expr="discount_cents <= totl_cents")})
        assert_reported(
            tree.errors(),
            V1_PATH,
            "rules[0].expr",
            "reads 'totl_cents'",
            "does not declare",
            "total_cents",
        )

    @pytest.mark.parametrize("expr", ["1 > 0", "true", "[1, 2].all(x, x > 0)"])
    def test_constant_rule(self, tree: Tree, expr: str) -> None:
        tree.contract(versions={1: mutated_rule(expr=expr)})
        assert_reported(tree.errors(), V1_PATH, "rules[0].expr", "constant", "reference")

    def test_duplicate_rule_id(self, tree: Tree) -> None:
        doc = good_version()
        doc["rules"].append(dict(doc["rules"][0], expr="total_cents >= 0"))
        tree.contract(versions={1: doc})
        assert_reported(
            tree.errors(),
            V1_PATH,
            "rules",
            "'discount_not_above_total' appears twice",
            "unique",
            prefix=True,
        )

    def test_rule_id_with_bad_characters(self, tree: Tree) -> None:
        tree.contract(versions={1: mutated_rule(id="Discount-Check")})
        assert_reported(tree.errors(), V1_PATH, "rules[0].id", "pattern")

    def test_second_rule_is_named_by_its_index(self, tree: Tree) -> None:
        doc = good_version()
        doc["rules"].append(dict(doc["rules"][0], id="other", expr="nope > 1"))
        tree.contract(versions={1: doc})
        errors = tree.errors()
        assert_reported(errors, V1_PATH, "rules[1].expr", "'other'", "reads 'nope'")
        assert not any(e.field == "rules[0].expr" for e in errors), _describe(errors)


# --------------------------------------------------------------------------- schemas


@pytest.fixture
def schema_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that would serve a valid schema, counting every request."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            body = b'{"type": "string"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/schema+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class TestSchemas:
    """A version schema is draft 2020-12, an object at the top, offline, with boolean PII flags."""

    def test_misspelt_type(self, tree: Tree) -> None:
        def mutate(schema: dict[str, Any]) -> None:
            schema["properties"]["total_cents"]["type"] = "strnig"

        tree.contract(versions={1: mutated_schema(mutate)})
        assert_reported(
            tree.errors(),
            V1_PATH,
            "schema",
            "not a valid JSON Schema",
            "/properties/total_cents/type",
        )

    @pytest.mark.parametrize("top", ["array", "string", None])
    def test_top_is_not_an_object(self, tree: Tree, top: str | None) -> None:
        def mutate(schema: dict[str, Any]) -> None:
            if top is None:
                del schema["type"]
            else:
                schema["type"] = top

        tree.contract(versions={1: mutated_schema(mutate)})
        assert_reported(tree.errors(), V1_PATH, "schema.type", "type: object")

    def test_schema_is_not_a_mapping(self, tree: Tree) -> None:
        tree.contract(versions={1: mutated_version(schema=["type", "object"])})
        assert_reported(tree.errors(), V1_PATH, "schema", "dictionary")

    @pytest.mark.parametrize(
        "dialect",
        [
            "http://json-schema.org/draft-07/schema#",
            "https://json-schema.org/draft/2019-09/schema",
            "https://json-schema.org/draft/2020-12/schema#extra",
        ],
    )
    def test_wrong_dialect(self, tree: Tree, dialect: str) -> None:
        def mutate(schema: dict[str, Any]) -> None:
            schema["$schema"] = dialect

        tree.contract(versions={1: mutated_schema(mutate)})
        assert_reported(
            tree.errors(),
            V1_PATH,
            "schema.$schema",
            "must be 'https://json-schema.org/draft/2020-12/schema'",
        )

    def test_invalid_regex_in_pattern(self, tree: Tree) -> None:
        def mutate(schema: dict[str, Any]) -> None:
            schema["properties"]["order_id"]["pattern"] = "^ORD-[0-9{4}$"

        tree.contract(versions={1: mutated_schema(mutate)})
        assert_reported(tree.errors(), V1_PATH, "schema", "regex", "^ORD-[0-9{4}$")

    @pytest.mark.parametrize("flag", ["yes", "true", 1, None])
    def test_non_boolean_pii_flag(self, tree: Tree, flag: Any) -> None:
        def mutate(schema: dict[str, Any]) -> None:
            schema["properties"]["email"]["x-pii"] = flag

        tree.contract(versions={1: mutated_schema(mutate)})
        assert_reported(tree.errors(), V1_PATH, "schema.properties.email.x-pii", "true or false")

    def test_remote_ref_is_refused_and_never_fetched(
        self, tree: Tree, schema_server: tuple[str, list[str]]
    ) -> None:
        base, requests = schema_server
        url = f"{base}/schemas/email.json"

        def mutate(schema: dict[str, Any]) -> None:
            schema["properties"]["email"] = {"$ref": url}

        tree.contract(versions={1: mutated_schema(mutate)})
        assert_reported(tree.errors(), V1_PATH, "schema", url)
        assert requests == [], f"the loader fetched a remote $ref: {requests}"

    def test_property_named_x_pii_is_not_a_pii_flag(self, tree: Tree) -> None:
        def mutate(schema: dict[str, Any]) -> None:
            schema["properties"]["x-pii"] = {"type": "string"}

        tree.contract(versions={1: mutated_schema(mutate)})
        assert "shop.order" in load_contract_set(tree.root).contracts

    def test_pii_flag_inside_a_property_named_x_pii_is_still_checked(self, tree: Tree) -> None:
        def mutate(schema: dict[str, Any]) -> None:
            schema["properties"]["x-pii"] = {"type": "string", "x-pii": "yes"}

        tree.contract(versions={1: mutated_schema(mutate)})
        assert_reported(tree.errors(), V1_PATH, "schema.properties.x-pii.x-pii", "true or false")


# --------------------------------------------------------------------------- bindings


def second_contract(tree: Tree, **binding: Any) -> None:
    """``shop/refund`` reading ``shop.refunds`` unless ``binding`` overrides its keys."""
    spec = good_contract(event="refund")
    spec["bindings"][0].update(binding)
    tree.contract(event="refund", spec=spec)


class TestBindings:
    """Topic names are Kafka's, topics never loop, and contracts sharing a topic are told apart."""

    @pytest.mark.parametrize(("key", "same_as"), [("output", "topic"), ("dead_letter", "output")])
    def test_binding_topics_must_differ(self, tree: Tree, key: str, same_as: str) -> None:
        spec = good_contract()
        spec["bindings"][0][key] = spec["bindings"][0][same_as]
        tree.contract(spec=spec)
        assert_reported(
            tree.errors(),
            CONTRACT_PATH,
            "bindings[0]",
            "three different topics",
            "loop",
            prefix=True,
        )

    @pytest.mark.parametrize("key", ["output", "dead_letter"])
    def test_output_is_another_contracts_input(self, tree: Tree, key: str) -> None:
        tree.contract()
        second_contract(tree, **{key: "shop.orders"})
        errors = tree.errors()
        assert_reported(
            errors,
            "shop/refund/contract.yaml",
            f"bindings[0].{key}",
            "'shop.orders'",
            "shop.order",
            "loop",
        )

    def test_two_contracts_on_one_topic_without_discriminators(self, tree: Tree) -> None:
        tree.contract()
        second_contract(tree, topic="shop.orders")
        errors = tree.errors()
        for file in (CONTRACT_PATH, "shop/refund/contract.yaml"):
            assert_reported(
                errors, file, "bindings[0].discriminator", "'shop.orders'", "needs a discriminator"
            )

    def test_same_discriminator_value_twice(self, tree: Tree) -> None:
        disc = {"header": "event-type", "value": "created"}
        spec = good_contract()
        spec["bindings"][0]["discriminator"] = disc
        tree.contract(spec=spec)
        second_contract(tree, topic="shop.orders", discriminator=disc)
        assert_reported(
            tree.errors(),
            "shop/refund/contract.yaml",
            "bindings[0].discriminator",
            "same discriminator as shop.order",
            "own value",
        )

    @pytest.mark.parametrize("topic", ["shop orders", "shop/orders", "", "t" * 250, "ordrés"])
    def test_bad_topic_name(self, tree: Tree, topic: str) -> None:
        spec = good_contract()
        spec["bindings"][0]["topic"] = topic
        tree.contract(spec=spec)
        assert_reported(tree.errors(), CONTRACT_PATH, "bindings[0].topic", "a-zA-Z0-9._-")

    def test_locator_with_both_header_and_pointer(self, tree: Tree) -> None:
        tree.contract(
            spec=mutated_contract(version_source={"header": "v", "pointer": "/schema_version"})
        )
        assert_reported(
            tree.errors(), CONTRACT_PATH, "version_source", "exactly one of 'header' or 'pointer'"
        )

    def test_locator_with_neither_header_nor_pointer(self, tree: Tree) -> None:
        spec = good_contract()
        spec["bindings"][0]["discriminator"] = {"value": "created"}
        tree.contract(spec=spec)
        assert_reported(tree.errors(), CONTRACT_PATH, "bindings[0].discriminator", "exactly one of")

    @pytest.mark.parametrize("pointer", ["schema_version", "/a~2b", "#/type"])
    def test_bad_json_pointer(self, tree: Tree, pointer: str) -> None:
        tree.contract(spec=mutated_contract(version_source={"pointer": pointer}))
        assert_reported(
            tree.errors(), CONTRACT_PATH, "version_source.pointer", "not a JSON pointer", "/field"
        )


# --------------------------------------------------------------------------- layout


class TestLayout:
    """``contract.yaml`` sits exactly at ``<domain>/<event>/contract.yaml``."""

    @pytest.mark.parametrize("name", ["contract.yml", "Contract.yaml", None])
    def test_contract_folder_without_contract_yaml(self, tree: Tree, name: str | None) -> None:
        if name is not None:
            tree.write(f"{DOMAIN}/{EVENT}/{name}", good_contract())
        tree.write(V1_PATH, good_version())
        errors = tree.errors()
        assert any(
            e.file.startswith(f"contracts/{DOMAIN}/{EVENT}") and "contract.yaml" in e.message
            for e in errors
        ), _describe(errors)

    def test_contract_yaml_nested_too_deep(self, tree: Tree) -> None:
        tree.contract()
        tree.write("shop/order/extra/contract.yaml", good_contract())
        assert_reported(
            tree.errors(), "shop/order/extra/contract.yaml", "", "exactly two levels down"
        )

    def test_contract_yaml_nested_too_shallow(self, tree: Tree) -> None:
        tree.contract()
        tree.write("shop/contract.yaml", good_contract())
        assert_reported(tree.errors(), "shop/contract.yaml", "", "<domain>/<event>/contract.yaml")

    def test_missing_root_directory(self, tmp_path: Path) -> None:
        with pytest.raises(ContractSetError) as info:
            load_contract_set(tmp_path / "nope")
        assert any("no such directory" in e.message for e in info.value.errors)


# --------------------------------------------------------------------------- all at once


class TestEveryErrorAtOnce:
    """One load reports every mistake in the tree, not just the first one found."""

    def test_three_mistakes_in_three_files(self, tree: Tree) -> None:
        spec = good_contract()
        spec["compatibilty"] = spec.pop("compatibility")
        tree.contract(spec=spec)  # mistake 1: shop/order/contract.yaml
        tree.contract(
            event="refund", versions={1: mutated_rule(expr="discount_cents <= totl_cents")}
        )  # mistake 2: shop/refund/v1.yaml
        tree.contract(domain="billing", event="invoice")
        tree.write("billing/invoice/v2.yaml", good_version(3))  # mistake 3
        errors = tree.errors()
        assert_reported(errors, CONTRACT_PATH, "compatibilty", "unknown key")
        assert_reported(errors, "shop/refund/v1.yaml", "rules[0].expr", "reads 'totl_cents'")
        assert_reported(errors, "billing/invoice/v2.yaml", "version", "is 3")
        assert len({e.file for e in errors}) == 3, _describe(errors)

    def test_version_gap_reported_alongside_a_contract_yaml_typo(self, tree: Tree) -> None:
        spec = good_contract()
        spec["compatibilty"] = spec.pop("compatibility")
        tree.contract(spec=spec, versions={1: good_version(1), 3: good_version(3)})
        errors = tree.errors()
        assert_reported(errors, CONTRACT_PATH, "compatibilty", "unknown key")
        assert_reported(errors, CONTRACT_PATH, "", "missing v2.yaml")

    def test_three_mistakes_in_one_contract(self, tree: Tree) -> None:
        tree.contract(
            spec=mutated_contract(enforcement="block"),
            versions={1: mutated_rule(expr="1 > 0"), 2: mutated_version(version=2, extra=1)},
        )
        errors = tree.errors()
        assert_reported(errors, CONTRACT_PATH, "enforcement", "not allowed")
        assert_reported(errors, V1_PATH, "rules[0].expr", "constant")
        assert_reported(errors, "shop/order/v2.yaml", "extra", "unknown key")

    @pytest.mark.parametrize("broken", ["shop/order/v1.yaml", "shop/refund/v1.yaml"])
    def test_binding_conflict_reported_alongside_a_version_error(
        self, tree: Tree, broken: str
    ) -> None:
        tree.contract()
        second_contract(tree, output="shop.orders")  # refund writes into order's input
        tree.write(broken, mutated_rule(expr="1 > 0"))
        errors = tree.errors()
        assert_reported(errors, broken, "rules[0].expr", "constant")
        assert_reported(errors, "shop/refund/contract.yaml", "bindings[0].output", "loop")


def test_helpers_do_not_share_state() -> None:
    """The good documents are fresh each call, so one test's mutation cannot leak into another."""
    first = good_contract()
    first["owner"]["team"] = "mutated"
    version = good_version()
    version["rules"][0]["expr"] = "mutated"
    assert good_contract()["owner"]["team"] == "shop"
    assert good_version()["rules"][0]["expr"] != "mutated"
    assert copy.deepcopy(good_version()) == good_version()
