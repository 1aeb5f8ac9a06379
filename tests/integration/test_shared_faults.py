"""Never down because Redis is: `plancache serve` instances under load while
their Redis is frozen, killed, restarted, or their listener killed -- and a
Redis Cluster resharded and failed over. Zero failed client requests, the
shared tier back within 1 s, nothing deleted during an outage served after.
"""

import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import request, wait_until  # noqa: E402
from redis_servers import RedisCluster, RedisServer  # noqa: E402
from test_read_through import HttpPlanner  # noqa: E402
from test_shared_tier import gone, instance, local_copy, lookup, put, shared, stats  # noqa: E402

BACK_WITHIN_S = 1.0


class Load:
    """Client threads doing lookups, puts and read-through requests against
    the instances until stopped; every answer that is not 200/201/404 (or a
    socket error) is a failure, kept with what it was."""

    def __init__(self, servers, threads_per_server=2):
        self.servers = servers
        self.failures = []
        self.requests = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(s, i), daemon=True)
                        for s in servers for i in range(threads_per_server)]
        for t in self.threads:
            t.start()

    def run(self, server, n):
        i = 0
        while not self.stopping.is_set():
            i += 1
            goal = "load goal %d" % (i % 50)
            try:
                if i % 3 == 0:
                    r = request(server.port, "PUT", "/v1/plans",
                                {"goal": goal, "namespace": "docs", "plan": {"i": i}}, timeout_s=10)
                elif i % 3 == 1:
                    r = request(server.port, "POST", "/v1/plans/lookup",
                                {"goal": goal, "namespace": "docs"}, timeout_s=10)
                else:
                    r = request(server.port, "POST", "/v1/plans",
                                {"goal": "rt %d %d" % (n, i % 20), "namespace": "standard"},
                                timeout_s=30)
                ok = r.status in (200, 201, 404)
                what = (r.status, r.body[:200])
            except OSError as e:
                ok, what = False, repr(e)
            with self.lock:
                self.requests += 1
                if not ok:
                    self.failures.append(what)

    def more(self, n, what):
        """Waits until `n` more requests were answered."""
        before = self.requests
        wait_until(lambda: self.requests > before + n, what)

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=60)
        return self.failures


def time_until_connected(servers, timeout_s=10.0):
    start = time.monotonic()
    wait_until(lambda: all(stats(s)["shared_connected"] for s in servers),
               "shared tier connected again", timeout_s=timeout_s, interval_s=0.01)
    return time.monotonic() - start


