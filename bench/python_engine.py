#!/usr/bin/env python3
"""bench/python_engine.py: plancache.Engine hits beside cachetools and diskcache.

    cmake --build build/release --target _engine
    /usr/bin/python3 bench/python_engine.py --build-dir build/release [--seconds 2] [--rounds 3]

(or, with the package installed by pip into the Python that runs it, without
--build-dir). With --build-dir the package is imported from python/ and the
extension from BUILD_DIR/src/python (added to the package's __path__).

The same 1,000 plans of 2 KiB (bench/plans.py, stored as dicts) in every
cache, read back in turn, one thread, in one run:

- memory: `cachetools.TTLCache.get(key)` (Debian python3-cachetools) beside
  `Engine.get(goal, context)` (the C++ key builder, an L1 hit, `json.loads`),
  `Engine.entry_get(ns, key)` (a caller-chosen key: no goal normalisation or
  hashing) and the same with the plan stored as bytes (no JSON parse: the
  engine's own cost);
- disk: `diskcache.Cache.get(key)` (python3-diskcache: SQLite, pickle) beside
  the same Engine calls on an engine whose lane has no memory tier
  (`lanes={"default": {"tiers": ["l2"]}}`), so every hit is a RocksDB read;
- for reference, what decoding one plan costs without any cache:
  `json.loads` of its text (the engine's decode) and `pickle.loads` of its
  pickle (diskcache's).

The peers' keys are the plan keys (plancache.key_for), computed beforehand.
Each call is timed on its own (time.perf_counter_ns, ~0.1 us a call
included); ops/s is calls / time. The rows take turns, --rounds times
--seconds each. Prints a Markdown table (docs/benchmarks.md).
"""

import argparse
import json
import os
import pickle
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VALUES = 1000
CONTEXT = {"env": "staging", "team": "platform"}
NS = "default"


def import_plancache(build_dir):
    if build_dir:
        sys.path.insert(0, os.path.join(HERE, "..", "python"))
    import plancache
    if build_dir:
        plancache.__path__.append(os.path.abspath(os.path.join(build_dir, "src", "python")))
    return plancache


def measure(call, keys, seconds):
    """Calls call(key) over `keys` in turn for `seconds`; (latencies ns, elapsed s)."""
    lat = []
    n = len(keys)
    clock = time.perf_counter_ns
    stop = time.monotonic() + seconds
    began = time.perf_counter()
    i = 0
    while True:
        key = keys[i % n]
        t0 = clock()
        call(key)
        lat.append(clock() - t0)
        i += 1
        if i % 256 == 0 and time.monotonic() > stop:
            break
    return lat, time.perf_counter() - began


def summary(lat, elapsed):
    lat = sorted(lat)
    return len(lat) / elapsed, lat[len(lat) // 2] / 1000.0, lat[int(len(lat) * 0.99)] / 1000.0


def rows(plancache, work, plans, goals):
    """(tier, name, call, keys) of every row, the caches filled."""
    import cachetools
    import diskcache
    keys = [plancache.key_for(g, CONTEXT) for g in goals]
    raw = [json.dumps(p, separators=(",", ":")).encode() for p in plans]
    texts = [r.decode() for r in raw]
    pickles = [pickle.dumps(p, pickle.HIGHEST_PROTOCOL) for p in plans]
    ttl = cachetools.TTLCache(maxsize=2 * VALUES, ttl=3600)
    dc = diskcache.Cache(os.path.join(work, "diskcache"))
    mem = plancache.Engine()
    disk = plancache.Engine(disk_dir=os.path.join(work, "engine"),
                            lanes={NS: {"tiers": ["l2"]}, "raw": {"tiers": ["l2"]}})
    for i, goal in enumerate(goals):
        ttl[keys[i]] = plans[i]
        dc.set(keys[i], plans[i])
        for e in (mem, disk):
            e.put(goal, plans[i], CONTEXT, ttl_s=0)
            e.entry_put(NS, keys[i], plans[i], ttl_s=0)
            e.entry_put("raw", keys[i], raw[i], ttl_s=0)
    for i in (0, VALUES - 1):  # every row answers the plan
        assert ttl.get(keys[i]) == dc.get(keys[i]) == plans[i]
        for e in (mem, disk):
            assert e.get(goals[i], CONTEXT) == e.entry_get(NS, keys[i]) == plans[i]
            assert e.entry_get("raw", keys[i]) == raw[i]
    out = [
        ("memory", "cachetools.TTLCache.get(key)", ttl.get, keys),
        ("memory", "Engine.get(goal, context)", lambda g: mem.get(g, CONTEXT), goals),
        ("memory", "Engine.entry_get(ns, key)", lambda k: mem.entry_get(NS, k), keys),
        ("memory", "Engine.entry_get(ns, key), bytes", lambda k: mem.entry_get("raw", k), keys),
        ("disk", "diskcache.Cache.get(key)", dc.get, keys),
        ("disk", "Engine.get(goal, context)", lambda g: disk.get(g, CONTEXT), goals),
        ("disk", "Engine.entry_get(ns, key)", lambda k: disk.entry_get(NS, k), keys),
        ("disk", "Engine.entry_get(ns, key), bytes", lambda k: disk.entry_get("raw", k), keys),
        # What decoding the value costs, without a cache: the engine's JSON, diskcache's pickle.
        ("none", "json.loads(plan text)", json.loads, texts),
        ("none", "pickle.loads(plan pickle)", pickle.loads, pickles),
    ]
    return out, (mem, disk, dc)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", help="a CMake build directory with the _engine target built")
    parser.add_argument("--seconds", type=float, default=2.0, help="per row and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--value-bytes", type=int, default=2048)
    args = parser.parse_args()
    plancache = import_plancache(args.build_dir)
    sys.path.insert(0, HERE)
    import plans as gen
    plans = [json.loads(gen.make_plan(i, args.value_bytes)) for i in range(VALUES)]
    goals = ["bench goal %04d" % i for i in range(VALUES)]
    work = tempfile.mkdtemp(prefix="plancache-engine-bench-")
    try:
        table, (mem, disk, dc) = rows(plancache, work, plans, goals)
        results = {name: ([], 0.0) for name in range(len(table))}
        for _ in range(args.rounds):
            for r, (_, _, call, keys) in enumerate(table):
                lat, elapsed = measure(call, keys, args.seconds)
                results[r] = (results[r][0] + lat, results[r][1] + elapsed)
        l1 = [t for t in disk.stats()["tiers"] if t["name"] == "l1"][0]
        assert l1["hits"] == 0, "the disk engine's hits must all come from RocksDB"
        print("plancache.Engine hits, %d plans of %d B, one thread, %d x %.1f s a row, load %.2f"
              % (VALUES, args.value_bytes, args.rounds, args.seconds, os.getloadavg()[0]))
        print()
        print("| tier | call | ops/s | p50 | p99 |")
        print("|---|---|---|---|---|")
        for r, (tier, name, _, _) in enumerate(table):
            ops, p50, p99 = summary(*results[r])
            print("| %s | `%s` | %s | %.1f us | %.1f us |" % (tier, name, format(int(ops), ","),
                                                           p50, p99))
        mem.close()
        disk.close()
        dc.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
