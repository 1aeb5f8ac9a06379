"""Predictive pre-computation (issue 14, item 4) against the real server and a
real command planner: a small Python script, written below, that appends
every request it receives to a file and holds the ones it is told to (a
goal starting with "gated" and a context with env = "prod") until the test
creates their release file, after writing a "blocked" marker -- so ordering
is forced by files the test checks, never by timing.

Lanes of the config below, one per test (a lane's history is its own, and
another test's goals would change its confidences); passes are run by
POST /v1/predict, the timer's interval being an hour:
  ops, cli, gate  predict = true (threshold 0.8, at most 4 runs)
  one             predict = true, predict_max_runs = 1, predict_min_confidence = 0.6
  strict          predict = true, predict_min_confidence = 0.95
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Server, run_cli, wait_until  # noqa: E402

PLANNER = r'''
import json, os, sys, time
d = sys.argv[1]
req = json.loads(sys.stdin.read())
with open(os.path.join(d, "requests.jsonl"), "a") as f:
    f.write(json.dumps(req, sort_keys=True) + "\n")
ctx = req.get("context")
slug = req["goal"].replace(" ", "_")
if req["goal"].startswith("gated") and isinstance(ctx, dict) and ctx.get("env") == "prod":
    open(os.path.join(d, "blocked-" + slug), "w").close()
    while not os.path.exists(os.path.join(d, "release-" + slug)):
        time.sleep(0.01)
time.sleep(0.05)
print(json.dumps({"goal": req["goal"], "context": ctx, "steps": ["plan " + req["goal"]]}))
'''


def env(e):
    return {"env": e, "region": "eu", "replicas": 3}


class PredictTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="plancache-predict-")
        script = os.path.join(cls.dir, "planner.py")
        with open(script, "w") as f:
            f.write(PLANNER)
        cls.requests = os.path.join(cls.dir, "requests.jsonl")
        config = os.path.join(cls.dir, "plancache.toml")
        with open(config, "w") as f:
            f.write("""
planner_cmd = %s
predict_interval_s = 3600

[namespaces.ops]
predict = true

[namespaces.cli]
predict = true

[namespaces.gate]
predict = true

[namespaces.one]
predict = true
predict_max_runs = 1
predict_min_confidence = 0.6

