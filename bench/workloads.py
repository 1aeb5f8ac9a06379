#!/usr/bin/python3
"""Synthetic request streams for the hit-rate benchmarks (bench/hitrate.py, docs/benchmarks.md).

Two workloads, both deterministic for a given --seed (default 20260113) and
parameters: the same command writes the same bytes (gzip output too: mtime 0).

  zipf   one decimal integer key per line (the plain-keys trace format, like
         ../shared/traces/lirs-*.trace.gz). Requests are i.i.d. draws from
         Zipf(alpha) over --keys keys: P(rank r) = r^-alpha / H(N, alpha),
         r = 1..N, sampled exactly by inversion of the precomputed CDF
         (bisect over cumulative weights). Ranks are mapped to keys 0..N-1
         through a seeded random permutation, so popularity is not key order.

  plans  one JSON object per line: {"key":K,"size":BYTES,"cost_ms":MS}, a plan
         workload for cost- and size-aware policies. Popularity: Zipf(alpha,
         default 0.8) over --keys keys, ranks permuted as above. Each key has
         one fixed size and one fixed planner cost, drawn once per key:
           z_size, z_own ~ N(0, 1) independent
           size    = round(size_median * exp(size_sigma * z_size))
                     (lognormal, default median 8192 B, sigma 1.0; >= 64 B)
           cost_ms = round(cost_median * exp(cost_sigma * (rho * z_size
                                           + sqrt(1 - rho^2) * z_own)))
                     (lognormal, default median 800 ms, sigma 1.2; >= 1 ms)
         so log-size and log-cost are correlated with coefficient rho
         (default 0.3): big plans tend to cost more, loosely. Key popularity
         is independent of size and cost.

Output goes to --output FILE (gzip-compressed if FILE ends in .gz; "-" is
stdout); nothing but the file is written, plus a one-line summary on stderr
(workload, parameters, seed, unique keys drawn, seconds).

Examples:
  bench/workloads.py zipf --alpha 0.9 --keys 100000 --requests 2000000 -o zipf-0.9.keys.gz
  bench/workloads.py plans --keys 100000 --requests 1000000 -o plans.jsonl.gz

Standard library only; run by /usr/bin/python3.
"""

import argparse
import gzip
import itertools
import math
import random
import sys
import time

DEFAULT_SEED = 20260113


def zipf_cum_weights(n, alpha):
    """Cumulative unnormalised Zipf weights r^-alpha for r = 1..n."""
    return list(itertools.accumulate((r ** -alpha for r in range(1, n + 1))))


def zipf_keys(rng, n, alpha, requests):
    """`requests` keys drawn Zipf(alpha) over n keys, ranks randomly permuted onto 0..n-1."""
    cum = zipf_cum_weights(n, alpha)
    perm = list(range(n))
    rng.shuffle(perm)
    # random.choices with cum_weights inverts the CDF by bisect: exact sampling.
    return rng.choices(perm, cum_weights=cum, k=requests)


def write_lines(path, lines):
    """Writes lines to path (gzip if it ends in .gz; "-" is stdout), newline-terminated."""
    raw = sys.stdout.buffer if path == "-" else open(path, "wb")
    # mtime=0 and no file name in the gzip header: identical bytes on every run.
    out = gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0) \
        if path.endswith(".gz") else raw
    chunk = 1 << 16  # so a 10M-request stream does not build one giant string
    for i in range(0, len(lines), chunk):
        out.write(("\n".join(lines[i:i + chunk]) + "\n").encode())
    if out is not raw:
        out.close()
    if raw is sys.stdout.buffer:
        raw.flush()
    else:
        raw.close()


def cmd_zipf(args):
    rng = random.Random(args.seed)
    keys = zipf_keys(rng, args.keys, args.alpha, args.requests)
    write_lines(args.output, list(map(str, keys)))
    return (f"zipf alpha={args.alpha} keys={args.keys} requests={args.requests} seed={args.seed}"
            f" unique_drawn={len(set(keys))}")


