"""What a client may make the server hold, and how requests are framed
(issue: hostile probe, items 1, 2 and 5), over real sockets:

- every byte of a request counts against a bound: a 256 MiB chunk extension,
  a huge trailer section or endless chunk framing get a 4xx and a close while
  the server's peak RSS stays within a stated figure, before and after
  authentication (a request without its token is refused at its head);
- one bound for a plan, whoever made it: a PUT over --max-plan-bytes is 413,
  a planner's answer over it is 502, and neither is stored;
- request smuggling: a Transfer-Encoding that is not exactly "chunked" is 400
  and a close, with exactly one answer for the bytes sent; an HTTP/1.1
  request needs exactly one Host;
- file descriptors: under a 1,024-descriptor limit the connection cap is
  lowered to fit (and said so at start), clients beyond it get a 503 within a
  second instead of hanging in the backlog, and the soft limit is raised
  towards the hard one when it can be.
"""

import json
import os
import re
import resource
import socket
import sys
import time
import unittest

import harness
from harness import Server, read_http_response, wait_until

TOKEN = "s3cret-token"
MAX_HEADER = 16 * 1024
# Peak RSS growth allowed while one client streams 256 MiB at the server:
# the read buffer is bounded by --max-header-bytes plus one 16 KiB read.
PEAK_GROWTH_LIMIT = 16 * 1024 * 1024
HUGE = 256 * 1024 * 1024


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def read_all_responses(sock, timeout_s=5.0):
    """Every response on `sock` until the server closes it: [(status, headers, body)]."""
    sock.settimeout(timeout_s)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    responses = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("truncated response head: %r" % data[:200])
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        responses.append((int(lines[0].split(" ")[1]), headers, rest[:length]))
        data = rest[length:]
    return responses


