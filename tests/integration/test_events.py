"""The event stream, GET /v1/events (issue 15, item 3; docs/http_api.md
"GET /v1/events"), against the real binary over real sockets:

- order and causes: a put, an overwrite (replaced), a DELETE and a tag
  invalidation (invalidated), a TTL'd entry found expired by a lookup, an
  L1 eviction (small --l1-max-entries), POST /v1/evict (evicted), memory
  pressure (the watchdog against a tiny --memory-budget: pressure), each in
  the order it happened;
- planner runs (start, finish ok / error) before the put they make;
- filters (?ns=, ?types=), the admin token, bad queries;
- a slow subscriber (a tiny receive window, never reading; small
  --events-buffer) is dropped while a burst of puts completes and a fast
  subscriber sees every one of them; when it finally reads, its stream
  ends with `event: dropped`;
- `plancache events` prints the events of a put, --json, its exit codes;
- a server stopping ends every stream.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Server, wait_until  # noqa: E402

ADMIN = "events-admin"
PLANNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                       "planner.py")


def bearer(token=ADMIN):
    return {"Authorization": "Bearer " + token}


class EventStream:
    """GET /v1/events over a raw socket: the chunked body decoded and parsed
    as Server-Sent Events as it arrives. rcvbuf: SO_RCVBUF set before
    connecting (a tiny receive window for a slow reader)."""

    def __init__(self, port, query="", token=ADMIN, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(harness.DEFAULT_DEADLINE_S)
        self.sock.connect(("127.0.0.1", port))
        head = "GET /v1/events%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n" % (
            "?" + query if query else "", port)
        if token:
            head += "Authorization: Bearer %s\r\n" % token
        self.sock.sendall((head + "\r\n").encode())
        self.raw = b""
        self.text = ""
        self.events = []
        self.ended = False   # the last chunk arrived
        self.closed = False  # the server closed the connection
        self.status, self.headers, self.body = self._read_head()

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
        self.raw += data
        return data

    def _read_head(self):
        while b"\r\n\r\n" not in self.raw:
            if not self._recv():
                raise AssertionError("closed before a response head: %r" % self.raw)
        head, _, self.raw = self.raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(lines[0].split(" ")[1])
        body = b""
        if "content-length" in headers:  # an error answer, not a stream
            while len(self.raw) < int(headers["content-length"]):
                if not self._recv():
                    break
            body = self.raw
        return status, headers, body

    def _dechunk(self):
        while not self.ended:
            line_end = self.raw.find(b"\r\n")
            if line_end < 0:
                break
            size = int(self.raw[:line_end].split(b";")[0], 16)
            if len(self.raw) < line_end + 2 + size + 2:
                break
            if size == 0:
                self.ended = True
            self.text += self.raw[line_end + 2:line_end + 2 + size].decode("utf-8")
            self.raw = self.raw[line_end + 2 + size + 2:]
        while "\n\n" in self.text:
            block, _, self.text = self.text.partition("\n\n")
            if block.startswith(":"):
                continue  # a comment: subscribed, heartbeats
            event = {}
            for line in block.split("\n"):
                field, _, value = line.partition(": ")
                event[field] = json.loads(value) if field == "data" else value
            self.events.append(event)

    def read_until(self, predicate, what, timeout_s=harness.DEFAULT_DEADLINE_S):
        """Reads until predicate(self.events) holds; returns self.events."""
        deadline = time.monotonic() + timeout_s
        self._dechunk()
        while not predicate(self.events):
            if self.ended or self.closed or time.monotonic() > deadline:
                raise AssertionError("stream %s before %s; events: %r"
                                     % ("ended" if self.ended or self.closed else "timed out",
                                        what, self.events[-5:]))
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            self._recv()
            self._dechunk()
        return self.events

    def read_to_end(self, timeout_s=harness.DEFAULT_DEADLINE_S):
        """Reads until the last chunk and the server's close."""
        deadline = time.monotonic() + timeout_s
        while not (self.ended and self.closed):
            if time.monotonic() > deadline:
                raise AssertionError("the stream did not end; last events: %r" % self.events[-3:])
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            self._recv()
            self._dechunk()
        return self.events

    def close(self):
        self.sock.close()


def stats(server):
    return server.request("GET", "/v1/stats", headers=bearer()).json()


def put(server, goal, ns=None, **extra):
    body = {"goal": goal, "plan": {"for": goal}}
    if ns is not None:
        body["namespace"] = ns
    body.update(extra)
    res = server.request("PUT", "/v1/plans", body)
    assert res.status == 201, res
    return res.json()["key"]


