"""`plancache simulate` through the real binary: the table and --json on a
hand-checked trace, exit code 2 and the line number for a bad file, and the
one-code-path contract: a server lane with the same L1 bound, replaying the
same keys through GET / PUT /v1/entries/<lane>/<key>, gets exactly the hits
the simulator reports for that policy and size."""

import http.client
import json
import os
import random
import shutil
import tempfile
import unittest

import harness
from harness import Server, run_cli

# A B C A D B E A B C D E: LRU(3) hits twice, Belady's MIN(3) five times
# (worked out in tests/sim/replay_test.cc).
TWELVE = "1\n2\n3\n1\n4\n2\n5\n1\n2\n3\n4\n5\n"

TRACES = os.environ.get("PLANCACHE_TRACES_DIR",
                        os.path.join(os.path.dirname(__file__), "../../../shared/traces"))


def skewed_keys(n, universe, seed):
    """n keys in [0, universe), log-uniformly skewed (a few hot, a long tail)."""
    rng = random.Random(seed)
    return [int(universe ** rng.random()) - 1 for _ in range(n)]


def replay_through_server(server, lane, keys):
    """GET each key of `lane`; PUT it on a 404. Returns the number of 200s."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    hits = 0
    try:
        for key in keys:
            path = "/v1/entries/%s/%d" % (lane, key)
            conn.request("GET", path)
            res = conn.getresponse()
            res.read()
            if res.status == 200:
                hits += 1
                continue
            assert res.status == 404, (path, res.status)
            conn.request("PUT", path, body=b"{}", headers={"Content-Type": "application/json"})
            put = conn.getresponse()
            put.read()
            assert put.status == 201, (path, put.status)
    finally:
        conn.close()
    return hits


class SimulateTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plancache-sim-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def simulate_json(self, *args):
        res = run_cli(["simulate", "--json"] + list(args), timeout_s=120)
        self.assertEqual(res.code, 0, res)
        return json.loads(res.out)

    def test_table_on_a_hand_checked_trace(self):
        path = self.write("twelve.txt", TWELVE)
        res = run_cli(["simulate", "--trace", path, "--sizes", "3", "--policies", "lru,optimal"])
        self.assertEqual(res.code, 0, res)
        lines = res.out.splitlines()
        self.assertEqual(lines[0], "trace twelve.txt (keys): 12 requests, 5 distinct keys; "
                                   "sizes in entries")
        self.assertEqual(lines[1].split(), ["policy", "size", "hit", "rate", "byte", "hit", "rate",
                                            "planner-s", "saved", "of", "optimal"])
        self.assertEqual(lines[2].split(), ["lru", "3", "16.67", "%", "16.67", "%", "-", "40.00",
                                            "%"])
        self.assertEqual(lines[3].split(), ["optimal", "3", "41.67", "%", "41.67", "%", "-",
                                            "100.00", "%"])

    def test_json_on_a_hand_checked_trace(self):
        path = self.write("twelve.txt", TWELVE)
        doc = self.simulate_json("--trace", path, "--sizes", "2,3", "--policies", "lru,optimal")
        self.assertEqual(doc["requests"], 12)
        self.assertEqual(doc["unique_keys"], 5)
        self.assertEqual(doc["by"], "entries")
        got = {(r["policy"], r["size"]): r["hits"] for r in doc["results"]}
        self.assertEqual(got, {("lru", 2): 0, ("optimal", 2): 4, ("lru", 3): 2, ("optimal", 3): 5})
        lru3 = next(r for r in doc["results"] if r["policy"] == "lru" and r["size"] == 3)
        self.assertAlmostEqual(lru3["share_of_optimal"], 0.4)
        self.assertAlmostEqual(lru3["hit_rate"], 2 / 12)

    def test_bad_line_exits_2_with_its_number(self):
        path = self.write("bad.jsonl", '{"key": 1}\n{"key": 2}\n\n{"key": 2, "size": "big"}\n')
        res = run_cli(["simulate", "--trace", path, "--sizes", "10"])
        self.assertEqual(res.code, 2, res)
        self.assertEqual(res.err, "error: %s:4: \"size\" must be a non-negative integer\n" % path)
        self.assertEqual(res.out, "")

    def test_gzip_trace_and_plot(self):
        path = self.write("keys.txt", "".join("%d\n" % k for k in skewed_keys(3000, 500, 7)))
        self.assertEqual(os.system("gzip -n '%s'" % path), 0)
        svg = os.path.join(self.dir, "plot.svg")
        doc = self.simulate_json("--trace", path + ".gz", "--policies", "lru,tinylfu,optimal",
                                 "--plot", svg)
        self.assertEqual(doc["requests"], 3000)
        self.assertIn("knee", doc)
        with open(svg) as f:
            self.assertIn("plancache simulate: keys.txt.gz", f.read())

    def test_server_lane_gets_the_simulated_hits(self):
        keys = skewed_keys(6000, 3000, 42)
        plain = self.write("keys.txt", "".join("%d\n" % k for k in keys))
        # The same keys in lane "simk" (1,000 entries: sharded by the tier's
        # rule, as the simulator's tier is).
        in_lane = self.write("keys.jsonl", "".join('{"key": %d, "ns": "simk"}\n' % k for k in keys))
        for eviction in ("tinylfu", "lru"):
            config = self.write("plancache-%s.toml" % eviction,
                                "[namespaces.sim]\nmax_entries = 100\nmax_bytes = 0\n"
                                "default_ttl_s = 0\ntiers = [\"l1\"]\neviction = \"%s\"\n\n"
                                "[namespaces.simk]\nmax_entries = 1000\nmax_bytes = 0\n"
                                "default_ttl_s = 0\ntiers = [\"l1\"]\neviction = \"%s\"\n"
                                % (eviction, eviction))
            with Server(["--config", config]) as server:
                served_100 = replay_through_server(server, "sim", keys)
                served_1000 = replay_through_server(server, "simk", keys)
            sim_100 = self.simulate_json("--trace", plain, "--sizes", "100",
                                         "--policies", eviction)["results"][0]["hits"]
            sim_1000 = self.simulate_json("--trace", in_lane, "--sizes", "1000",
                                          "--policies", eviction)["results"][0]["hits"]
            self.assertGreater(sim_100, 0)
            self.assertEqual(served_100, sim_100, "%s @ 100" % eviction)
            self.assertEqual(served_1000, sim_1000, "%s @ 1000" % eviction)

    def test_public_trace_matches_the_reference_lru(self):
        path = os.path.join(TRACES, "lirs-gli.trace.gz")
        if not os.path.exists(path):
            self.skipTest("no %s" % path)
        doc = self.simulate_json("--trace", path, "--sizes", "1000", "--policies", "lru,optimal",
                                 "--shards", "1")
        rates = {r["policy"]: 100 * r["hit_rate"] for r in doc["results"]}
        # ../shared/traces/README.md: LRU 11.2, Belady optimal 53.1 (its
        # simulator counts 6,016 requests, the trace's lines, where the last is
        # empty; 3,197 optimal hits are 53.15 % of 6,015).
        self.assertAlmostEqual(rates["lru"], 11.2, delta=0.06)
        self.assertAlmostEqual(rates["optimal"], 53.1, delta=0.06)


if __name__ == "__main__":
    harness.main()
