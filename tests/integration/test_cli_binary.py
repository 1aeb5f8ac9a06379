"""The `plancache` client commands, as processes, against `plancache serve`:
exit codes 0/1/2 and their messages."""

import json
import os
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
        ]
        for args, message in cases:
            with self.subTest(args=args):
                res = self.cli(args, stdin=b"{oops")
                self.assertEqual(res.code, 2, res)
                self.assertIn(message, res.err)

    def test_help_and_version_exit_0(self):
        for args in (["--help"], ["get", "--help"], ["serve", "--help"], ["--version"]):
            with self.subTest(args=args):
                res = run_cli(args)
                self.assertEqual(res.code, 0, res)
                self.assertTrue(res.out)


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
