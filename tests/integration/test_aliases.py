"""The old designs' admin endpoints as aliases over the native ones (issue 15,
item 4; docs/http_api.md "Aliases of the old designs"):

  POST /api/cache/evict            = POST /v1/evict (fraction in the body or the query)
  POST /api/cache/clear/{name}     = POST /v1/clear {"namespace": name}
  POST /api/plan-cache/clear?goal=&project_context=
                                   = DELETE /v1/plans {"goal", "context": project_context}
                                     or, without a goal, POST /v1/clear {"namespace":"default"}

Each answers what the native endpoint answers, under the same token rules,
and bad input is a 400 with {"error":{"code","message"}}.
"""

import unittest
import urllib.parse

import harness
from harness import Server

ADMIN = "admin-secret"
API = "api-secret"


def bearer(token):
    return {"Authorization": "Bearer " + token}


class AliasTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(["--admin-token", ADMIN, "--l1-max-entries", "10000"])

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def call(self, method, path, body=None, token=ADMIN, want=None):
        res = self.server.request(method, path, body, bearer(token) if token else None)
        if want is not None:
            self.assertEqual(res.status, want, (method, path, body, res))
        return res

    def assert_error(self, res, status, code):
        self.assertEqual(res.status, status, res)
        err = res.json()["error"]
        self.assertEqual(err["code"], code, res)
        self.assertTrue(err["message"], res)

    def put(self, goal, context=None, ns=None):
        body = {"goal": goal, "plan": {"for": goal}}
        if context is not None:
            body["context"] = context
        if ns is not None:
            body["namespace"] = ns
        return self.call("PUT", "/v1/plans", body, want=201).json()["key"]

    def found(self, goal, context=None, ns=None):
        body = {"goal": goal}
        if context is not None:
            body["context"] = context
        if ns is not None:
            body["namespace"] = ns
        return self.call("POST", "/v1/plans/lookup", body).status == 200

    def fill(self, ns, n):
        for i in range(n):
            self.put("fill %d" % i, ns=ns)

    # --- POST /api/cache/evict -------------------------------------------------

    def test_evict_alias_is_v1_evict(self):
        self.fill("scratch-evict", 100)
        res = self.call("POST", "/api/cache/evict", {"fraction": 0.5}, want=200)
        self.assertEqual(set(res.json()), {"evicted"})
        self.assertGreaterEqual(res.json()["evicted"], 50)
        self.fill("scratch-evict", 100)
        res = self.call("POST", "/api/cache/evict?fraction=0.25", want=200)
        self.assertGreaterEqual(res.json()["evicted"], 25)
        self.call("POST", "/api/cache/evict", want=200)  # no body: the default share
        self.call("POST", "/v1/evict?fraction=1", want=200)  # the query works natively too

    def test_evict_alias_bad_input_and_tokens(self):
        for path, body in [("/api/cache/evict", {"fraction": 2}),
                           ("/api/cache/evict?fraction=0", None),
                           ("/api/cache/evict?fraction=lots", None),
                           ("/api/cache/evict?fraction=0.5", {"fraction": 0.5}),
                           ("/api/cache/evict?share=0.5", None),
                           ("/api/cache/evict", {"fraction": 0.5, "lane": "x"}),
                           ("/api/cache/evict", "not json")]:
            self.assert_error(self.call("POST", path, body), 400, "invalid_argument")
        self.assert_error(self.call("POST", "/api/cache/evict", token=None), 401,
                          "unauthenticated")
        self.assert_error(self.call("POST", "/api/cache/evict", token="wrong"), 403,
                          "permission_denied")
        res = self.call("GET", "/api/cache/evict")
        self.assert_error(res, 405, "method_not_allowed")
        self.assertEqual(res.headers.get("Allow"), "POST")

    # --- POST /api/cache/clear/{name} ----------------------------------------

    def test_clear_alias_clears_one_namespace(self):
        self.fill("lane-a", 3)
        self.fill("lane-b", 2)
        res = self.call("POST", "/api/cache/clear/lane-a", want=200)
        self.assertEqual(res.json(), {"cleared": 3})
        self.assertFalse(self.found("fill 0", ns="lane-a"))
        self.assertTrue(self.found("fill 0", ns="lane-b"), "another namespace is untouched")
        # Escapes are decoded; an unknown (valid) name clears nothing, as /v1/clear.
        self.assertEqual(self.call("POST", "/api/cache/clear/lane%2Db", want=200).json(),
                         {"cleared": 2})
        self.assertEqual(self.call("POST", "/api/cache/clear/nobody-here", body={},
                                   want=200).json(), {"cleared": 0})

    def test_clear_alias_bad_input_and_tokens(self):
        for path, body in [("/api/cache/clear/", None), ("/api/cache/clear/.hidden", None),
                           ("/api/cache/clear/a%2Fb", None), ("/api/cache/clear/a/b", None),
                           ("/api/cache/clear/%zz", None), ("/api/cache/clear/" + "x" * 65, None),
                           ("/api/cache/clear/ok", {"namespace": "other"}),
                           ("/api/cache/clear/ok?all=1", None)]:
            self.assert_error(self.call("POST", path, body), 400, "invalid_argument")
        self.assert_error(self.call("POST", "/api/cache/clear/x", token=None), 401,
                          "unauthenticated")
        self.assert_error(self.call("POST", "/api/cache/clear/x", token="wrong"), 403,
                          "permission_denied")
        self.assert_error(self.call("DELETE", "/api/cache/clear/x"), 405, "method_not_allowed")

    # --- POST /api/plan-cache/clear ----------------------------------------------

    def plan_cache_clear(self, token=ADMIN, want=None, body=None, **params):
        path = "/api/plan-cache/clear"
        if params:
            path += "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        return self.call("POST", path, body, token=token, want=want)

    def test_plan_cache_clear_one_plan_keyed_by_goal_and_project_context(self):
        key1 = self.put("Deploy the  app", context="proj-1")
        self.put("Deploy the  app", context="proj-2")
        key_none = self.put("Deploy the  app")
        res = self.plan_cache_clear(goal="Deploy the app", project_context="proj-1", want=200)
        self.assertEqual(res.json(), {"removed": True, "key": key1, "namespace": "default"})
        self.assertFalse(self.found("Deploy the app", "proj-1"))
        self.assertTrue(self.found("Deploy the app", "proj-2"), "another context is untouched")
        self.assertTrue(self.found("Deploy the app"))
        again = self.plan_cache_clear(goal="Deploy the app", project_context="proj-1", want=200)
        self.assertIs(again.json()["removed"], False)
        # No project_context: the plan stored without a context.
        res = self.plan_cache_clear(goal="Deploy the app", want=200)
        self.assertEqual(res.json()["key"], key_none)
        self.assertFalse(self.found("Deploy the app"))

    def test_plan_cache_clear_without_a_goal_clears_the_default_namespace(self):
        self.put("one")
        self.put("two", context="p")
        self.put("kept", ns="docs")
        res = self.plan_cache_clear(want=200)
        self.assertEqual(set(res.json()), {"cleared"})
        self.assertGreaterEqual(res.json()["cleared"], 2)
        self.assertFalse(self.found("one"))
        self.assertFalse(self.found("two", "p"))
        self.assertTrue(self.found("kept", ns="docs"), "only the plan namespace is cleared")
        # The SPEC's spelling, empty values: a goal of "" is no goal (the chat
        # backend's `if goal:`).
        self.put("three")
        res = self.call("POST", "/api/plan-cache/clear?goal=&project_context=", want=200)
        self.assertEqual(res.json(), {"cleared": 1})
        self.assertFalse(self.found("three"))

    def test_plan_cache_clear_bad_input(self):
        self.put("stays")
        for params, body in [({"project_context": "p"}, None), ({"goal": " "}, None),
                             ({"goal": "g", "namespace": "docs"}, None),
                             ({"goal": "a\u0000b"}, None), ({}, {"goal": "stays"}),
                             ({"goal": "g", "project_context": "p"}, "{")]:
            res = self.plan_cache_clear(body=body, **params)
            self.assert_error(res, 400, "invalid_argument")
        for path in ["/api/plan-cache/clear?goal=%zz", "/api/plan-cache/clear?goal=a&goal=b",
                     "/api/plan-cache/clear?goal=%FF"]:
            self.assert_error(self.call("POST", path), 400, "invalid_argument")
        self.assertTrue(self.found("stays"), "a refused request removed nothing")
        self.assert_error(self.call("GET", "/api/plan-cache/clear?goal=x"), 405,
                          "method_not_allowed")

    def test_route_labels_in_stats(self):
        self.call("POST", "/api/cache/clear/labels", want=200)
        self.plan_cache_clear(goal="labelled", want=200)
        requests = self.call("GET", "/v1/stats", want=200).json()["http"]["requests"]
        self.assertGreaterEqual(requests["api_cache_clear"]["200"], 1)
        self.assertGreaterEqual(requests["api_plan_cache_clear"]["200"], 1)


