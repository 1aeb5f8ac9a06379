"""The memory-pressure watchdog keeps a filling server under its memory limit
(issue 15, item 1).

1. cgroup: the server runs in a memory cgroup of its own (v1 under
   /sys/fs/cgroup/memory, or v2 under /sys/fs/cgroup when that is the
   hierarchy with the memory controller) limited to 256 MiB, with an L1
   bound of 2 GiB -- far more than the limit allows -- and no disk tier. It is
   filled with 64 KiB plans, twice the limit's worth. The kernel must never
   have had to reclaim or OOM-kill for it (failcnt / oom_kill stay 0), the
   server stays up and serves the recent plans, the oldest ones answer a
   miss, and /v1/stats and /metrics count the triggers and the bytes freed.
2. budget: no cgroup, --memory-source meminfo --memory-budget 128 MiB: the
   peak RSS (VmHWM) stays under the budget over 256 MiB of puts.

The cgroup case is skipped, saying why, only when no writable memory
cgroup hierarchy exists (it needs root). Run by ctest as:
    python3 test_memory_pressure.py --binary PATH
"""

import http.client
import json
import os
import re
import time
import unittest

import harness

MIB = 1 << 20
PLAN_BYTES = 64 << 10
V1_ROOT = "/sys/fs/cgroup/memory"
V2_ROOT = "/sys/fs/cgroup"
# The check interval must be shorter than the time the client needs to fill
# the room between the watermark and the limit (here ~50 MiB at ~150 MB/s).
CHECK_MS = "100"


def read(path):
    with open(path) as f:
        return f.read()


def keyed(text, key):
    m = re.search(r"^%s\s+(\d+)" % re.escape(key), text, re.M)
    return int(m.group(1)) if m else None


class MemoryCgroup:
    """A memory cgroup of its own, v1 or v2, limited to `limit` bytes."""

    def __init__(self, limit):
        self.version = None
        name = "plancache-test-%d" % os.getpid()
        if os.path.isdir(V1_ROOT) and os.access(V1_ROOT, os.W_OK):
            self.version, self.path = 1, os.path.join(V1_ROOT, name)
        elif ("memory" in read(os.path.join(V2_ROOT, "cgroup.controllers")).split()
              if os.path.exists(os.path.join(V2_ROOT, "cgroup.controllers")) else False) \
                and os.access(V2_ROOT, os.W_OK):
            self.version, self.path = 2, os.path.join(V2_ROOT, name)
        else:
            return
        os.mkdir(self.path)
        if self.version == 1:
            self.write("memory.limit_in_bytes", str(limit))
        else:
            with open(os.path.join(V2_ROOT, "cgroup.subtree_control"), "w") as f:
                f.write("+memory")
            self.write("memory.max", str(limit))
            self.write("memory.swap.max", "0")

    def write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def prefix(self):
        """A command prefix that moves itself into the group, then execs the server."""
        return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.path]

    def usage(self):
        name = "memory.usage_in_bytes" if self.version == 1 else "memory.current"
        return int(read(os.path.join(self.path, name)))

    def peak(self):
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        path = os.path.join(self.path, name)
        return int(read(path)) if os.path.exists(path) else None

    def times_at_limit(self):
        """How often usage hit the limit (v1 failcnt; v2 'max' events)."""
        if self.version == 1:
            return int(read(os.path.join(self.path, "memory.failcnt")))
        return keyed(read(os.path.join(self.path, "memory.events")), "max") or 0

    def oom_kills(self):
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        return keyed(read(os.path.join(self.path, name)), "oom_kill") or 0

    def remove(self):
        """Moves any process left back to the parent, then removes the group."""
        procs = os.path.join(self.path, "cgroup.procs")
        parent = os.path.join(os.path.dirname(self.path), "cgroup.procs")
        for pid in read(procs).split():
            with open(parent, "w") as f:
                f.write(pid)
        deadline = time.monotonic() + 5
        while True:
            try:
                os.rmdir(self.path)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


