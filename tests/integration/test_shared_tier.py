"""The shared tier between `plancache serve` instances on one real Redis.

Each class starts its own redis-server (tests/integration/redis_servers.py)
and its instances with their own key prefix; the planner is
examples/planner.py over HTTP, whose GET /calls counts the plans it made.
Every wait polls a condition until a deadline.
"""

import concurrent.futures
import os
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Server, request, wait_until  # noqa: E402
from redis_servers import RedisServer  # noqa: E402
from test_read_through import HttpPlanner, plan  # noqa: E402

# Other instances drop an invalidated copy within this (SPEC §5: p99 < 50 ms;
# the figure itself is measured by bench/shared_propagation.py).
PROPAGATION_DEADLINE_S = 1.0


def instance(redis_url, prefix, planner=None, extra=()):
    args = ["--redis-url", redis_url, "--redis-key-prefix", prefix, "--redis-lease-ms", "1000"]
    if planner is not None:
        args += ["--planner-url", planner.url]
    server = Server(args=args + list(extra))
    wait_until(lambda: stats(server)["shared_connected"], "shared tier connected")
    return server


def stats(server):
    return server.request("GET", "/v1/stats").json()


def shared(server):
    return next(t for t in stats(server)["tiers"] if t["name"] == "shared")["shared"]


def lookup(server, goal, ns="docs"):
    return server.request("POST", "/v1/plans/lookup", {"goal": goal, "namespace": ns})


def put(server, goal, plan_value, ns="docs", tags=None):
    body = {"goal": goal, "namespace": ns, "plan": plan_value}
    if tags:
        body["tags"] = tags
    r = server.request("PUT", "/v1/plans", body)
    assert r.status == 201, r.body
    return r.json()["key"]


def local_copy(server, goal, ns="docs"):
    """Reads until the answer comes from L1 (the first read promotes)."""
    def from_l1():
        r = lookup(server, goal, ns)
        return r.status == 200 and r.json()["tier"] == "l1"
    wait_until(from_l1, "an L1 copy of %r" % goal)


def gone(server, goal, ns="docs"):
    wait_until(lambda: lookup(server, goal, ns).status == 404, "%r invalidated" % goal,
               timeout_s=PROPAGATION_DEADLINE_S)


