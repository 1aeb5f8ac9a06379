"""A real Prometheus scrapes plancache's /metrics (issue 15, item 6).

plancache runs on 127.0.0.1 with an API token (so /metrics needs one);
Prometheus (Debian package `prometheus`, /usr/bin/prometheus,
deps/debian-packages.txt) is started on another loopback port with a
scrape_interval of 1 s and that token as its bearer credentials. After some
lookup hits, a counter is queried back through Prometheus's HTTP API
(/api/v1/query) until it equals what /metrics shows -- polled with a
deadline, never slept for. `promtool check metrics` on the same text is
tests/integration/test_metrics_promtool.py.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import harness
from harness import Server, free_port, wait_until

TOKEN = "scrape-token"
HITS = 7
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"

CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: plancache
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials: {token}
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def http_json(url, timeout_s=2.0):
    with urllib.request.urlopen(url, timeout=timeout_s) as res:
        return json.loads(res.read().decode("utf-8"))


class PrometheusScrapeTest(unittest.TestCase):
    def setUp(self):
        for path in (PROMETHEUS, PROMTOOL):
            if not os.access(path, os.X_OK):
                raise AssertionError("%s not found: install the Debian package 'prometheus' "
                                     "(deps/debian-packages.txt)" % path)
        self.dir = tempfile.mkdtemp(prefix="plancache-prometheus-")
        self.server = Server(["--api-token", TOKEN])
        self.prometheus = None

    def tearDown(self):
        if self.prometheus is not None and self.prometheus.poll() is None:
            self.prometheus.send_signal(signal.SIGTERM)
            try:
                self.prometheus.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.prometheus.kill()
                self.prometheus.wait(timeout=10)
        if self.prometheus is not None:
            self.prometheus_log.close()
        self.server.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def auth(self):
        return {"Authorization": "Bearer " + TOKEN}

    def log(self):
        with open(os.path.join(self.dir, "prometheus.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")[-3000:]

    def start_prometheus(self):
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(CONFIG.format(token=TOKEN, port=self.server.port))
        check = subprocess.run([PROMTOOL, "check", "config", config], capture_output=True,
                               timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.prom_port = free_port()
        self.prometheus_log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.prometheus = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(self.dir, "tsdb"),
             "--web.listen-address=127.0.0.1:%d" % self.prom_port, "--log.level=warn"],
            cwd=self.dir, stdin=subprocess.DEVNULL, stdout=self.prometheus_log,
            stderr=subprocess.STDOUT)

        def ready():
            if self.prometheus.poll() is not None:
                raise AssertionError("prometheus exited with %s:\n%s"
                                     % (self.prometheus.returncode, self.log()))
            try:
                url = "http://127.0.0.1:%d/-/ready" % self.prom_port
                with urllib.request.urlopen(url, timeout=1) as res:
                    return res.status == 200
            except OSError:
                return False
        wait_until(ready, "prometheus /-/ready", timeout_s=15, interval_s=0.1)

    def query(self, expr):
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (
            self.prom_port, urllib.parse.urlencode({"query": expr}))
        doc = http_json(url)
        self.assertEqual(doc["status"], "success", doc)
        return doc["data"]["result"]

    def scraped_value(self, expr, want):
        result = self.query(expr)
        if len(result) == 1 and float(result[0]["value"][1]) == want:
            return result[0]
        return None

    def metrics_value(self, name):
        text = self.server.request("GET", "/metrics", headers=self.auth()).body.decode()
        m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
        self.assertIsNotNone(m, name)
        return float(m.group(1))

    def test_prometheus_scrapes_a_counter(self):
        start = time.monotonic()
        self.start_prometheus()
        self.assertEqual(self.server.request("PUT", "/v1/plans", {"goal": "scraped", "plan": 1},
                                             self.auth()).status, 201)
        for _ in range(HITS):
            res = self.server.request("POST", "/v1/plans/lookup", {"goal": "scraped"},
                                      self.auth())
            self.assertEqual(res.status, 200, res)
        self.assertEqual(self.server.request("GET", "/metrics").status, 401,
                         "/metrics needs the token, so Prometheus must send it")
        shown = self.metrics_value("plancache_cache_hits_total")
        self.assertEqual(shown, HITS)
        sample = wait_until(lambda: self.scraped_value("plancache_cache_hits_total", shown),
                            "Prometheus to return plancache_cache_hits_total == %d" % HITS,
                            timeout_s=12, interval_s=0.2)
        self.assertEqual(sample["metric"]["job"], "plancache")
        self.assertEqual(sample["metric"]["instance"], "127.0.0.1:%d" % self.server.port)
        # The target is healthy, and a labelled counter came through as well.
        self.assertEqual(self.query('up{job="plancache"}')[0]["value"][1], "1")
        hits_l1 = self.query('plancache_tier_hits_total{tier="l1"}')
        self.assertEqual(float(hits_l1[0]["value"][1]), HITS)
        self.assertLess(time.monotonic() - start, 20, "keep this test under 20 s")


if __name__ == "__main__":
    harness.main()
