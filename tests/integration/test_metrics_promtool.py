"""GET /metrics passes `promtool check metrics` silently (issue 9, item 6).

Every code path that produces series is exercised first -- L1 and L2 hits
and misses, a promotion, puts, evictions, invalidations, HTTP errors, planner
runs and planner failures, several namespaces including odd but valid names,
namespaces folded into "(other)" -- then the exposition is piped into
promtool (Debian package `prometheus`, deps/debian-packages.txt), which must
print nothing and exit 0. The latency summary's quantiles must not exceed its
max.

Run by ctest as: python3 test_metrics_promtool.py --binary PATH
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

# Valid namespace names (letters, digits, '_', '.', '-'; not starting with
# '.' or '-'; at most 64 characters) that look odd.
ODD_NAMES = ["a.b-C_9", "_", "9", "x" * 64, "UPPER.lower-mixed_", "default.shadow"]
PLANNER = "x=$(cat); case \"$x\" in *fail*) exit 3;; esac; echo '{\"steps\":[1]}'"


class PromtoolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.promtool = shutil.which("promtool")
        if cls.promtool is None:
            raise AssertionError("promtool not found: install the Debian package 'prometheus' "
                                 "(deps/debian-packages.txt)")

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="plancache-prom-")
        self.server = self.start()

    def start(self):
        return harness.Server(args=["--planner-cmd", PLANNER, "--stats-max-namespaces", "3"],
                              data_dir=os.path.join(self.data, "store"))

    def tearDown(self):
        self.server.close()
        shutil.rmtree(self.data, ignore_errors=True)

    def call(self, method, path, body=None, want=None):
        res = self.server.request(method, path, body)
        if want is not None:
            self.assertEqual(res.status, want, (method, path, body, res))
        return res

    def exercise(self):
        # A plan on disk only (L1 starts empty): an L2 hit, promoted to L1.
        self.call("PUT", "/v1/plans", {"goal": "on disk", "plan": 1, "namespace": "a.b-C_9"}, 201)
        self.assertEqual(self.server.stop(), 0)
        self.server.close()
        self.server = self.start()
        res = self.call("POST", "/v1/plans/lookup", {"goal": "on disk", "namespace": "a.b-C_9"},
                        200)
        self.assertEqual(res.json()["tier"], "l2")
        for ns in ODD_NAMES + ["docs", "heavy"]:
            self.call("PUT", "/v1/plans", {"goal": "g", "plan": [ns], "namespace": ns}, 201)
            self.call("POST", "/v1/plans/lookup", {"goal": "g", "namespace": ns}, 200)
            self.call("POST", "/v1/plans/lookup", {"goal": "nope", "namespace": ns}, 404)
        self.call("POST", "/v1/evict", {"fraction": 0.5}, 200)
        # Read-through: a planner run, a cached answer, a planner failure.
        self.call("POST", "/v1/plans", {"goal": "plan me"}, 200)
        self.call("POST", "/v1/plans", {"goal": "plan me"}, 200)
        self.call("POST", "/v1/plans", {"goal": "please fail"}, 502)
        # Entries API, invalidations, errors of every kind.
        self.call("PUT", "/v1/entries/_/k1", {"v": 1}, 201)
        self.call("GET", "/v1/entries/_/k1", None, 200)
        self.call("POST", "/v1/invalidate", {"namespace": "heavy"}, 200)
        self.call("POST", "/v1/invalidate", {}, 400)
        self.call("PUT", "/v1/plans", {"goal": "g", "plan": 1, "namespace": ".bad"}, 400)
        self.call("GET", "/v1/nope", None, 404)
        self.call("GET", "/v1/plans/lookup", None, 405)
        self.call("DELETE", "/v1/plans", {"goal": "g", "namespace": "docs"}, 200)

    def test_promtool_is_silent(self):
        self.exercise()
        res = self.call("GET", "/metrics", None, 200)
        text = res.body.decode()
        proc = subprocess.run([self.promtool, "check", "metrics"], input=res.body,
                              capture_output=True, timeout=30)
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, b"", b""),
                         text[:2000])
        # What the run covered is really in the text.
        labels = set(re.findall(r'namespace="([^"]*)"', text))
        self.assertTrue(labels & set(ODD_NAMES), labels)
        self.assertTrue({"default", "docs", "heavy", "(other)"} <= labels, labels)
        for needle in ('tier="l2"',
                       'code="502"', 'code="405"', "plancache_planning_planner_errors_total 1",
                       "plancache_cache_promotions_total 1",
                       "# TYPE plancache_cache_get_latency_seconds summary",
                       "plancache_cache_get_latency_seconds_count "):
            self.assertIn(needle, text)
        folded = int(re.search(r"^plancache_namespaces_folded (\d+)$", text, re.M).group(1))
        self.assertGreater(folded, 0)

    def test_latency_quantiles_do_not_exceed_the_max(self):
        self.call("PUT", "/v1/plans", {"goal": "g", "plan": 1}, 201)
        self.call("POST", "/v1/plans/lookup", {"goal": "g"}, 200)
        text = self.call("GET", "/metrics", None, 200).body.decode()
        value = {}
        for name in ('seconds{quantile="0.5"}', 'seconds{quantile="0.99"}', "max_seconds"):
            m = re.search(r"^plancache_cache_get_latency_%s (\S+)$" % re.escape(name), text, re.M)
            self.assertIsNotNone(m, name)
            value[name] = float(m.group(1))
        self.assertGreater(value["max_seconds"], 0)
        self.assertLessEqual(value['seconds{quantile="0.99"}'], value["max_seconds"])
        self.assertLessEqual(value['seconds{quantile="0.5"}'], value['seconds{quantile="0.99"}'])
        stats = self.call("GET", "/v1/stats", None, 200).json()["cache"]["get_latency_us"]
        self.assertEqual(stats["count"], 1)
        self.assertEqual(stats["p99"], stats["max"], "one get: every percentile is that get")
        self.assertEqual(stats["p50"], stats["max"])


if __name__ == "__main__":
    harness.main()