class AliasTokenTest(unittest.TestCase):
    """With --api-token beside --admin-token each alias follows its native
    endpoint: deleting one plan needs the API token (as DELETE /v1/plans),
    clearing a namespace or evicting needs the admin token."""

    def test_tokens_follow_the_native_endpoints(self):
        with Server(["--api-token", API, "--admin-token", ADMIN]) as s:
            def status(method, path, token):
                return s.request(method, path, None, bearer(token) if token else None).status

            one_plan = "/api/plan-cache/clear?goal=g&project_context=p"
            self.assertEqual(status("POST", one_plan, API), 200)
            self.assertEqual(status("POST", one_plan, ADMIN), 200)
            self.assertEqual(status("POST", one_plan, None), 401)
            self.assertEqual(status("POST", one_plan, "wrong"), 403)
            for path in ["/api/plan-cache/clear", "/api/plan-cache/clear?goal=",
                         "/api/cache/clear/default", "/api/cache/evict"]:
                self.assertEqual(status("POST", path, API), 403, path)
                self.assertEqual(status("POST", path, None), 401, path)
                self.assertEqual(status("POST", path, ADMIN), 200, path)
            # The native endpoints, for comparison.
            self.assertEqual(s.request("DELETE", "/v1/plans", {"goal": "g"}, bearer(API)).status,
                             200)
            self.assertEqual(status("POST", "/v1/clear", API), 403)

    def test_no_tokens_no_checks(self):
        with Server() as s:
            self.assertEqual(s.request("POST", "/api/plan-cache/clear").status, 200)
            self.assertEqual(s.request("POST", "/api/cache/clear/default").status, 200)
            self.assertEqual(s.request("POST", "/api/cache/evict").status, 200)


if __name__ == "__main__":
    harness.main()