class SharedTierBetweenInstances(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = RedisServer()
        cls.prefix = "pcit%d" % os.getpid()
        cls.a = instance(cls.redis.url, cls.prefix)
        cls.b = instance(cls.redis.url, cls.prefix)

    @classmethod
    def tearDownClass(cls):
        cls.a.close()
        cls.b.close()
        cls.redis.close()

    def test_a_put_on_a_is_a_hit_on_b(self):
        put(self.a, "deploy the docs site", {"steps": ["build", "upload"]})
        first = lookup(self.b, "deploy the docs site")
        self.assertEqual(first.status, 200, first.body)
        self.assertEqual(first.json()["tier"], "shared")
        self.assertEqual(first.json()["plan"], {"steps": ["build", "upload"]})
        local_copy(self.b, "deploy the docs site")

    def test_every_invalidation_on_a_is_seen_by_b(self):
        cases = [
            ({"tag": "team:x"}, "tagged goal", {"tags": ["team:x"]}),
            ({"namespace": "heavy"}, "heavy goal", {"ns": "heavy"}),
            ({"older_than_s": 0}, "old goal", {"ns": "standard"}),
        ]
        for selector, goal, where in cases:
            with self.subTest(selector=selector):
                ns = where.get("ns", "docs")
                put(self.a, goal, {"g": goal}, ns=ns, tags=where.get("tags"))
                put(self.a, goal + " kept", {"g": 2}, ns="keepers")
                local_copy(self.b, goal, ns)
                local_copy(self.b, goal + " kept", "keepers")
                if "older_than_s" in selector:
                    time.sleep(0.002)  # the entry is created strictly before "now"
                    selector = dict(selector, namespace=ns)
                r = self.a.request("POST", "/v1/invalidate", selector)
                self.assertEqual(r.status, 200, r.body)
                gone(self.b, goal, ns)
                self.assertEqual(lookup(self.b, goal + " kept", "keepers").status, 200)

    def test_prefix_and_pattern_on_entries_are_seen_by_b(self):
        for key in ("workflow:std:step_1", "workflow:hvy:step_1", "other:1"):
            r = self.a.request("PUT", "/v1/entries/wf/" + urllib.parse.quote(key), {"k": key})
            self.assertEqual(r.status, 201, r.body)
        for key in ("workflow:std:step_1", "workflow:hvy:step_1", "other:1"):
            wait_until(lambda: self.b.request("GET", "/v1/entries/wf/" + key).headers.get(
                "X-Plancache-Tier") == "l1", "L1 copy of " + key)
        r = self.a.request("POST", "/v1/invalidate", {"namespace": "wf", "prefix": "workflow:std:"})
        self.assertEqual(r.status, 200, r.body)
        wait_until(lambda: self.b.request("GET", "/v1/entries/wf/workflow:std:step_1").status == 404,
                   "prefix invalidation on B", timeout_s=PROPAGATION_DEADLINE_S)
        self.assertEqual(self.b.request("GET", "/v1/entries/wf/workflow:hvy:step_1").status, 200)
        r = self.a.request("POST", "/v1/invalidate", {"pattern": "workflow:*:step_?"})
        self.assertEqual(r.status, 200, r.body)
        wait_until(lambda: self.b.request("GET", "/v1/entries/wf/workflow:hvy:step_1").status == 404,
                   "pattern invalidation on B", timeout_s=PROPAGATION_DEADLINE_S)
        self.assertEqual(self.b.request("GET", "/v1/entries/wf/other:1").status, 200)

    def test_delete_and_overwrite_on_a_are_seen_by_b(self):
        put(self.a, "overwritten goal", {"v": 1})
        local_copy(self.b, "overwritten goal")
        put(self.a, "overwritten goal", {"v": 2})
        wait_until(lambda: lookup(self.b, "overwritten goal").json().get("plan") == {"v": 2},
                   "the new value on B", timeout_s=PROPAGATION_DEADLINE_S)
        r = self.a.request("DELETE", "/v1/plans", {"goal": "overwritten goal", "namespace": "docs"})
        self.assertEqual(r.status, 200, r.body)
        gone(self.b, "overwritten goal")

    def test_redis_cli_del_and_flushall_are_seen_by_both(self):
        put(self.a, "deleted by hand", {"v": 1})
        local_copy(self.a, "deleted by hand")
        local_copy(self.b, "deleted by hand")
        names = self.redis.cli("--scan", "--pattern", self.prefix + ":e:*:docs:p:*").split()
        self.assertTrue(names)
        for name in names:
            self.redis.cli("DEL", name)
        gone(self.a, "deleted by hand")
        gone(self.b, "deleted by hand")
        put(self.a, "flushed by hand", {"v": 1})
        local_copy(self.b, "flushed by hand")
        self.assertEqual(self.redis.cli("FLUSHALL"), "OK")
        gone(self.a, "flushed by hand")
        gone(self.b, "flushed by hand")


class SingleFlightAcrossInstances(unittest.TestCase):
    def setUp(self):
        self.redis = RedisServer()
        self.planner = HttpPlanner("--delay-ms", "3000")
        self.prefix = "pcsf%d%d" % (os.getpid(), int(time.monotonic() * 1000) % 100000)
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.close()
        self.planner.close()
        self.redis.close()

    def start(self, n):
        for _ in range(n):
            self.servers.append(instance(self.redis.url, self.prefix, self.planner))
        return self.servers

    def test_twenty_misses_on_each_of_three_instances_make_one_planner_call(self):
        servers = self.start(3)
        with concurrent.futures.ThreadPoolExecutor(max_workers=60) as pool:
            futures = [pool.submit(plan, servers[i % 3].port, "one plan for all")
                       for i in range(60)]
            answers = [f.result() for f in futures]
        for r in answers:
            self.assertEqual(r.status, 200, r.body)
        plans = {repr(r.json()["plan"]) for r in answers}
        self.assertEqual(len(plans), 1, "identical answers")
        self.assertEqual(self.planner.calls(), 1)
        waits = sum(shared(s)["lease_waits"] for s in servers)
        self.assertEqual(waits, 2, "the other two instances waited on the lease")

    def test_a_killed_lease_holder_hands_over_to_exactly_one_other(self):
        a, b, c = self.start(3)
        results = {}
        holder = threading.Thread(target=lambda: results.setdefault(
            "a", _try_plan(a.port, "orphaned plan")))
        holder.start()
        wait_until(lambda: self.planner.calls() == 1, "A's planner call under way")
        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
            futures = [pool.submit(plan, (b, c)[i % 2].port, "orphaned plan") for i in range(10)]
            wait_until(lambda: shared(b)["lease_waits"] + shared(c)["lease_waits"] == 2,
                       "B and C waiting on A's lease")
            a.kill()
            answers = [f.result() for f in futures]
        holder.join()
        for r in answers:
            self.assertEqual(r.status, 200, r.body)
        self.assertEqual(len({repr(r.json()["plan"]) for r in answers}), 1)
        self.assertEqual(self.planner.calls(), 2, "A's abandoned call and one more")


    # POST /v1/plans/lease: callers that compute themselves, on two instances.
    def lease(self, server, goal, **extra):
        body = {"goal": goal, "namespace": "docs", "wait_ms": 30000}
        body.update(extra)
        r = server.request("POST", "/v1/plans/lease", body, timeout_s=40)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def test_a_lease_taken_on_a_holds_for_callers_of_b(self):
        a, b = self.start(2)
        first = self.lease(a, "leased plan")
        self.assertEqual(first["status"], "lease")
        answer = {}
        waiter = threading.Thread(target=lambda: answer.update(self.lease(b, "leased plan")))
        waiter.start()
        wait_until(lambda: shared(b)["lease_waits"] == 1, "B waiting on A's lease")
        r = a.request("PUT", "/v1/plans", {"goal": "leased plan", "namespace": "docs",
                                           "plan": {"made": "on A"},
                                           "lease_token": first["token"]})
        self.assertEqual(r.status, 201, r.body)
        waiter.join(timeout=40)
        self.assertEqual(answer["status"], "hit", answer)
        self.assertEqual(answer["tier"], "shared")
        self.assertEqual(answer["plan"], {"made": "on A"})

    def test_a_lease_whose_holder_vanished_passes_to_a_caller_of_b(self):
        a, b = self.start(2)
        first = self.lease(a, "abandoned plan", lease_ms=500)  # the holder never comes back
        self.assertEqual(first["status"], "lease")
        second = self.lease(b, "abandoned plan")
        self.assertEqual(second["status"], "lease", "B's caller computes it now")
        self.assertNotEqual(second["token"], first["token"])
        self.assertEqual(stats(a)["planning"]["leases_expired"], 1)


class RedisAuthAndDb(unittest.TestCase):
    """--redis-url with a password, with an ACL user, and a db number."""

    def setUp(self):
        self.redis = RedisServer(password="s3cret")
        self.redis.cli("ACL", "SETUSER", "planner", "on", ">pl@n", "~*", "&*", "+@all")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.close()
        self.redis.close()

    def test_password_acl_user_and_db(self):
        port = self.redis.port
        a = instance("redis://:s3cret@127.0.0.1:%d/3" % port, "pcauth")
        b = instance("redis://planner:pl%%40n@127.0.0.1:%d/3" % port, "pcauth")
        self.servers += [a, b]
        put(a, "guarded plan", {"v": 1})
        r = lookup(b, "guarded plan")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["tier"], "shared")
        keys = self.redis.cli("-n", "3", "--scan", "--pattern", "pcauth:e:*")
        self.assertTrue(keys, "the plan is in db 3")
        self.assertEqual(self.redis.cli("-n", "0", "DBSIZE"), "0")

    def test_a_wrong_password_starts_but_says_why(self):
        s = harness.Server(args=["--redis-url", "redis://:wrong@127.0.0.1:%d" % self.redis.port])
        self.servers.append(s)
        put(s, "kept locally", {"v": 1})
        self.assertEqual(lookup(s, "kept locally").status, 200)
        wait_until(lambda: "open" in shared(s)["breaker"], "the breaker opens")
        self.assertFalse(stats(s)["shared_connected"])
        # The breaker shows in /v1/stats before the log line is flushed.
        wait_until(lambda: "WRONGPASS" in s.log(), "the log says why")
        self.assertNotIn("wrong@", s.log(), "the password is never logged")


def _try_plan(port, goal):
    try:
        return plan(port, goal)
    except OSError as e:
        return e


if __name__ == "__main__":
    harness.main()