def stream_until_refused(port, head, filler, total):
    """Sends `head`, then `filler` bytes up to `total` until the server stops
    reading; returns (response or None, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sent = 0
    block = filler * ((1 << 20) // len(filler))
    try:
        sock.sendall(head)
        sock.settimeout(10)
        while sent < total:
            try:
                sent += sock.send(block)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                break
        try:
            return read_http_response(sock, timeout_s=5), sent
        except (AssertionError, ConnectionResetError, socket.timeout):
            return None, sent
    finally:
        sock.close()


class RequestBoundsTest(unittest.TestCase):
    """Item 1: every byte before a request is accepted counts against a bound."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(["--api-token", TOKEN, "--max-header-bytes", str(MAX_HEADER),
                             "--max-body-bytes", str(1 << 20), "--read-timeout-ms", "5000"])

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def assert_serving(self):
        res = self.server.request("PUT", "/v1/plans", {"goal": "alive", "plan": [1]},
                                  {"Authorization": "Bearer " + TOKEN})
        self.assertEqual(res.status, 201, res)

    def chunked_head(self, token):
        auth = "Authorization: Bearer %s\r\n" % token if token else ""
        return ("POST /v1/plans HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                "%sTransfer-Encoding: chunked\r\n\r\n" % auth).encode()

    def assert_bounded_refusal(self, head, filler, expected_status):
        pid = self.server.proc.pid
        before = status_kib(pid, "VmHWM") * 1024
        res, sent = stream_until_refused(self.server.port, head, filler, HUGE)
        growth = status_kib(pid, "VmHWM") * 1024 - before
        sys.stderr.write("[%s: peak RSS +%d KiB after %d bytes sent] " % (self.id().split(".")[-1],
                                                                       growth // 1024, sent))
        self.assertLess(growth, PEAK_GROWTH_LIMIT,
                        "peak RSS grew by %d bytes while %d bytes were sent" % (growth, sent))
        self.assertIsNotNone(res, "no answer after %d bytes" % sent)
        self.assertEqual(res.status, expected_status, res)
        self.assertEqual(res.headers.get("connection"), "close", res.headers)
        self.assertTrue(res.json()["error"]["message"], res)
        self.assert_serving()
        return res

    def test_huge_chunk_extension_with_token_is_413_within_the_bound(self):
        res = self.assert_bounded_refusal(self.chunked_head(TOKEN) + b"c;", b"e", 413)
        self.assertIn("chunk-size line", res.json()["error"]["message"])

    def test_huge_chunk_extension_without_token_is_401_at_the_head(self):
        self.assert_bounded_refusal(self.chunked_head(None) + b"c;", b"e", 401)

    def test_huge_chunk_extension_with_a_wrong_token_is_403(self):
        self.assert_bounded_refusal(self.chunked_head("wrong") + b"c;", b"e", 403)

    def test_huge_trailer_section_is_413_within_the_bound(self):
        head = self.chunked_head(TOKEN) + b"2\r\n{}\r\n0\r\nX-Trailer: "
        self.assert_bounded_refusal(head, b"t", 413)

    def test_endless_small_chunks_with_extensions_hit_the_whole_request_bound(self):
        # Each chunk carries 1 body byte and ~1 KiB of extension: the body stays
        # far under --max-body-bytes, the framing does not.
        chunk = b"1;" + b"x" * 1000 + b"\r\n \r\n"
        res = self.assert_bounded_refusal(self.chunked_head(TOKEN), chunk, 413)
        self.assertIn("in all", res.json()["error"]["message"])

    def test_unauthenticated_body_is_not_read(self):
        # A 100-continue client without its token is refused before it sends.
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            sock.sendall(b"PUT /v1/plans HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n"
                         b"Expect: 100-continue\r\n\r\n")
            res = read_http_response(sock, timeout_s=5)
            self.assertEqual(res.status, 401, res)
        finally:
            sock.close()

    def test_a_valid_chunked_request_is_still_accepted(self):
        body = json.dumps({"goal": "chunked ok", "plan": {"a": 1}}).encode()
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            sock.sendall(self.chunked_head(TOKEN).replace(b"POST", b"PUT") +
                         b"%x;name=value\r\n%s\r\n0\r\nX-T: 1\r\n\r\n" % (len(body), body))
            res = read_http_response(sock, timeout_s=5)
            self.assertEqual(res.status, 201, res)
        finally:
            sock.close()


class PlanBoundTest(unittest.TestCase):
    """Item 1: one bound for a plan, whoever made it."""

    LIMIT = 100_000

    @classmethod
    def setUpClass(cls):
        planner = ("/usr/bin/python3 -c \"import sys, json; r = json.load(sys.stdin); "
                   "n = int(r['goal'].split()[-1]); print(json.dumps({'pad': 'x' * n}))\"")
        cls.server = Server(["--max-plan-bytes", str(cls.LIMIT), "--planner-cmd", planner])

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_put_over_the_plan_bound_is_413_and_not_stored(self):
        res = self.server.request("PUT", "/v1/plans", {"goal": "big", "plan": "x" * 200_000})
        self.assertEqual(res.status, 413, res)
        self.assertIn("larger than the limit of %d bytes" % self.LIMIT, res.json()["error"]["message"])
        self.assertEqual(self.server.request("POST", "/v1/plans/lookup", {"goal": "big"}).status, 404)

    def test_entry_over_the_plan_bound_is_413(self):
        res = self.server.request("PUT", "/v1/entries/default/k1", "\"%s\"" % ("y" * 200_000),
                                  {"Content-Type": "application/json"})
        self.assertEqual(res.status, 413, res)
        self.assertEqual(self.server.request("GET", "/v1/entries/default/k1").status, 404)

    def test_planner_answer_over_the_plan_bound_is_502_and_not_stored(self):
        res = self.server.request("POST", "/v1/plans", {"goal": "plan of 5000000"}, timeout_s=30)
        self.assertEqual(res.status, 502, res)
        self.assertIn("larger than %d bytes" % self.LIMIT, res.json()["error"]["message"])
        lookup = self.server.request("POST", "/v1/plans/lookup", {"goal": "plan of 5000000"})
        self.assertEqual(lookup.status, 404, lookup)

    def test_planner_answer_under_the_plan_bound_is_stored(self):
        res = self.server.request("POST", "/v1/plans", {"goal": "plan of 1000"}, timeout_s=30)
        self.assertEqual(res.status, 200, res)
        self.assertFalse(res.json()["cached"])
        lookup = self.server.request("POST", "/v1/plans/lookup", {"goal": "plan of 1000"})
        self.assertEqual(lookup.status, 200, lookup)


SMUGGLED = b"GET /v1/stats HTTP/1.1\r\nHost: t\r\n\r\n"


class FramingTest(unittest.TestCase):
    """Item 2: request smuggling and Host."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def exchange(self, raw):
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            sock.sendall(raw)
            return read_all_responses(sock)
        finally:
            sock.close()

    def assert_one_400_and_close(self, raw):
        responses = self.exchange(raw)
        self.assertEqual(len(responses), 1, [(s, b[:120]) for s, _, b in responses])
        status, headers, body = responses[0]
        self.assertEqual(status, 400, body)
        self.assertEqual(headers.get("connection"), "close", headers)
        err = json.loads(body)["error"]
        self.assertEqual(err["code"], "invalid_argument", err)
        return err["message"]

    def test_transfer_codings_other_than_chunked_are_400_and_close(self):
        body = b'{"goal":"smuggle"}'
        forms = [
            b"Transfer-Encoding: xchunked\r\n",
            b"Transfer-Encoding: identity\r\n",
            b"Transfer-Encoding: chunked, gzip\r\n",
            b"Transfer-Encoding: gzip, chunked\r\n",
            b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
            b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
            b"Transfer-Encoding: identity\r\nContent-Length: %d\r\n" % len(body),
            b"Transfer-Encoding: \r\n",
            b"Transfer-Encoding: chunked;q=1\r\n",
        ]
        for form in forms:
            with self.subTest(form=form):
                raw = (b"POST /v1/plans/lookup HTTP/1.1\r\nHost: t\r\n" + form + b"\r\n" +
                       body + SMUGGLED)
                message = self.assert_one_400_and_close(raw)
                self.assertIn("Transfer-Encoding", message)

    def test_transfer_encoding_beside_content_length_is_400_and_close(self):
        body = b"2\r\n{}\r\n0\r\n\r\n"
        for fields in (b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n" % len(body),
                       b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(body)):
            with self.subTest(fields=fields):
                self.assert_one_400_and_close(b"POST /v1/plans/lookup HTTP/1.1\r\nHost: t\r\n" +
                                              fields + b"\r\n" + body + SMUGGLED)

    def test_transfer_encoding_in_http10_is_400(self):
        self.assert_one_400_and_close(
            b"POST /v1/plans/lookup HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\n{}\r\n0\r\n\r\n" + SMUGGLED)

    def test_http11_without_host_or_with_two_is_400(self):
        message = self.assert_one_400_and_close(b"GET /v1/stats HTTP/1.1\r\n\r\n" + SMUGGLED)
        self.assertIn("without a Host", message)
        message = self.assert_one_400_and_close(
            b"GET /v1/stats HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + SMUGGLED)
        self.assertIn("2 Host headers", message)

    def test_http10_without_host_and_plain_chunked_are_answered(self):
        responses = self.exchange(b"GET /healthz HTTP/1.0\r\n\r\n")
        self.assertEqual([r[0] for r in responses], [200])
        body = b'{"goal":"framed","plan":[1]}'
        raw = (b"PUT /v1/plans HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n"
               b"%x\r\n%s\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
               % (len(body), body))
        self.assertEqual([r[0] for r in self.exchange(raw)], [201, 200])


def open_and_hold(port, timeout_s=5.0):
    """A connection that has been answered one keep-alive request (so it holds a slot)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    return sock, read_http_response(sock, timeout_s=timeout_s)


class FileDescriptorTest(unittest.TestCase):
    """Item 5: the connection cap fits the open-file limit; 503, never a hang."""

    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 4096:
            raise unittest.SkipTest("this test needs a hard open-file limit of 4096, not %d" % hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536) if hard != resource.RLIM_INFINITY
                                                    else 65536, hard))

    def start(self, soft, hard, *args):
        data_dir = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                "plancache-fd-%d-%d" % (os.getpid(), time.monotonic_ns()))
        server = Server(list(args), data_dir=data_dir if os.environ.get("FD_TEST_DISK", "1") == "1" else "",
                        prefix=["prlimit", "--nofile=%d:%d" % (soft, hard), "--"])
        self.addCleanup(server.close)
        return server

    def test_cap_is_lowered_to_fit_1024_descriptors_and_the_rest_get_503(self):
        server = self.start(1024, 1024)
        m = re.search(r"max_connections lowered from 1000 to (\d+)", server.log())
        self.assertIsNotNone(m, server.log())
        cap = int(m.group(1))
        self.assertGreater(cap, 500)
        held = []
        try:
            for _ in range(cap):
                sock, res = open_and_hold(server.port)
                held.append(sock)
                self.assertEqual(res.status, 200, res)
            # Everyone beyond the cap, up to the 1,025th client and past it,
            # all at once and without closing: a 503 each, within a second.
            extra = []
            for _ in range(1025 - cap + 200):
                extra.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
            for sock in extra:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            statuses = [read_http_response(s, timeout_s=1.0).status for s in extra]
            self.assertEqual(set(statuses), {503})
            for sock in extra:
                sock.close()
            late = socket.create_connection(("127.0.0.1", server.port), timeout=1)
            late.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertEqual(read_http_response(late, timeout_s=1.0).status, 503)
            late.close()
        finally:
            for sock in held:
                sock.close()
        wait_until(lambda: server.request("GET", "/healthz", timeout_s=1).status == 200,
                   "a 200 once the held connections are closed")
        stats = server.request("GET", "/v1/stats").json()
        self.assertGreaterEqual(stats["http"]["rejected_connections"], 1025 - cap + 201)
        self.assertLessEqual(server.log().count("accept failed"), 2, server.log())

    def test_soft_limit_is_raised_towards_the_hard_one(self):
        server = self.start(1024, 4096)
        log = server.log()
        self.assertIn("open-file limit 4096 (raised from 1024)", log)
        self.assertRegex(log, r"max_connections 1000 \(")


if __name__ == "__main__":
    harness.main()
