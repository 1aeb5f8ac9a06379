"""SPEC §3 HTTP API end to end through the real `plancache serve` binary."""

import json
import unittest

import harness
from harness import Server

ADMIN = "admin-secret"


class HttpApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(["--admin-token", ADMIN])

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def setUp(self):
        res = self.server.request("POST", "/v1/clear", {},
                                  {"Authorization": "Bearer " + ADMIN})
        self.assertEqual(res.status, 200, res)

    def call(self, method, path, body=None, headers=None):
        return self.server.request(method, path, body, headers)

    def assert_error(self, res, status, code=None):
        self.assertEqual(res.status, status, res)
        self.assertTrue(res.headers.get("Content-Type", "").startswith("application/json"), res)
        err = res.json()["error"]
        self.assertIsInstance(err["message"], str)
        self.assertTrue(err["message"], res)
        if code is not None:
            self.assertEqual(err["code"], code, res)

    def test_health_and_readiness(self):
        self.assertEqual(self.call("GET", "/healthz").status, 200)
        self.assertEqual(self.call("GET", "/readyz").status, 200)

    def test_put_lookup_delete_plan(self):
        plan = {"steps": [{"run": "make"}, {"run": "make test"}], "cost": 1.5}
        put = self.call("PUT", "/v1/plans", {"goal": "Deploy  the\tweb tier ",
                                             "context": {"env": "prod", "rev": 7},
                                             "namespace": "heavy", "plan": plan,
                                             "ttl_s": 600, "tags": ["web"], "compute_ms": 1200})
        self.assertEqual(put.status, 201, put)
        key = put.json()["key"]
        self.assertRegex(key, "^[0-9a-f]{64}$")

        hit = self.call("POST", "/v1/plans/lookup",
                        {"goal": "Deploy the web tier", "context": {"rev": 7, "env": "prod"},
                         "namespace": "heavy"})
        self.assertEqual(hit.status, 200, hit)
        doc = hit.json()
        self.assertIs(doc["hit"], True)
        self.assertEqual(doc["key"], key)
        self.assertEqual(doc["tier"], "l1")
        self.assertEqual(doc["plan"], plan)
        self.assertEqual(doc["compute_ms"], 1200)
        self.assertEqual(doc["tags"], ["web"])

        miss = self.call("POST", "/v1/plans/lookup", {"goal": "Deploy the web tier",
                                                      "namespace": "heavy"})
        self.assertEqual(miss.status, 404, miss)
        self.assertIs(miss.json()["hit"], False)
        self.assertRegex(miss.json()["key"], "^[0-9a-f]{64}$")

        removed = self.call("DELETE", "/v1/plans",
                            {"goal": "Deploy the web tier", "context": {"env": "prod", "rev": 7},
                             "namespace": "heavy"})
        self.assertEqual(removed.status, 200, removed)
        self.assertIs(removed.json()["removed"], True)
        again = self.call("DELETE", "/v1/plans", {"goal": "Deploy the web tier",
                                                  "context": {"env": "prod", "rev": 7},
                                                  "namespace": "heavy"})
        self.assertIs(again.json()["removed"], False)

    def test_read_through_without_planner_is_a_clear_error(self):
        res = self.call("POST", "/v1/plans", {"goal": "g"})
        self.assertGreaterEqual(res.status, 400, res)
        self.assertIn("error", res.json())

    def test_entries_store_values_verbatim(self):
        raw = b'{"b": 1,   "a": [1, 2.50]}'
        put = self.call("PUT", "/v1/entries/standard/workflow:standard:step_5?ttl_s=60&tags=wf",
                        raw, {"Content-Type": "application/json"})
        self.assertEqual(put.status, 201, put)
        got = self.call("GET", "/v1/entries/standard/workflow:standard:step_5")
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.body, raw)
        missing = self.call("GET", "/v1/entries/standard/workflow:standard:step_6")
        self.assert_error(missing, 404, "not_found")
        deleted = self.call("DELETE", "/v1/entries/standard/workflow:standard:step_5")
        self.assertEqual(deleted.json(), {"removed": True})
        self.assert_error(self.call("GET", "/v1/entries/standard/workflow:standard:step_5"), 404)

    def put_entry(self, ns, key, tags=None):
        path = "/v1/entries/%s/%s" % (ns, key)
        if tags:
            path += "?tags=" + ",".join(tags)
        res = self.call("PUT", path, b"{}", {"Content-Type": "application/json"})
        self.assertEqual(res.status, 201, res)

    def invalidate(self, body):
        res = self.call("POST", "/v1/invalidate", body)
        self.assertEqual(res.status, 200, res)
        return res.json()["invalidated"]

    def test_invalidate_by_each_selector(self):
        for key in ("workflow:a:1", "workflow:a:2", "workflow:b:1", "report:1"):
            self.put_entry("lane", key, tags=["t-" + key.split(":")[0]])
        self.put_entry("other", "workflow:a:9")
        self.assertEqual(self.invalidate({"pattern": "workflow:a:*", "namespace": "lane"}), 2)
        self.assertEqual(self.call("GET", "/v1/entries/other/workflow:a:9").status, 200)
        self.assertEqual(self.invalidate({"prefix": "workflow:"}), 2)  # lane b:1, other a:9
        self.assertEqual(self.invalidate({"tag": "t-report"}), 1)
        self.put_entry("lane", "x")
        self.assertEqual(self.invalidate({"older_than_s": 3600}), 0)
        self.assertEqual(self.invalidate({"namespace": "lane"}), 1)

    def test_invalidate_needs_a_selector(self):
        self.assert_error(self.call("POST", "/v1/invalidate", {}), 400, "invalid_argument")
        self.assert_error(self.call("POST", "/v1/invalidate", {"tagg": "x"}), 400)
        self.assert_error(self.call("POST", "/v1/invalidate", {"tag": 5}), 400)

    def test_admin_endpoints_need_the_admin_token(self):
        self.assert_error(self.call("POST", "/v1/clear", {}), 401, "unauthenticated")
        self.assert_error(self.call("POST", "/v1/clear", {}, {"Authorization": "Bearer no"}),
                          403, "permission_denied")
        self.assert_error(self.call("POST", "/v1/evict", {"fraction": 0.5}), 401)
        ok = self.call("POST", "/v1/evict", {"fraction": 0.5}, {"Authorization": "Bearer " + ADMIN})
        self.assertEqual(ok.status, 200, ok)
        self.assertIn("evicted", ok.json())

    def test_clear_one_namespace(self):
        self.put_entry("a", "k1")
        self.put_entry("b", "k2")
        res = self.call("POST", "/v1/clear", {"namespace": "a"},
                        {"Authorization": "Bearer " + ADMIN})
        self.assertEqual(res.json(), {"cleared": 1})
        self.assertEqual(self.call("GET", "/v1/entries/a/k1").status, 404)
        self.assertEqual(self.call("GET", "/v1/entries/b/k2").status, 200)

    def test_stats_have_plancache_field_names(self):
        self.call("PUT", "/v1/plans", {"goal": "g", "plan": [1]})
        self.call("POST", "/v1/plans/lookup", {"goal": "g"})
        self.call("POST", "/v1/plans/lookup", {"goal": "nope"})
        stats = self.call("GET", "/v1/stats").json()
        for field in ("l1_size", "l1_max_size", "l1_hits", "l1_misses", "l1_hit_rate",
                      "l2_connected", "l2_hits", "l2_hit_rate"):
            self.assertIn(field, stats)
        self.assertEqual(stats["l1_size"], 1)
        self.assertGreaterEqual(stats["l1_hits"], 1)
        self.assertGreaterEqual(stats["l1_misses"], 1)
        self.assertIn("namespaces", stats)
        self.assertIn("tiers", stats)

    def test_metrics_are_prometheus_text(self):
        res = self.call("GET", "/metrics")
        self.assertEqual(res.status, 200)
        self.assertTrue(res.headers["Content-Type"].startswith("text/plain"), res.headers)
        text = res.body.decode()
        samples = [l for l in text.splitlines() if l and not l.startswith("#")]
        self.assertTrue(samples)
        for line in samples:
            self.assertTrue(line.startswith("plancache_"), line)

    def test_unknown_path_and_wrong_method(self):
        self.assert_error(self.call("GET", "/v1/nope"), 404)
        res = self.call("GET", "/v1/plans/lookup")
        self.assert_error(res, 405)
        self.assertIn("POST", res.headers.get("Allow", ""))

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            for _ in range(5):
                conn.request("GET", "/healthz")
                res = conn.getresponse()
                res.read()
                self.assertEqual(res.status, 200)
        finally:
            conn.close()


class ApiTokenTest(unittest.TestCase):
    def test_api_token_guards_everything_but_health(self):
        with Server(["--api-token", "api", "--admin-token", ADMIN]) as server:
            self.assertEqual(server.request("GET", "/healthz").status, 200)
            self.assertEqual(server.request("GET", "/readyz").status, 200)
            self.assertEqual(server.request("GET", "/v1/stats").status, 401)
            self.assertEqual(server.request("GET", "/v1/stats",
                                            headers={"Authorization": "Bearer bad"}).status, 403)
            self.assertEqual(server.request("GET", "/v1/stats",
                                            headers={"Authorization": "Bearer api"}).status, 200)
            lookup = server.request("POST", "/v1/plans/lookup", {"goal": "g"},
                                    {"Authorization": "Bearer api"})
            self.assertEqual(lookup.status, 404)
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    harness.main()
