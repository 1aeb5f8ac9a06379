"""The `plancache` client commands, as processes, against `plancache serve`:
exit codes 0/1/2 and their messages."""

import json
import os
import shutil
import tempfile
import unittest

import harness
from harness import Server, free_port, run_cli

ADMIN = "admin-secret"


class CliAgainstServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(["--admin-token", ADMIN])
        cls.url = "http://127.0.0.1:%d" % cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def setUp(self):
        self.assertEqual(self.cli(["clear", "--token", ADMIN]).code, 0)

    def cli(self, args, stdin=b"", env=None):
        return run_cli(args + ["--server", self.url], env=env, stdin=stdin)

    def test_put_get_roundtrip_through_a_file_and_stdin(self):
        plan = {"steps": ["lint", "build", "deploy"], "estimate_s": 42}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(plan, f)
            path = f.name
        try:
            put = self.cli(["put", "--goal", "ship it", "--plan-file", path, "--tag", "release"])
        finally:
            os.unlink(path)
        self.assertEqual(put.code, 0, put)
        self.assertRegex(put.out, r"^[0-9a-f]{64}\n$")
        got = self.cli(["get", "--goal", "ship   it"])
        self.assertEqual(got.code, 0, got)
        self.assertEqual(json.loads(got.out), plan)

        put2 = self.cli(["put", "--goal", "piped", "--plan-file", "-"], stdin=b'["a", "b"]')
        self.assertEqual(put2.code, 0, put2)
        self.assertEqual(json.loads(self.cli(["get", "--goal", "piped"]).out), ["a", "b"])

    def test_get_miss_exits_1(self):
        res = self.cli(["get", "--goal", "never stored"])
        self.assertEqual(res.code, 1, res)
        self.assertIn("no plan cached for this goal", res.err)
        self.assertEqual(res.out, "")

    def test_stats_json_and_table(self):
        res = self.cli(["stats"])
        self.assertEqual(res.code, 0, res)
        self.assertIn("l1_hit_rate", json.loads(res.out))
        table = self.cli(["stats", "--format", "table"])
        self.assertEqual(table.code, 0, table)
        self.assertIn("summary", table.out)
        self.assertIn("l1_size", table.out)

    def test_invalidate_and_clear(self):
        for goal, tag in (("a", "x"), ("b", "x"), ("c", "y")):
            r = self.cli(["put", "--goal", goal, "--plan-file", "-", "--tag", tag], stdin=b"{}")
            self.assertEqual(r.code, 0, r)
        inv = self.cli(["invalidate", "--tag", "x"])
        self.assertEqual((inv.code, inv.out), (0, "invalidated 2 entries\n"), inv)
        self.assertEqual(self.cli(["get", "--goal", "a"]).code, 1)
        self.assertEqual(self.cli(["get", "--goal", "c"]).code, 0)
        clear = self.cli(["clear"], env={"PLANCACHE_TOKEN": ADMIN})
        self.assertEqual(clear.code, 0, clear)
        self.assertEqual(clear.out, "cleared 1 entry (every namespace)\n")

    def test_server_error_exits_1_with_code_and_message(self):
        res = self.cli(["clear"])
        self.assertEqual(res.code, 1, res)
        self.assertRegex(res.err, r"^error: unauthenticated: .+\n$")
        bad = self.cli(["get", "--goal", "g", "--namespace", "a/b"])
        self.assertEqual(bad.code, 1, bad)
        self.assertRegex(bad.err, r"^error: invalid_argument: .+\n$")

    def test_bad_usage_exits_2(self):
        cases = [
            (["get"], "--goal is required"),
            (["put", "--goal", "g", "--plan-file", "-"], "not valid JSON"),
            (["invalidate"], "exactly one of"),
            (["invalidate", "--tag", "a", "--prefix", "b"], "exactly one of"),
            (["stats", "--nope"], "--nope"),
            (["nonsense"], "unknown command 'nonsense'"),
            (["checkpoint", "save", "--id", "x", "--file", "-"], "not valid JSON"),
            (["checkpoint", "save", "--file", "-"], "--id is required"),
            (["checkpoint", "cleanup", "--max-age-days", "-1"], "--max-age-days must be"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                res = self.cli(args, stdin=b"{oops")
                self.assertEqual(res.code, 2, res)
                self.assertIn(message, res.err)

    def test_help_and_version_exit_0(self):
        for args in (["--help"], ["get", "--help"], ["serve", "--help"], ["--version"],
                     ["checkpoint", "--help"], ["checkpoint", "restore", "--help"]):
            with self.subTest(args=args):
                res = run_cli(args)
                self.assertEqual(res.code, 0, res)
                self.assertTrue(res.out)


class CheckpointAcrossRestartTest(unittest.TestCase):
    """`plancache checkpoint` against a server with a real --data-dir, which is
    stopped with SIGTERM and started again between save and restore."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plancache-it-checkpoint-")
        self.data_dir = os.path.join(self.tmp, "data")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def checkpoint(self, server, args):
        return run_cli(["checkpoint"] + args + ["--server", "http://127.0.0.1:%d" % server.port])

    def test_save_restart_restore_list_cleanup(self):
        state = {"workflow": "deploy", "step": 5, "done": ["lint", "build"], "note": "caf\u00e9",
                 "retries": {"build": 2}, "ratio": 0.25}
        path = os.path.join(self.tmp, "state.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2)

        with Server(data_dir=self.data_dir) as first:
            saved = self.checkpoint(first, ["save", "--id", "deploy:step_5", "--file", path])
            self.assertEqual(saved.code, 0, saved)
            self.assertIn("saved checkpoint 'deploy:step_5'", saved.out)
            self.assertEqual(first.stop(), 0, first.log())

        with Server(data_dir=self.data_dir) as second:
            restored = self.checkpoint(second, ["restore", "--id", "deploy:step_5"])
            self.assertEqual(restored.code, 0, restored)
            self.assertEqual(json.loads(restored.out), state)

            listed = self.checkpoint(second, ["list"])
            self.assertEqual(listed.code, 0, listed)
            lines = listed.out.splitlines()
            self.assertRegex(lines[0], r"^ID +CREATED +AGE +SIZE$")
            self.assertRegex(lines[1], r"^deploy:step_5 +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\S+")
            raw = self.checkpoint(second, ["list", "--json"])
            self.assertEqual(raw.code, 0, raw)
            entries = json.loads(raw.out)["entries"]
            self.assertEqual([e["key"] for e in entries], ["deploy:step_5"])
            self.assertIsNone(entries[0]["expires_ms"])  # persistent: no TTL
            self.assertEqual(entries[0]["bytes"], len(json.dumps(state, separators=(",", ":"),
                                                                 ensure_ascii=False).encode()))

            cleanup = self.checkpoint(second, ["cleanup", "--max-age-days", "0"])
            self.assertEqual(cleanup.code, 0, cleanup)
            self.assertEqual(cleanup.out, "removed 1 checkpoint older than 0 days\n")
            gone = self.checkpoint(second, ["restore", "--id", "deploy:step_5"])
            self.assertEqual(gone.code, 1, gone)
            self.assertIn("no checkpoint 'deploy:step_5'", gone.err)
            self.assertEqual(self.checkpoint(second, ["list"]).out, "no checkpoints\n")


# A command planner for the warm test: answers {"steps": [goal]}, and fails
# for goals that start with "fail".
WARM_PLANNER = """import json, sys
request = json.load(sys.stdin)
if request["goal"].startswith("fail"):
    sys.exit("cannot plan " + request["goal"])
json.dump({"steps": [request["goal"]], "context": request.get("context")}, sys.stdout)
"""


class WarmTest(unittest.TestCase):
    """`plancache warm` through POST /v1/plans (read-through, SPEC §3) on a
    server with a command planner."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plancache-it-warm-")
        planner = os.path.join(self.tmp, "planner.py")
        with open(planner, "w") as f:
            f.write(WARM_PLANNER)
        self.server = Server(["--planner-cmd", "/usr/bin/python3 %s" % planner])
        self.url = "http://127.0.0.1:%d" % self.server.port

    def tearDown(self):
        self.server.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def warm(self, lines):
        path = os.path.join(self.tmp, "scenarios.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return run_cli(["warm", "--file", path, "--concurrency", "2", "--server", self.url])

    def test_warm_counts_hits_and_computed_plans(self):
        for goal in ("stored one", "stored two"):
            put = self.server.request("PUT", "/v1/plans", {"goal": goal, "plan": {"steps": [goal]}})
            self.assertEqual(put.status, 201, put)

        scenarios = [
            "# two stored, two new",
            json.dumps({"goal": "stored   one"}),
            json.dumps({"goal": "stored two"}),
            "",
            json.dumps({"goal": "new one", "context": {"env": "prod", "rev": 7}}),
            json.dumps({"goal": "new two"}),
        ]
        first = self.warm(scenarios)
        self.assertEqual(first.code, 0, first)
        self.assertRegex(first.out,
                         r"^warmed 4 scenarios: 2 hits, 2 computed, 0 failed \(\d+\.\d s\)\n$")
        self.assertEqual(first.err, "")

        looked_up = self.server.request("POST", "/v1/plans/lookup",
                                        {"goal": "new one", "context": {"rev": 7, "env": "prod"}})
        self.assertEqual(looked_up.status, 200, looked_up)
        self.assertEqual(looked_up.json()["plan"]["steps"], ["new one"])

        again = self.warm(scenarios)
        self.assertEqual(again.code, 0, again)
        self.assertRegex(again.out, r"^warmed 4 scenarios: 4 hits, 0 computed, 0 failed ")

    def test_a_failed_scenario_is_listed_and_exits_1(self):
        res = self.warm([json.dumps({"goal": "fine"}), json.dumps({"goal": "fail here"})])
        self.assertEqual(res.code, 1, res)
        self.assertRegex(res.out, r"^warmed 2 scenarios: 0 hits, 1 computed, 1 failed ")
        self.assertIn("line 2: bad_gateway", res.err)
        self.assertIn("cannot plan fail here", res.err)
        self.assertEqual(self.server.request("POST", "/v1/plans/lookup", {"goal": "fine"}).status,
                         200)

    def test_invalid_file_exits_2_and_sends_nothing(self):
        res = self.warm([json.dumps({"goal": "never sent"}), "{oops"])
        self.assertEqual(res.code, 2, res)
        self.assertIn("line 2: it is not valid JSON", res.err)
        lookup = self.server.request("POST", "/v1/plans/lookup", {"goal": "never sent"})
        self.assertEqual(lookup.status, 404, lookup)


class CliWithoutServerTest(unittest.TestCase):
    def test_unreachable_server_exits_1(self):
        url = "http://127.0.0.1:%d" % free_port()
        res = run_cli(["stats", "--server", url])
        self.assertEqual(res.code, 1, res)
        self.assertIn("cannot reach plancache server at %s" % url, res.err)

    def test_bad_url_exits_2(self):
        res = run_cli(["stats"], env={"PLANCACHE_SERVER": "https://example.invalid"})
        self.assertEqual(res.code, 2, res)
        self.assertIn("only http:// is supported", res.err)


if __name__ == "__main__":
    harness.main()