def summary(events, keys):
    """(type, cause or phase, key) of the events about `keys`, in order."""
    out = []
    for e in events:
        d = e["data"]
        if d["key"] in keys:
            out.append((e["event"], d.get("cause", d.get("phase", "")), d["key"]))
    return out


class OrderAndCausesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(["--admin-token", ADMIN, "--l1-max-entries", "3",
                             "--purge-interval-ms", "3600000"])

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_events_arrive_in_order_with_their_causes(self):
        stream = EventStream(self.server.port)
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.headers["content-type"], "text/event-stream")
        a = put(self.server, "the a plan", tags=["first"], compute_ms=12)
        put(self.server, "the a plan", tags=["second"])                      # replaced
        self.assertEqual(self.server.request("DELETE", "/v1/plans", {"goal": "the a plan"}).status,
                         200)                                               # invalidated
        b = put(self.server, "the b plan", tags=["x"])
        res = self.server.request("POST", "/v1/invalidate", {"tag": "x"})
        self.assertEqual(res.json()["invalidated"], 1)                      # invalidated
        c = put(self.server, "the c plan", ttl_s=1)
        # Expiry made deterministic: the lookup after the TTL finds it
        # expired (the sweep is off: --purge-interval-ms is an hour).
        wait_until(lambda: self.server.request("POST", "/v1/plans/lookup",
                                               {"goal": "the c plan"}).status == 404,
                   "the TTL of 'the c plan' to pass", interval_s=0.1)
        events = stream.read_until(lambda ev: len(summary(ev, {a, b, c})) >= 8, "8 events")
        self.assertEqual(summary(events, {a, b, c}), [
            ("put", "", a), ("remove", "replaced", a), ("put", "", a),
            ("remove", "invalidated", a),
            ("put", "", b), ("remove", "invalidated", b),
            ("put", "", c), ("remove", "expired", c)])
        first = events[0]
        self.assertEqual(first["data"]["ns"], "default")
        self.assertEqual(first["data"]["kind"], "plan")
        self.assertEqual(first["data"]["tags"], ["first"])
        self.assertEqual(first["data"]["compute_ms"], 12)
        self.assertEqual(first["data"]["tiers"], ["l1"])
        self.assertEqual(first["data"]["bytes"], len(json.dumps({"for": "the a plan"},
                                                                separators=(",", ":"))))
        ids = [int(e["id"]) for e in events]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), len(ids))

        # An L1 eviction: a fourth plan in a lane of 3 entries; then an admin evict.
        keys = [put(self.server, "fill %d" % i) for i in range(4)]
        events = stream.read_until(
            lambda ev: any(e["data"].get("cause") == "evicted" for e in ev[8:]), "an eviction")
        evicted = [e for e in events[8:] if e["event"] == "remove"]
        self.assertEqual({e["data"]["cause"] for e in evicted}, {"evicted"})
        self.assertTrue(all(e["data"]["key"] in keys for e in evicted))
        res = self.server.request("POST", "/v1/evict", {"fraction": 1.0}, bearer())
        self.assertEqual(res.status, 200, res)
        n = res.json()["evicted"]
        self.assertGreater(n, 0)
        before = len(events)

        def removals(ev):  # other events (a planner run, a late put) may interleave
            return [e for e in ev[before:] if e["event"] == "remove"]
        events = stream.read_until(lambda ev: len(removals(ev)) >= n, "the admin evictions")
        self.assertEqual({e["data"]["cause"] for e in removals(events)}, {"evicted"})
        self.assertEqual(stats(self.server)["events"]["subscribers"], 1)
        stream.close()

    def test_filters_token_and_bad_queries(self):
        only = EventStream(self.server.port, "ns=docs,heavy&types=put")
        every = EventStream(self.server.port)
        k1 = put(self.server, "filtered out")                  # default: not for `only`
        k2 = put(self.server, "docs plan", ns="docs")
        self.server.request("DELETE", "/v1/plans", {"goal": "docs plan", "namespace": "docs"})
        k3 = put(self.server, "heavy plan", ns="heavy")
        every.read_until(lambda ev: len(summary(ev, {k3})) >= 1, "the heavy put")
        events = only.read_until(lambda ev: len(ev) >= 2, "the docs and heavy puts")
        self.assertEqual(summary(events, {k1, k2, k3}), [("put", "", k2), ("put", "", k3)])
        self.assertEqual(summary(every.events, {k2}), [("put", "", k2), ("remove", "invalidated", k2)])
        only.close()
        every.close()
        for token, status in ((None, 401), ("wrong", 403)):
            refused = EventStream(self.server.port, token=token)
            self.assertEqual(refused.status, status)
            refused.close()
        for query in ("types=puts", "ns=../x", "since=1", "ns=a,,b"):
            bad = EventStream(self.server.port, query)
            self.assertEqual(bad.status, 400, query)
            self.assertEqual(json.loads(bad.body)["error"]["code"], "invalid_argument")
            bad.close()
        res = self.server.request("POST", "/v1/events", None, bearer())
        self.assertEqual(res.status, 405)


