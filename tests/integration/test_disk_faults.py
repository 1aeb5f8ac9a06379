"""The disk tier's faults through the real server (issue 9 items 3 and 7).

A full disk: a small tmpfs is the data directory, with a ballast file in it;
PUTs fill it until they get 503; meanwhile /readyz is 503 with the reason,
the l2 tier says it is degraded (stats and metrics), and the plan of the PUT
that failed is not served; then the ballast is deleted and, without a
restart, /readyz turns 200 and PUTs succeed again.

A damaged write-ahead log: plans written with synchronous writes, the
server killed with SIGKILL, bytes in the middle of the newest *.log
overwritten; strict recovery refuses to start (exit 2, naming the data
directory and the damage) and changes nothing; the default (point-in-time)
starts and reports what it dropped, in the log, /v1/stats and /metrics.
The entries stay in the log: 300 small plans are far below a write buffer
(4 MiB per column family), so no flush can race the damage.
"""

import base64
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import harness
from harness import Server, run_serve_expecting_exit


def put_plan(server, goal, plan):
    return server.request("PUT", "/v1/plans", json.dumps({"goal": goal, "plan": plan}).encode())


def lookup(server, goal):
    return server.request("POST", "/v1/plans/lookup", json.dumps({"goal": goal}).encode())


def l2_of(server):
    stats = server.request("GET", "/v1/stats").json()
    return [t for t in stats["tiers"] if t["name"] == "l2"][0], stats


def metric(server, name):
    text = server.request("GET", "/metrics").body.decode()
    m = re.search(r'^%s\{tier="l2"\} (\S+)$' % re.escape(name), text, re.M)
    if m is None:
        raise AssertionError("no %s{tier=\"l2\"} in /metrics" % name)
    return float(m.group(1))


class DiskFullTest(unittest.TestCase):
    TMPFS_SIZE = "24m"
    BALLAST_BYTES = 8 << 20  # twice the room one flush needs (a 4 MiB write buffer)

    def setUp(self):
        self.mount_dir = tempfile.mkdtemp(prefix="plancache-it-tmpfs-")
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + self.TMPFS_SIZE,
                                  "tmpfs", self.mount_dir], capture_output=True)
        if mounted.returncode != 0:
            os.rmdir(self.mount_dir)
            self.skipTest("cannot mount a tmpfs (needs root): %s"
                          % mounted.stderr.decode().strip())
        self.addCleanup(self._unmount)
        self.ballast = os.path.join(self.mount_dir, "ballast")
        with open(self.ballast, "wb") as f:
            f.write(b"\0" * self.BALLAST_BYTES)
        self.data_dir = os.path.join(self.mount_dir, "data")

    def _unmount(self):
        subprocess.run(["umount", "-l", self.mount_dir], capture_output=True)
        shutil.rmtree(self.mount_dir, ignore_errors=True)

    def test_full_disk_degrades_then_heals_without_a_restart(self):
        rng = random.Random(9)

        def big_plan(i):  # ~256 KB that zstd cannot shrink much
            return {"i": i, "blob": base64.b64encode(rng.randbytes(192 << 10)).decode()}

        with Server(data_dir=self.data_dir) as server:
            self.assertEqual(put_plan(server, "kept", {"kept": True}).status, 201)
            failed_goal, answer = None, None
            for i in range(400):
                answer = put_plan(server, "filler %d" % i, big_plan(i))
                if answer.status != 201:
                    failed_goal = "filler %d" % i
                    break
            self.assertIsNotNone(failed_goal, "24 MiB of tmpfs never filled")
            self.assertEqual(answer.status, 503, answer)
            self.assertEqual(answer.json()["error"]["code"], "unavailable")
            self.assertIn("No space left", answer.json()["error"]["message"])

            # Degraded, and says so everywhere.
            ready = server.request("GET", "/readyz")
            self.assertEqual(ready.status, 503, ready)
            self.assertIn("l2", ready.json()["error"]["message"])
            self.assertIn("No space left", ready.json()["error"]["message"])
            l2, stats = l2_of(server)
            self.assertFalse(l2["connected"])
            self.assertEqual(l2["state"], "degraded")
            self.assertIn("No space left", l2["degraded_reason"])
            self.assertFalse(stats["l2_connected"])
            self.assertEqual(metric(server, "plancache_tier_degraded"), 1)
            self.assertEqual(metric(server, "plancache_tier_connected"), 0)
            # The refused plan is not served as if stored; older plans still are.
            self.assertEqual(lookup(server, failed_goal).status, 404,
                             "the plan of a PUT that got 503 must not be served")
            self.assertEqual(lookup(server, "kept").status, 200)
            self.assertEqual(put_plan(server, "while full", {"n": 1}).status, 503)
            self.assertEqual(lookup(server, "while full").status, 404)

            os.remove(self.ballast)
            harness.wait_until(lambda: server.request("GET", "/readyz").status == 200,
                               "/readyz 200 after the ballast was deleted", timeout_s=20)
            l2, _ = l2_of(server)
            self.assertTrue(l2["connected"])
            self.assertEqual(l2["state"], "ok")
            self.assertEqual(l2["degraded_reason"], "")
            self.assertEqual(metric(server, "plancache_tier_degraded"), 0)
            self.assertEqual(put_plan(server, failed_goal, {"retried": True}).status, 201)
            self.assertEqual(put_plan(server, "after", {"healed": True}).status, 201)
            self.assertEqual(lookup(server, failed_goal).json()["plan"], {"retried": True})
            self.assertEqual(lookup(server, "kept").json()["plan"], {"kept": True})
            self.assertIn("takes writes again", server.log())
            self.assertIsNone(server.proc.poll(), "the server was never restarted")


