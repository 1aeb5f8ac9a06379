"""The sampled access log (--access-log): what `plancache simulate` and
GET /v1/advice read. Real `plancache serve` over loopback."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Server, run_serve_expecting_exit, wait_until  # noqa: E402


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class AccessLog(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plancache-al-")
        self.path = os.path.join(self.dir, "access.jsonl")

    def serve(self, *extra):
        return Server(args=["--access-log", self.path] + list(extra))

    def test_lookups_puts_and_entries_are_logged_as_a_trace(self):
        with self.serve("--access-log-sample", "1") as s:
            self.assertEqual(s.request("POST", "/v1/plans/lookup", {"goal": "g"}).status, 404)
            self.assertEqual(s.request("PUT", "/v1/plans", {"goal": "g", "plan": {"a": 1},
                                                            "compute_ms": 1200}).status, 201)
            self.assertEqual(s.request("POST", "/v1/plans/lookup", {"goal": "g"}).status, 200)
            self.assertEqual(s.request("PUT", "/v1/entries/wf/step-1", b"[1,2]").status, 201)
            self.assertEqual(s.request("GET", "/v1/entries/wf/step-1").status, 200)
            wait_until(lambda: len(lines(self.path)) == 5, "five lines written")
        log = lines(self.path)
        key = log[0]["key"]
        self.assertEqual([(r["ns"], r["op"], r.get("hit")) for r in log],
                         [("default", "get", False), ("default", "put", None),
                          ("default", "get", True), ("wf", "put", None), ("wf", "get", True)])
        self.assertEqual(log[1], {"t": log[1]["t"], "ns": "default", "key": key, "op": "put",
                                  "size": 7, "cost_ms": 1200})
        self.assertEqual((log[2]["size"], log[2]["cost_ms"]), (7, 1200))
        self.assertEqual(log[4]["key"], "step-1")
        self.assertTrue(all(isinstance(r["t"], int) for r in log))
        # `plancache simulate` replays the log: the first lookup missed before
        # the plan existed, so its size and cost come from the put after it;
        # its hit then saves the plan's 1.2 planner-seconds (the wf get is a
        # first access: its put line is no request).
        out = harness.run_cli(["simulate", "--trace", self.path, "--sizes", "10",
                               "--policies", "lru", "--json"])
        self.assertEqual(out.code, 0, out.err)
        result = json.loads(out.out)["results"][0]
        self.assertEqual((result["requests"], result["hits"]), (3, 1))  # gets only
        self.assertAlmostEqual(result["planner_seconds_saved"], 1.2)
        # bytes: the miss 7 (filled in; 1 if it were not), the hit 7, wf's 5
        self.assertAlmostEqual(result["byte_hit_rate"], 7 / 19)

    def test_keys_are_sampled_not_requests(self):
        with self.serve("--access-log-sample", "0.5") as s:
            for round_ in range(3):
                for i in range(200):
                    s.request("GET", "/v1/entries/wf/k%d" % i)
            wait_until(lambda: lines(self.path) and len(lines(self.path)) % 3 == 0
                       and len({r["key"] for r in lines(self.path)}) * 3 == len(lines(self.path)),
                       "every access of each sampled key")
        keys = {r["key"] for r in lines(self.path)}
        self.assertTrue(50 < len(keys) < 150, len(keys))  # about half of 200

    def test_the_log_is_rotated_past_its_size(self):
        with self.serve("--access-log-sample", "1", "--access-log-max-mb", "1") as s:
            pad = "x" * 100
            for i in range(7000):  # ~180 bytes a line: past 1 MiB
                s.request("GET", "/v1/entries/wf/key-%05d-%s" % (i, pad))
            wait_until(lambda: os.path.exists(self.path + ".1"), "FILE.1")
        self.assertLessEqual(os.path.getsize(self.path + ".1"), 1 << 20)
        self.assertEqual(len(lines(self.path + ".1")) + len(lines(self.path)), 7000)

    def test_bad_settings_stop_the_server_with_exit_2(self):
        for args, needle in [(["--access-log-sample", "0"], "access-log-sample"),
                             (["--access-log-sample", "1.5"], "access-log-sample"),
                             (["--access-log-max-mb", "0"], "access-log-max-mb")]:
            code, out = run_serve_expecting_exit(["--access-log", self.path] + args)
            self.assertEqual(code, 2, out)
            self.assertIn(needle, out)
        code, out = run_serve_expecting_exit(["--access-log", "/nonexistent-dir/x.jsonl"])
        self.assertEqual(code, 2, out)
        self.assertIn("/nonexistent-dir/x.jsonl", out)


class Advice(unittest.TestCase):
    """GET /v1/advice and `plancache stats --recommend` over a real log."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plancache-advice-")
        self.path = os.path.join(self.dir, "access.jsonl")

    def test_advice_from_the_servers_own_log(self):
        with Server(args=["--access-log", self.path, "--access-log-sample", "1"]) as s:
            # 50 hot plans asked 6 times each, and 100 asked once.
            for round_ in range(6):
                for i in range(50):
                    body = {"goal": "hot %d" % i, "namespace": "docs"}
                    if s.request("POST", "/v1/plans/lookup", body).status == 404:
                        body.update({"plan": [i], "compute_ms": 2000})
                        s.request("PUT", "/v1/plans", body)
                for i in range(round_ * 20, round_ * 20 + 20):
                    s.request("POST", "/v1/plans/lookup", {"goal": "once %d" % i,
                                                            "namespace": "docs"})
            wait_until(lambda: len(lines(self.path)) == 6 * 50 + 50 + 120, "the log written")
            r = s.request("GET", "/v1/advice")
            self.assertEqual(r.status, 200, r.body)
            doc = r.json()
            self.assertEqual(doc["access_log"]["lines"], 470)
            lane = next(l for l in doc["lanes"] if l["namespace"] == "docs")
            self.assertEqual(lane["sampled_requests"], 420)
            self.assertEqual(lane["sampled_keys"], 170)
            self.assertGreaterEqual(lane["size"]["max_entries"], 50)
            self.assertLess(lane["size"]["max_entries"], 170)
            self.assertAlmostEqual(lane["size"]["hit_rate"], 250 / 420, delta=0.05)
            self.assertIn("knee", lane["size"]["basis"])
            self.assertGreater(lane["planner_seconds_saved_per_day"], 0)
            self.assertIn(lane["policy"]["eviction"], ("tinylfu", "lru", "cost"))
            self.assertIn("now", lane)
            self.assertEqual(s.request("GET", "/v1/advice?target=2").status, 400)
            self.assertEqual(s.request("GET", "/v1/advice?size=1").status, 400)
            cli = harness.run_cli(["stats", "--recommend", "--format", "table",
                                   "--server", "http://127.0.0.1:%d" % s.port])
            self.assertEqual(cli.code, 0, cli)
            self.assertIn("lane docs", cli.out)
            self.assertIn("L1 size", cli.out)
            self.assertIn("planner-seconds a day", cli.out)
            cli = harness.run_cli(["stats", "--target", "0.5",
                                   "--server", "http://127.0.0.1:%d" % s.port])
            self.assertEqual(cli.code, 2, cli)

    def test_without_an_access_log_advice_says_how_to_get_one(self):
        with Server() as s:
            r = s.request("GET", "/v1/advice")
            self.assertEqual(r.status, 409, r.body)
            self.assertIn("--access-log", r.json()["error"]["message"])

if __name__ == "__main__":
    harness.main()
