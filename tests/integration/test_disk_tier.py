"""The disk tier through the real server: warm restart (entries served from
l2 after SIGTERM and after kill -9), one process per data directory, and no
acknowledged write lost or corrupted by kill -9 during a write storm."""

import json
import os
import shutil
import signal
import tempfile
import threading
import unittest

import harness
from harness import Server, run_serve_expecting_exit


def put_plan(server, goal, plan):
    return server.request("PUT", "/v1/plans", json.dumps({"goal": goal, "plan": plan}).encode())


def lookup(server, goal):
    return server.request("POST", "/v1/plans/lookup", json.dumps({"goal": goal}).encode())


class DiskTierTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="plancache-it-data-")

    def tearDown(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def test_entries_survive_sigterm_and_are_promoted(self):
        plan = {"tasks": ["build", "test", "ship"], "note": "caf\u00e9"}
        with Server(data_dir=self.data_dir) as first:
            self.assertEqual(put_plan(first, "deploy the app", plan).status, 201)
            self.assertEqual(lookup(first, "deploy the app").json()["tier"], "l1")
            first.signal(signal.SIGTERM)
            self.assertEqual(first.wait_exit(), 0)
        with Server(data_dir=self.data_dir) as second:
            answer = lookup(second, "deploy  the app")
            self.assertEqual(answer.status, 200, answer)
            self.assertEqual(answer.json()["tier"], "l2")
            self.assertEqual(answer.json()["plan"], plan)
            self.assertEqual(lookup(second, "deploy the app").json()["tier"], "l1",
                             "an l2 hit is promoted to l1")
            stats = second.request("GET", "/v1/stats").json()
            self.assertTrue(stats["l2_connected"])
            self.assertGreaterEqual(stats["l2_hits"], 1)

    def test_write_behind_mode_reads_its_writes_and_drains_on_sigterm(self):
        plans = {"wb goal %d" % i: {"n": i, "body": "y" * (i * 37 % 3000)} for i in range(300)}
        with Server(["--write-behind-queue", "64"], data_dir=self.data_dir) as first:
            for goal, plan in plans.items():
                self.assertEqual(put_plan(first, goal, plan).status, 201)
            stats = first.request("GET", "/v1/stats").json()
            l2 = [t for t in stats["tiers"] if t["name"] == "l2"][0]
            self.assertEqual(l2["puts"], len(plans), "every put reached the disk tier's queue")
            self.assertLessEqual(stats["l2_pending_writes"], 64, "the queue stays bounded")
            # A delete reaches waiting writes too: the plan must not come back.
            answer = first.request("DELETE", "/v1/plans", json.dumps({"goal": "wb goal 7"}).encode())
            self.assertEqual(answer.status, 200, answer)
            self.assertTrue(answer.json()["removed"], answer)
            first.signal(signal.SIGTERM)
            self.assertEqual(first.wait_exit(), 0)
        del plans["wb goal 7"]
        with Server(data_dir=self.data_dir) as second:
            for goal, plan in plans.items():
                answer = lookup(second, goal)
                self.assertEqual(answer.status, 200, "%s lost by write-behind" % goal)
                self.assertEqual(answer.json()["tier"], "l2")
                self.assertEqual(answer.json()["plan"], plan)
            self.assertEqual(lookup(second, "wb goal 7").status, 404)
            self.assertEqual(second.request("GET", "/v1/stats").json()["l2_pending_writes"], 0)

    def test_second_process_on_the_same_directory_is_refused(self):
        with Server(data_dir=self.data_dir):
            code, output = run_serve_expecting_exit(["--data-dir", self.data_dir, "--port", "0"])
            self.assertEqual(code, 2, output)
            self.assertIn(self.data_dir, output)

    def test_kill_9_during_a_write_storm_loses_no_acknowledged_write(self):
        acked = []
        server = Server(["--sync-writes", "true"], data_dir=self.data_dir)
        stop = threading.Event()

        def writer():
            i = 0
            while not stop.is_set() and i < 5000:
                plan = {"n": i, "body": "x" * (i % 7000)}
                try:
                    if put_plan(server, "goal %d" % i, plan).status == 201:
                        acked.append(i)
                except OSError:
                    return  # the server died under us: expected
                i += 1

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            harness.wait_until(lambda: len(acked) >= 150, "150 acknowledged writes")
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait(timeout=harness.DEFAULT_DEADLINE_S)
        finally:
            stop.set()
            thread.join(timeout=harness.DEFAULT_DEADLINE_S)
            server.close()
        self.assertGreaterEqual(len(acked), 150)
        with Server(data_dir=self.data_dir) as restarted:
            for i in acked:
                answer = lookup(restarted, "goal %d" % i)
                self.assertEqual(answer.status, 200, "acknowledged write %d lost" % i)
                self.assertEqual(answer.json()["plan"], {"n": i, "body": "x" * (i % 7000)})


if __name__ == "__main__":
    harness.main()
