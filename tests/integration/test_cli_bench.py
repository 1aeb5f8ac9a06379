"""`plancache bench` against a real server (issue 15, item 5; docs/cli.md
"bench"): its JSON report has hit and miss percentiles in order, and what it
says it sent is exactly what the server counted (GET /v1/stats
http.requests, before and after: nothing is in flight once bench exits).
"""

import json
import unittest

import harness
from harness import Server, run_cli

PLANNER = "cat >/dev/null; echo '{\"steps\":[\"a\"]}'"
BENCH_ROUTES = ("plans_lookup", "plans")


def http_requests(server):
    requests = server.request("GET", "/v1/stats").json()["http"]["requests"]
    return {route: dict(requests.get(route, {})) for route in BENCH_ROUTES}


def grown(before, after):
    out = {}
    for route in BENCH_ROUTES:
        codes = {}
        for code, n in after[route].items():
            if n - before[route].get(code, 0):
                codes[code] = n - before[route].get(code, 0)
        out[route] = codes
    return out


class BenchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.url = "http://127.0.0.1:%d" % cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def bench(self, *args, server=None, want=0):
        url = server or self.url
        res = run_cli(["bench", "--server", url] + list(args), timeout_s=60)
        self.assertEqual(res.code, want, res)
        return res

    def test_json_report_matches_the_servers_counters(self):
        before = http_requests(self.server)
        res = self.bench("--duration", "1", "--connections", "2", "--json")
        report = json.loads(res.out)
        after = http_requests(self.server)
        for kind in ("hit", "miss", "put"):
            answer = report["answers"][kind]
            self.assertGreater(answer["count"], 0, kind)
            latency = answer["latency_us"]
            self.assertLessEqual(latency["p50"], latency["p90"], kind)
            self.assertLessEqual(latency["p90"], latency["p99"], kind)
            self.assertLessEqual(latency["p99"], latency["p99.9"], kind)
            self.assertLessEqual(latency["p99.9"], latency["max"], kind)
            self.assertGreater(latency["p50"], 0, kind)
        self.assertEqual(report["failed"], 0)
        self.assertEqual(report["connections"], 2)
        self.assertGreater(report["throughput_rps"], 0)
        self.assertEqual(sum(report["sent"].values()), report["requests"])
        self.assertEqual(report["setup"]["puts"], 1000)
        # Without a planner read-through is left out, and says so.
        self.assertIs(report["read_through"], False)
        self.assertEqual(report["sent"]["read-through"], 0)
        self.assertTrue(any("no planner" in n for n in report["notes"]), report["notes"])
        # What bench sent (setup included) is what the server counted.
        self.assertEqual(grown(before, after), report["server_requests"])
        sent = report["server_requests"]
        self.assertEqual(sent["plans_lookup"].get("200", 0), report["answers"]["hit"]["count"])
        self.assertEqual(sent["plans_lookup"].get("404", 0), report["answers"]["miss"]["count"])
        self.assertEqual(sent["plans"]["201"], 1000 + report["answers"]["put"]["count"])

    def test_request_cap_and_text_report(self):
        res = self.bench("--duration", "30", "--max-requests", "300", "--keys", "20",
                         "--value-bytes", "100", "--mix", "hit=3,miss=1", "--connections", "3")
        self.assertIn("300 requests", res.out)
        self.assertIn("p99.9", res.out)
        self.assertRegex(res.out, r"(?m)^hit +\d+")
        self.assertRegex(res.out, r"(?m)^miss +\d+")
        self.assertNotRegex(res.out, r"(?m)^put ")
        self.assertEqual(res.err, "", "no progress bar when stderr is not a terminal")
        # The plan is exactly --value-bytes bytes of JSON.
        doc = self.server.request("POST", "/v1/plans/lookup",
                                  {"goal": "plancache bench key 7", "namespace": "bench"}).json()
        self.assertEqual(len(json.dumps(doc["plan"])), 100)

    def test_read_through_hits_with_a_planner_never_run(self):
        with Server(["--planner-cmd", PLANNER]) as s:
            url = "http://127.0.0.1:%d" % s.port
            res = self.bench("--duration", "0.5", "--mix", "hit=1,read-through=1", "--json",
                             "--namespace", "rt", server=url)
            report = json.loads(res.out)
            self.assertIs(report["read_through"], True)
            self.assertGreater(report["answers"]["read_through_hit"]["count"], 0)
            self.assertEqual(report["answers"]["read_through_computed"]["count"], 0)
            planning = s.request("GET", "/v1/stats").json()["planning"]
            self.assertEqual(planning["planner_calls"], 0, "bench asks only for stored plans")

    def test_token(self):
        with Server(["--api-token", "sesame"]) as s:
            url = "http://127.0.0.1:%d" % s.port
            res = self.bench("--duration", "0.2", server=url, want=1)
            self.assertIn("unauthenticated", res.err)
            self.bench("--duration", "0.2", "--token", "sesame", server=url)

    def test_bad_usage_exits_2_and_an_unreachable_server_1(self):
        for args, fragment in [(["--connections", "0"], "--connections"),
                               (["--duration", "0"], "--duration"),
                               (["--value-bytes", "1"], "--value-bytes"),
                               (["--mix", "hit=1,hot=2"], "--mix"),
                               (["--mix", "hit=0"], "add up to 0"),
                               (["--mix", "hit=1,hit=2"], "each name once"),
                               (["--namespace", "../x"], "--namespace"),
                               (["--no-such-flag"], "--no-such-flag")]:
            res = self.bench(*args, want=2)
            self.assertIn(fragment, res.err, args)
            self.assertIn("plancache bench --help", res.err, args)
        res = self.bench("--duration", "1", server="http://127.0.0.1:%d" % harness.free_port(),
                         want=1)
        self.assertIn("cannot reach plancache server", res.err)

    def test_help_names_every_flag_and_its_default(self):
        res = run_cli(["bench", "--help"])
        self.assertEqual(res.code, 0, res)
        for flag in ("--server", "--duration", "--connections", "--value-bytes", "--keys",
                     "--max-requests", "--mix", "--namespace", "--progress", "--json",
                     "--token", "--timeout-s"):
            self.assertIn(flag, res.out)
        for default in ("default 10)", "default 4)", "default 1024)", "default 1000)",
                        "default hit=70,miss=10,put=10,read-through=10", "default bench",
                        "default auto"):
            self.assertIn(default, res.out)


if __name__ == "__main__":
    harness.main()