class RedisOutages(unittest.TestCase):
    def setUp(self):
        self.redis = RedisServer()
        self.planner = HttpPlanner("--delay-ms", "20")
        prefix = "pcft%d" % os.getpid()
        self.a = instance(self.redis.url, prefix, self.planner)
        self.b = instance(self.redis.url, prefix, self.planner)

    def tearDown(self):
        self.a.close()
        self.b.close()
        self.planner.close()
        self.redis.close()

    def outage(self, load, begin, end, what):
        """begin() the outage, serve requests through it, end() it; returns
        how long after end() both instances were on the shared tier again."""
        begin()
        wait_until(lambda: not stats(self.a)["shared_connected"], "A sees Redis " + what)
        load.more(100, "requests served while Redis is " + what)
        end()
        return time_until_connected([self.a, self.b])

    def test_frozen_killed_and_restarted_under_load(self):
        load = Load([self.a, self.b])
        try:
            load.more(200, "load running")
            frozen_back = self.outage(load, self.redis.freeze, self.redis.thaw, "frozen")
            restart_back = self.outage(load, self.redis.kill9, self.redis.restart, "killed")
            load.more(100, "requests after the restart")
        finally:
            failures = load.stop()
        self.assertEqual(failures, [], "no client request fails because Redis is down")
        self.assertLess(frozen_back, BACK_WITHIN_S, "back within 1 s of a thaw")
        self.assertLess(restart_back, BACK_WITHIN_S, "back within 1 s of a restart")
        self.assertGreaterEqual(shared(self.a)["breaker_opens"], 1)

    def test_nothing_deleted_during_an_outage_is_served_after_it(self):
        put(self.a, "doomed plan", {"v": 1})
        local_copy(self.b, "doomed plan")
        put(self.a, "doomed by tag", {"v": 2}, tags=["release"])
        local_copy(self.b, "doomed by tag")
        self.redis.freeze()
        wait_until(lambda: not stats(self.b)["shared_connected"], "B sees Redis frozen")
        r = self.a.request("DELETE", "/v1/plans", {"goal": "doomed plan", "namespace": "docs"})
        self.assertEqual(r.status, 200, r.body)
        r = self.a.request("POST", "/v1/invalidate", {"tag": "release"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(lookup(self.b, "doomed plan").status, 404, "B dropped its copy")
        self.redis.thaw()
        time_until_connected([self.a, self.b])
        wait_until(lambda: shared(self.a)["pending_invalidations"] == 0, "A's journal replayed")
        for goal in ("doomed plan", "doomed by tag"):
            for server in (self.a, self.b):
                self.assertEqual(lookup(server, goal).status, 404, goal)

    def test_a_killed_listener_flushes_and_resubscribes_within_1s(self):
        put(self.a, "listened plan", {"v": 1})
        local_copy(self.b, "listened plan")
        flushes = shared(self.b)["flushes_received"]
        self.assertNotEqual(self.redis.cli("CLIENT", "KILL", "TYPE", "pubsub"), "0")
        start = time.monotonic()
        wait_until(lambda: shared(self.b)["flushes_received"] > flushes, "B flushed")
        wait_until(lambda: shared(self.b)["listeners_up"] == 1 and stats(self.b)["shared_connected"],
                   "B resubscribed", timeout_s=BACK_WITHIN_S, interval_s=0.01)
        self.assertLess(time.monotonic() - start, BACK_WITHIN_S)
        first = lookup(self.b, "listened plan")
        self.assertEqual(first.json()["tier"], "shared", "the L1 copy went with the flush")
        put(self.a, "listened plan", {"v": 2})
        wait_until(lambda: lookup(self.b, "listened plan").json()["plan"] == {"v": 2},
                   "invalidations flow again", timeout_s=1.0)


class ClusterChanges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = RedisCluster(masters=3, replicas=1)
        cls.planner = HttpPlanner("--delay-ms", "20")
        prefix = "pccl%d" % os.getpid()
        cls.a = instance(cls.cluster.url, prefix, cls.planner)
        cls.b = instance(cls.cluster.url, prefix, cls.planner)

    @classmethod
    def tearDownClass(cls):
        cls.a.close()
        cls.b.close()
        cls.planner.close()
        cls.cluster.close()

    def assert_coherent(self, tag):
        for i in range(20):
            put(self.a, "%s %d" % (tag, i), {"i": i})
        for i in range(20):
            r = lookup(self.b, "%s %d" % (tag, i))
            self.assertEqual(r.status, 200, r.body)
        local_copy(self.b, "%s 0" % tag)
        r = self.a.request("DELETE", "/v1/plans", {"goal": "%s 0" % tag, "namespace": "docs"})
        self.assertEqual(r.status, 200, r.body)
        gone(self.b, "%s 0" % tag)

    def test_1_resharding_under_load(self):
        masters = sorted(self.cluster.masters())
        load = Load([self.a, self.b])
        try:
            load.more(200, "load running")
            self.cluster.reshard(masters[0], masters[1], 2000)
            load.more(200, "requests after the resharding")
        finally:
            failures = load.stop()
        self.assertEqual(failures, [])
        self.assert_coherent("after resharding")

    def test_2_master_failover_under_load(self):
        load = Load([self.a, self.b])
        try:
            load.more(200, "load running")
            victim = sorted(self.cluster.masters())[2]
            self.cluster.kill_master(victim)
            time_until_connected([self.a, self.b], timeout_s=15.0)
            load.more(200, "requests after the failover")
        finally:
            failures = load.stop()
        self.assertEqual(failures, [])
        self.assert_coherent("after failover")


if __name__ == "__main__":
    harness.main()
