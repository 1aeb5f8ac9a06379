#!/usr/bin/python3
"""Hit-rate and planner-seconds tables for docs/benchmarks.md (issue 13, SPEC §5), in one run.

  /usr/bin/python3 bench/hitrate.py --binary build/release/plancache     (make bench-hitrate)

Workloads:
  * every public trace in --traces (../shared/traces/*.trace.gz|xz): lirs-*, arc-oltp,
    penalties-gcc, at 3-4 cache sizes chosen for each trace's number of unique keys
    (SIZES below; an unknown trace gets ~2.5/10/25/50 % of its unique keys);
  * synthetic Zipf, alpha 0.7 / 0.9 / 1.1 over 100k keys, 2M requests, sizes 1k/10k/50k
    (bench/workloads.py zipf, fixed seed);
  * the cost-bearing ones for planner-seconds saved: penalties-gcc (its miss penalty; at
    10-500 entries, COST_SIZES, where its small working set leaves room to differ) and
    the synthetic plan workload (bench/workloads.py plans: lognormal sizes and planner
    costs, loosely correlated), bounded by entries (1k/5k/20k) and by bytes (16/64/256 MiB).

For each workload the key stream comes from `BINARY simulate --trace F --print-keys`, and
the same stream is replayed against Caffeine (bench/peers/caffeine_hitrate.sh, one pass
for all sizes, median of --runs runs); plancache's figures come from
`BINARY simulate --trace F --sizes S1,S2,.. --policies lru,tinylfu,cost,optimal --json`.

Printed: Markdown tables (each headed by the command that produced it), hit rate in %:
LRU, W-TinyLFU (the default policy), cost, Caffeine, optimal (Belady), default/Caffeine,
default/optimal (on Zipf also the top-size oracle: the expected hit rate of holding the
most popular keys, the bound for online policies); then planner-seconds saved per policy,
beside an unbounded cache's (the ceiling), and cost's gain over W-TinyLFU.
Cells missing a target are marked ✗ and listed at the end:
  default >= LRU on every trace and size; default >= 0.99 x Caffeine at every size;
  default >= 0.95 x optimal on Zipf; cost saves >= 1.10 x W-TinyLFU's planner-seconds.

--peer-only skips plancache (for when `simulate` is not built): key streams are then read
by this script's own readers (plain keys, ARC, penalties, plans JSONL) and only the
Caffeine column is filled. --json-out FILE keeps every raw result.

Standard library only; run by /usr/bin/python3.
"""

import argparse
import datetime
import gzip
import json
import lzma
import os
import re
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = os.path.join(ROOT, "bench", "workloads.py")
CAFFEINE = os.path.join(ROOT, "bench", "peers", "caffeine_hitrate.sh")
POLICIES = ["lru", "tinylfu", "cost", "optimal"]  # tinylfu is plancache's default policy

# Cache sizes (entries) per public trace, from its unique keys (in brackets): small to
# about half the key set; the README's reference points (gli 1000/1500, oltp 1000/2000,
# loop 512) are included.
SIZES = {
    "lirs-2_pools": [500, 1000, 2000, 5000],   # [9,940]
    "lirs-cpp": [100, 250, 500, 1000],         # [1,223]
    "lirs-cs": [100, 250, 500, 1000],          # [1,409]
    "lirs-gli": [250, 500, 1000, 1500],        # [2,529]
    "lirs-loop": [250, 512, 800, 1000],        # [1,011]
    "lirs-multi1": [250, 500, 1000, 2000],     # [2,606]
    "lirs-multi2": [500, 1000, 2000, 4000],    # [5,684]
    "lirs-multi3": [500, 1000, 2000, 4000],    # [7,454]
    "lirs-ps": [250, 500, 1000, 2000],         # [3,083]
    "lirs-sprite": [100, 500, 1000, 2000],     # [7,075]
    "arc-oltp": [1000, 2000, 5000, 10000],     # [186,880]
    "penalties-gcc": [50, 250, 1000, 5000],    # [35,070], but 92 % hits from 500 on
}
# Sizes for planner-seconds saved on the cost-bearing public traces: penalties-gcc's working
# set is small (LRU hits 92 % at 500 entries, where every policy is within 1.5 % of the
# savings of an unbounded cache), so its costs only matter in small caches.
COST_SIZES = {"penalties-gcc": [10, 25, 50, 100, 250, 500]}