[namespaces.strict]
predict = true
predict_min_confidence = 0.95
""" % json.dumps("/usr/bin/python3 %s %s" % (script, cls.dir)))
        cls.server = Server(["--config", config])
        cls.url = "http://127.0.0.1:%d" % cls.server.port

    @classmethod
    def tearDownClass(cls):
        for name in os.listdir(cls.dir):  # nothing left waiting at a gate
            if name.startswith("blocked-"):
                open(os.path.join(cls.dir, "release-" + name[len("blocked-"):]), "w").close()
        cls.server.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    # -- helpers -----------------------------------------------------------
    def call(self, method, path, body, want):
        res = self.server.request(method, path, body, timeout_s=30)
        self.assertEqual(res.status, want, (method, path, body, res, self.server.log()[-2000:]))
        return res.json()

    def plan(self, ns, goal, context):
        return self.call("POST", "/v1/plans", {"goal": goal, "context": context, "namespace": ns},
                         200)

    def received(self, goal, context):
        if not os.path.exists(self.requests):
            return []
        with open(self.requests) as f:
            return [r for r in map(json.loads, f)
                    if r["goal"] == goal and r["context"] == context]

    def family(self, ns, goals_short):
        """Two goals of `ns` asked with dev, staging and prod; each of
        goals_short with dev and staging only."""
        for goal in ("deploy the api", "deploy the web app"):
            for e in ("dev", "staging", "prod"):
                self.plan(ns, goal, env(e))
        for goal in goals_short:
            self.plan(ns, goal, env("dev"))
            self.plan(ns, goal, env("staging"))

    def predict(self, ns, dry_run=False):
        query = "?namespace=%s%s" % (ns, "&dry_run=1" if dry_run else "")
        return self.call("POST", "/v1/predict" + query, None, 200)["predictions"]

    def lane(self, ns):
        return self.call("GET", "/v1/stats", None, 200)["namespaces"][ns]["near_miss"]

    def idle(self, ns):
        return self.lane(ns)["predict"]["running"] == 0

    def gate(self, name, goal):
        return os.path.join(self.dir, name + "-" + goal.replace(" ", "_"))

    # -- the family's third member ---------------------------------------------
    def test_a_the_missing_third_variant_is_precomputed_then_hit(self):
        goal = "deploy the worker"
        self.family("ops", [goal])
        dry = self.predict("ops", dry_run=True)
        self.assertEqual([(p["goal"], p["context"], p["action"]) for p in dry],
                         [(goal, env("prod"), "would_compute")], dry)
        self.assertAlmostEqual(dry[0]["confidence"], (2 + 2 / 3) / 3)
        self.assertEqual(self.received(goal, env("prod")), [], "a dry run computes nothing")
        started = self.predict("ops")
        self.assertEqual([p["action"] for p in started], ["started"], started)
        wait_until(lambda: self.received(goal, env("prod")), "the planner's call for prod")
        wait_until(lambda: self.idle("ops"), "the prediction's flight to end")
        answer = self.plan("ops", goal, env("prod"))
        self.assertTrue(answer["cached"], answer)
        self.assertEqual(answer["plan"]["context"], env("prod"))
        self.assertEqual(len(self.received(goal, env("prod"))), 1, "computed once, ahead")
        stats = self.lane("ops")
        self.assertEqual(stats["predictions_started"], 1, stats)
        self.assertEqual(stats["predictions_used"], 1, stats)
        self.assertEqual(stats["predictions_wasted"], 0, stats)
        self.assertEqual(stats["policy"]["predict_min_confidence"], 0.8)
        metrics = self.server.request("GET", "/metrics").body
        self.assertIn(b'plancache_near_miss_predictions_used_total{namespace="ops"} 1', metrics)
        promtool = shutil.which("promtool")  # Debian's prometheus (deps/debian-packages.txt)
        self.assertIsNotNone(promtool, "promtool not found: install the Debian package 'prometheus'")
        checked = subprocess.run([promtool, "check", "metrics"], input=metrics,
                                 capture_output=True, timeout=30)
        self.assertEqual((checked.returncode, checked.stdout, checked.stderr), (0, b"", b""))
        self.assertEqual(self.predict("ops", dry_run=True), [], "nothing left to predict")

    # -- warm --predict --dry-run ---------------------------------------------
    def test_b_warm_predict_dry_run_prints_the_candidate_its_reason_and_confidence(self):
        goal = "deploy the scheduler"
        self.family("strict", [goal])  # 0.89 < 0.95 here: listed, never run
        res = run_cli(["warm", "--predict", "--dry-run", "--namespace", "strict",
                       "--server", self.url])
        self.assertEqual(res.code, 0, (res.out, res.err))
        self.assertIn("below threshold", res.out)
        self.assertIn(goal, res.out)
        self.assertIn("0.89", res.out)
        self.assertIn('family over "env"', res.out)
        self.assertIn('"prod"', res.out)
        self.assertIn("(dry run: nothing started)", res.out)
        # ... and a real pass does not compute it either.
        run = run_cli(["warm", "--predict", "--namespace", "strict", "--server", self.url])
        self.assertEqual(run.code, 0, (run.out, run.err))
        self.assertIn("below threshold", run.out)
        self.assertNotIn("started", run.out)
        self.assertEqual(self.lane("strict")["predictions_started"], 0)
        self.assertEqual(self.received(goal, env("prod")), [])

    def test_b_warm_predict_dry_run_lists_what_would_be_computed(self):
        goal = "deploy the mailer"
        self.family("cli", [goal])
        res = run_cli(["warm", "--predict", "--dry-run", "--server", self.url])
        self.assertEqual(res.code, 0, (res.out, res.err))
        self.assertRegex(res.out, r"would compute\s+0\.89\s+family\s+cli\s+deploy the mailer")
        self.assertIn('{"env":"prod","region":"eu","replicas":3}', res.out)
        self.assertIn('this goal was asked with "dev", "staging"', res.out)
        self.assertEqual(self.received(goal, env("prod")), [])

    # -- a prediction never delays a caller ------------------------------------
    def test_c_a_caller_is_answered_while_a_prediction_is_held(self):
        goal = "gated deploy the proxy"
        self.family("gate", [goal])
        self.assertEqual([(p["goal"], p["action"]) for p in self.predict("gate")],
                         [(goal, "started")])
        blocked, release = self.gate("blocked", goal), self.gate("release", goal)
        wait_until(lambda: os.path.exists(blocked), "the prediction to reach the gate")
        answer = self.plan("gate", "rotate the api keys", {"team": "platform"})
        self.assertFalse(answer["cached"])
        # Answered while the prediction is still held at its gate.
        self.assertTrue(os.path.exists(blocked))
        self.assertFalse(os.path.exists(release))
        self.assertEqual(self.lane("gate")["predict"]["running"], 1)
        open(release, "w").close()
        wait_until(lambda: self.idle("gate"), "the released prediction to end")
        self.assertTrue(self.plan("gate", goal, env("prod"))["cached"])
        self.assertEqual(self.lane("gate")["predictions_used"], 1)

    # -- predict_max_runs ---------------------------------------------------------
    def test_d_with_max_runs_one_the_second_candidate_is_dropped_not_queued(self):
        goals = ["gated build one", "gated build two"]
        self.family("one", goals)
        items = self.predict("one")
        self.assertEqual(sorted(p["action"] for p in items), ["dropped_busy", "started"], items)
        running = [p["goal"] for p in items if p["action"] == "started"][0]
        dropped = [p["goal"] for p in items if p["action"] == "dropped_busy"][0]
        wait_until(lambda: os.path.exists(self.gate("blocked", running)), "the first at its gate")
        stats = self.lane("one")
        self.assertEqual(stats["predictions_started"], 1, stats)
        self.assertEqual(stats["predictions_dropped_busy"], 1, stats)
        self.assertEqual(self.received(dropped, env("prod")), [], "dropped, never queued")
        open(self.gate("release", running), "w").close()
        wait_until(lambda: self.idle("one"), "the first prediction to end")
        # A later pass starts the one dropped before.
        self.assertEqual([(p["goal"], p["action"]) for p in self.predict("one")],
                         [(dropped, "started")])
        open(self.gate("release", dropped), "w").close()
        wait_until(lambda: self.received(dropped, env("prod")), "the second prediction")
        wait_until(lambda: self.idle("one"), "the second prediction to end")

    # -- the endpoint's errors ---------------------------------------------------
    def test_e_the_endpoint_refuses_what_it_cannot_do(self):
        res = self.server.request("POST", "/v1/predict?namespace=default")
        self.assertEqual(res.status, 409, res)
        self.assertIn("does not have predict = true", res.json()["error"]["message"])
        self.assertEqual(self.server.request("POST", "/v1/predict?dry_run=maybe").status, 400)
        self.assertEqual(self.server.request("GET", "/v1/predict").status, 405)


if __name__ == "__main__":
    harness.main()
