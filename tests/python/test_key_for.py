"""plancache.key_for: the golden vectors of the C++ tests, and the server's own keys.

The vectors are read from where the C++ tests pin them, the `kGolden` (version
1) and `kGoldenV2` (lane key rules, version 2) tables of
tests/core/key_builder_test.cc (their C string literals decoded here), and
checked against the tables of docs/key_format.md §5 and §6.3 too.
"""

import json
import os
import re

import pytest

from plancache import Client, Engine, canonical_json, key_for, normalize_goal
from plancache.keys import key_material, rules_text

_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_SIMPLE_ESCAPES = {"n": 0x0A, "t": 0x09, "r": 0x0D, "\\": 0x5C, '"': 0x22, "'": 0x27,
                   "0": 0x00, "v": 0x0B, "f": 0x0C, "b": 0x08, "a": 0x07, "?": 0x3F}


def decode_c_literal(body):
    """The bytes of one C string literal's body (\\xHH is greedy, as in C)."""
    out, i = bytearray(), 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        e = body[i + 1]
        if e == "x":
            j = i + 2
            while j < len(body) and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(body[i + 2:j], 16))
            i = j
        else:
            out.append(_SIMPLE_ESCAPES[e])
            i += 2
    return bytes(out)


V1_FIELDS = ("ns", "goal", "context", "material", "sha256", "xxh3_128")
V2_FIELDS = ("ns", "goal", "context", "rules", "material", "sha256", "xxh3_128")


def cpp_golden_vectors(repo, table_start="const Golden kGolden[] = {", names=V1_FIELDS):
    """[{ns, goal, context, material, sha256, xxh3_128}] from kGolden in the C++ test
    (or another table of string rows, with the field names given)."""
    with open(os.path.join(repo, "tests/core/key_builder_test.cc"), encoding="utf-8") as f:
        source = f.read()
    table = source[source.index(table_start):]
    table = table[:table.index("\n};")]
    rows = []
    for row in re.findall(r"^\s*\{(\".*?)\},?$", table, re.M | re.S):
        row = re.sub(r"//[^\n]*", "", row)  # comments after a literal
        fields, current = [], None
        # adjacent literals concatenate; a comma ends a field
        for token in re.finditer(r'"((?:[^"\\\n]|\\.)*)"|,', row):
            if token.group(0) == ",":
                fields.append(current)
                current = None
            else:
                current = (current or b"") + decode_c_literal(token.group(1))
        fields.append(current)
        fields = [f for f in fields if f is not None]
        assert len(fields) == len(names), fields
        rows.append(dict(zip(names, fields)))
    return rows