class Filler:
    """PUTs ~64 KiB plans on one keep-alive connection."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.pad = "x" * (PLAN_BYTES - 64)

    def put(self, i):
        body = json.dumps({"goal": "plan %d" % i, "plan": {"i": i, "pad": self.pad}})
        self.conn.request("PUT", "/v1/plans", body=body,
                          headers={"Content-Type": "application/json"})
        res = self.conn.getresponse()
        res.read()
        return res.status

    def close(self):
        self.conn.close()


def lookup(server, i):
    return server.request("POST", "/v1/plans/lookup", {"goal": "plan %d" % i}).status


class PressureCase(unittest.TestCase):
    def fill(self, server, count, watch):
        """Puts `count` plans, calling watch() every 256; returns puts per second."""
        filler = Filler(server.port)
        start = time.monotonic()
        try:
            for i in range(count):
                self.assertEqual(filler.put(i), 201, "put %d" % i)
                if i % 256 == 0:
                    self.assertIsNone(server.proc.poll(), "the server died:\n" + server.log())
                    watch()
        finally:
            filler.close()
        return count / (time.monotonic() - start)

    def assert_counted(self, server, source):
        stats = server.request("GET", "/v1/stats").json()
        memory = stats["memory"]
        self.assertEqual(memory["source"], source, memory)
        self.assertGreater(memory["pressure_triggered_count"], 0, memory)
        self.assertGreater(memory["pressure_bytes_freed"], 0, memory)
        self.assertGreater(memory["pressure_entries_freed"], 0, memory)
        self.assertLess(memory["shrink_factor"], 1.0, memory)
        metrics = server.request("GET", "/metrics").body.decode()
        m = re.search(r"^plancache_pressure_triggered_total (\d+)$", metrics, re.M)
        self.assertTrue(m and int(m.group(1)) > 0, metrics[-2000:])
        m = re.search(r"^plancache_pressure_freed_bytes_total (\d+)$", metrics, re.M)
        self.assertTrue(m and int(m.group(1)) > 0, metrics[-2000:])
        self.assertIn("memory pressure: %s used" % source, server.log())
        return stats

    def assert_serving(self, server, count):
        self.assertEqual(lookup(server, count - 1), 200, "the most recent plan is served")
        self.assertEqual(lookup(server, 0), 404, "the oldest plan was evicted")


class CgroupTest(PressureCase):
    LIMIT = 256 * MIB

    def setUp(self):
        self.cgroup = MemoryCgroup(self.LIMIT)
        if self.cgroup.version is None:
            self.skipTest("no writable memory cgroup hierarchy (%s or %s with the memory "
                          "controller): run as root to test under a cgroup limit"
                          % (V1_ROOT, V2_ROOT))
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.close()
        self.cgroup.remove()

    def test_stays_under_the_limit_while_filled_and_keeps_serving(self):
        self.server = harness.Server(
            args=["--l1-max-bytes", str(2 << 30), "--l1-max-entries", "0",
                  "--memory-check-interval-ms", CHECK_MS],
            prefix=self.cgroup.prefix())
        source = "cgroup-v%d" % self.cgroup.version
        self.assertIn("memory watchdog: %s (%s)" % (source, self.cgroup.path), self.server.log())
        count = 2 * self.LIMIT // PLAN_BYTES
        seen = []
        rate = self.fill(self.server, count, lambda: seen.append(self.cgroup.usage()))

        self.assertIsNone(self.server.proc.poll(), self.server.log())
        self.assertEqual(self.cgroup.oom_kills(), 0)
        self.assertEqual(self.cgroup.times_at_limit(), 0,
                         "usage reached the limit (peak %s)" % self.cgroup.peak())
        self.assertLessEqual(max(seen), self.LIMIT)
        stats = self.assert_counted(self.server, source)
        self.assertEqual(stats["memory"]["limit_bytes"], self.LIMIT)
        self.assertLess(stats["tiers"][0]["bytes"], self.LIMIT)
        self.assert_serving(self.server, count)
        print("\n  %d puts of %d KiB at %.0f/s; cgroup peak %.1f MiB of %d MiB; L1 %.1f MiB; "
              "%d triggers, %.1f MiB freed"
              % (count, PLAN_BYTES >> 10, rate, (self.cgroup.peak() or max(seen)) / MIB,
                 self.LIMIT // MIB, stats["tiers"][0]["bytes"] / MIB,
                 stats["memory"]["pressure_triggered_count"],
                 stats["memory"]["pressure_bytes_freed"] / MIB))
        self.assertEqual(self.server.stop(), 0)


class BudgetTest(PressureCase):
    BUDGET = 128 * MIB

    def test_rss_stays_under_the_budget(self):
        with harness.Server(args=["--l1-max-bytes", str(1 << 30), "--l1-max-entries", "0",
                                  "--memory-source", "meminfo",
                                  "--memory-budget", str(self.BUDGET),
                                  "--memory-check-interval-ms", CHECK_MS]) as server:
            status = "/proc/%d/status" % server.proc.pid
            count = 2 * self.BUDGET // PLAN_BYTES
            rate = self.fill(server, count, lambda: None)
            peak = keyed(read(status), "VmHWM:") * 1024
            self.assertLessEqual(peak, self.BUDGET, "peak RSS over the budget")
            stats = self.assert_counted(server, "meminfo")
            self.assertEqual(stats["memory"]["limit_bytes"], self.BUDGET)
            self.assert_serving(server, count)
            print("\n  %d puts at %.0f/s; peak RSS %.1f MiB of a %d MiB budget"
                  % (count, rate, peak / MIB, self.BUDGET // MIB))


if __name__ == "__main__":
    harness.main()
