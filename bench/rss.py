"""bench/rss.py: resident memory of `plancache serve` holding 10,000 plans of
32 KiB in the memory tier (SPEC §5: resident memory <= 1.2x the raw payload).

    /usr/bin/python3 bench/rss.py [--binary build/release/plancache] [--repeat 3] [--rounds 2]

Each run:
 1. starts `plancache serve --data-dir '' --l1-max-entries 100000
    --l1-max-bytes 0` on a free 127.0.0.1 port (memory tier only, no byte
    bound so nothing is evicted) and reads its VmRSS from /proc/<pid>/status
    once /healthz answers: the baseline of an empty server;
 2. PUTs PLANS plans (PUT /v1/plans, ttl_s 0, one keep-alive connection),
    each a different realistic plan whose compact JSON text is exactly
    PLAN_BYTES bytes (bench/plans.py), and checks every one was stored
    (201, "stored": true, l1_size = PLANS in /v1/stats);
 3. reads VmRSS (and VmHWM, the peak) again and prints RSS / raw payload,
    where raw payload = PLANS x PLAN_BYTES, the plan bytes alone;
 4. with --rounds N > 1, PUTs a new version of every plan (same goals, new
    content: the old values are freed) N-1 more times and measures again
    after each round: the resident memory of a cache with turnover, which
    a first load alone does not show.
It also prints how well the plans compress (zstd level 3, each on its own),
for scale: the memory tier keeps values uncompressed.
Every process it starts listens on 127.0.0.1 only and is stopped on exit.
"""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plans  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_status(pid):
    """VmRSS and VmHWM of `pid`, in bytes."""
    with open("/proc/%d/status" % pid) as f:
        text = f.read()
    kb = lambda name: int(re.search(r"^%s:\s+(\d+) kB" % name, text, re.M).group(1)) * 1024
    return kb("VmRSS"), kb("VmHWM")


def wait_healthy(port, proc, deadline_s=20):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit("rss.py: plancache serve exited with %d" % proc.returncode)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit("rss.py: plancache serve did not become healthy")


def get_json(conn, path):
    conn.request("GET", path)
    res = conn.getresponse()
    return json.loads(res.read())


def one_run(args, texts):
    port = free_port()
    cmd = [args.binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", "",
           "--l1-max-entries", "100000", "--l1-max-bytes", "0", "--default-ttl-s", "0",
           "--log-level", "warn", "--io-threads", str(args.io_threads)]
    with tempfile.TemporaryDirectory(prefix="plancache-rss-") as work:
        log = open(os.path.join(work, "serve.log"), "wb")
        proc = subprocess.Popen(cmd, cwd=work, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            wait_healthy(port, proc)
            time.sleep(0.2)
            base_rss, _ = proc_status(proc.pid)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Content-Type": "application/json"}
            result = {"base": base_rss, "rounds": []}
            for round_texts in texts:  # round 2+: a new version of every plan
                for i, text in enumerate(round_texts):
                    body = '{"goal":"rss goal %05d","ttl_s":0,"plan":%s}' % (i, text)
                    conn.request("PUT", "/v1/plans", body, headers)
                    res = conn.getresponse()
                    answer = res.read()
                    if res.status != 201 or not json.loads(answer).get("stored", True):
                        sys.exit("rss.py: PUT %d answered %d %s" % (i, res.status, answer[:200]))
                stats = get_json(conn, "/v1/stats")
                if stats["l1_size"] != len(round_texts):
                    sys.exit("rss.py: l1_size %s, expected %d (evictions?)"
                             % (stats["l1_size"], len(round_texts)))
                time.sleep(0.5)  # let the I/O threads go idle
                rss, hwm = proc_status(proc.pid)
                result["rounds"].append({"rss": rss, "hwm": hwm,
                                         "l1_bytes": stats["namespaces"]["default"]["l1"]["bytes"]})
            conn.close()
            return result
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.environ.get(
        "PLANCACHE_BIN", os.path.join(ROOT, "build", "release", "plancache")))
    parser.add_argument("--plans", type=int, default=int(os.environ.get("PLANS", 10000)))
    parser.add_argument("--plan-bytes", type=int, default=int(os.environ.get("PLAN_BYTES", 32768)))
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("REPEAT", 1)))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 1)),
                        help="1 = load the plans; N = then replace every plan with a new "
                             "version N-1 times (turnover), measuring after each round")
    parser.add_argument("--io-threads", type=int, default=int(os.environ.get("IO_THREADS", 0)),
                        help="plancache --io-threads (0 = one per core, the server default)")
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)
    if not os.access(args.binary, os.X_OK):
        sys.exit("rss.py: no plancache binary at %s (make build, or pass --binary)" % args.binary)

    texts = [[plans.make_plan(i + r * args.plans, args.plan_bytes) for i in range(args.plans)]
             for r in range(args.rounds)]
    raw = sum(len(t) for t in texts[0])  # held at the end of every round
    sample = texts[0][:: max(1, args.plans // 500)]
    ratio_zstd = plans.zstd_ratio(sample)

    runs = []
    for r in range(args.repeat):
        run = one_run(args, texts)
        runs.append(run)
        for n, rnd in enumerate(run["rounds"]):
            print("run %d round %d: baseline %.1f MiB, RSS %.1f MiB (peak %.1f MiB), RSS/raw %.3f, "
                  "(RSS-baseline)/raw %.3f, L1 accounted %d B" % (
                      r + 1, n + 1, run["base"] / 2**20, rnd["rss"] / 2**20, rnd["hwm"] / 2**20,
                      rnd["rss"] / raw, (rnd["rss"] - run["base"]) / raw, rnd["l1_bytes"]),
                  file=sys.stderr)

    print("== bench/rss.py (%s, %d cores, load %s) ==" % (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.cpu_count(),
        open("/proc/loadavg").read().split()[0]))
    print("plans            : %d x %d B = %d B raw payload (%.1f MiB); %d distinct; "
          "zstd-3 would shrink them %.2fx" % (args.plans, args.plan_bytes, raw, raw / 2**20,
                                              len(set(texts[0])), ratio_zstd))
    print("empty server RSS : %s MiB" % ", ".join("%.1f" % (r["base"] / 2**20) for r in runs))
    for n in range(args.rounds):
        label = "loaded" if n == 0 else "replaced x%d" % n
        rss = [r["rounds"][n]["rss"] for r in runs]
        ratios = [x / raw for x in rss]
        print("%-17s: RSS %s MiB; RSS/raw %s (median %.3f; target <= 1.2: %s)" % (
            label, ", ".join("%.1f" % (x / 2**20) for x in rss),
            ", ".join("%.3f" % x for x in ratios), statistics.median(ratios),
            "PASS" if statistics.median(ratios) <= 1.2 else "FAIL"))
    print("    plancache serve --data-dir '' --l1-max-entries 100000 --l1-max-bytes 0 "
          "--default-ttl-s 0 --io-threads %d; PUT /v1/plans x %d x %d round(s)"
          % (args.io_threads, args.plans, args.rounds))


if __name__ == "__main__":
    main()