N_PLANS = 300


def plan_of(i):
    return {"i": i, "steps": ["step %d.%d" % (i, j) for j in range(40)]}


def newest_wal(data_dir):
    logs = sorted(f for f in os.listdir(data_dir) if f.endswith(".log"))
    if not logs:
        raise AssertionError("no *.log in %s: %r" % (data_dir, os.listdir(data_dir)))
    return os.path.join(data_dir, logs[-1])


class WalDamageTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="plancache-it-wal-")
        self.addCleanup(shutil.rmtree, self.data_dir, True)

    def _write_kill_and_damage(self):
        server = Server(["--sync-writes", "true"], data_dir=self.data_dir)
        try:
            for i in range(N_PLANS):
                self.assertEqual(put_plan(server, "goal %d" % i, plan_of(i)).status, 201)
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait(timeout=harness.DEFAULT_DEADLINE_S)
        finally:
            server.close()
        wal = newest_wal(self.data_dir)
        size = os.path.getsize(wal)
        self.assertGreater(size, 100_000, "the plans are in the log")
        with open(wal, "r+b") as f:
            f.seek(size // 2)
            f.write(b"\x5a" * 64)
        return wal

    def test_strict_refuses_and_point_in_time_reports_the_drop(self):
        self._write_kill_and_damage()
        before = sorted(os.listdir(self.data_dir))

        code, output = run_serve_expecting_exit(
            ["--data-dir", self.data_dir, "--port", "0", "--disk-recovery", "strict"])
        self.assertEqual(code, 2, output)
        self.assertIn(self.data_dir, output)
        self.assertIn("write-ahead log", output)
        self.assertIn("damaged", output)
        self.assertRegex(output, r"would drop at least [1-9]\d* entries")
        # The same through the environment; the refusal changed nothing.
        code, output = run_serve_expecting_exit(["--data-dir", self.data_dir, "--port", "0"],
                                                env={"PLANCACHE_DISK_RECOVERY": "strict"})
        self.assertEqual(code, 2, output)
        self.assertEqual(sorted(os.listdir(self.data_dir)), before)

        with Server(data_dir=self.data_dir) as server:
            l2, stats = l2_of(server)
            dropped = l2["recovery_dropped_entries"]
            self.assertGreater(dropped, 0, l2)
            self.assertLess(stats["l2_size"], N_PLANS)
            self.assertLessEqual(stats["l2_size"] + dropped, N_PLANS)
            self.assertEqual(metric(server, "plancache_tier_recovery_dropped_entries"), dropped)
            self.assertRegex(server.log(),
                             r"point-in-time recovery dropped at least %d entries" % dropped)
            answer = lookup(server, "goal 0")
            self.assertEqual(answer.status, 200, "plans before the damage are kept")
            self.assertEqual(answer.json()["plan"], plan_of(0))
            self.assertEqual(lookup(server, "goal %d" % (N_PLANS - 1)).status, 404)
            self.assertEqual(server.request("GET", "/readyz").status, 200)

    def test_strict_starts_on_a_sound_log(self):
        with Server(["--sync-writes", "true"], data_dir=self.data_dir) as first:
            self.assertEqual(put_plan(first, "sound", {"ok": True}).status, 201)
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(timeout=harness.DEFAULT_DEADLINE_S)
        with Server(["--disk-recovery", "strict"], data_dir=self.data_dir) as second:
            self.assertEqual(lookup(second, "sound").json()["plan"], {"ok": True})
            l2, _ = l2_of(second)
            self.assertEqual(l2["recovery_dropped_entries"], 0)

    def test_a_bad_mode_is_refused_naming_the_setting(self):
        code, output = run_serve_expecting_exit(
            ["--data-dir", self.data_dir, "--port", "0", "--disk-recovery", "sloppy"])
        self.assertEqual(code, 2, output)
        self.assertIn("--disk-recovery", output)
        self.assertIn("sloppy", output)
        config = os.path.join(self.data_dir, "plancache.toml")
        with open(config, "w") as f:
            f.write('disk_recovery = "lenient"\n')
        code, output = run_serve_expecting_exit(["--config", config, "--data-dir", "",
                                                 "--port", "0"])
        self.assertEqual(code, 2, output)
        self.assertIn("disk_recovery", output)
        self.assertIn("lenient", output)


if __name__ == "__main__":
    harness.main()
