"""`plancache serve` configuration: precedence of flags, PLANCACHE_* variables,
the seed designs' variables and the TOML file (including [namespaces.default]
against the server-wide settings); bad configurations refused
with exit 2 and a message naming the problem."""

import os
import shutil
import socket
import tempfile
import unittest

import harness
from harness import Server, free_port, run_serve_expecting_exit


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plancache-config-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def toml(self, text, name="plancache.toml"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, args=(), env=None, port=None, with_port_flag=False):
        return Server(list(args), env=env, port=port,
                      with_port_flag=with_port_flag)

    def test_port_precedence_flag_over_env_over_toml(self):
        p_toml, p_env, p_flag = free_port(), free_port(), free_port()
        path = self.toml('host = "127.0.0.1"\nport = %d\n' % p_toml)
        with self.start(["--config", path], port=p_toml) as s:
            self.assertEqual(s.request("GET", "/healthz").status, 200)
            self.assertEqual(s.stop(), 0)
        with self.start(["--config", path], env={"PLANCACHE_PORT": str(p_env)}, port=p_env) as s:
            self.assertEqual(s.stop(), 0)
        with self.start(["--config", path, "--port", str(p_flag)],
                        env={"PLANCACHE_PORT": str(p_env)}, port=p_flag) as s:
            self.assertEqual(s.stop(), 0)
        # The file can also be named by PLANCACHE_CONFIG.
        with self.start(env={"PLANCACHE_CONFIG": path}, port=p_toml) as s:
            self.assertEqual(s.stop(), 0)

    def l1_max_size(self, args=(), env=None):
        with self.start(list(args), env=env, with_port_flag=True) as s:
            return s.request("GET", "/v1/stats").json()["l1_max_size"]

    def test_l1_size_precedence_including_the_seed_variable(self):
        path = self.toml("l1-max-entries = 100\n")
        self.assertEqual(self.l1_max_size(["--config", path]), 100)
        self.assertEqual(self.l1_max_size(["--config", path], {"PLAN_CACHE_MAXSIZE": "200"}), 200)
        self.assertEqual(self.l1_max_size(["--config", path],
                                          {"PLAN_CACHE_MAXSIZE": "200",
                                           "PLANCACHE_L1_MAX_ENTRIES": "300"}), 300)
        self.assertEqual(self.l1_max_size(["--config", path, "--l1-max-entries", "400"],
                                          {"PLAN_CACHE_MAXSIZE": "200",
                                           "PLANCACHE_L1_MAX_ENTRIES": "300"}), 400)

    def default_lane(self, args=(), env=None):
        with self.start(list(args), env=env, with_port_flag=True) as s:
            return s.request("GET", "/v1/stats").json()["namespaces"]["default"]["policy"]

    def test_default_lane_precedence_with_a_namespaces_table(self):
        path = self.toml("l1-max-entries = 100\ndefault_ttl_s = 50\n"
                         "[namespaces.default]\nmax_entries = 150\n")
        lane = self.default_lane(["--config", path])
        self.assertEqual(lane["max_entries"], 150, "the table beats the top-level key")
        self.assertEqual(lane["default_ttl_s"], 50, "top-level key where the table is silent")
        self.assertEqual(self.l1_max_size(["--config", path]), 150)
        self.assertEqual(self.default_lane(["--config", path],
                                           {"PLAN_CACHE_MAXSIZE": "200"})["max_entries"], 200)
        self.assertEqual(self.default_lane(["--config", path, "--l1-max-entries", "400"],
                                           {"PLANCACHE_L1_MAX_ENTRIES": "300"})["max_entries"],
                         400)

    def test_seed_ttl_and_enabled_variables(self):
        with self.start(env={"PLAN_CACHE_TTL": "120"}, with_port_flag=True) as s:
            self.assertEqual(s.request("PUT", "/v1/plans", {"goal": "g", "plan": 1}).status, 201)
            doc = s.request("POST", "/v1/plans/lookup", {"goal": "g"}).json()
            self.assertEqual(doc["expires_ms"] - doc["created_ms"], 120000)
        with self.start(env={"PLAN_CACHE_ENABLED": "false"}, with_port_flag=True) as s:
            put = s.request("PUT", "/v1/plans", {"goal": "g", "plan": 1})
            self.assertLess(put.status, 300, put)
            self.assertIs(put.json().get("stored"), False)
            self.assertEqual(s.request("POST", "/v1/plans/lookup", {"goal": "g"}).status, 404)

    def expect_refusal(self, args, env, *fragments):
        code, output = run_serve_expecting_exit(list(args), env)
        self.assertEqual(code, 2, output)
        for fragment in fragments:
            self.assertIn(fragment, output)

    def test_bad_configurations_exit_2_naming_the_problem(self):
        port = ["--port", str(free_port())]
        self.expect_refusal(["--port", "eighty"], None, "--port", "eighty")
        self.expect_refusal(port, {"PLANCACHE_L1_MAX_ENTRIES": "-1"}, "PLANCACHE_L1_MAX_ENTRIES")
        self.expect_refusal(port, {"PLAN_CACHE_MAXSIZE": "lots"}, "PLAN_CACHE_MAXSIZE")
        self.expect_refusal(port, {"PLANCACHE_PORT": "70000"}, "PLANCACHE_PORT")
        broken = self.toml("port = [\n", "broken.toml")
        self.expect_refusal(["--config", broken], None, broken, "line")
        unknown = self.toml("colour = \"blue\"\n", "unknown.toml")
        self.expect_refusal(["--config", unknown], None, "colour")
        typo = self.toml("l1_max_entries = \"many\"\n", "typo.toml")
        self.expect_refusal(["--config", typo], None, "l1_max_entries")
        lane = self.toml("[namespaces.docs]\nmax_entries = \"many\"\n", "lane.toml")
        self.expect_refusal(["--config", lane] + port, None, lane, "[namespaces.docs]",
                            "max_entries", "many")
        missing = os.path.join(self.dir, "missing.toml")
        self.expect_refusal(["--config", missing], None, missing)
        self.expect_refusal(port + ["--no-such-flag"], None, "--no-such-flag")

    def test_playbook_planner_variables(self):
        # RUSTLE_CACHE_SIZE_MB bounds the default lane in MiB, beating the file
        # and losing to PLANCACHE_L1_MAX_BYTES.
        path = self.toml("l1_max_bytes = 1000\n")
        lane = self.default_lane(["--config", path], {"RUSTLE_CACHE_SIZE_MB": "3"})
        self.assertEqual(lane["max_bytes"], 3 << 20)
        lane = self.default_lane(["--config", path], {"RUSTLE_CACHE_SIZE_MB": "3",
                                                      "PLANCACHE_L1_MAX_BYTES": "5000"})
        self.assertEqual(lane["max_bytes"], 5000)
        with self.start(env={"RUSTLE_CACHE_ENABLED": "false"}) as s:
            put = s.request("PUT", "/v1/plans", {"goal": "g", "plan": 1})
            self.assertIs(put.json().get("stored"), False, put)
        # RUSTLE_CACHE_DIR is the disk tier's directory (the harness's
        # --data-dir flag beats it, so a server without that flag is used).
        store = os.path.join(self.dir, "rustle-store")
        port = free_port()
        with Server([], env={"RUSTLE_CACHE_DIR": store, "PLANCACHE_PORT": str(port)},
                    port=port, with_port_flag=False, data_dir=None) as s:
            self.assertEqual([t["name"] for t in s.request("GET", "/v1/stats").json()["tiers"]],
                             ["l1", "l2"])
            self.assertTrue(os.path.isdir(store), "the disk tier opened RUSTLE_CACHE_DIR")
        with self.start(env={"RUSTLE_CACHE_DIR": store}) as s:  # --data-dir '' beats it
            self.assertEqual([t["name"] for t in s.request("GET", "/v1/stats").json()["tiers"]],
                             ["l1"])

    def test_playbook_planner_variables_refused(self):
        port = ["--port", str(free_port())]
        self.expect_refusal(port, {"RUSTLE_CACHE_SIZE_MB": "lots"}, "RUSTLE_CACHE_SIZE_MB", "lots")
        self.expect_refusal(port, {"RUSTLE_CACHE_ENABLED": "maybe"}, "RUSTLE_CACHE_ENABLED")
        self.expect_refusal(port, {"RUSTLE_REDIS_URL": "cache:6379"}, "RUSTLE_REDIS_URL")
        # Both designs give the same setting different values: neither wins.
        self.expect_refusal(port, {"RUSTLE_CACHE_ENABLED": "false", "PLAN_CACHE_ENABLED": "true"},
                            "RUSTLE_CACHE_ENABLED", "PLAN_CACHE_ENABLED")
        self.expect_refusal(port, {"RUSTLE_REDIS_URL": "redis://127.0.0.1:1",
                                   "PLAN_CACHE_REDIS_ENABLED": "false"},
                            "RUSTLE_REDIS_URL", "PLAN_CACHE_REDIS_ENABLED")

    def test_non_loopback_host_without_admin_token_refuses_to_start(self):
        self.expect_refusal(["--host", "0.0.0.0", "--port", str(free_port())], None,
                            "admin")

    def test_port_in_use_exits_1_with_a_message(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            code, output = run_serve_expecting_exit(["--host", "127.0.0.1", "--port", str(port)])
        self.assertEqual(code, 1, output)
        self.assertIn(str(port), output)


if __name__ == "__main__":
    harness.main()
