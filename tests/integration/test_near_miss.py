"""Near-miss reuse (issue 14): incremental planning and similar-goal lookup
against the real server and a real command planner (examples/planner.py
--stdin --incremental), which writes every request it receives to a file the
tests read.

Lanes of the config below:
  inc     incremental = true, max_change_impact = 0.3 (server-wide planner,
          which declares the capability: planner_incremental = true)
  sim     similar_goal_min_score = 0.9
  shadow  similar-goal lookup in shadow mode
  plain   incremental = true, but its own planner does not declare the
          capability: it is called as today
  default nothing: answers as before
"""

import concurrent.futures
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Server  # noqa: E402

PLANNER = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                       "examples", "planner.py"))
DELAY_MS = 300  # the goal's part of a full plan
STEP_MS = 20    # one context step

# (goal asked, goal cached, veto reason expected): every one must miss.
VETO_CASES = [
    ("scale the web service to 3 replicas", "scale the web service to 5 replicas", "number"),
    ("generate the report for 2024-05-01", "generate the report for 2024-06-01", "date"),
    ("upgrade node to v18.2", "upgrade node to v20.1", "version"),
    ("search the logs for 'timeout'", "search the logs for 'refused'", "quoted"),
    ("restart host-01", "restart host-02", "identifier"),
    ("open /etc/nginx/nginx.conf", "open /etc/nginx/sites.conf", "path"),
    ("deploy the web app to staging", "deploy the web app to production", "environment"),
    ("enable caching for the api", "disable caching for the api", "negation"),
    ("Who is the President of Pakistan", "Who is the President of India", "entity"),
]


def ten_fields(**changes):
    context = {"f%d" % i: i for i in range(9)}
    context["env"] = "prod"
    context.update(changes)
    return context


def planner_cmd(*args):
    return " ".join(shlex.quote(a) for a in ["/usr/bin/python3", PLANNER, "--stdin"] + list(args))


def full_plan(goal, context, namespace):
    """What the example planner answers from scratch (no delay)."""
    request = json.dumps({"goal": goal, "context": context, "namespace": namespace})
    out = subprocess.run(["/usr/bin/python3", PLANNER, "--stdin", "--incremental", "--delay-ms",
                          "0", "--step-ms", "0"], input=request.encode(), capture_output=True,
                         check=True, timeout=30)
    return json.loads(out.stdout)


class NearMissTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="plancache-near-miss-")
        cls.requests = os.path.join(cls.dir, "requests.jsonl")
        cls.plain_requests = os.path.join(cls.dir, "plain-requests.jsonl")
        cls.calls = os.path.join(cls.dir, "calls.jsonl")
        config = os.path.join(cls.dir, "plancache.toml")
        with open(config, "w") as f:
            f.write("""
planner_cmd = %s
planner_incremental = true

[namespaces.inc]
incremental = true
max_change_impact = 0.3

[namespaces.sim]
similar_goal_min_score = 0.9

[namespaces.shadow]
similar_goal_min_score = 0.9
similar_shadow = true

[namespaces.plain]
incremental = true
planner_cmd = %s
""" % (json.dumps(planner_cmd("--incremental", "--delay-ms", str(DELAY_MS), "--step-ms",
                              str(STEP_MS), "--requests-file", cls.requests,
                              "--calls-file", cls.calls)),
       json.dumps(planner_cmd("--delay-ms", "50", "--requests-file", cls.plain_requests))))
        cls.server = Server(["--config", config])

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    # -- helpers -----------------------------------------------------------
    def call(self, method, path, body, want):
        res = self.server.request(method, path, body, timeout_s=30)
        self.assertEqual(res.status, want, (method, path, body, res, self.server.log()[-2000:]))
        return res.json()

    def plan(self, ns, goal, context, want=200, **extra):
        return self.call("POST", "/v1/plans",
                         dict(goal=goal, context=context, namespace=ns, **extra), want)

    def lookup(self, ns, goal, context, want, path="/v1/plans/lookup", **extra):
        return self.call("POST", path, dict(goal=goal, context=context, namespace=ns, **extra),
                         want)

    def put(self, ns, goal, context, plan, **extra):
        return self.call("PUT", "/v1/plans",
                         dict(goal=goal, context=context, namespace=ns, plan=plan, **extra), 201)

    @staticmethod
    def lines(path):
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def received(self, goal, context, path=None):
        """The last request the planner received for (goal, context)."""
        got = [r for r in self.lines(path or self.requests)
               if r["goal"] == goal and r["context"] == context]
        self.assertTrue(got, "the planner never received %r %r" % (goal, context))
        return got[-1]

    def near_miss(self, ns):
        return self.call("GET", "/v1/stats", None, 200)["namespaces"][ns]["near_miss"]

    # -- (a) incremental planning ------------------------------------------
    def test_a_one_changed_field_is_planned_incrementally_from_the_right_base(self):
        goal = "Deploy the billing service"
        first = self.plan("inc", goal, ten_fields())
        self.assertFalse(first["cached"])
        self.assertNotIn("incremental", first)
        self.assertNotIn("incremental", self.received(goal, ten_fields()))
        changed = ten_fields(env="staging")
        second = self.plan("inc", goal, changed)
        self.assertFalse(second["cached"])
        self.assertTrue(second["incremental"], second)
        self.assertEqual(second["base_key"], first["key"])
        self.assertNotEqual(second["key"], first["key"])
        sent = self.received(goal, changed)["incremental"]
        self.assertEqual(sent["previous"]["plan"], first["plan"])
        self.assertEqual(sent["previous"]["context"], ten_fields())
        self.assertEqual(sent["changes"], [{"op": "replace", "path": "/env", "value": "staging"}])
        self.assertAlmostEqual(sent["impact"], 0.1)
        # The patched plan is the plan a full run would make, stored under the new key.
        self.assertEqual(second["plan"], full_plan(goal, changed, "inc"))
        found = self.lookup("inc", goal, changed, 200)
        self.assertEqual(found["key"], second["key"])
        self.assertEqual(found["plan"], second["plan"])
        # Measurably cheaper: one step instead of the goal and ten steps.
        self.assertLess(second["compute_ms"], first["compute_ms"] / 2, (first, second))
        self.assertGreater(second["planner_ms_saved"], 0)
        self.assertEqual(second["planner_ms_saved"],
                         max(0, first["compute_ms"] - second["compute_ms"]))
        stats = self.near_miss("inc")
        self.assertGreaterEqual(stats["incremental_computes"], 1)
        self.assertGreater(stats["planner_ms_saved_incremental"], 0)
        self.assertGreaterEqual(stats["index"]["entries"], 2)

    def test_a_concurrent_misses_share_one_incremental_call(self):
        goal = "Migrate the orders database"
        base = self.plan("inc", goal, ten_fields())
        calls_before = len(self.lines(self.calls))
        changed = ten_fields(f1="one")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: self.plan("inc", goal, changed), range(8)))
        self.assertEqual(len(self.lines(self.calls)), calls_before + 1, "single-flight")
        for a in answers:
            self.assertEqual(a["key"], answers[0]["key"])
            if not a["cached"]:
                self.assertTrue(a["incremental"], a)
                self.assertEqual(a["base_key"], base["key"])

    # -- (b) an invalidated base is never used -------------------------------
    def test_b_a_base_invalidated_by_tag_is_not_used(self):
        goal = "Build the release"
        base = full_plan(goal, ten_fields(), "inc")
        self.put("inc", goal, ten_fields(), base, tags=["rel-1"], compute_ms=900)
        self.assertEqual(self.call("POST", "/v1/invalidate", {"tag": "rel-1"}, 200)["invalidated"],
                         1)
        changed = ten_fields(env="qa")
        answer = self.plan("inc", goal, changed)
        self.assertNotIn("incremental", answer)
        self.assertNotIn("base_key", answer)
        self.assertNotIn("incremental", self.received(goal, changed))

    # -- (c) too large a change --------------------------------------------
    def test_c_an_impact_above_max_change_impact_is_a_full_compute(self):
        goal = "Rotate the api keys"
        self.plan("inc", goal, ten_fields())
        changed = ten_fields(f0="a", f1="b", f2="c", f3="d", f4="e")  # impact 0.5 > 0.3
        answer = self.plan("inc", goal, changed)
        self.assertNotIn("incremental", answer)
        self.assertNotIn("incremental", self.received(goal, changed))

    # -- (d) similar-goal lookup ---------------------------------------------
    def test_d_a_rewording_is_served_in_a_lane_that_enables_it(self):
        ctx = {"env": "prod"}
        made = self.plan("sim", "restart the nginx server", ctx)
        calls_before = len(self.lines(self.calls))
        exact = self.lookup("sim", "restart the nginx server", ctx, 200)
        self.assertEqual(exact["match"], "exact")
        hit = self.lookup("sim", "Restart nginx servers", ctx, 200)
        self.assertEqual(hit["match"], "similar")
        self.assertEqual(hit["matched_goal"], "restart the nginx server")
        self.assertEqual(hit["matched_key"], made["key"])
        self.assertGreaterEqual(hit["score"], 0.9)
        self.assertEqual(hit["plan"], made["plan"])
        read_through = self.plan("sim", "Restart nginx servers", ctx)
        self.assertTrue(read_through["cached"])
        self.assertEqual(read_through["match"], "similar")
        self.assertEqual(read_through["plan"], made["plan"])
        self.assertEqual(len(self.lines(self.calls)), calls_before, "no planner call")
        stats = self.near_miss("sim")
        self.assertGreaterEqual(stats["similar_hits"], 2)
        self.assertGreater(stats["planner_ms_saved_similar"], 0)
        # Not in a lane that does not enable it, where answers are as before.
        self.plan("default", "restart the nginx server", ctx)
        missed = self.lookup("default", "Restart nginx servers", ctx, 404)
        self.assertNotIn("best_near_miss_score", missed)
        self.assertNotIn("match", self.lookup("default", "restart the nginx server", ctx, 200))
        self.assertNotIn("near_miss", self.call("GET", "/v1/stats", None, 200)["namespaces"]
                         ["default"])

    def test_d_every_veto_case_misses_and_is_counted_by_reason(self):
        ctx = {"team": "ops"}
        for asked, cached, reason in VETO_CASES:
            with self.subTest(reason=reason):
                self.put("sim", cached, ctx, {"for": cached})
                missed = self.lookup("sim", asked, ctx, 404)
                self.assertEqual(missed.get("veto"), reason, missed)
                self.assertIn("best_near_miss_score", missed)
                self.call("DELETE", "/v1/plans",
                          {"goal": cached, "context": ctx, "namespace": "sim"}, 200)
        vetoes = self.near_miss("sim")["vetoes"]
        for _, _, reason in VETO_CASES:
            self.assertGreaterEqual(vetoes[reason], 1, (reason, vetoes))

    def test_d_a_client_may_raise_the_floor_never_lower_it(self):
        ctx = {"env": "dev"}
        self.put("sim", "restart the redis server", ctx, {"steps": ["restart redis"]})
        self.lookup("sim", "Restart redis servers", ctx, 200)  # at the lane's floor: served
        self.lookup("sim", "Restart redis servers", ctx, 404, min_score=1.01)
        self.lookup("sim", "Restart redis servers", ctx, 404,
                    path="/v1/plans/lookup?min_score=1.01")
        self.plan("sim", "Restart redis servers", ctx, min_score=1.01)  # computed, not served
        self.put("sim", "run the web app", ctx, {"steps": ["run"]})
        held = self.lookup("sim", "run the webapp", ctx, 404, min_score=0.5)
        self.assertGreater(held["best_near_miss_score"], 0.5, held)
        self.assertLess(held["best_near_miss_score"], 0.9, held)
        bad = self.server.request("POST", "/v1/plans/lookup",
                                  {"goal": "x", "namespace": "sim", "min_score": "high"})
        self.assertEqual(bad.status, 400, bad)
        self.assertIn("min_score", bad.json()["error"]["message"])

    # -- (e) shadow mode -------------------------------------------------------
    def test_e_shadow_mode_counts_right_and_wrong_and_never_serves(self):
        ctx = {"env": "prod"}
        # The cached plan of a rewording is exactly what the planner makes: right.
        self.put("shadow", "restart the nginx server", ctx,
                 full_plan("Restart nginx servers", ctx, "shadow"))
        self.lookup("shadow", "Restart nginx servers", ctx, 404)
        answer = self.plan("shadow", "Restart nginx servers", ctx)
        self.assertFalse(answer["cached"])
        self.assertNotIn("match", answer)
        # Another rewording: its plan names its own goal, so the neighbour's is wrong.
        self.assertFalse(self.plan("shadow", "Restart the nginx servers", ctx)["cached"])
        stats = self.near_miss("shadow")
        self.assertEqual(stats["shadow_right"], 1, stats)
        self.assertEqual(stats["shadow_wrong"], 1, stats)
        self.assertEqual(stats["similar_hits"], 0)

    # -- (f) a planner without the capability ---------------------------------
    def test_f_a_planner_without_the_capability_is_called_as_today(self):
        goal = "Compile the docs"
        self.plan("plain", goal, ten_fields())
        answer = self.plan("plain", goal, ten_fields(env="staging"))
        self.assertNotIn("incremental", answer)
        for request in self.lines(self.plain_requests):
            self.assertEqual(sorted(request), ["context", "goal", "namespace"], request)
        self.assertIn("namespace 'plain': incremental = true, but its planner", self.server.log())
        self.assertEqual(self.near_miss("plain")["incremental_computes"], 0)

    # -- stats and metrics ------------------------------------------------------
    def test_z_metrics_have_the_near_miss_families_and_pass_promtool(self):
        self.plan("sim", "restart the nginx server", {"env": "prod"})
        self.lookup("sim", "restart the nginx servers", {"env": "prod"}, 200)
        metrics = self.server.request("GET", "/metrics").body.decode()
        for family in ("exact_hits_total", "similar_hits_total", "similar_misses_total",
                       "vetoes_total", "shadow_right_total", "shadow_wrong_total",
                       "incremental_computes_total", "incremental_fallbacks_total",
                       "planner_seconds_saved_total", "index_entries", "index_bytes"):
            self.assertIn("# TYPE plancache_near_miss_" + family, metrics)
        self.assertIn('plancache_near_miss_vetoes_total{namespace="sim",reason="negation"}',
                      metrics)
        promtool = shutil.which("promtool")
        if promtool is not None:
            checked = subprocess.run([promtool, "check", "metrics"], input=metrics.encode(),
                                     capture_output=True, timeout=30)
            self.assertEqual((checked.returncode, checked.stdout + checked.stderr), (0, b""))