class PressureTest(unittest.TestCase):
    def test_memory_pressure_evictions_say_pressure(self):
        # A budget far below the server's own RSS: the watchdog is under
        # pressure at every check and evicts a share of every L1 lane.
        with Server(["--admin-token", ADMIN, "--memory-source", "meminfo",
                     "--memory-budget", str(4 << 20), "--memory-check-interval-ms", "50"]) as server:
            stream = EventStream(server.port, "types=remove")
            keys = {put(server, "pressure %d" % i) for i in range(20)}
            events = stream.read_until(
                lambda ev: any(e["data"]["cause"] == "pressure" for e in ev), "a pressure eviction")
            pressured = [e for e in events if e["data"]["cause"] == "pressure"]
            self.assertTrue(all(e["data"]["key"] in keys for e in pressured))
            stream.close()


class PlannerEventsTest(unittest.TestCase):
    def test_planner_runs_before_their_put(self):
        mode = os.path.join(tempfile.mkdtemp(prefix="plancache-mode-"), "mode")
        with open(mode, "w") as f:
            f.write("ok")
        cmd = "/usr/bin/python3 %s --stdin --delay-ms 30 --mode-file %s" % (PLANNER, mode)
        with Server(["--admin-token", ADMIN, "--planner-cmd", cmd]) as server:
            stream = EventStream(server.port)
            res = server.request("POST", "/v1/plans", {"goal": "plan me"}, timeout_s=30)
            self.assertEqual(res.status, 200, res)
            key = res.json()["key"]
            events = stream.read_until(lambda ev: len(summary(ev, {key})) >= 3, "3 events")
            self.assertEqual(summary(events, {key}),
                             [("planner", "start", key), ("planner", "finish", key),
                              ("put", "", key)])
            finish = events[1]["data"]
            self.assertEqual(finish["outcome"], "ok")
            self.assertGreaterEqual(finish["ms"], 30)
            self.assertFalse(finish["background"])
            with open(mode, "w") as f:
                f.write("fail")
            res = server.request("POST", "/v1/plans", {"goal": "fail me"}, timeout_s=30)
            self.assertEqual(res.status, 502, res)
            bad = res.json()
            events = stream.read_until(lambda ev: len(ev) >= 5, "the failed run")
            self.assertEqual([e["data"].get("phase") for e in events[3:5]], ["start", "finish"])
            self.assertEqual(events[4]["data"]["outcome"], "error")
            self.assertIn("exited with code", events[4]["data"]["error"])
            self.assertNotIn("put", [e["event"] for e in events[3:]], bad)
            stream.close()


