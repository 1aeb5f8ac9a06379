#!/usr/bin/env python3
"""bench/shared_frozen.py: do L1 hits keep their latency while Redis is frozen?

    /usr/bin/python3 bench/shared_frozen.py --binary build/release/plancache [--seconds 5]

Starts a redis-server and `plancache serve --redis-url ... --io-threads 1`
(no disk tier), preloads 1,000 plans of 4 KB (they are in L1 and Redis),
then runs `wrk -t1 -c8 --latency` of lookups of those plans (all L1 hits,
bench/http/lookup.lua) twice: with Redis up, and with Redis frozen
(SIGSTOP) while 4 other clients keep sending PUTs of other plans (they wait
on Redis on the shared-call pool until the breaker opens, then go local);
a middle row runs those writers with Redis up, so the two rows under load
share the cores alike.
Freezing Redis drops every shared-derived L1 copy (coherence can no longer
be checked), so the 1,000 plans are PUT again once the instance has noticed
(kept locally meanwhile) before the second run. Prints both rows.
"""

import argparse
import http.client
import os
import re
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import harness  # noqa: E402
import plans as gen  # noqa: E402
from harness import Server, wait_until  # noqa: E402
from redis_servers import RedisServer  # noqa: E402


def wrk(port, seconds):
    out = subprocess.run(["wrk", "-t1", "-c8", "-d%ds" % seconds, "--latency", "-s",
                          os.path.join(HERE, "http", "lookup.lua"), "http://127.0.0.1:%d" % port],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    line = re.search(r"WRK_RESULT (.*)", out).group(1)
    return dict(kv.split("=") for kv in line.split())


def preload(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(1000):
        body = '{"goal":"bench goal %04d","ttl_s":0,"plan":%s}' % (i, gen.make_plan(i, 4096))
        conn.request("PUT", "/v1/plans", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 201, r.status


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    harness.BINARY = os.path.abspath(args.binary)
    redis = RedisServer()
    server = Server(args=["--redis-url", redis.url, "--io-threads", "1"])
    stop = threading.Event()
    try:
        wait_until(lambda: server.request("GET", "/v1/stats").json()["shared_connected"], "connected")
        preload(server.port)
        rows = {"redis up": wrk(server.port, args.seconds)}

        def writer():
            c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            i = 0
            while not stop.is_set():
                i += 1
                c.request("PUT", "/v1/plans", '{"goal":"frozen %d","plan":1}' % i,
                          {"Content-Type": "application/json"})
                c.getresponse().read()
        threads = [threading.Thread(target=writer, daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        rows["redis up + 4 writers"] = wrk(server.port, args.seconds)  # the same CPU share
        redis.freeze()
        def noticed():  # breaker open and listener lost: both drop the shared copies
            shared = next(t for t in server.request("GET", "/v1/stats").json()["tiers"]
                          if t["name"] == "shared")["shared"]
            return shared["breaker"] == "open" and shared["listeners_up"] == 0
        wait_until(noticed, "the instance sees Redis frozen")
        preload(server.port)
        rows["redis frozen + 4 writers"] = wrk(server.port, args.seconds)
        stop.set()
        if os.environ.get("SHOW_LOG"):
            print(server.log()[-3000:])
        redis.thaw()
        for t in threads:
            t.join(timeout=30)
        print("== bench/shared_frozen.py (wrk -t1 -c8 -d%ds, L1 hits of 4 KB plans, 1 I/O thread, "
              "%d cores, load %s) ==" % (args.seconds, os.cpu_count(),
                                         open("/proc/loadavg").read().split()[0]))
        for name, r in rows.items():
            print("%-26s %8.0f req/s  p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  errors %s" % (
                name, float(r["rps"]), int(r["p50_us"]) / 1000, int(r["p99_us"]) / 1000,
                int(r["p999_us"]) / 1000, int(r["errors_status"]) + int(r["errors_socket"])))
    finally:
        stop.set()
        server.close()
        redis.close()


if __name__ == "__main__":
    main()
