"""Fixtures of the Python package tests: a real `plancache serve` on loopback.

The binary comes from $PLANCACHE_BINARY (tests/python/run.sh sets it). Each
server runs with `--port 0 --data-dir ''`; its port is read from the
"listening on http://127.0.0.1:PORT" log line. Every wait polls a condition
until a deadline (no sleep-and-hope).
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEADLINE_S = 15.0
PLANNER = "/usr/bin/python3 %s/examples/planner.py --stdin --delay-ms 50" % REPO

# Lanes used by the tests: a lane whose plans must cost >= 1 s to be kept, and
# a lane whose planner always fails.
CONFIG = """
[namespaces.slowlane]
min_compute_ms = 1000

[namespaces.broken]
planner_cmd = "/usr/bin/python3 %s/examples/planner.py --stdin --mode fail"
""" % REPO


def wait_until(predicate, what, timeout_s=DEADLINE_S, interval_s=0.02):
    """Polls predicate() until it returns something truthy; fails after timeout_s."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except AssertionError:
            raise  # the predicate saw something that will not get better
        except Exception as e:  # noqa: BLE001 - shown below
            last = e
        time.sleep(interval_s)
    raise AssertionError("timed out after %.1f s waiting for %s (last error: %r)"
                         % (timeout_s, what, last))


class Server:
    """A `plancache serve` child process on 127.0.0.1 with an ephemeral port."""

    def __init__(self, *args, planner=True, config=True):
        binary = os.environ.get("PLANCACHE_BINARY")
        if not binary or not os.access(binary, os.X_OK):
            raise RuntimeError("set PLANCACHE_BINARY to the plancache executable (got %r)" % binary)
        self.workdir = tempfile.mkdtemp(prefix="plancache-py-")
        self.log_path = os.path.join(self.workdir, "server.log")
        cmd = [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", ""]
        if planner:
            cmd += ["--planner-cmd", PLANNER]
        if config:
            path = os.path.join(self.workdir, "plancache.toml")
            with open(path, "w") as f:
                f.write(CONFIG)
            cmd += ["--config", path]
        cmd += list(args)
        self._log = open(self.log_path, "wb")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self.port = wait_until(self._logged_port, "the 'listening on' log line")
        except BaseException:
            self.stop()
            raise
        self.url = "http://127.0.0.1:%d" % self.port

    def log(self):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _logged_port(self):
        if self.proc.poll() is not None:
            raise AssertionError("plancache serve exited with %s:\n%s"
                                 % (self.proc.returncode, self.log()))
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.log())
        return int(m.group(1)) if m else None

    def raw_stats(self):
        """/v1/stats over a fresh connection of its own (not the client's pool)."""
        import http.client
        import json
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            headers = {"Authorization": "Bearer " + self.token} if getattr(self, "token", None) else {}
            conn.request("GET", "/v1/stats", headers=headers)
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=DEADLINE_S)
        self._log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def installed_package():
    """With PLANCACHE_REQUIRE_INSTALLED=1 (run.sh), the package under test must
    be the one installed into the running virtual environment."""
    import plancache
    if os.environ.get("PLANCACHE_REQUIRE_INSTALLED") == "1":
        where = os.path.realpath(plancache.__file__)
        assert where.startswith(os.path.realpath(sys.prefix) + os.sep), where
        assert not where.startswith(os.path.join(REPO, "python") + os.sep), where
    return plancache


@pytest.fixture(scope="session")
def server():
    """One server for the tests that do not clear, evict or stop it."""
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def fresh_server():
    """A server of the test's own (for clear, evict and counting tests)."""
    servers = []

    def start(*args, **kwargs):
        s = Server(*args, **kwargs)
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def closed_port():
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


@pytest.fixture
def unique():
    """unique("goal") -> "goal <random>": keeps tests on the shared server apart."""
    return lambda text="goal": "%s %s" % (text, uuid.uuid4().hex[:12])


@pytest.fixture
def poll():
    return wait_until


@pytest.fixture(scope="session")
def repo():
    return REPO
