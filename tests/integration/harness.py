"""Shared helpers for the plancache integration tests (stdlib only).

Every test file is run as
    /usr/bin/python3 test_x.py --binary /path/to/plancache
by ctest (tests/integration/CMakeLists.txt). The helpers start the real
`plancache serve` binary on 127.0.0.1 with an ephemeral port, talk to it over
real sockets, and bound every wait with a deadline (no sleep-and-hope: poll
for a condition until a deadline, then fail with what was seen).
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BINARY = None  # set by main()

# Upper bound for any single wait in these tests.
DEFAULT_DEADLINE_S = 15.0


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, what, timeout_s=DEFAULT_DEADLINE_S, interval_s=0.02):
    """Polls predicate() until it returns a truthy value; fails after timeout_s."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - reported below
            last_error = e
        time.sleep(interval_s)
    raise AssertionError("timed out after %.1f s waiting for %s (last error: %r)"
                         % (timeout_s, what, last_error))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "Response(%d, %r)" % (self.status, self.body[:300])


def request(port, method, path, body=None, headers=None, timeout_s=10.0):
    """One HTTP request on a fresh connection; body may be bytes, str or a JSON value."""
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        res = conn.getresponse()
        return Response(res.status, dict(res.getheaders()), res.read())
    finally:
        conn.close()


def read_http_response(sock, timeout_s=10.0):
    """Reads one HTTP response from a raw socket (head + Content-Length body)."""
    sock.settimeout(timeout_s)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a response head: %r" % data)
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Response(status, headers, rest[:length])


class Server:
    """A `plancache serve` child process on 127.0.0.1.

    Runs in its own temporary working directory, with the environment given
    (nothing inherited but PATH), and logs to a file shown when it fails.
    """

    def __init__(self, args=(), env=None, port=None, host="127.0.0.1", wait=True,
                 with_port_flag=True, data_dir="", prefix=()):
        """port=None with with_port_flag: --port 0, and the port is read from
        the "listening on http://HOST:PORT" log line (no free-port race).
        Otherwise `port` is where the server is expected to listen.
        data_dir: the disk tier's directory ("" = no disk tier; None = no
        --data-dir flag, for tests of the variables that set it).
        prefix: a command the server runs under (e.g. prlimit ... --)."""
        self.workdir = tempfile.mkdtemp(prefix="plancache-it-")
        self.log_path = os.path.join(self.workdir, "server.log")
        self.port = port
        cmd = list(prefix) + [BINARY, "serve"]
        if data_dir is not None:
            cmd += ["--data-dir", data_dir]
        if with_port_flag:
            cmd += ["--host", host, "--port", str(port if port is not None else 0)]
        cmd += list(args)
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        full_env.update(env or {})
        self.cmd = cmd
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=full_env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()

    def log(self):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_ready(self, timeout_s=DEFAULT_DEADLINE_S):
        if self.port is None:
            def logged_port():
                if self.proc.poll() is not None:
                    raise AssertionError("plancache serve exited with %s before listening:\n%s"
                                         % (self.proc.returncode, self.log()))
                m = re.search(r"listening on http://(?:\[[^\]]*\]|[^:/\s]+):(\d+)", self.log())
                return int(m.group(1)) if m else None
            try:
                self.port = wait_until(logged_port, "the 'listening on' log line", timeout_s)
            except AssertionError:
                self.kill()
                raise

        def healthy():
            if self.proc.poll() is not None:
                raise AssertionError("plancache serve exited with %s before it was healthy:\n%s"
                                     % (self.proc.returncode, self.log()))
            try:
                return request(self.port, "GET", "/healthz", timeout_s=1.0).status == 200
            except OSError:
                return False
        try:
            wait_until(healthy, "GET /healthz on port %d" % self.port, timeout_s)
        except AssertionError:
            self.kill()
            raise

    def wait_exit(self, timeout_s=DEFAULT_DEADLINE_S):
        """Waits for the process to exit; returns its exit code."""
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("plancache serve did not exit within %.1f s:\n%s"
                                 % (timeout_s, self.log()))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout_s=DEFAULT_DEADLINE_S):
        """SIGTERM, then wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout_s)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=DEFAULT_DEADLINE_S)

    def close(self):
        self.kill()
        self._log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # Convenience: an HTTP request to this server.
    def request(self, method, path, body=None, headers=None, timeout_s=10.0):
        return request(self.port, method, path, body, headers, timeout_s)


def run_serve_expecting_exit(args, env=None, timeout_s=DEFAULT_DEADLINE_S):
    """Runs `plancache serve ARGS` that should refuse to start; returns (code, output)."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    full_env.update(env or {})
    workdir = tempfile.mkdtemp(prefix="plancache-it-")
    try:
        proc = subprocess.run([BINARY, "serve"] + list(args), cwd=workdir, env=full_env,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s)
        return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class CliResult:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout.decode("utf-8", "replace")
        self.err = proc.stderr.decode("utf-8", "replace")

    def __repr__(self):
        return "CliResult(code=%d, out=%r, err=%r)" % (self.code, self.out[:300], self.err[:300])


def run_cli(args, env=None, stdin=b"", timeout_s=DEFAULT_DEADLINE_S):
    """Runs `plancache ARGS` (a client command); returns a CliResult."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    full_env.update(env or {})
    proc = subprocess.run([BINARY] + list(args), env=full_env, input=stdin,
                          capture_output=True, timeout=timeout_s)
    return CliResult(proc)


def main():
    """Parses --binary, then runs the unittest suite of the calling module."""
    global BINARY
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True, help="path to the plancache executable")
    args, rest = parser.parse_known_args()
    BINARY = os.path.abspath(args.binary)
    if not os.access(BINARY, os.X_OK):
        sys.exit("not an executable: %s" % BINARY)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
