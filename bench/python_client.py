#!/usr/bin/env python3
"""bench/python_client.py: the Python client's lookups beside redis-py GET.

    /usr/bin/python3 bench/python_client.py --binary build/release/plancache [--seconds 5] [--threads 1,4]

Starts a redis-server (loopback, no persistence) and `plancache serve`
(memory tier, 1 I/O thread), puts the same 1,000 values of 4 KB into both
(plans through `plancache.Client.put`, keys through redis-py `SET`), then,
for each thread count, runs lookups for `--seconds`: `Client.lookup` of the
1,000 goals in turn (all L1 hits: the hit is parsed into a typed `Hit`)
and redis-py `GET` of the 1,000 keys in turn, one client object shared by
the threads of a run (both pool their connections). Prints ops/s, p50 and
p99 per call and the ratio. The package is imported from python/ (no
install needed); redis-py is Debian's python3-redis.
"""

import argparse
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import harness  # noqa: E402
import plancache  # noqa: E402
import plans as gen  # noqa: E402
import redis  # noqa: E402
from harness import Server  # noqa: E402
from redis_servers import RedisServer  # noqa: E402

VALUES = 1000


def run(call, threads, seconds):
    """Calls call(i) from `threads` threads for `seconds`; (ops/s, p50 ms, p99 ms)."""
    latencies = [[] for _ in range(threads)]
    stop = time.monotonic() + seconds

    def worker(n):
        i = n * 389
        out = latencies[n]
        while True:
            start = time.perf_counter()
            call(i % VALUES)
            out.append(time.perf_counter() - start)
            i += 1
            if len(out) % 64 == 0 and time.monotonic() > stop:
                return
    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    began = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.monotonic() - began
    all_ = sorted(x for lat in latencies for x in lat)
    return (len(all_) / elapsed, all_[len(all_) // 2] * 1000, all_[int(len(all_) * 0.99)] * 1000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--threads", default="1,4")
    args = parser.parse_args()
    harness.BINARY = os.path.abspath(args.binary)
    store = RedisServer()
    server = Server(args=["--io-threads", "1"])
    try:
        client = plancache.Client("http://127.0.0.1:%d" % server.port, pool_size=8)
        peer = redis.Redis(host="127.0.0.1", port=store.port,
                           connection_pool=redis.BlockingConnectionPool(
                               host="127.0.0.1", port=store.port, max_connections=8))
        goals = ["bench goal %04d" % i for i in range(VALUES)]
        for i, goal in enumerate(goals):
            plan = gen.make_plan(i, 4096)
            client.put(goal, __import__("json").loads(plan), ttl_s=0)
            peer.set("key:%06d" % i, plan)
        assert client.lookup(goals[0]).tier == "l1"

        def lookup(i):
            if client.lookup(goals[i]) is None:
                raise AssertionError("miss")

        def get(i):
            if peer.get("key:%06d" % i) is None:
                raise AssertionError("miss")

        print("== bench/python_client.py (%s, %d values of 4 KB, %s s per run, %d cores, load %s) =="
              % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), VALUES, args.seconds,
                 os.cpu_count(), open("/proc/loadavg").read().split()[0]))
        for threads in [int(t) for t in args.threads.split(",")]:
            ours = run(lookup, threads, args.seconds)
            theirs = run(get, threads, args.seconds)
            print("%d thread(s): plancache.Client.lookup %7.0f ops/s p50 %.3f ms p99 %.3f ms | "
                  "redis-py GET %7.0f ops/s p50 %.3f ms p99 %.3f ms | ratio %.2f"
                  % ((threads,) + ours + theirs + (ours[0] / theirs[0],)))
    finally:
        server.close()
        store.close()


if __name__ == "__main__":
    main()
