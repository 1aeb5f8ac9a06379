"""Near-miss reuse, end to end (issue 14's "Done when"): planner-seconds spent
and saved by incremental planning and predictive pre-computation, and the
wrong-hit rate of the similar-goal path.

    /usr/bin/python3 bench/near_miss.py --binary build/release/plancache [--seed 14]

Part 1 -- one synthetic workload replayed three ways against a real
`plancache serve` whose planner is examples/planner.py (HTTP, --incremental:
a full plan costs --delay-ms plus --step-ms per top-level context member,
an incremental one --step-ms per changed member):
  exact        lane without near-miss features (exact keys only)
  incremental  + incremental = true (a miss is patched from the same goal's
               closest cached context when the change impact is <= 0.3)
  predictive   + predict = true (after every --batch requests one predictor
               pass, POST /v1/predict, and the bench waits for its runs:
               the timer's passes, made deterministic)
The workload (fixed seed): playbook-like contexts (playbook, hosts, env,
region, version, replicas, vars, tasks, become, serial) for 12 goals picked
Zipf-like; each event (probabilities in workload()) repeats the goal's
last request (30 %), asks an older variant again (10 %), starts a new
release -- one member changed -- at dev (6 %), hotfixes one member where
the release is (2 %), or promotes the release to its next environment
(52 %: dev -> staging -> prod, then a new release at dev).
Planner-seconds spent come from the planner's own log (--calls-file: start
and end of every call); saved = exact's spent - the mode's; the server's own
figure is planner_ms_saved_incremental of /v1/stats. "Waited" is the
planner time callers sat through (their misses' compute_ms).

Part 2 -- every labelled pair of tests/neighbours/near_miss_pairs.h (parsed
from the header) against a lane with similar_goal_min_score = 0.90 (the
server's floor, the default), both ways: PUT the plan of b, look up a,
DELETE b (and a for b). A must-not lookup served is a wrong hit.

Standard library only. Prints the tables (markdown) and the commands.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402
from harness import Server, wait_until  # noqa: E402

PLANNER = os.path.join(ROOT, "examples", "planner.py")
PAIRS = os.path.join(ROOT, "tests", "neighbours", "near_miss_pairs.h")
ENVS = ("dev", "staging", "prod")
GOALS = [
    "deploy the web tier with site.yml", "roll out the api gateway", "patch the database hosts",
    "rotate the TLS certificates on the load balancers", "provision the monitoring stack",
    "upgrade the kubernetes workers", "configure the bastion hosts", "deploy the billing service",
    "migrate the search cluster", "harden the ssh configuration", "set up the log shippers",
    "restart the cache nodes",
]
MODES = {
    "exact": "",
    "incremental": "incremental = true\n",
    "predictive": "incremental = true\npredict = true\n",
}


# -- the workload ------------------------------------------------------------------

def base_context(rng, i):
    slug = re.sub(r"[^a-z]+", "-", GOALS[i].lower()).strip("-")
    return {"playbook": slug + ".yml", "hosts": rng.choice(["web", "api", "db", "edge", "ops"]),
            "region": rng.choice(["eu-west-1", "us-east-1", "ap-south-1"]),
            "version": "%s-1.0" % slug[:12], "replicas": rng.randint(2, 6),
            "vars": {"port": 8000 + i, "tls": True, "log_level": "info"},
            "tasks": ["install", "configure", "verify", "restart"], "become": True,
            "serial": "25%"}


def drift(rng, base):
    """`base` with one top-level member changed (a new release)."""
    new = json.loads(json.dumps(base))
    field = rng.choice(["version", "replicas", "vars", "serial", "tasks"])
    if field == "version":
        name, minor = new["version"].rsplit(".", 1)
        new["version"] = "%s.%d" % (name, int(minor) + 1)
    elif field == "replicas":
        new["replicas"] = rng.choice([r for r in range(2, 7) if r != new["replicas"]])
    elif field == "vars":
        new["vars"]["log_level"] = rng.choice(
            [v for v in ("info", "debug", "warn") if v != new["vars"]["log_level"]])
    elif field == "serial":
        new["serial"] = rng.choice([s for s in ("25%", "50%", "100%") if s != new["serial"]])
    else:
        new["tasks"] = new["tasks"] + ["smoke-test"] if len(new["tasks"]) < 6 else new["tasks"][:4]
    return new


def workload(seed, n):
    """[(goal, context)] of n requests."""
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(GOALS))]
    state = [{"base": base_context(rng, i), "stage": 0, "asked": []} for i in range(len(GOALS))]
    out = []
    while len(out) < n:
        i = rng.choices(range(len(GOALS)), weights)[0]
        s = state[i]
        roll = rng.random()
        if s["asked"] and roll < 0.30:  # the last request again
            context = s["asked"][-1]
        elif s["asked"] and roll < 0.40:  # an older variant again
            context = rng.choice(s["asked"])
        elif s["asked"] and roll < 0.46:  # a new release (one member changed) starts at dev
            s["base"], s["stage"] = drift(rng, s["base"]), 0
            context = dict(s["base"], env=ENVS[0])
        elif s["asked"] and roll < 0.48:  # a hotfix: one member changed where it is
            s["base"] = drift(rng, s["base"])
            context = dict(s["base"], env=ENVS[s["stage"]])
        else:  # promote: the next environment; after prod, a new release at dev
            if s["asked"]:
                s["stage"] += 1
                if s["stage"] == len(ENVS):
                    s["stage"] = 0
                    s["base"] = drift(rng, s["base"])
            context = dict(s["base"], env=ENVS[s["stage"]])
        s["asked"].append(context)
        out.append((GOALS[i], context))
    return out


# -- one mode ----------------------------------------------------------------------

def start_planner(workdir, args):
    port_file = os.path.join(workdir, "planner.port")
    calls = os.path.join(workdir, "calls.jsonl")
    proc = subprocess.Popen(["/usr/bin/python3", PLANNER, "--port", "0", "--port-file", port_file,
                             "--incremental", "--delay-ms", str(args.delay_ms), "--step-ms",
                             str(args.step_ms), "--calls-file", calls],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    port = wait_until(lambda: os.path.exists(port_file) and open(port_file).read().strip(),
                      "the planner's port file")
    return proc, int(port), calls


def planner_log(calls):
    if not os.path.exists(calls):
        return []
    with open(calls) as f:
        return [json.loads(line) for line in f if line.strip()]


def request(server, method, path, body=None):
    res = server.request(method, path, body, timeout_s=120)
    if res.status != 200:
        raise SystemExit("%s %s -> %d %s\n%s" % (method, path, res.status, res.body[:300],
                                                  server.log()[-2000:]))
    return res.json()


def lane_stats(server, ns):
    return request(server, "GET", "/v1/stats")["namespaces"].get(ns, {}).get("near_miss", {})


def predict_pass(server):
    request(server, "POST", "/v1/predict?namespace=bench")
    wait_until(lambda: lane_stats(server, "bench")["predict"]["running"] == 0 and
               request(server, "GET", "/v1/stats")["planning"]["inflight"] == 0,
               "the pass's predictions to end", timeout_s=120)


def run_mode(mode, requests, args, workdir):
    os.makedirs(workdir)
    planner, port, calls = start_planner(workdir, args)
    config = os.path.join(workdir, "plancache.toml")
    with open(config, "w") as f:
        f.write('planner_url = "http://127.0.0.1:%d/plan"\nplanner_incremental = true\n'
                "predict_interval_s = 3600\n\n[namespaces.bench]\ndefault_ttl_s = 3600\n%s"
                % (port, MODES[mode]))
    server = Server(["--config", config])
    result = {"mode": mode, "requests": len(requests), "misses": 0, "incremental_answers": 0,
              "waited_ms": 0}
    try:
        start = time.monotonic()
        for n, (goal, context) in enumerate(requests, 1):
            answer = request(server, "POST", "/v1/plans",
                             {"goal": goal, "context": context, "namespace": "bench"})
            if not answer["cached"]:
                result["misses"] += 1
                result["waited_ms"] += answer["compute_ms"]
                result["incremental_answers"] += 1 if answer.get("incremental") else 0
            if mode == "predictive" and n % args.batch == 0:
                predict_pass(server)
        result["wall_s"] = time.monotonic() - start
        log = planner_log(calls)
        result["planner_calls"] = len(log)
        result["planner_s"] = sum(c["end"] - c["start"] for c in log)
        result["incremental_calls"] = sum(1 for c in log if c.get("incremental"))
        stats = lane_stats(server, "bench")
        result["saved_s_server"] = stats.get("planner_ms_saved_incremental", 0) / 1000.0
        for name in ("predictions_started", "predictions_used", "predictions_wasted",
                     "predictions_dropped_busy"):
            result[name] = stats.get(name, 0)
    finally:
        server.close()
        planner.kill()
        planner.wait()
    return result


# -- the labelled pairs --------------------------------------------------------------

def parse_pairs(path):
    """{"kMustNotServe": [(a, b, reason)], "kSafeRewordings": [...]} from the header."""
    text = open(path).read()
    literal = r'"((?:[^"\\]|\\.)*)"'
    pair = re.compile(r"NearMissPair\{\s*%s,\s*%s,\s*%s\s*\}" % (literal, literal, literal))
    out = {}
    for name in ("kMustNotServe", "kSafeRewordings"):
        start = text.index(name + " = {")
        end = text.index("};", start)
        decode = lambda s: s.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        out[name] = [tuple(decode(g) for g in m.groups()) for m in pair.finditer(text[start:end])]
    return out


def run_pairs(pairs, workdir):
    os.makedirs(workdir)
    config = os.path.join(workdir, "plancache.toml")
    with open(config, "w") as f:
        f.write("[namespaces.sim]\nsimilar_goal_min_score = 0.90\n")
    server = Server(["--config", config])
    served = {}
    try:
        for name, items in pairs.items():
            served[name] = []
            for a, b in [(x, y) for x, y, _ in items] + [(y, x) for x, y, _ in items]:
                body = {"goal": b, "context": {"team": "ops"}, "namespace": "sim"}
                res = server.request("PUT", "/v1/plans", dict(body, plan={"for": b}))
                assert res.status == 201, res
                got = server.request("POST", "/v1/plans/lookup",
                                     {"goal": a, "context": {"team": "ops"}, "namespace": "sim"})
                if got.status == 200 and got.json().get("match") == "similar":
                    served[name].append((a, b, got.json()["score"]))
                server.request("DELETE", "/v1/plans", body)
    finally:
        server.close()
    return served


# -- the report ----------------------------------------------------------------------

def report(results, served, pairs, args):
    base = results[0]["planner_s"]
    print("Workload: %d requests, seed %d, planner --delay-ms %d --step-ms %d, a pass every %d "
          "requests (predictive)\n" % (args.requests, args.seed, args.delay_ms, args.step_ms,
                                       args.batch))
    print("| mode | planner calls (incremental) | planner-s spent | saved vs exact | saved "
          "(server's figure) | caller misses | caller-waited planner-s | predictions "
          "started / used / wasted / dropped | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print("| %s | %d (%d) | %.1f | %.1f (%.0f %%) | %.1f | %d of %d | %.1f | %s | %.0f |" % (
            r["mode"], r["planner_calls"], r["incremental_calls"], r["planner_s"],
            base - r["planner_s"], 100.0 * (base - r["planner_s"]) / base if base else 0,
            r["saved_s_server"], r["misses"], r["requests"], r["waited_ms"] / 1000.0,
            "%d / %d / %d / %d" % (r["predictions_started"], r["predictions_used"],
                                   r["predictions_wasted"], r["predictions_dropped_busy"])
            if r["mode"] == "predictive" else "-", r["wall_s"]))
    must, safe = served["kMustNotServe"], served["kSafeRewordings"]
    total = len(must) + len(safe)
    print("\nSimilar-goal path at similar_goal_min_score = 0.90 (the floor), %d labelled pairs, "
          "each looked up both ways:\n"
          % (len(pairs["kMustNotServe"]) + len(pairs["kSafeRewordings"])))
    print("| lookups | served | wrong hits | wrong-hit rate of served |")
    print("|---|---|---|---|")
    print("| must not serve | %d of %d | %d | |" % (len(must), 2 * len(pairs["kMustNotServe"]),
                                                    len(must)))
    print("| safe rewordings | %d of %d | 0 | |" % (len(safe), 2 * len(pairs["kSafeRewordings"])))
    print("| all | %d | %d | %.1f %% |" % (total, len(must),
                                            100.0 * len(must) / total if total else 0))
    for a, b, score in must:
        print("  wrong: %r served %r (score %.3f)" % (a, b, score))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--batch", type=int, default=5, help="requests between predictor passes")
    parser.add_argument("--delay-ms", type=int, default=250)
    parser.add_argument("--step-ms", type=int, default=25)
    parser.add_argument("--json", metavar="F", help="also write the figures to F")
    args = parser.parse_args()
    harness.BINARY = os.path.abspath(args.binary)
    requests = workload(args.seed, args.requests)
    pairs = parse_pairs(PAIRS)
    workdir = tempfile.mkdtemp(prefix="plancache-bench-near-miss-")
    try:
        results = [run_mode(mode, requests, args, os.path.join(workdir, mode)) for mode in MODES]
        served = run_pairs(pairs, os.path.join(workdir, "pairs"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(results, served, pairs, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"modes": results, "pairs_served": served}, f, indent=1)


if __name__ == "__main__":
    main()
