"""Per-lane key rules (`key_ignored_fields`, `key_set_arrays` in a
[namespaces.<name>] table) through the real server: in a lane with rules,
contexts that differ only in the order of a set array, or in a lane-ignored
member, are one plan on every plan path (PUT, lookup, read-through, lease,
DELETE); in the default lane they stay different plans. Keys of a lane with
rules are of key format version 2 (docs/key_format.md §6), those of the
other lanes are unchanged."""

import os
import shutil
import tempfile
import unittest

import harness
from harness import Server, run_serve_expecting_exit

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLANNER = "/usr/bin/python3 %s/examples/planner.py --stdin" % REPO

CONFIG = """
ignored_context_fields = ["timestamp"]

[namespaces.ops]
key_ignored_fields = ["request_id"]
key_set_arrays = { plays = "name", hosts = "" }
"""

# Two contexts that differ only in the order of `plays` (by name), of
# `hosts` (top level and inside a play), and in `request_id`.
CONTEXT_A = {"plays": [{"name": "web", "hosts": ["w2", "w1"]}, {"name": "db"}],
             "hosts": ["w2", "db1", "w1"], "request_id": "r-1", "timestamp": 1}
CONTEXT_B = {"hosts": ["w1", "w2", "db1"], "request_id": "r-2", "timestamp": 2,
             "plays": [{"name": "db"}, {"hosts": ["w1", "w2"], "name": "web"}]}
GOAL = "deploy the site"

# The version-2 golden vector of docs/key_format.md §6.3, first row.
GOLDEN_CONFIG = """
[namespaces.ops]
key_set_arrays = { plays = "name", hosts = "" }
"""
GOLDEN_CONTEXT = {"plays": [{"name": "web", "hosts": ["web2", "web1"]},
                            {"hosts": ["db1"], "name": "db"}],
                  "hosts": ["web2", "db1", "web1"]}
GOLDEN_KEY = "e957b95fefef10aa32504cb4c0d1a0970333c296c73106320b0647129c151df2"


def body(ns, context, **extra):
    doc = {"goal": GOAL, "namespace": ns, "context": context}
    doc.update(extra)
    return doc


class KeyRulesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plancache-keyrules-")
        self.config = os.path.join(self.dir, "plancache.toml")
        self.write_config(CONFIG)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_config(self, text):
        with open(self.config, "w") as f:
            f.write(text)

    def start(self):
        return Server(["--config", self.config, "--planner-cmd", PLANNER])

    def put(self, s, ns, context, plan):
        res = s.request("PUT", "/v1/plans", body(ns, context, plan=plan))
        self.assertEqual(res.status, 201, res)
        return res.json()["key"]

    def lookup(self, s, ns, context):
        return s.request("POST", "/v1/plans/lookup", body(ns, context))

    def test_set_array_order_and_lane_ignored_fields_make_one_key_in_the_lane(self):
        with self.start() as s:
            key = self.put(s, "ops", CONTEXT_A, {"lane": "ops"})
            found = self.lookup(s, "ops", CONTEXT_B)
            self.assertEqual(found.status, 200, found)
            self.assertEqual(found.json()["key"], key)
            self.assertEqual(found.json()["plan"], {"lane": "ops"})
            self.assertEqual(self.put(s, "ops", CONTEXT_B, {"lane": "ops"}), key)

    def test_the_default_lane_keeps_order_and_request_id(self):
        with self.start() as s:
            key = self.put(s, "default", CONTEXT_A, {"lane": "default"})
            missed = self.lookup(s, "default", CONTEXT_B)
            self.assertEqual(missed.status, 404, missed)
            self.assertNotEqual(missed.json()["key"], key)
            # Only the order of `plays` differs: still another plan here.
            reordered = dict(CONTEXT_A, plays=list(reversed(CONTEXT_A["plays"])))
            self.assertEqual(self.lookup(s, "default", reordered).status, 404)
            # Only request_id differs: another plan here, the same one in ops.
            other_id = dict(CONTEXT_A, request_id="r-3")
            self.assertEqual(self.lookup(s, "default", other_id).status, 404)
            # The server-wide ignored field is ignored in every lane.
            self.assertEqual(self.lookup(s, "default", dict(CONTEXT_A, timestamp=9)).status, 200)
            ops_key = self.put(s, "ops", CONTEXT_A, 1)
            self.assertEqual(self.lookup(s, "ops", other_id).json()["key"], ops_key)
            self.assertEqual(self.lookup(s, "ops", reordered).json()["key"], ops_key)
            # An unconfigured namespace follows the default lane: no rules.
            self.put(s, "elsewhere", CONTEXT_A, 1)
            self.assertEqual(self.lookup(s, "elsewhere", CONTEXT_B).status, 404)

    def test_every_plan_path_uses_the_lanes_rules(self):
        with self.start() as s:
            # Read-through computes once; the reordered context is then cached.
            first = s.request("POST", "/v1/plans", body("ops", CONTEXT_A))
            self.assertEqual(first.status, 200, first)
            self.assertIs(first.json()["cached"], False)
            again = s.request("POST", "/v1/plans", body("ops", CONTEXT_B))
            self.assertEqual(again.status, 200, again)
            self.assertIs(again.json()["cached"], True)
            self.assertEqual(again.json()["key"], first.json()["key"])
            # A lease on the reordered context finds the plan.
            lease = s.request("POST", "/v1/plans/lease", body("ops", CONTEXT_B))
            self.assertEqual(lease.status, 200, lease)
            self.assertEqual(lease.json()["status"], "hit")
            self.assertEqual(lease.json()["key"], first.json()["key"])
            # DELETE with the other order removes it.
            removed = s.request("DELETE", "/v1/plans", body("ops", CONTEXT_B))
            self.assertEqual(removed.status, 200, removed)
            self.assertIs(removed.json()["removed"], True)
            self.assertEqual(self.lookup(s, "ops", CONTEXT_A).status, 404)

    def test_stats_show_the_lanes_rules(self):
        with self.start() as s:
            lanes = s.request("GET", "/v1/stats").json()["namespaces"]
            ops = lanes["ops"]["policy"]
            self.assertEqual(ops["key_ignored_fields"], ["request_id"])
            self.assertEqual(ops["key_set_arrays"], {"hosts": "", "plays": "name"})
            self.assertEqual(lanes["default"]["policy"]["key_set_arrays"], {})

    def test_version_2_golden_key_over_http(self):
        self.write_config(GOLDEN_CONFIG)
        with Server(["--config", self.config]) as s:
            res = s.request("PUT", "/v1/plans", {"goal": "deploy  the site", "namespace": "ops",
                                                 "context": GOLDEN_CONTEXT, "plan": 1})
            self.assertEqual(res.status, 201, res)
            self.assertEqual(res.json()["key"], GOLDEN_KEY)
            # Without rules the lane's key is version 1: the same inputs differ.
            res = s.request("PUT", "/v1/plans", {"goal": "deploy  the site", "namespace": "x",
                                                 "context": GOLDEN_CONTEXT, "plan": 1})
            self.assertNotEqual(res.json()["key"], GOLDEN_KEY)

    def test_bad_key_rules_refuse_to_start(self):
        cases = [
            ('[namespaces.ops]\nkey_set_arrays = ["plays"]\n', ["'key_set_arrays'", "table"]),
            ('[namespaces.ops]\nkey_set_arrays = { plays = 1 }\n',
             ["'key_set_arrays'", "'plays'", "a string"]),
            ('[namespaces.ops]\nkey_set_arrays = { "" = "name" }\n', ["'key_set_arrays'", "empty"]),
            ('[namespaces.ops]\nkey_ignored_fields = [""]\n', ["'key_ignored_fields'", "empty"]),
            ('[namespaces.ops]\nkey_ignored_fields = "request_id"\n',
             ["'key_ignored_fields'", "array"]),
        ]
        for text, fragments in cases:
            with self.subTest(text=text):
                self.write_config(text)
                code, output = run_serve_expecting_exit(
                    ["--config", self.config, "--port", "0", "--data-dir", ""])
                self.assertEqual(code, 2, output)
                for fragment in [self.config, "[namespaces.ops]"] + fragments:
                    self.assertIn(fragment, output)


if __name__ == "__main__":
    harness.main()