TARGET_CAFFEINE = 0.99
TARGET_OPTIMAL_ZIPF = 0.95
TARGET_COST_GAIN = 0.10


def log(msg):
    print(f"hitrate.py: {msg}", file=sys.stderr, flush=True)


def cmdline(argv):
    return " ".join(shlex.quote(a) for a in argv)


def rel(arg):
    """An absolute path as written in a printed command: relative to the repository root when it
    is inside the repository's parent (../shared/traces), else unchanged."""
    if os.path.isabs(arg) and arg.startswith(os.path.dirname(ROOT) + os.sep):
        return os.path.relpath(arg, ROOT)
    return arg


def run(argv, stdout=None, stdin=None):
    t0 = time.monotonic()
    res = subprocess.run(argv, stdout=stdout if stdout is not None else subprocess.PIPE,
                         stdin=stdin, stderr=subprocess.PIPE, text=stdout is None)
    dt = time.monotonic() - t0
    if res.returncode != 0:
        err = res.stderr if isinstance(res.stderr, str) else res.stderr.decode(errors="replace")
        raise RuntimeError(f"{cmdline(argv)} exited {res.returncode}: {err.strip()[-2000:]}")
    return res, dt


def open_text(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", errors="replace")
    if path.endswith(".xz"):
        return lzma.open(path, "rt", errors="replace")
    return open(path, errors="replace")


def builtin_keys(path, out):
    """--peer-only: this script's own reading of a trace into decimal keys, one per line."""
    name = os.path.basename(path)
    n = 0
    with open_text(path) as f, open(out, "w") as w:
        if name.startswith("arc-"):
            for line in f:
                parts = line.split()
                if len(parts) >= 2:
                    start, count = int(parts[0]), int(parts[1])
                    w.write("".join(f"{start + i}\n" for i in range(count)))
                    n += count
        elif name.startswith("penalties-"):
            for line in f:
                parts = line.split()
                if len(parts) >= 2:
                    w.write(f"{int(parts[1], 16)}\n")
                    n += 1
        elif ".jsonl" in name:
            for line in f:
                if line.strip():
                    w.write(f"{json.loads(line)['key']}\n")
                    n += 1
        else:  # plain keys: lirs-*, zipf
            for line in f:
                s = line.strip()
                if s and s != "*" and not s.startswith("#"):
                    w.write(f"{int(s)}\n")
                    n += 1
    return n


def count_keys(path):
    n = 0
    unique = set()
    with open(path) as f:
        for line in f:
            n += 1
            unique.add(line)
    return n, len(unique)


def sizes_for(name, unique):
    if name in SIZES:
        return SIZES[name]
    out = []
    for frac in (0.025, 0.10, 0.25, 0.50):
        v = max(10, int(unique * frac))
        digits = len(str(v)) - 2  # two significant digits
        v = round(v, -digits) if digits > 0 else v
        if v not in out:
            out.append(v)
    return out


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = args.work
        os.makedirs(self.work, exist_ok=True)
        self.results = []  # one dict per workload x bound
        self.misses = []
        self.timings = []
        self.caffeine_version = None
        self.generated = {}  # workload file -> the bench/workloads.py command that made it
        self.ceilings = {}  # trace -> (planner-seconds an unbounded cache saves, the command)

    # -- workloads -------------------------------------------------------------

    def generate(self, argv, out):
        if os.path.exists(out) and not self.args.regenerate:
            self.generated[out] = cmdline(["bench/workloads.py"] + argv + ["-o", rel(out)])
            return
        tmp = out + ".tmp" + (".gz" if out.endswith(".gz") else "")
        full = ["/usr/bin/python3", WORKLOADS] + argv + ["-o", tmp]
        self.generated[out] = cmdline(["bench/workloads.py"] + argv + ["-o", rel(out)])
        log(cmdline(full))
        _, dt = run(full, stdout=subprocess.DEVNULL)
        os.replace(tmp, out)
        self.timings.append((f"generate {os.path.basename(out)}", dt))

    def zipf_file(self, alpha):
        a = self.args
        out = os.path.join(self.work, f"zipf-a{alpha}-k{a.zipf_keys}-r{a.zipf_requests}-s{a.seed}.keys.gz")
        self.generate(["zipf", "--alpha", str(alpha), "--keys", str(a.zipf_keys),
                       "--requests", str(a.zipf_requests), "--seed", str(a.seed)], out)
        return out

    def plans_file(self):
        a = self.args
        out = os.path.join(self.work, f"plans-k{a.plans_keys}-r{a.plans_requests}-s{a.seed}.jsonl.gz")
        self.generate(["plans", "--keys", str(a.plans_keys), "--requests", str(a.plans_requests),
                       "--seed", str(a.seed)], out)
        return out

    # -- runs ------------------------------------------------------------------

    def key_stream(self, trace, name):
        out = os.path.join(self.work, f"{name}.keys")
        if self.args.peer_only:
            t0 = time.monotonic()
            builtin_keys(trace, out)
            self.timings.append((f"keys {name} (builtin reader)", time.monotonic() - t0))
        else:
            argv = [self.args.binary, "simulate", "--trace", trace, "--print-keys"]
            with open(out, "wb") as w:
                _, dt = run(argv, stdout=w)
            self.timings.append((f"keys {name} (simulate --print-keys)", dt))
        return out

    def simulate(self, trace, name, sizes, by):
        argv = [self.args.binary, "simulate", "--trace", trace, "--sizes", ",".join(map(str, sizes)),
                "--policies", ",".join(POLICIES), "--json"]
        if by != "entries":
            argv += ["--by", by]
        argv += shlex.split(self.args.simulate_extra)
        log(cmdline(argv))
        res, dt = run(argv)
        self.timings.append((f"simulate {name} by {by}", dt))
        doc = json.loads(res.stdout)
        table = {}
        for r in doc.get("results", []):
            table[(r["policy"], int(r["size"]))] = r
        return doc, table, argv

    def runs_for(self, requests):
        """--runs, or by default enough runs for a steady median: ~4M replayed requests per size,
        odd, between 5 and 51 (gli's 6k requests: 51 runs; Zipf's 2M: 5)."""
        if self.args.runs:
            return self.args.runs
        n = max(5, min(51, -(-4_000_000 // max(1, requests))))
        return n if n % 2 else n + 1

    def caffeine(self, keys, name, sizes, requests):
        argv = [CAFFEINE, "--runs", str(self.runs_for(requests))] + (["--cleanup"] if self.args.caffeine_cleanup else []) \
            + [str(s) for s in sizes]
        log(cmdline(argv) + " < " + rel(keys))
        with open(keys, "rb") as f:
            res, dt = run(argv, stdin=f)
        self.timings.append((f"caffeine {name}", dt))
        doc = json.loads(res.stdout)
        self.caffeine_version = doc.get("version")
        return doc, {int(r["size"]): r for r in doc["results"]}, argv

    def hit_rate_workload(self, trace, name, kind):
        keys = self.key_stream(trace, name)
        requests, unique = count_keys(keys)
        sizes = self.args.zipf_sizes if kind == "zipf" else sizes_for(name, unique)
        via = (f"<(python3 bench/hitrate.py's reader of {rel(trace)})" if self.args.peer_only
               else f"<({rel(self.args.binary)} simulate --trace {rel(trace)} --print-keys)")
        entry = {"name": name, "trace": trace, "kind": kind, "by": "entries", "requests": requests,
                 "unique_keys": unique, "sizes": sizes, "keys_via": via}
        if not self.args.no_caffeine:
            cdoc, ctab, cargv = self.caffeine(keys, name, sizes, requests)
            entry.update(caffeine=cdoc, caffeine_argv=cargv)
            entry["_caffeine"] = ctab
        if not self.args.peer_only:
            sdoc, stab, sargv = self.simulate(trace, name, sizes, "entries")
            entry.update(simulate=sdoc, simulate_argv=sargv)
            entry["_sim"] = stab
            if int(sdoc.get("requests", requests)) != requests:
                log(f"warning: {name}: simulate counted {sdoc.get('requests')} requests, "
                    f"--print-keys gave {requests}")
        if not self.args.keep_keys:
            os.remove(keys)
        self.results.append(entry)
        return entry

    def cost_workload(self, trace, name, sizes, by):
        sdoc, stab, sargv = self.simulate(trace, name, sizes, by)
        entry = {"name": name, "trace": trace, "kind": "cost", "by": by, "sizes": sizes,
                 "requests": sdoc.get("requests"), "unique_keys": sdoc.get("unique_keys"),
                 "simulate": sdoc, "simulate_argv": sargv, "_sim": stab}
        # The ceiling: what a cache that never evicts saves (every request but each key's first).
        if trace not in self.ceilings and sdoc.get("unique_keys"):
            u = int(sdoc["unique_keys"])
            argv = [self.args.binary, "simulate", "--trace", trace, "--sizes", str(u), "--policies", "lru", "--json"] \
                + shlex.split(self.args.simulate_extra)
            log(cmdline(argv))
            res, dt = run(argv)
            self.timings.append((f"simulate {name} unbounded", dt))
            rows = json.loads(res.stdout).get("results", [])
            self.ceilings[trace] = (rows[0].get("planner_seconds_saved") if rows else None, argv)
        entry["ceiling"] = self.ceilings.get(trace, (None, None))[0]
        self.results.append(entry)
        return entry

    # -- tables ----------------------------------------------------------------

    def hit_table(self, entries, title):
        a = self.args
        cafe = f"Caffeine {self.caffeine_version or ''}".strip()
        print(f"### {title}\n")
        print("```")
        print(self.top_command())
        for e in entries:
            if e["trace"] in self.generated:
                print("  " + self.generated[e["trace"]])
            if "simulate_argv" in e:
                print("  " + cmdline([rel(x) for x in e["simulate_argv"]]))
            if "caffeine_argv" in e:
                print("  " + cmdline([rel(x) for x in e["caffeine_argv"]]) + " < " + e["keys_via"])
        print("```\n")
        if a.peer_only:
            print(f"| trace | requests | unique keys | size | {cafe} (median) | min – max | runs |")
            print("|---|---|---|---|---|---|---|")
            for e in entries:
                for s in e["sizes"]:
                    c = e["_caffeine"][s]
                    print(f"| {e['name']} | {e['requests']:,} | {e['unique_keys']:,} | {s:,} | {pct(c['hit_rate'])} "
                          f"| {pct(c['hit_rate_min'])} – {pct(c['hit_rate_max'])} | {e['caffeine']['runs']} |")
            print(f"\nHit rates in %. {cafe}: `maximumSize(size)`, `executor(Runnable::run)`, getIfPresent → put; "
                  f"median of the runs{' with cleanUp() after every request' if a.caffeine_cleanup else ''}.\n")
            return
        oracle = any("alpha" in e for e in entries)
        print(f"| trace | unique keys | size | LRU | W-TinyLFU (default) | cost | {cafe} | optimal "
              f"| default / Caffeine | default / optimal |" + (" top-size oracle | default / oracle |" if oracle else ""))
        print("|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if oracle else ""))
        spread = 0.0
        for e in entries:
            sim = e.get("_sim", {})
            caf = e.get("_caffeine", {})
            for s in e["sizes"]:
                def hr(p):
                    r = sim.get((p, s))
                    return r["hit_rate"] if r else None
                lru, dflt, cost, opt = hr("lru"), hr("tinylfu"), hr("cost"), hr("optimal")
                c = caf.get(s)
                cr = c["hit_rate"] if c else None
                if c:
                    spread = max(spread, c["hit_rate_max"] - c["hit_rate_min"])
                dcell = pct(dflt)
                if dflt is not None and lru is not None and dflt < lru:
                    dcell += " ✗"
                    self.misses.append(f"{e['name']} @ {s}: default {dflt * 100:.2f} % < LRU {lru * 100:.2f} %")
                rc = ratio(dflt, cr)
                if dflt is not None and cr and dflt < TARGET_CAFFEINE * cr:
                    rc += " ✗"
                    self.misses.append(f"{e['name']} @ {s}: default / Caffeine = {ratio(dflt, cr)} < {TARGET_CAFFEINE} "
                                       f"({dflt * 100:.2f} vs {cr * 100:.2f} %)")
                ro = ratio(dflt, opt)
                if e["kind"] == "zipf" and dflt is not None and opt and dflt < TARGET_OPTIMAL_ZIPF * opt:
                    ro += " ✗"
                    self.misses.append(f"{e['name']} @ {s}: default / optimal = {ratio(dflt, opt)} "
                                       f"< {TARGET_OPTIMAL_ZIPF}")
                extra = ""
                if oracle:
                    o = zipf_oracle(e["alpha"], e["keys"], s) if "alpha" in e else None
                    extra = f" {pct(o)} | {ratio(dflt, o)} |"
                print(f"| {e['name']} | {e['unique_keys']:,} | {s:,} | {pct(lru)} | {dcell} | {pct(cost)} "
                      f"| {pct(cr)} | {pct(opt)} | {rc} | {ro} |" + extra)
        print()
        if not a.no_caffeine:
            print(f"Hit rates in %. {cafe}: `maximumSize(size)`, `executor(Runnable::run)`, getIfPresent → put; "
                  f"median of {runs_text(entries)} runs{' with cleanUp() after every request' if a.caffeine_cleanup else ''}, "
                  f"largest run-to-run spread in this table {spread * 100:.1f} points. optimal = simulate's "
                  f"`optimal` (Belady, offline). ✗ = misses a target.\n")
        if oracle:
            print("top-size oracle = the expected hit rate of a cache holding the `size` most popular keys, "
                  "sum of their Zipf probabilities: the best any online policy can expect on i.i.d. Zipf "
                  "requests; Belady's offline optimum, which knows the future, is well above it.\n")

    def cost_table(self, entries, title):
        a = self.args
        print(f"### {title}\n")
        print("```")
        print(self.top_command())
        for e in entries:
            if e["trace"] in self.generated:
                print("  " + self.generated.pop(e["trace"]))
            print("  " + cmdline([rel(x) for x in e["simulate_argv"]]))
        for trace, (_, argv) in self.ceilings.items():
            print("  " + cmdline([rel(x) for x in argv]) + "   # the ceiling")
        print("```\n")
        print("| workload | bound | size | LRU | W-TinyLFU (default) | cost | optimal | ceiling | cost vs W-TinyLFU "
              "| hit rate W-TinyLFU / cost |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for e in entries:
            sim = e["_sim"]
            for s in e["sizes"]:
                def saved(p):
                    r = sim.get((p, s))
                    return r.get("planner_seconds_saved") if r else None
                lru, dflt, cost, opt = (saved(p) for p in POLICIES)
                gain = "–"
                if dflt and cost is not None:
                    g = cost / dflt - 1.0
                    gain = f"{g * 100:+.1f} %"
                    if g < TARGET_COST_GAIN:
                        gain += " ✗"
                        head = ""
                        if e.get("ceiling"):
                            head = f" (an unbounded cache saves {(e['ceiling'] / dflt - 1) * 100:+.1f} %)"
                        self.misses.append(f"{e['name']} by {e['by']} @ {fmt_size(s, e['by'])}: cost saves "
                                           f"{g * 100:+.1f} % vs W-TinyLFU < +{TARGET_COST_GAIN * 100:.0f} %{head}")
                t = sim.get(("tinylfu", s))
                c = sim.get(("cost", s))
                hits = f"{pct(t['hit_rate']) if t else '–'} / {pct(c['hit_rate']) if c else '–'}"
                if e["by"] == "bytes" and t and c and "byte_hit_rate" in t:
                    hits += f" (bytes {pct(t.get('byte_hit_rate'))} / {pct(c.get('byte_hit_rate'))})"
                print(f"| {e['name']} | {e['by']} | {fmt_size(s, e['by'])} | {secs(lru)} | {secs(dflt)} | {secs(cost)} "
                      f"| {secs(opt)} | {secs(e.get('ceiling'))} | {gain} | {hits} |")
        print()
        print("Planner-seconds saved = the planner cost of every hit, in seconds (plans: `cost_ms`; "
              "penalties-gcc: its miss penalty, in the trace's own units, read as ms by simulate). "
              "optimal = simulate's `optimal` (Belady by count, not by cost: a cost-aware policy may beat it). "
              "ceiling = an unbounded cache (every request but each key's first is a hit). "
              f"✗ = cost saves < {TARGET_COST_GAIN * 100:.0f} % more than W-TinyLFU.\n")

    @staticmethod
    def top_command():
        return cmdline(["/usr/bin/python3", "bench/hitrate.py"] + sys.argv[1:])


def zipf_oracle(alpha, keys, size):
    """Expected hit rate of holding the `size` most popular of `keys` Zipf(alpha) keys."""
    w = [r ** -alpha for r in range(1, keys + 1)]
    return sum(w[:size]) / sum(w)


def runs_text(entries):
    runs = sorted({e["caffeine"]["runs"] for e in entries if "caffeine" in e})
    return "/".join(map(str, runs)) if runs else "?"


def pct(x):
    return "–" if x is None else f"{x * 100:.1f}"


def ratio(a, b):
    return "–" if a is None or not b else f"{a / b:.3f}"


def secs(x):
    return "–" if x is None else f"{x:,.0f}"


def fmt_size(s, by):
    if by != "bytes":
        return f"{s:,}"
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if s >= div and s % div == 0:
            return f"{s // div} {unit}"
    return f"{s:,} B"


def int_list(text):
    return [int(x) for x in text.split(",") if x]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "release", "plancache"),
                    help="plancache binary with `simulate` (default build/release/plancache)")
    ap.add_argument("--traces", default=os.path.join(os.path.dirname(ROOT), "shared", "traces"),
                    help="directory of public traces (default ../shared/traces)")
    ap.add_argument("--work", default=None, help="scratch directory for generated workloads and key streams "
                                                 "(default: BINARY's directory/hitrate)")
    ap.add_argument("--seed", type=int, default=20260113, help="workload seed (default 20260113)")
    ap.add_argument("--zipf-alphas", default="0.7,0.9,1.1")
    ap.add_argument("--zipf-keys", type=int, default=100_000)
    ap.add_argument("--zipf-requests", type=int, default=2_000_000)
    ap.add_argument("--zipf-sizes", type=int_list, default=[1000, 10000, 50000])
    ap.add_argument("--plans-keys", type=int, default=100_000)
    ap.add_argument("--plans-requests", type=int, default=1_000_000)
    ap.add_argument("--plans-sizes", type=int_list, default=[1000, 5000, 20000], help="entries")
    ap.add_argument("--plans-bytes", type=int_list, default=[16 << 20, 64 << 20, 256 << 20], help="bytes")
    ap.add_argument("--runs", type=int, default=0,
                    help="Caffeine runs per size, median reported (default: ~4M requests' worth, 5 to 51)")
    ap.add_argument("--caffeine-cleanup", action="store_true",
                    help="Caffeine: cleanUp() after every request (every read reaches the policy)")
    ap.add_argument("--no-caffeine", action="store_true", help="skip the Caffeine column")
    ap.add_argument("--peer-only", action="store_true",
                    help="no plancache: builtin trace readers, Caffeine column only")
    ap.add_argument("--only", default="", help="comma list of workload names (e.g. lirs-gli,zipf-0.9,plans)")
    ap.add_argument("--regenerate", action="store_true", help="regenerate synthetic workloads")
    ap.add_argument("--keep-keys", action="store_true", help="keep the key streams in --work")
    ap.add_argument("--json-out", default=None, help="write every raw result here")
    ap.add_argument("--simulate-extra", default="", help="more arguments for every simulate run, e.g. '--shards 1'")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    if args.work is None:
        args.work = os.path.join(os.path.dirname(os.path.abspath(args.binary)), "hitrate")
    only = set(x for x in args.only.split(",") if x)

    if not args.peer_only:
        probe = subprocess.run([args.binary, "simulate", "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        if probe.returncode != 0:
            sys.exit(f"hitrate.py: `{args.binary} simulate --help` failed (exit {probe.returncode}); "
                     f"build it, or use --peer-only for the Caffeine column alone")

    b = Bench(args)
    t_start = time.monotonic()
    traces = sorted(f for f in os.listdir(args.traces) if re.search(r"\.trace(\.(gz|xz))?$", f))
    names = {f: re.sub(r"\.trace(\.(gz|xz))?$", "", f) for f in traces}

    public = []
    for f in traces:
        if only and names[f] not in only:
            continue
        log(f"trace {names[f]}")
        public.append(b.hit_rate_workload(os.path.join(args.traces, f), names[f], "trace"))
    zipf = []
    for alpha in [x for x in args.zipf_alphas.split(",") if x]:
        name = f"zipf-{alpha}"
        if only and name not in only:
            continue
        log(name)
        e = b.hit_rate_workload(b.zipf_file(alpha), name, "zipf")
        e.update(alpha=float(alpha), keys=args.zipf_keys)
        zipf.append(e)

    cost = []
    if not args.peer_only:
        for f in traces:
            if names[f] in COST_SIZES and (not only or names[f] in only):
                cost.append(b.cost_workload(os.path.join(args.traces, f), names[f], COST_SIZES[names[f]], "entries"))
        if not only or "plans" in only:
            plans = b.plans_file()
            cost.append(b.cost_workload(plans, "plans", args.plans_sizes, "entries"))
            cost.append(b.cost_workload(plans, "plans", args.plans_bytes, "bytes"))

    try:
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    print(f"## Hit rates — `bench/hitrate.py` ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%MZ}, "
          f"load {load}, {os.cpu_count()} cores)\n")
    print(f"Synthetic workloads: `bench/workloads.py` seed {args.seed}; Zipf {args.zipf_keys:,} keys, "
          f"{args.zipf_requests:,} requests; plans {args.plans_keys:,} keys, {args.plans_requests:,} requests "
          f"(sizes lognormal median 8 KiB σ 1, costs lognormal median 800 ms σ 1.2, ρ(log) 0.3).\n")
    if public:
        b.hit_table(public, "Public traces (unit-size entries)")
    if zipf:
        b.hit_table(zipf, f"Synthetic Zipf ({args.zipf_keys:,} keys, {args.zipf_requests:,} requests)")
    if cost:
        b.cost_table(cost, "Planner-seconds saved (cost-bearing workloads)")
    if b.misses:
        print("Targets missed:\n")
        for m in b.misses:
            print(f"- {m}")
        print()
    elif not args.peer_only:
        print("Every target met.\n")
    total = time.monotonic() - t_start
    print("<details><summary>timings</summary>\n")
    for what, dt in b.timings:
        print(f"- {what}: {dt:.1f} s")
    print(f"- total: {total:.0f} s\n</details>")

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump([{k: v for k, v in e.items() if not k.startswith("_")} for e in b.results], f, indent=1)
    sys.exit(1 if args.strict and b.misses else 0)


if __name__ == "__main__":
    main()