def doc_golden_sha256(repo, heading="## 5. Golden vectors", column=4):
    """The sha256 column of docs/key_format.md §5 (or another section's
    table), in row order."""
    with open(os.path.join(repo, "docs/key_format.md"), encoding="utf-8") as f:
        doc = f.read()
    section = doc[doc.index(heading):]
    end = section.find("\n## ", len(heading))
    section = section if end < 0 else section[:end]
    return [cells[column].strip().strip("`") for cells in
            (line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `"))]


@pytest.fixture(scope="module")
def vectors(repo):
    rows = cpp_golden_vectors(repo)
    assert len(rows) >= 3
    return rows


def test_golden_vectors_of_the_cpp_tests(vectors, repo):
    assert [v["sha256"].decode() for v in vectors] == doc_golden_sha256(repo)
    for v in vectors:
        goal = v["goal"].decode("utf-8")
        context = json.loads(v["context"]) if v["context"] else None
        ns = v["ns"].decode()
        assert key_material(goal, context, ns) == v["material"]
        assert key_for(goal, context, ns) == v["sha256"].decode()
        assert key_for(v["goal"], context, ns) == v["sha256"].decode()  # bytes goal too


def test_golden_vectors_against_the_server(vectors, server):
    with Client(server.url) as c:
        for v in vectors:
            context = json.loads(v["context"]) if v["context"] else None
            put = c.put(v["goal"].decode("utf-8"), {"golden": True}, context=context,
                        namespace=v["ns"].decode())
            assert put.key == v["sha256"].decode()


CASES = [
    ("plain", None, "default"),
    ("  many\t\nspaces\u00a0\u3000and\u2028separators\u205f ", None, "default"),
    ("Cafe\u0301 \u212b \u1112\u1161\u11ab", {"k": "e\u0301"}, "docs"),  # NFC goal, raw context
    ("\ufb01 ligature and zero\u200bwidth\ufeff", [], "standard"),
    ("controls \x1c\x1d\x1e\x1f are not White_Space", "ctx", "default"),
    ("numbers", [1, 1.0, 2.5, -0.0, 1e20, 1e21, 1e-7, 0.000001, 1.5e300, 123.456e-10,
                 2**63 - 1, -(2**63), 2**64 - 1, 2**64, 9007199254740993, 5e-324], "heavy"),
    ("nesting", {"b": {"z": [True, False, None], "a": {}}, "a": [[[]]], "é": 1, "e": 2,
                 "\U0001f600": 3, "\u00ff": 4}, "n.s-1_"),
    ("strings", {"s": "quote\" back\\ slash/ \b\f\n\r\t \x00\x01\x1f \x7f \u2028 \U0001f600"},
     "default"),
    ("long " * 4000, {"big": list(range(300))}, "default"),  # never truncated
    ("emoji \U0001f680 goal", {"deep": [[[[[[[[[[{"x": 1}]]]]]]]]]]}, "default"),
]


@pytest.mark.parametrize("goal, context, namespace", CASES)
def test_key_for_equals_the_servers_key(server, goal, context, namespace):
    with Client(server.url) as c:
        put = c.put(goal, 1, context=context, namespace=namespace)
        assert put.key == key_for(goal, context, namespace)
        assert c.lookup(goal, context=context, namespace=namespace).key == put.key


def test_normalisation_rules():
    assert normalize_goal("  Deploy   the\tweb app\n") == "Deploy the web app"
    assert normalize_goal("e\u0301") == "\u00e9"
    assert normalize_goal("\ufb01") == "\ufb01"  # NFC, not NFKC
    assert normalize_goal("a\u200bb") == "a\u200bb"
    assert key_for("plan  the\ttrip") == key_for(" plan the trip ")
    assert canonical_json({"b": [1, 2.50, True, None], "a": {"y": "é\n", "x": 1.0}}) == \
        '{"a":{"x":1,"y":"é\\n"},"b":[1,2.5,true,null]}'
    assert canonical_json(18446744073709551616) == "18446744073709552000"
    assert canonical_json(9007199254740993) == "9007199254740993"
    assert canonical_json(9007199254740993.0) == "9007199254740992"
    assert canonical_json([1e20, 1e21, 1e-7, 0.000001, -0.0]) == \
        "[100000000000000000000,1e+21,1e-7,0.000001,0]"


@pytest.mark.parametrize("goal", ["", "   \t\n", "a\x00b", "lone \ud800 surrogate", b"\xff bad"])
def test_bad_goals_raise_like_the_server(server, goal):
    with pytest.raises(ValueError):
        key_for(goal)
    if isinstance(goal, str) and "\ud800" not in goal:
        with Client(server.url) as c, pytest.raises(Exception) as err:
            c.lookup(goal)
        assert getattr(err.value, "code", None) == "invalid_argument"


def test_bad_contexts_and_namespaces(server):
    deep_ok, deep_bad = 1, 1
    for _ in range(128):
        deep_ok = [deep_ok]
    for _ in range(129):
        deep_bad = [deep_bad]
    with Client(server.url) as c:
        assert c.put("deep", 1, context=deep_ok).key == key_for("deep", deep_ok)
        with pytest.raises(Exception) as err:
            c.put("deep", 1, context=deep_bad)
        assert getattr(err.value, "code", None) == "invalid_argument"
    with pytest.raises(ValueError):
        key_for("deep", deep_bad)
    for value in (float("nan"), float("inf"), {1: "not a str key"}, {"s": "\udc00"}, object()):
        with pytest.raises((ValueError, TypeError)):
            key_for("x", value)
    for ns in ("", "../x", "a/b", ".hidden", "-x", "a" * 65, "n\x00s"):
        with pytest.raises(ValueError):
            key_for("x", None, ns)


# -- lane key rules (key format version 2) ---------------------------------

def rule_kwargs(rules_json):
    """key_for's keyword arguments from a kGoldenV2 row's rules (config values)."""
    rules = json.loads(rules_json)
    return {"ignored_context_fields": rules.get("ignored_context_fields", ()),
            "key_ignored_fields": rules.get("key_ignored_fields", ()),
            "key_set_arrays": rules.get("key_set_arrays")}


def test_version_2_golden_vectors_of_the_cpp_tests(repo):
    rows = cpp_golden_vectors(repo, "const GoldenV2 kGoldenV2[] = {", V2_FIELDS)
    assert len(rows) >= 3
    assert [v["sha256"].decode() for v in rows] == \
        doc_golden_sha256(repo, "### 6.3 Golden vectors", 5)
    for v in rows:
        kwargs = rule_kwargs(v["rules"])
        context, ns = json.loads(v["context"]), v["ns"].decode()
        assert key_material(v["goal"], context, ns, **kwargs) == v["material"]
        assert key_for(v["goal"].decode("utf-8"), context, ns, **kwargs) == v["sha256"].decode()


def test_rules_text_and_set_array_order():
    assert rules_text() == ""
    assert rules_text(["ts"]) == "", "server-wide ignored fields alone: version 1"
    assert rules_text(["ts", "a"], ["a", "rid"], {"plays": "name"}) == \
        '{"ignored_fields":["a","rid","ts"],"set_arrays":{"plays":"name"}}'
    sets = {"plays": "name", "hosts": ""}
    assert canonical_json({"plays": [{"x": 1}, "s", {"name": "b"}, {"name": "a"}, 7]},
                          set_arrays=sets) == '{"plays":[{"name":"a"},{"name":"b"},"s",7,{"x":1}]}'
    assert canonical_json({"hosts": ["é", "z", "a", "a"]}, set_arrays=sets) == \
        '{"hosts":["a","a","z","é"]}'
    assert canonical_json(["b", "a"], set_arrays=sets) == '["b","a"]'
    with pytest.raises(ValueError):
        key_for("g", None, "ops", key_ignored_fields=[""])
    with pytest.raises(TypeError):
        key_for("g", None, "ops", key_set_arrays={"plays": 1})


RULES_CONFIG = """
ignored_context_fields = ["timestamp"]

[namespaces.ops]
key_ignored_fields = ["request_id"]
key_set_arrays = { plays = "name", hosts = "", tasks = "id" }
"""
OPS_RULES = {"ignored_context_fields": ["timestamp"], "key_ignored_fields": ["request_id"],
             "key_set_arrays": {"plays": "name", "hosts": "", "tasks": "id"}}
RULE_CONTEXTS = [
    None,
    {"plays": [{"name": "web", "hosts": ["b", "a"]}, {"name": "db"}], "hosts": ["z", "y", "z"]},
    {"request_id": 7, "timestamp": 1, "tasks": [{"id": 10}, "x", {"id": 9}, {"do": 1}],
     "deep": [{"plays": [{"name": "\u00e9"}, {"name": "e"}, 3]}]},
]


def test_key_for_with_lane_rules_equals_the_servers_and_the_engines_key(tmp_path, fresh_server):
    config = tmp_path / "rules.toml"
    config.write_text(RULES_CONFIG)
    server = fresh_server("--config", str(config), planner=False, config=False)
    engine = Engine(ignored_fields=["timestamp"],
                    lanes={"ops": {"key_ignored_fields": ["request_id"],
                                   "key_set_arrays": OPS_RULES["key_set_arrays"]}})
    with Client(server.url) as c, engine:
        for context in RULE_CONTEXTS:
            ops = key_for("plan it", context, "ops", **OPS_RULES)
            assert c.put("plan it", 1, context=context, namespace="ops").key == ops
            assert engine.key_for("plan it", context, "ops") == ops
            # Lanes without rules of their own: version 1 with the server-wide field.
            for ns in ("default", "unconfigured"):
                plain = key_for("plan it", context, ns, ignored_context_fields=["timestamp"])
                assert c.put("plan it", 1, context=context, namespace=ns).key == plain
                assert engine.key_for("plan it", context, ns) == plain
                assert plain != key_for("plan it", context, ns, **OPS_RULES)