class SharedTierNearMissTest(unittest.TestCase):
    """Two instances sharing a Redis: a miss in a similar-goal lane asks the
    shared tier for the exact key first (off the I/O thread), and another
    instance's removal of a neighbour removes it from this one's index."""

    @classmethod
    def setUpClass(cls):
        from redis_servers import RedisServer
        cls.dir = tempfile.mkdtemp(prefix="plancache-near-miss-shared-")
        config = os.path.join(cls.dir, "plancache.toml")
        with open(config, "w") as f:
            f.write("planner_cmd = %s\n\n[namespaces.sim]\nsimilar_goal_min_score = 0.9\n"
                    % json.dumps(planner_cmd("--delay-ms", "50")))
        cls.redis = RedisServer()
        args = ["--config", config, "--redis-url", cls.redis.url, "--redis-key-prefix",
                "pcnm%d" % os.getpid()]
        cls.a = Server(args)
        cls.b = Server(args)
        for server in (cls.a, cls.b):
            harness.wait_until(
                lambda server=server: server.request("GET", "/v1/stats").json()["shared_connected"],
                "shared tier connected")

    @classmethod
    def tearDownClass(cls):
        cls.a.close()
        cls.b.close()
        cls.redis.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @staticmethod
    def ask(server, path, goal, want, **extra):
        res = server.request("POST", path, dict(goal=goal, context={"env": "prod"},
                                                namespace="sim", **extra), timeout_s=30)
        assert res.status == want, (path, goal, res, server.log()[-2000:])
        return res.json()

    def test_exact_first_then_similar_then_gone_everywhere(self):
        made = self.ask(self.a, "/v1/plans", "restart the nginx server", 200)
        # A's rewording: served from the neighbour, by lookup and by read-through.
        self.assertEqual(self.ask(self.a, "/v1/plans/lookup", "Restart nginx servers", 200)["match"],
                         "similar")
        served = self.ask(self.a, "/v1/plans", "Restart nginx servers", 200)
        self.assertEqual((served["match"], served["plan"]), ("similar", made["plan"]))
        # A key B made is found exactly in the shared tier before any neighbour.
        exact_b = self.ask(self.b, "/v1/plans", "Restart nginx servers please", 200)
        got = self.ask(self.a, "/v1/plans", "Restart nginx servers please", 200)
        self.assertEqual((got["match"], got["tier"], got["plan"]),
                         ("exact", "shared", exact_b["plan"]))
        # B deletes the neighbour: A drops its copy and forgets it.
        self.b.request("DELETE", "/v1/plans", {"goal": "restart the nginx server",
                                               "context": {"env": "prod"}, "namespace": "sim"})
        self.b.request("DELETE", "/v1/plans", {"goal": "Restart nginx servers please",
                                               "context": {"env": "prod"}, "namespace": "sim"})
        harness.wait_until(
            lambda: self.a.request("POST", "/v1/plans/lookup",
                                   {"goal": "restart nginx server", "context": {"env": "prod"},
                                    "namespace": "sim"}).status == 404,
            "the deleted neighbour gone from A")


if __name__ == "__main__":
    harness.main()
