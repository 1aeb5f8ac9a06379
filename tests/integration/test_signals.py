"""SIGTERM / SIGINT: requests in flight finish, then `plancache serve` exits 0."""

import json
import signal
import socket
import unittest

import harness
from harness import Server, read_http_response, wait_until


def draining(server):
    """True once the server stopped taking new work: /readyz says 503, or new
    connections are refused because the listener is closed."""
    try:
        return server.request("GET", "/readyz", timeout_s=1.0).status == 503
    except OSError:
        return True


class GracefulStopTest(unittest.TestCase):
    def check_in_flight_request_completes(self, sig):
        with Server(["--log-level", "info"]) as server:
            body = json.dumps({"goal": "in flight", "plan": {"steps": list(range(200))}}).encode()
            half = len(body) // 2
            idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            busy = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            try:
                # The request has begun: head and half the body are on the wire.
                busy.sendall(b"PUT /v1/plans HTTP/1.1\r\nHost: t\r\nContent-Type: application/json"
                             b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                             + body[:half])
                # A stats round trip on a third connection: by the time it is
                # answered the server has accepted both and read what was sent.
                wait_until(lambda: self.open_connections(server) >= 2,
                           "the server to see both connections")
                server.signal(sig)
                wait_until(lambda: draining(server), "the server to start draining")
                self.assertIsNone(server.proc.poll(), "exited with a request in flight")
                busy.sendall(body[half:])
                res = read_http_response(busy)
                self.assertEqual(res.status, 201, res)
                self.assertEqual(res.headers.get("connection", "").lower(), "close")
                # The idle connection does not hold the process up.
                self.assertEqual(server.wait_exit(), 0, server.log())
            finally:
                idle.close()
                busy.close()

    @staticmethod
    def open_connections(server):
        stats = server.request("GET", "/v1/stats").json()
        http_stats = stats.get("http", {})
        # The stats request itself is one open connection.
        return int(http_stats.get("open_connections", 0)) - 1

    def test_sigterm_finishes_the_request_in_flight_and_exits_0(self):
        self.check_in_flight_request_completes(signal.SIGTERM)

    def test_sigint_finishes_the_request_in_flight_and_exits_0(self):
        self.check_in_flight_request_completes(signal.SIGINT)

    def test_sigterm_when_idle_exits_0(self):
        with Server() as server:
            self.assertEqual(server.request("GET", "/healthz").status, 200)
            self.assertEqual(server.stop(), 0, server.log())


if __name__ == "__main__":
    harness.main()
