"""Read-through planning (POST /v1/plans) against a real planner process.

The planner is examples/planner.py: an HTTP planner (--port) whose GET /calls
counts the plans it made, or a command planner (--stdin) that appends one
line per plan to a calls file. Every count asserted here is exact whatever the
timing: a request that arrives after a planner run has finished finds the plan
stored, so it never adds a call.
"""

import concurrent.futures
import http.client
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Server, request, wait_until  # noqa: E402

PLANNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                       "planner.py")


class HttpPlanner:
    """examples/planner.py --port 0 as a child process."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="plancache-planner-")
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "planner.log"), "wb")
        import subprocess
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", PLANNER, "--port", "0", "--port-file", port_file] + list(args),
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def port():
            if self.proc.poll() is not None:
                raise AssertionError("planner exited with %s" % self.proc.returncode)
            with open(port_file) as f:
                text = f.read().strip()
            return int(text) if text else None
        self.port = wait_until(port, "the example planner's port file")
        self.url = "http://127.0.0.1:%d/plan" % self.port

    def calls(self):
        return request(self.port, "GET", "/calls").json()["calls"]

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def plan(port, goal, ns=None, context=None, headers=None, timeout_s=30.0):
    body = {"goal": goal}
    if ns is not None:
        body["namespace"] = ns
    if context is not None:
        body["context"] = context
    return request(port, "POST", "/v1/plans", body, headers=headers, timeout_s=timeout_s)


def sse_events(raw):
    """[(event, data-or-None)] of an SSE body; comment lines give ("comment", text)."""
    events = []
    for block in raw.decode("utf-8").split("\n\n"):
        if not block:
            continue
        name, data = None, None
        for line in block.split("\n"):
            if line.startswith(":"):
                events.append(("comment", line[1:].strip()))
            elif line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: "):])
        if name is not None:
            events.append((name, data))
    return events


def write_config(dir_path, text):
    path = os.path.join(dir_path, "plancache.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


class ReadThroughTest(unittest.TestCase):
    def start(self, *args, data_dir=""):
        server = Server(list(args), data_dir=data_dir)
        self.addCleanup(server.close)
        return server

    def planner(self, *args):
        p = HttpPlanner(*args)
        self.addCleanup(p.close)
        return p

    def test_miss_then_hit_and_answer_fields(self):
        planner = self.planner("--delay-ms", "50")
        server = self.start("--planner-url", planner.url)
        first = plan(server.port, "Deploy the app", context={"env": "prod"})
        self.assertEqual(first.status, 200, first)
        a = first.json()
        self.assertFalse(a["cached"])
        self.assertNotIn("tier", a)
        self.assertEqual(a["plan"]["goal"], "Deploy the app")
        self.assertGreaterEqual(a["compute_ms"], 50)
        second = plan(server.port, "Deploy   the app", context={"env": "prod"}).json()
        self.assertTrue(second["cached"])
        self.assertEqual(second["tier"], "l1")
        self.assertEqual(second["plan"], a["plan"])
        self.assertEqual(second["key"], a["key"])
        self.assertEqual(planner.calls(), 1)
        lookup = request(server.port, "POST", "/v1/plans/lookup", {"goal": "Deploy the app",
                                                                  "context": {"env": "prod"}})
        self.assertEqual(lookup.status, 200)
        self.assertEqual(lookup.json()["plan"], a["plan"])
        stats = request(server.port, "GET", "/v1/stats").json()
        self.assertEqual(stats["planning"]["planner_calls"], 1)
        self.assertTrue(stats["planning"]["planner_configured"])

    def test_500_concurrent_identical_requests_make_one_planner_call(self):
        planner = self.planner("--delay-ms", "1500")
        server = self.start("--planner-url", planner.url)
        n = 500
        barrier = threading.Barrier(n)
        answers = [None] * n

        def one(i):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            try:
                conn.connect()
                barrier.wait(timeout=60)
                conn.request("POST", "/v1/plans", body=json.dumps({"goal": "same goal"}),
                             headers={"Content-Type": "application/json"})
                res = conn.getresponse()
                answers[i] = (res.status, json.loads(res.read()))
            finally:
                conn.close()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertTrue(all(a is not None for a in answers), "some requests got no answer")
        self.assertEqual({a[0] for a in answers}, {200})
        self.assertEqual(planner.calls(), 1)
        plans = {json.dumps(a[1]["plan"], sort_keys=True) for a in answers}
        self.assertEqual(len(plans), 1, "every caller gets the same plan")
        leaders = [a for a in answers if not a[1]["cached"] and not a[1].get("coalesced")]
        self.assertEqual(len(leaders), 1, "exactly one caller ran the planner")
        self.assertGreater(sum(1 for a in answers if a[1].get("coalesced")), 0)

    def test_burst_over_50_goals_makes_50_planner_calls(self):
        planner = self.planner("--delay-ms", "200")
        server = self.start("--planner-url", planner.url, "--planner-max-concurrent", "8")
        goals = ["goal number %d" % (i % 50) for i in range(1000)]

        def worker(chunk):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            out = []
            try:
                for g in chunk:
                    conn.request("POST", "/v1/plans", body=json.dumps({"goal": g}),
                                 headers={"Content-Type": "application/json"})
                    res = conn.getresponse()
                    out.append((res.status, json.loads(res.read())["plan"]["goal"], g))
            finally:
                conn.close()
            return out
        chunks = [goals[i::100] for i in range(100)]
        with concurrent.futures.ThreadPoolExecutor(100) as pool:
            results = [r for rs in pool.map(worker, chunks) for r in rs]
        self.assertEqual(len(results), 1000)
        self.assertTrue(all(status == 200 for status, _, _ in results))
        self.assertTrue(all(got == asked for _, got, asked in results))
        self.assertEqual(planner.calls(), 50)

    def test_sse_event_order_on_miss_and_on_hit(self):
        planner = self.planner("--delay-ms", "1000")
        server = self.start("--planner-url", planner.url, "--sse-heartbeat-ms", "50")
        sse = {"Accept": "text/event-stream"}
        miss = plan(server.port, "stream me", headers=sse)
        self.assertEqual(miss.status, 200)
        self.assertTrue(miss.headers["Content-Type"].startswith("text/event-stream"))
        events = sse_events(miss.body)
        named = [e for e in events if e[0] != "comment"]
        self.assertEqual([e[0] for e in named], ["status", "status", "plan", "done"], events)
        self.assertEqual(named[0][1], {"step": "lookup"})
        self.assertEqual(named[1][1], {"step": "planning"})
        self.assertEqual(named[2][1]["plan"]["goal"], "stream me")
        self.assertFalse(named[3][1]["cached"])
        self.assertIsNone(named[3][1]["tier"])
        self.assertGreaterEqual(named[3][1]["elapsed_ms"], 1000)
        # The planner took 20 heartbeat intervals: the stream was kept alive.
        self.assertIn(("comment", "heartbeat"), events)

        hit = plan(server.port, "stream me", headers=sse)
        named = [e for e in sse_events(hit.body) if e[0] != "comment"]
        self.assertEqual([e[0] for e in named], ["status", "status", "plan", "done"])
        self.assertEqual(named[1][1], {"step": "plan_from_cache"})
        self.assertTrue(named[3][1]["cached"])
        self.assertEqual(named[3][1]["tier"], "l1")
        self.assertEqual(planner.calls(), 1)

    def test_sse_error_event_when_the_planner_fails(self):
        planner = self.planner("--mode", "fail", "--delay-ms", "0")
        server = self.start("--planner-url", planner.url)
        res = plan(server.port, "doomed", headers={"Accept": "text/event-stream"})
        named = [e for e in sse_events(res.body) if e[0] != "comment"]
        self.assertEqual([e[0] for e in named], ["status", "status", "error"])
        self.assertEqual(named[2][1]["error"]["code"], "bad_gateway")

    def test_min_compute_time_is_honoured(self):
        planner = self.planner("--delay-ms", "20")
        server = self.start("--planner-url", planner.url, "--min-compute-ms", "60000")
        for _ in range(2):
            a = plan(server.port, "cheap plan").json()
            self.assertFalse(a["cached"])
        self.assertEqual(planner.calls(), 2, "a plan cheaper than min_compute_ms is not stored")
        self.assertEqual(request(server.port, "POST", "/v1/plans/lookup",
                                 {"goal": "cheap plan"}).status, 404)
        self.assertEqual(request(server.port, "GET", "/v1/stats").json()["planning"]["not_stored"],
                         2)

    def test_planner_down_slow_or_garbage_is_a_502_and_nothing_is_cached(self):
        down = socket.socket()
        down.bind(("127.0.0.1", 0))
        down_port = down.getsockname()[1]
        down.close()  # nobody listens there now
        slow = self.planner("--mode", "hang")
        garbage = self.planner("--mode", "garbage", "--delay-ms", "0")
        cases = [("http://127.0.0.1:%d/plan" % down_port, "refused"),
                 (slow.url, "timed out"), (garbage.url, "JSON")]
        for url, cause in cases:
            with self.subTest(cause=cause):
                server = self.start("--planner-url", url, "--planner-timeout-ms", "300")
                res = plan(server.port, "will fail")
                self.assertEqual(res.status, 502, res)
                err = res.json()["error"]
                self.assertEqual(err["code"], "bad_gateway")
                self.assertIn(cause.lower(), err["message"].lower())
                self.assertEqual(request(server.port, "POST", "/v1/plans/lookup",
                                         {"goal": "will fail"}).status, 404)
                self.assertEqual(request(server.port, "GET", "/healthz").status, 200)
                self.assertIsNone(server.proc.poll())

    def test_no_planner_is_a_503_naming_the_flags(self):
        server = self.start()
        res = plan(server.port, "nobody plans")
        self.assertEqual(res.status, 503)
        self.assertIn("--planner-url", res.json()["error"]["message"])

    def test_client_that_disconnects_does_not_cancel_the_run(self):
        planner = self.planner("--delay-ms", "500")
        server = self.start("--planner-url", planner.url)
        s = socket.create_connection(("127.0.0.1", server.port))
        body = json.dumps({"goal": "abandoned"}).encode()
        s.sendall(b"POST /v1/plans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        wait_until(lambda: request(server.port, "GET", "/v1/stats").json()["planning"]
                   ["inflight"] == 1, "the planner run to start")
        s.close()
        wait_until(lambda: request(server.port, "POST", "/v1/plans/lookup",
                                   {"goal": "abandoned"}).status == 200,
                   "the abandoned run's plan to be stored")
        self.assertEqual(planner.calls(), 1)

    def test_sigterm_cancels_a_planner_run_past_the_grace_with_a_503(self):
        planner = self.planner("--mode", "hang")
        server = self.start("--planner-url", planner.url, "--stop-grace-ms", "200")
        result = {}

        def ask():
            result["answer"] = plan(server.port, "never planned", timeout_s=60)
        caller = threading.Thread(target=ask)
        caller.start()
        wait_until(lambda: request(server.port, "GET", "/v1/stats").json()["planning"]
                   ["inflight"] == 1, "the planner run to start")
        server.signal(signal.SIGTERM)
        self.assertEqual(server.wait_exit(), 0, server.log())
        caller.join(timeout=60)
        answer = result["answer"]
        self.assertEqual(answer.status, 503, answer)
        self.assertEqual(answer.json()["error"]["code"], "unavailable")
        self.assertIn("server is stopping", answer.json()["error"]["message"])

    def test_command_planner(self):
        calls = os.path.join(tempfile.mkdtemp(prefix="plancache-calls-"), "calls")
        cmd = "/usr/bin/python3 %s --stdin --delay-ms 10 --calls-file %s" % (PLANNER, calls)
        server = self.start("--planner-cmd", cmd)
        a = plan(server.port, "by command", ns="docs").json()
        self.assertEqual(a["plan"]["goal"], "by command")
        self.assertEqual(a["plan"]["namespace"], "docs")
        self.assertTrue(plan(server.port, "by command", ns="docs").json()["cached"])
        with open(calls) as f:
            self.assertEqual(len(f.read().splitlines()), 1)


class StalenessTest(unittest.TestCase):
    """TTLs of 1 s: the waits below let a plan's TTL run out (a fact about the
    clock, not a guess about scheduling); every other wait polls."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plancache-stale-")
        self.fail_flag = os.path.join(self.dir, "fail")
        self.calls = os.path.join(self.dir, "calls")
        # A command planner that fails while the flag file exists.
        self.cmd = ("test -e %s && { echo planner is down >&2; exit 1; }; "
                    "exec /usr/bin/python3 %s --stdin --delay-ms 10 --calls-file %s"
                    % (self.fail_flag, PLANNER, self.calls))
        config = write_config(self.dir, """
[namespaces.swr]
default_ttl_s = 1
stale_while_revalidate_s = 600

[namespaces.sie]
default_ttl_s = 1
stale_if_error_s = 600

[namespaces.strict]
default_ttl_s = 1
""")
        self.server = Server(["--config", config, "--planner-cmd", self.cmd])
        self.addCleanup(self.server.close)

    def planner_calls(self):
        try:
            with open(self.calls) as f:
                return len(f.read().splitlines())
        except FileNotFoundError:
            return 0

    def test_stale_while_revalidate_serves_stale_and_refreshes_once(self):
        port = self.server.port
        first = plan(port, "swr goal", ns="swr").json()
        self.assertFalse(first["cached"])
        time.sleep(1.2)  # the TTL runs out
        stale = plan(port, "swr goal", ns="swr").json()
        self.assertTrue(stale["cached"])
        self.assertTrue(stale.get("stale"))
        wait_until(lambda: self.planner_calls() == 2, "the background refresh")
        wait_until(lambda: not plan(port, "swr goal", ns="swr").json().get("stale"),
                   "the refreshed plan")
        self.assertEqual(self.planner_calls(), 2)
        self.assertGreaterEqual(request(port, "GET", "/v1/stats").json()["refreshes"], 1)

    def test_stale_if_error_serves_stale_when_the_planner_fails(self):
        port = self.server.port
        self.assertFalse(plan(port, "sie goal", ns="sie").json()["cached"])
        self.assertFalse(plan(port, "strict goal", ns="strict").json()["cached"])
        time.sleep(1.2)  # both TTLs run out
        open(self.fail_flag, "w").close()
        served = plan(port, "sie goal", ns="sie")
        self.assertEqual(served.status, 200, served)
        self.assertTrue(served.json()["stale"])
        self.assertEqual(served.json()["plan"]["goal"], "sie goal")
        strict = plan(port, "strict goal", ns="strict")
        self.assertEqual(strict.status, 502, strict)
        self.assertIn("planner is down", strict.json()["error"]["message"])
        os.remove(self.fail_flag)
        fresh = plan(port, "sie goal", ns="sie").json()
        self.assertFalse(fresh["cached"])
        self.assertNotIn("stale", fresh)


class RefreshAheadTest(unittest.TestCase):
    def test_hot_plan_is_refreshed_before_it_expires(self):
        planner = HttpPlanner("--delay-ms", "10")
        self.addCleanup(planner.close)
        server = Server(["--planner-url", planner.url, "--default-ttl-s", "4",
                         "--refresh-ahead-s", "2", "--refresh-ahead-min-hits", "2"])
        self.addCleanup(server.close)
        self.assertFalse(plan(server.port, "hot goal").json()["cached"])
        time.sleep(2.3)  # into the last 2 s of the 4 s TTL
        for _ in range(2):
            self.assertTrue(plan(server.port, "hot goal").json()["cached"])
        wait_until(lambda: planner.calls() == 2, "the refresh-ahead planner call")
        stats = request(server.port, "GET", "/v1/stats").json()
        self.assertEqual(stats["refreshes"], 1)
        # The refreshed plan is fresh for another 4 s: still a hit past the old expiry.
        time.sleep(2.0)
        again = plan(server.port, "hot goal").json()
        self.assertTrue(again["cached"])
        self.assertEqual(planner.calls(), 2)


if __name__ == "__main__":
    harness.main()
