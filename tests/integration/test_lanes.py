"""Namespaces ("lanes") configured by [namespaces.<name>] tables of the TOML
config file, through the real server: per-lane L1 bounds (filling one lane
does not evict another), per-lane TTL, min compute time, tiers, compression
and persistence, and the `namespaces` section of GET /v1/stats."""

import os
import shutil
import signal
import tempfile
import unittest

import harness
from harness import Server, run_serve_expecting_exit

LANES = """
[namespaces.small]
max_entries = 4
default_ttl_s = 60
tiers = ["l1"]
eviction = "lru"

[namespaces.big]
max_entries = 1000
default_ttl_s = 7200

[namespaces.slow]
min_compute_ms = 100

[namespaces.raw]
compress = false

[namespaces.scratch]
persistent = false

[namespaces.docs]
max_entries = 50
"""


def put(server, ns, goal, plan, **extra):
    body = {"goal": goal, "namespace": ns, "plan": plan}
    body.update(extra)
    return server.request("PUT", "/v1/plans", body)


def lookup(server, ns, goal):
    return server.request("POST", "/v1/plans/lookup", {"goal": goal, "namespace": ns})


class LanesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plancache-lanes-")
        self.data_dir = os.path.join(self.dir, "data")
        self.config = os.path.join(self.dir, "plancache.toml")
        with open(self.config, "w") as f:
            f.write(LANES)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, *args):
        return Server(["--config", self.config] + list(args), data_dir=self.data_dir)

    def stats(self, server):
        res = server.request("GET", "/v1/stats")
        self.assertEqual(res.status, 200, res)
        return res.json()

    def test_filling_one_lane_does_not_evict_another(self):
        with self.start() as s:
            for i in range(3):
                self.assertEqual(put(s, "big", "keep %d" % i, {"n": i}).status, 201)
            for i in range(40):
                self.assertEqual(put(s, "small", "churn %d" % i, {"n": i}).status, 201)
            for i in range(3):
                answer = lookup(s, "big", "keep %d" % i)
                self.assertEqual(answer.status, 200, answer)
                self.assertEqual(answer.json()["tier"], "l1", "still in the big lane's L1")
            lanes = self.stats(s)["namespaces"]
            self.assertLessEqual(lanes["small"]["l1"]["entries"], 4)
            self.assertGreater(lanes["small"]["l1"]["entries"], 0)
            self.assertEqual(lanes["big"]["l1"]["entries"], 3)

    def test_each_lane_has_its_default_ttl(self):
        with self.start() as s:
            expected = {"small": 60, "big": 7200, "default": 3600, "docs": 86400,
                        "unconfigured": 3600}
            for ns in expected:
                self.assertEqual(put(s, ns, "g", [ns]).status, 201)
            for ns, ttl_s in expected.items():
                doc = lookup(s, ns, "g").json()
                self.assertEqual(doc["expires_ms"] - doc["created_ms"], ttl_s * 1000, ns)
            # A TTL given with the put still wins.
            self.assertEqual(put(s, "small", "own ttl", 1, ttl_s=5).status, 201)
            doc = lookup(s, "small", "own ttl").json()
            self.assertEqual(doc["expires_ms"] - doc["created_ms"], 5000)

    def test_min_compute_time_is_per_lane(self):
        with self.start() as s:
            cheap = put(s, "slow", "cheap", 1, compute_ms=50)
            self.assertEqual(cheap.status, 200, cheap)
            self.assertIs(cheap.json()["stored"], False)
            self.assertEqual(lookup(s, "slow", "cheap").status, 404)
            self.assertEqual(put(s, "slow", "dear", 1, compute_ms=150).status, 201)
            self.assertEqual(lookup(s, "slow", "dear").status, 200)
            self.assertEqual(put(s, "default", "cheap", 1, compute_ms=50).status, 201,
                             "the default lane keeps everything")

    def test_an_l1_only_lane_never_reaches_l2(self):
        with self.start() as s:
            self.assertEqual(put(s, "small", "g", 1).status, 201)
            self.assertEqual(put(s, "big", "g", 1).status, 201)
            doc = self.stats(s)
            self.assertTrue(doc["l2_connected"])
            l2 = next(t for t in doc["tiers"] if t["name"] == "l2")
            self.assertNotIn("small", l2["namespaces"])
            self.assertEqual(l2["namespaces"]["big"]["entries"], 1)
            self.assertNotIn("l2", doc["namespaces"]["small"])
            self.assertEqual(doc["namespaces"]["big"]["l2"]["entries"], 1)
            s.signal(signal.SIGTERM)
            self.assertEqual(s.wait_exit(), 0)
        with self.start() as s:
            self.assertEqual(lookup(s, "small", "g").status, 404, "was only ever in memory")
            self.assertEqual(lookup(s, "big", "g").json()["tier"], "l2")

    def test_compression_is_per_lane(self):
        plan = {"steps": ["compile the module and run its tests"] * 2000}
        size = len(str(plan))
        with self.start() as s:
            self.assertEqual(put(s, "raw", "g", plan).status, 201)
            self.assertEqual(put(s, "big", "g", plan).status, 201)
            lanes = self.stats(s)["namespaces"]
            self.assertGreater(lanes["raw"]["l2"]["bytes"], size * 0.9, "stored as is")
            self.assertLess(lanes["big"]["l2"]["bytes"], size / 10, "zstd-compressed")

    def test_non_persistent_lanes_are_wiped_at_start(self):
        with self.start() as s:
            for ns in ("scratch", "big", "unconfigured"):
                self.assertEqual(put(s, ns, "g", [ns]).status, 201)
            s.signal(signal.SIGTERM)
            self.assertEqual(s.wait_exit(), 0)
        with self.start() as s:
            self.assertEqual(lookup(s, "scratch", "g").status, 404)
            for ns in ("big", "unconfigured"):
                answer = lookup(s, ns, "g")
                self.assertEqual(answer.status, 200, (ns, answer))
                self.assertEqual(answer.json()["tier"], "l2")
                self.assertEqual(answer.json()["plan"], [ns])
            self.assertIn("scratch", s.log())  # the wipe is logged

    def test_stats_list_every_configured_lane_with_its_policy(self):
        with self.start() as s:
            self.assertEqual(put(s, "big", "g", 1).status, 201)
            self.assertEqual(lookup(s, "big", "g").status, 200)
            self.assertEqual(lookup(s, "big", "nope").status, 404)
            self.assertEqual(lookup(s, "mine", "nope").status, 404)
            doc = self.stats(s)
            lanes = doc["namespaces"]
            for ns in ("default", "docs", "standard", "heavy", "checkpoints", "small", "big",
                       "slow", "raw", "scratch"):
                self.assertIn(ns, lanes)
                self.assertEqual(lanes[ns]["policy"]["lane"], ns)
                self.assertIn("l1", lanes[ns])
            big = lanes["big"]
            self.assertEqual(big["l1"]["entries"], 1)
            self.assertEqual(big["l1"]["hits"], 1)
            self.assertEqual(big["l1"]["misses"], 1)
            self.assertEqual(big["l1"]["hit_rate"], 0.5)
            self.assertEqual(big["policy"]["max_entries"], 1000)
            self.assertEqual(big["policy"]["default_ttl_s"], 7200)
            self.assertEqual(lanes["heavy"]["l1"]["entries"], 0, "listed before it is used")
            self.assertEqual(lanes["heavy"]["policy"]["max_entries"], 500)
            small = lanes["small"]["policy"]
            self.assertEqual((small["max_entries"], small["default_ttl_s"], small["tiers"],
                              small["eviction"]), (4, 60, ["l1"], "lru"))
            self.assertEqual(lanes["docs"]["policy"]["max_entries"], 50)
            self.assertEqual(lanes["docs"]["policy"]["default_ttl_s"], 86400, "preset kept")
            self.assertIs(lanes["scratch"]["policy"]["persistent"], False)
            self.assertIs(lanes["raw"]["policy"]["compress"], False)
            # An unconfigured namespace without entries costs nothing: no row
            # (its miss is in the tier's count); with one, it is shown with the
            # default lane's policy.
            self.assertNotIn("mine", lanes)
            self.assertEqual(put(s, "mine", "g", 1).status, 201)
            mine = self.stats(s)["namespaces"]["mine"]
            self.assertEqual(mine["policy"]["lane"], "default")
            self.assertEqual(mine["l1"]["entries"], 1)
            # The whole L1 bound is the sum of the lanes'; l1_max_size is the
            # default lane's (the PlanCache setting of that name).
            l1 = doc["tiers"][0]
            self.assertEqual(l1["max_entries"],
                             sum(lane["policy"]["max_entries"] for name, lane in lanes.items()
                                 if name != "mine" and "l1" in lane["policy"]["tiers"]))
            self.assertEqual(doc["l1_max_size"], 100000)

    def test_bad_lane_tables_refuse_to_start(self):
        cases = [
            ('[namespaces.small]\nmax_entries = -1\n', ["[namespaces.small]", "max_entries"]),
            ('[namespaces.small]\ncolour = "blue"\n', ["[namespaces.small]", "colour"]),
            ('[namespaces."../x"]\nmax_entries = 1\n', ["../x", "namespace"]),
            ('[namespaces.small]\ntiers = ["l1", "disk"]\n', ["tiers", "disk"]),
        ]
        for text, fragments in cases:
            with self.subTest(text=text):
                with open(self.config, "w") as f:
                    f.write(text)
                code, output = run_serve_expecting_exit(
                    ["--config", self.config, "--port", "0", "--data-dir", ""])
                self.assertEqual(code, 2, output)
                for fragment in [self.config] + fragments:
                    self.assertIn(fragment, output)


if __name__ == "__main__":
    harness.main()
