"""Invented namespaces cost a bounded amount (issue 9, item 4).

A client that stores into 20,000 namespaces nobody configured must not make
/v1/stats or /metrics grow with them (at most --stats-max-namespaces of them
are shown one by one, the rest summed into "(other)"), and once their entries
are gone (/v1/clear) they must cost nothing: no row anywhere, and a second
round of 20,000 fresh names must not grow the server's memory again.

Run by ctest as: python3 test_namespace_bounds.py --binary PATH
"""

import http.client
import json
import os
import tempfile
import shutil
import threading
import time
import unittest

import harness

NAMES = 20000
CONNECTIONS = 4
PUT_DEADLINE_S = 120.0
# Stated bounds (measured figures in the commit message / docs/http_api.md).
MAX_STATS_BYTES = 96 * 1024
MAX_METRICS_BYTES = 96 * 1024
MAX_SERIES = 1500
# A second round of 20,000 fresh names after a clear may not grow RSS by
# more than this (the first round's memory is reused, nothing is kept).
MAX_SECOND_ROUND_GROWTH_KB = 8 * 1024
MAX_RSS_KB = 120 * 1024
CONFIGURED = {"default", "docs", "standard", "heavy", "checkpoints"}


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/%d/status" % pid)


def keep_alive_calls(port, calls):
    """Sends (method, path, body) calls over one keep-alive connection; returns statuses."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    statuses = []
    try:
        for method, path, body in calls:
            conn.request(method, path, body=json.dumps(body),
                         headers={"Content-Type": "application/json"})
            res = conn.getresponse()
            res.read()
            statuses.append(res.status)
    finally:
        conn.close()
    return statuses


def in_parallel(port, calls):
    """Spreads calls over CONNECTIONS keep-alive connections; returns all statuses."""
    shares = [calls[i::CONNECTIONS] for i in range(CONNECTIONS)]
    results = [None] * CONNECTIONS
    errors = []

    def run(i):
        try:
            results[i] = keep_alive_calls(port, shares[i])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(PUT_DEADLINE_S)
    if errors:
        raise errors[0]
    if any(t.is_alive() for t in threads):
        raise AssertionError("calls did not finish within %.0f s" % PUT_DEADLINE_S)
    return [s for r in results for s in r]


def put_calls(prefix):
    return [("PUT", "/v1/plans", {"goal": "g", "plan": [i], "namespace": "%s%d" % (prefix, i)})
            for i in range(NAMES)]


def series(metrics_text):
    return [l for l in metrics_text.splitlines() if l and not l.startswith("#")]


class InventedNamespacesTest(unittest.TestCase):
    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="plancache-ns-")
        self.server = harness.Server(data_dir=os.path.join(self.data, "store"))

    def tearDown(self):
        self.server.close()
        shutil.rmtree(self.data, ignore_errors=True)

    def get(self, path):
        res = self.server.request("GET", path)
        self.assertEqual(res.status, 200, res)
        return res.body

    def fill(self, prefix):
        started = time.monotonic()
        statuses = in_parallel(self.server.port, put_calls(prefix))
        took = time.monotonic() - started
        self.assertEqual(statuses.count(201), NAMES, {s: statuses.count(s) for s in set(statuses)})
        print("\n%d PUTs into invented namespaces in %.1f s" % (NAMES, took))

    def assert_bounded(self):
        stats = self.get("/v1/stats")
        metrics = self.get("/metrics").decode()
        doc = json.loads(stats)
        print("/v1/stats %d bytes, /metrics %d bytes, %d series"
              % (len(stats), len(metrics), len(series(metrics))))
        self.assertLess(len(stats), MAX_STATS_BYTES)
        self.assertLess(len(metrics), MAX_METRICS_BYTES)
        self.assertLess(len(series(metrics)), MAX_SERIES)
        shown = set(doc["namespaces"]) - CONFIGURED - {"(other)"}
        self.assertEqual(len(shown), 100, "the --stats-max-namespaces default")
        other = doc["namespaces"]["(other)"]
        self.assertEqual(other["count"], NAMES - 100)
        self.assertEqual(other["l1"]["entries"], NAMES - 100)
        self.assertEqual(other["l2"]["entries"], NAMES - 100)
        self.assertIn("plancache_namespaces_folded %d\n" % (NAMES - 100), metrics)
        self.assertIn('plancache_namespace_entries{tier="l2",namespace="(other)"} %d\n'
                      % (NAMES - 100), metrics)

    def assert_gone(self, prefix):
        doc = json.loads(self.get("/v1/stats"))
        self.assertEqual(set(doc["namespaces"]), CONFIGURED)
        for tier in doc["tiers"]:
            self.assertEqual(tier["entries"], 0, tier["name"])
            self.assertEqual(set(tier["namespaces"]) - CONFIGURED, set(), tier["name"])
        metrics = self.get("/metrics").decode()
        self.assertNotIn('namespace="%s' % prefix, metrics)
        self.assertIn("plancache_namespaces_folded 0\n", metrics)

    def clear(self):
        res = self.server.request("POST", "/v1/clear", {})
        self.assertEqual(res.status, 200, res)

    def test_twenty_thousand_names_are_bounded_and_gone_after_clear(self):
        pid = self.server.proc.pid
        print("\nRSS at start %d kB" % rss_kb(pid))
        self.fill("a")
        self.assert_bounded()
        self.clear()
        self.assert_gone("a")
        # Lookups of invented names that hold nothing add no row either.
        statuses = in_parallel(self.server.port, [
            ("POST", "/v1/plans/lookup", {"goal": "g", "namespace": "miss%d" % i})
            for i in range(NAMES // 4)])
        self.assertEqual(statuses.count(404), NAMES // 4)
        self.assert_gone("miss")
        after_first = rss_kb(pid)
        self.fill("b")
        self.clear()
        self.assert_gone("b")
        after_second = rss_kb(pid)
        print("RSS after round 1 + clear %d kB, after round 2 + clear %d kB"
              % (after_first, after_second))
        self.assertLess(after_second - after_first, MAX_SECOND_ROUND_GROWTH_KB)
        self.assertLess(after_second, MAX_RSS_KB)

    def test_the_limit_is_a_flag(self):
        self.server.close()
        self.server = harness.Server(args=["--stats-max-namespaces", "3"],
                                     data_dir=os.path.join(self.data, "store2"))
        statuses = in_parallel(self.server.port, [
            ("PUT", "/v1/plans", {"goal": "g%d" % j, "plan": [j], "namespace": "n%d" % i})
            for i in range(10) for j in range(i + 1)])
        self.assertEqual(statuses.count(201), 55)
        doc = json.loads(self.get("/v1/stats"))
        self.assertEqual(set(doc["namespaces"]) - CONFIGURED, {"n9", "n8", "n7", "(other)"})
        self.assertEqual(doc["namespaces"]["(other)"]["count"], 7)
        self.assertEqual(doc["namespaces"]["(other)"]["l1"]["entries"], sum(range(1, 8)))
        self.assertEqual(doc["namespaces"]["(other)"]["policy"]["lane"], "default")
        # Configured namespaces are always shown, with or without entries.
        self.assertEqual(doc["namespaces"]["heavy"]["l1"]["entries"], 0)
        self.assertEqual(harness.run_serve_expecting_exit(
            ["--stats-max-namespaces", "-1"])[0] != 0, True)


if __name__ == "__main__":
    harness.main()