def cmd_plans(args):
    if not -1.0 <= args.rho <= 1.0:
        sys.exit("workloads.py plans: --rho must be in [-1, 1]")
    rng = random.Random(args.seed)
    keys = zipf_keys(rng, args.keys, args.alpha, args.requests)
    # Per-key attributes from a second stream of the same seed, drawn in key
    # order, so they do not depend on --requests.
    attr = random.Random(f"{args.seed}/plans-attributes")
    own = math.sqrt(1.0 - args.rho * args.rho)
    line = []
    sizes = []
    costs = []
    for k in range(args.keys):
        z_size = attr.gauss(0.0, 1.0)
        z_own = attr.gauss(0.0, 1.0)
        size = max(64, round(args.size_median * math.exp(args.size_sigma * z_size)))
        cost = max(1, round(args.cost_median_ms * math.exp(args.cost_sigma * (args.rho * z_size + own * z_own))))
        sizes.append(size)
        costs.append(cost)
        line.append(f'{{"key":{k},"size":{size},"cost_ms":{cost}}}')
    write_lines(args.output, [line[k] for k in keys])
    ls = [math.log(s) for s in sizes]
    lc = [math.log(c) for c in costs]
    return (f"plans alpha={args.alpha} keys={args.keys} requests={args.requests} seed={args.seed}"
            f" size=lognormal(median {args.size_median} B, sigma {args.size_sigma})"
            f" cost_ms=lognormal(median {args.cost_median_ms}, sigma {args.cost_sigma}) rho={args.rho}"
            f" | per key: median size {sorted(sizes)[len(sizes) // 2]} B,"
            f" median cost {sorted(costs)[len(costs) // 2]} ms,"
            f" corr(log size, log cost) {pearson(ls, lc):.3f}, corr(size, cost) {pearson(sizes, costs):.3f},"
            f" unique_drawn={len(set(keys))}")


def pearson(x, y):
    n = len(x)
    mx = sum(x) / n
    my = sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def positive_int(text):
    v = int(text)
    if v <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return v


def main():
    top = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="workload", required=True)

    def common(p, keys, requests, alpha):
        p.add_argument("--keys", type=positive_int, default=keys, help=f"number of distinct keys (default {keys})")
        p.add_argument("--requests", type=positive_int, default=requests,
                       help=f"number of requests (default {requests})")
        p.add_argument("--alpha", type=float, default=alpha, help=f"Zipf exponent (default {alpha})")
        p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"RNG seed (default {DEFAULT_SEED})")
        p.add_argument("-o", "--output", required=True, help="output file; .gz = gzip; - = stdout")

    z = sub.add_parser("zipf", help="plain keys, Zipf(alpha) popularity",
                       description="One decimal key per line, i.i.d. Zipf(alpha) over KEYS keys "
                                   "(exact CDF inversion), ranks randomly permuted onto keys 0..KEYS-1.")
    common(z, 100_000, 2_000_000, 0.9)

    p = sub.add_parser("plans", help="JSONL {key,size,cost_ms}, lognormal sizes and costs",
                       description="JSONL {\"key\":K,\"size\":BYTES,\"cost_ms\":MS} per request: Zipf(alpha) "
                                   "popularity; per key a fixed lognormal size and a fixed lognormal planner "
                                   "cost whose logs are correlated with coefficient RHO.")
    common(p, 100_000, 1_000_000, 0.8)
    p.add_argument("--size-median", type=float, default=8192.0, help="median plan size in bytes (default 8192)")
    p.add_argument("--size-sigma", type=float, default=1.0, help="sigma of log size (default 1.0)")
    p.add_argument("--cost-median-ms", type=float, default=800.0, help="median planner cost in ms (default 800)")
    p.add_argument("--cost-sigma", type=float, default=1.2, help="sigma of log cost (default 1.2)")
    p.add_argument("--rho", type=float, default=0.3, help="correlation of log size and log cost (default 0.3)")

    args = top.parse_args()
    t0 = time.monotonic()
    summary = cmd_zipf(args) if args.workload == "zipf" else cmd_plans(args)
    print(f"workloads.py: {summary} -> {args.output} in {time.monotonic() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