class SlowSubscriberTest(unittest.TestCase):
    BURST = 3000
    TAGS = ["t%d-%s" % (i, "x" * 100) for i in range(8)]  # ~1 KB events: buffers fill fast

    def test_a_slow_subscriber_is_dropped_and_puts_do_not_wait(self):
        with Server(["--admin-token", ADMIN, "--events-buffer", "64",
                     "--read-timeout-ms", "60000"]) as server:
            slow = EventStream(server.port, rcvbuf=4096)  # never read until the end
            fast = EventStream(server.port)
            self.assertEqual(slow.status, 200)
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            began = time.monotonic()
            for i in range(self.BURST):
                if i % 100 == 0:  # the fast reader keeps up, as a live tail does
                    fast.read_until(lambda ev, n=i: len(ev) >= n, "the burst so far")
                body = json.dumps({"goal": "burst %d" % i, "plan": {"i": i}, "tags": self.TAGS,
                                   "namespace": "docs"})
                conn.request("PUT", "/v1/plans", body, {"Content-Type": "application/json"})
                res = conn.getresponse()
                res.read()
                self.assertEqual(res.status, 201)
            burst_s = time.monotonic() - began
            conn.close()
            wait_until(lambda: stats(server)["events"]["dropped_subscribers"] == 1,
                       "the slow subscriber to be dropped")
            events = fast.read_until(lambda ev: len(ev) >= self.BURST, "the whole burst")
            puts = [e for e in events if e["event"] == "put"]
            self.assertEqual(len(puts), self.BURST)
            self.assertEqual([e["data"]["tags"] for e in puts[:1]], [self.TAGS])
            ids = [int(e["id"]) for e in events]
            self.assertEqual(ids, sorted(ids))
            self.assertEqual(stats(server)["events"]["subscribers"], 1)
            # The slow reader reads at last: what was out, then the drop, then the end.
            got = slow.read_to_end(timeout_s=30)
            self.assertEqual(got[-1]["event"], "dropped", got[-3:])
            drop = got[-1]["data"]
            self.assertEqual(drop["reason"], "slow")
            self.assertGreater(drop["missed"], 0)
            before = [int(e["id"]) for e in got[:-1]]
            self.assertEqual(before, list(range(1, len(before) + 1)))  # a prefix, in order
            self.assertEqual(drop["last_id"], before[-1] if before else 0)
            self.assertLess(len(before), self.BURST)
            fast.close()
            slow.close()
            metrics = server.request("GET", "/metrics", headers=bearer()).body.decode()
            self.assertIn("plancache_events_dropped_subscribers_total 1", metrics)
            print("\n  %d puts in %.2f s with a stalled subscriber (dropped after %d events)"
                  % (self.BURST, burst_s, len(before)))


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(["--admin-token", ADMIN])
        cls.url = "http://127.0.0.1:%d" % cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def tail(self, *args):
        """`plancache events ARGS` as a child; returns it once it is subscribed."""
        before = stats(self.server)["events"]["subscribers"]
        proc = subprocess.Popen([harness.BINARY, "events", "--server", self.url, "--token", ADMIN]
                                + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_until(lambda: stats(self.server)["events"]["subscribers"] > before,
                   "plancache events to subscribe")
        return proc

    def test_prints_the_events_of_a_put(self):
        proc = self.tail("--count", "2", "--ns", "heavy")
        key = put(self.server, "seen by the cli", ns="heavy", compute_ms=812)
        put(self.server, "seen by the cli", ns="heavy")  # remove (replaced) + put
        out, err = proc.communicate(timeout=15)
        self.assertEqual(proc.returncode, 0, err)
        lines = out.decode().splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertIn(" put ", lines[0])
        self.assertIn("heavy", lines[0])
        self.assertIn(key[:12], lines[0])
        self.assertIn("812 ms", lines[0])
        self.assertIn(" remove ", lines[1])
        self.assertIn("replaced", lines[1])

    def test_json_lines(self):
        proc = self.tail("--json", "--count", "1", "--types", "put")
        key = put(self.server, "json line", ns="docs")
        out, err = proc.communicate(timeout=15)
        self.assertEqual(proc.returncode, 0, err)
        line = json.loads(out.decode().splitlines()[0])
        self.assertEqual(line["event"], "put")
        self.assertEqual(line["data"]["key"], key)
        self.assertEqual(line["data"]["ns"], "docs")
        self.assertIsInstance(line["id"], int)

    def test_ctrl_c_exits_zero(self):
        proc = self.tail()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        self.assertEqual(proc.returncode, 0, err)

    def test_exit_codes(self):
        bad = harness.run_cli(["events", "--server", self.url, "--types", "puts"])
        self.assertEqual(bad.code, 2, bad)
        self.assertIn("unknown event type 'puts'", bad.err)
        self.assertEqual(harness.run_cli(["events", "--ns", "../x"]).code, 2)
        self.assertEqual(harness.run_cli(["events", "--count", "0"]).code, 2)
        no_token = harness.run_cli(["events", "--server", self.url])
        self.assertEqual(no_token.code, 1, no_token)
        self.assertIn("error: unauthenticated", no_token.err)
        unreachable = harness.run_cli(["events", "--server",
                                       "http://127.0.0.1:%d" % harness.free_port()])
        self.assertEqual(unreachable.code, 1, unreachable)
        self.assertIn("cannot reach plancache server", unreachable.err)
        helped = harness.run_cli(["events", "--help"])
        self.assertEqual(helped.code, 0)
        self.assertIn("--types", helped.out)


class StopTest(unittest.TestCase):
    def test_a_stopping_server_ends_every_stream(self):
        server = Server(["--admin-token", ADMIN])
        try:
            streams = [EventStream(server.port) for _ in range(3)]
            put(server, "before the stop")
            for s in streams:
                s.read_until(lambda ev: len(ev) == 1, "the put")
            self.assertEqual(server.stop(), 0)
            for s in streams:
                events = s.read_to_end()
                self.assertEqual([e["event"] for e in events], ["put"])
                s.close()
        finally:
            server.close()


if __name__ == "__main__":
    harness.main()
