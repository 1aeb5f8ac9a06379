#!/usr/bin/env bash
# bench/http.sh: the HTTP hit path of plancache against redis-server, side by
# side in one run on this machine (SPEC §5: plancache lookups >= 0.5x
# redis-server GET ops/s at the same value size and concurrency; hit p99 < 2 ms;
# issue 3: hits served by the disk tier (L2), p99 < 1 ms, beside the L1 figures).
#
#   bench/http.sh [path/to/plancache]        (default: build/release/plancache)
#
# 1. L1: starts `plancache serve` on 127.0.0.1 (free port, memory tier only),
#    preloads 1,000 plans of 4 KB (PUT /v1/plans; realistic, all different:
#    bench/plans.py), runs `wrk -t2 -c16 -d10s --latency` of
#    POST /v1/plans/lookup cycling through the 1,000 goals (100 % hits;
#    bench/http/lookup.lua), checks no miss;
# 2. L2: starts `plancache serve --data-dir <tmp> --l1-max-entries 1`, preloads
#    the same plans, stops it (SIGTERM) and starts it again on the same
#    directory, so the plans are read back from RocksDB's files (as after a
#    restart), not from the write buffer; with one L1 entry for 1,000 goals
#    visited in turn, every lookup misses L1 and is served by L2 (then
#    promoted to L1, evicting the previous one). Same wrk run; checks that
#    >= 99 % of the hits were L2 hits (/v1/stats l1_hits, l2_hits);
# 2b. rt (read-through, issue 4): the L1 run again with the example planner
#    behind it (--planner-cmd examples/planner.py), the same preloaded plans
#    and the same wrk run, but of the read-through POST /v1/plans: every
#    request is a hit answered without the planner; compared with the plain
#    lookup of the L1 run (`make bench-http-rt`: TIERS="l1 rt");
# 2c. shared (issue 11): the default lane on the shared tier only
#    (`[namespaces.default] tiers = ["shared"]`, no L1, no L2), on the same
#    redis-server as step 3 (db 1, so step 3's db 0 holds only its keys):
#    every lookup is a Redis GET by plancache, envelope check and answer,
#    off the I/O thread (`make bench-http-shared`: TIERS="l1 shared");
# 3. starts `redis-server` on 127.0.0.1 (free port, no persistence),
#    preloads 1,000 keys of 4096 bytes, runs
#    `redis-benchmark -t get -d 4096 -c 16 -n N -r 1000`;
# 4. prints the throughputs, the latency percentiles and the ratios.
# It builds nothing (`make bench` builds first). Servers it started are
# stopped on exit. Every process it starts listens on 127.0.0.1 only. The
# files of the L2 run are in a temporary directory (the OS page cache holds
# them: this is a warm-cache L2 hit, RocksDB block read + checksum + zstd
# decode + promotion, not a cold disk read).
#
# Environment:
#   TIERS="l1 l2 rt"      which plancache runs: l1, l2, rt, shared (`make bench-http-l2`: l2;
#                         `make bench-http-rt`: l1 rt)
#   DURATION=10s          wrk duration
#   WRK_THREADS=2 CONNECTIONS=16
#   REDIS_REQUESTS=300000 redis-benchmark -n
#   PLAN_BYTES=4096 PLANS=1000
#   IO_THREADS=1          plancache --io-threads (0 = one per core). Default 1: the
#                         load generator shares this box's cores, and redis-server,
#                         the peer, serves from one thread too (docs/decisions.md)
#   BENCH_OUT=file        also append the result block to this file
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-${PLANCACHE_BIN:-$root/build/release/plancache}}"
duration="${DURATION:-10s}"
wrk_threads="${WRK_THREADS:-2}"
connections="${CONNECTIONS:-16}"
redis_requests="${REDIS_REQUESTS:-300000}"
plan_bytes="${PLAN_BYTES:-4096}"
plans="${PLANS:-1000}"
io_threads="${IO_THREADS:-1}"
tiers="${TIERS:-l1 l2 rt}"
py=/usr/bin/python3

die() { echo "bench/http.sh: $*" >&2; exit 1; }
[[ -x "$bin" ]] || die "no plancache binary at $bin (build it first: make bench, or pass its path)"
for tool in wrk redis-server redis-benchmark redis-cli curl "$py"; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh installs it)"
done

work="$(mktemp -d -t plancache-bench-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for DESCRIPTION COMMAND...: polls COMMAND every 50 ms for at most 10 s.
wait_for() {
  local what="$1"; shift
  for _ in $(seq 200); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  die "timed out waiting for $what"
}

# redis-server: the peer (step 3), and the shared tier's store (step 2c).
redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
wait_for "redis-server on port $redis_port" redis-cli -p "$redis_port" ping

# ---------------------------------------------------------------- plancache
# start_plancache PORT EXTRA-FLAGS...: starts `plancache serve`, sets pc_pid.
start_plancache() {
  local port="$1"; shift
  "$bin" serve --host 127.0.0.1 --port "$port" --log-level warn --io-threads "$io_threads" \
    "$@" >>"$work/plancache.log" 2>&1 &
  pc_pid=$!
  pids+=("$pc_pid")
  wait_for "plancache on port $port" curl -sf "http://127.0.0.1:$port/healthz"
}

stop_plancache() {
  kill -TERM "$pc_pid"
  wait "$pc_pid" || die "plancache serve exited with $? on SIGTERM (log: $(tail -5 "$work/plancache.log"))"
}

# Preload: PLANS plans whose JSON text is exactly PLAN_BYTES bytes.
preload() {
  "$py" - "$1" "$plans" "$plan_bytes" "$root/bench" <<'PY'
import http.client, sys
port, plans, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, sys.argv[4])
import plans as gen
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for i in range(plans):
    body = '{"goal":"bench goal %04d","ttl_s":0,"plan":%s}' % (i, gen.make_plan(i, size))
    conn.request("PUT", "/v1/plans", body, {"Content-Type": "application/json"})
    res = conn.getresponse()
    res.read()
    if res.status != 201:
        sys.exit("preload: PUT /v1/plans answered %d" % res.status)
conn.close()
PY
}

# stats URL: "misses l1_hits l2_hits shared_hits" from /v1/stats.
stats() {
  curl -sf "$1/v1/stats" | "$py" -c 'import json,sys; s=json.load(sys.stdin); sh=[t["hits"] for t in s["tiers"] if t["name"]=="shared"]; print(s["cache"]["misses"], s["l1_hits"], s.get("l2_hits", 0), sh[0] if sh else 0)'
}

# bench_tier l1|l2|rt: one wrk run against a fresh server; sets pc_<tier>_* fields.
bench_tier() {
  local tier="$1" port url flags path=/v1/plans/lookup hit_tier="$1"
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  if [[ "$tier" == l1 ]]; then
    flags=(--data-dir '' --l1-max-entries 100000)
    start_plancache "$port" "${flags[@]}"
    preload "$port"
  elif [[ "$tier" == rt ]]; then
    flags=(--data-dir '' --l1-max-entries 100000
           --planner-cmd "$py $root/examples/planner.py --stdin")
    path=/v1/plans
    hit_tier=l1
    start_plancache "$port" "${flags[@]}"
    preload "$port"
  elif [[ "$tier" == shared ]]; then
    printf '[namespaces.default]\ntiers = ["shared"]\n' >"$work/shared.toml"
    flags=(--data-dir '' --redis-url "redis://127.0.0.1:$redis_port/1" --config "$work/shared.toml")
    start_plancache "$port" "${flags[@]}"
    wait_for "the shared tier connected" sh -c "curl -sf $url/v1/stats | grep -q '\"shared_connected\":true'"
    preload "$port"
  else
    flags=(--data-dir "$work/l2-data" --l1-max-entries 1)
    start_plancache "$port" "${flags[@]}"
    preload "$port"
    stop_plancache  # restart: the plans are read back from RocksDB's files
    start_plancache "$port" "${flags[@]}"
  fi
  local before after answer
  read -r -a before <<<"$(stats "$url")"
  answer="$(curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"goal":"bench goal 0000"}' "$url$path")"
  [[ "$answer" == *"\"tier\":\"$hit_tier\""* ]] || die "$tier run: the first request was not an $hit_tier hit: ${answer:0:200}"
  echo "plancache $tier: wrk -t$wrk_threads -c$connections -d$duration --latency (POST $path, $plans goals, ${plan_bytes} B plans, answer ${#answer} B; serve ${flags[*]})" >&2
  PLANCACHE_BENCH_PATH="$path" wrk -t"$wrk_threads" -c"$connections" -d"$duration" --latency \
    -s "$root/bench/http/lookup.lua" "$url" >"$work/wrk.txt" 2>&1 || { cat "$work/wrk.txt" >&2; die "wrk failed"; }
  cat "$work/wrk.txt" >&2
  read -r -a after <<<"$(stats "$url")"
  stop_plancache
  local wrk_line
  wrk_line="$(grep '^WRK_RESULT ' "$work/wrk.txt")" || die "no WRK_RESULT line in the wrk output"
  field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $wrk_line"; }
  local l1_hits=$(( after[1] - before[1] )) l2_hits=$(( after[2] - before[2] ))
  printf -v "pc_${tier}_shared_hits" '%s' "$(( after[3] - before[3] ))"
  printf -v "pc_${tier}_rps" '%s' "$(field rps)"
  printf -v "pc_${tier}_p50" '%s' "$(field p50_us)"
  printf -v "pc_${tier}_p99" '%s' "$(field p99_us)"
  printf -v "pc_${tier}_p999" '%s' "$(field p999_us)"
  printf -v "pc_${tier}_errors" '%s' "$(( $(field errors_status) + $(field errors_socket) ))"
  printf -v "pc_${tier}_misses" '%s' "$(( after[0] - before[0] ))"
  printf -v "pc_${tier}_l1_hits" '%s' "$l1_hits"
  printf -v "pc_${tier}_l2_hits" '%s' "$l2_hits"
}

for tier in $tiers; do
  case "$tier" in
    l1|l2|rt|shared) bench_tier "$tier" ;;
    *) die "TIERS: unknown tier '$tier' (l1, l2, rt, shared)" ;;
  esac
done

# -------------------------------------------------------------------- redis
# Preload key:000000000000 .. key:000000000999 (the names redis-benchmark -r
# uses) with PLAN_BYTES-byte values.
"$py" - "$plans" "$plan_bytes" <<'PY' | redis-cli -p "$redis_port" --pipe >/dev/null
import sys
plans, size = int(sys.argv[1]), int(sys.argv[2])
value = "x" * size
out = sys.stdout
for i in range(plans):
    key = "key:%012d" % i
    out.write("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, size, value))
PY
[[ "$(redis-cli -p "$redis_port" dbsize)" == "$plans" ]] || die "redis preload incomplete"

echo "redis: redis-benchmark -t get -d $plan_bytes -c $connections -n $redis_requests -r $plans" >&2
redis-benchmark -p "$redis_port" -t get -d "$plan_bytes" -c "$connections" -n "$redis_requests" \
  -r "$plans" --csv >"$work/redis.csv" 2>"$work/redis.err" || { cat "$work/redis.err" >&2; die "redis-benchmark failed"; }
cat "$work/redis.csv" >&2
# "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
redis_line="$(grep '^"GET"' "$work/redis.csv")" || die "no GET line in the redis-benchmark output"
IFS=, read -r _ redis_rps _ _ redis_p50 _ redis_p99 _ <<<"${redis_line//\"/}"

# ------------------------------------------------------------------- report
tier_args=()
for tier in $tiers; do
  v() { local name="pc_${tier}_$1"; echo "${!name}"; }
  tier_args+=("$tier" "$(v rps)" "$(v p50)" "$(v p99)" "$(v p999)" "$(v errors)" "$(v misses)" \
              "$(v l1_hits)" "$(v l2_hits)" "$(v shared_hits)")
done
report="$("$py" - "$redis_rps" "$redis_p50" "$redis_p99" "${tier_args[@]}" <<PY
import sys
redis_rps, redis_p50, redis_p99 = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
rows, rest = {}, sys.argv[4:]
while rest:
    t, rps, p50, p99, p999, errors, misses, l1, l2, shared = rest[:10]
    rest = rest[10:]
    rows[t] = dict(rps=float(rps), p50=int(p50), p99=int(p99), p999=int(p999), errors=int(errors),
                   misses=int(misses), l1=int(l1), l2=int(l2), shared=int(shared))
print("== bench/http.sh (%s, %d B values, %d connections, %s cores, load %s) ==" % (
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)", $plan_bytes, $connections, "$(nproc)", "$(cut -d' ' -f1 /proc/loadavg)"))
flags = {"l1": "--data-dir '' --l1-max-entries 100000",
         "l2": "--data-dir DIR --l1-max-entries 1, restarted after the preload",
         "rt": "--data-dir '' --l1-max-entries 100000 --planner-cmd examples/planner.py; POST /v1/plans",
         "shared": "--data-dir '' --redis-url redis://...:P/1, [namespaces.default] tiers = [\"shared\"]"}
hit_tier = {"l1": "l1", "l2": "l2", "rt": "l1", "shared": "shared"}
for t, r in rows.items():
    hits = r["l1"] + r["l2"] + r["shared"]
    share = 100.0 * r[hit_tier[t]] / hits if hits else 0.0
    print("plancache %s lookup: %9.0f req/s  p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  errors %d  misses %d  %s hits %.2f %%"
          % (t.upper(), r["rps"], r["p50"] / 1000, r["p99"] / 1000, r["p999"] / 1000, r["errors"],
             r["misses"], hit_tier[t].upper(), share))
    print("    serve $io_threads I/O thread(s) %s; wrk -t$wrk_threads -c$connections -d$duration --latency -s bench/http/lookup.lua" % flags[t])
print("redis-server GET   : %9.0f ops/s  p50 %.3f ms  p99 %.3f ms" % (redis_rps, redis_p50, redis_p99))
print("    redis-benchmark -t get -d $plan_bytes -c $connections -n $redis_requests -r $plans")
ok = True
for t, r in rows.items():
    ratio = r["rps"] / redis_rps if redis_rps else float("nan")
    # SPEC §5's bar is for memory-tier hits; an L2 hit also reads RocksDB.
    target = "   (target >= 0.5: %s)" % ("PASS" if ratio >= 0.5 else "FAIL") if t in ("l1", "rt") else ""
    print("ratio plancache %s/redis: %.2f%s" % (t.upper(), ratio, target))
if "l1" in rows and "l2" in rows:
    print("ratio L2/L1          : %.2f" % (rows["l2"]["rps"] / rows["l1"]["rps"]))
if "l1" in rows and "rt" in rows:
    ratio = rows["rt"]["rps"] / rows["l1"]["rps"]
    print("ratio read-through/lookup: %.2f (target >= 0.90: %s)" % (ratio, "PASS" if ratio >= 0.9 else "FAIL"))
limits = {"l1": 2000, "l2": 1000, "rt": 2000}
for t, r in rows.items():
    if t not in limits:
        continue
    print("plancache %s hit p99 : %.3f ms (target < %d ms: %s)" % (
        t.upper(), r["p99"] / 1000, limits[t] // 1000, "PASS" if r["p99"] < limits[t] else "FAIL"))
for t, r in rows.items():
    hits = r["l1"] + r["l2"] + r["shared"]
    clean = r["misses"] == 0 and r["errors"] == 0 and (hits == 0 or r[hit_tier[t]] >= 0.99 * hits)
    print("100 %% hits, from %s   : %s" % (hit_tier[t].upper(), "PASS" if clean else
          "FAIL (%d misses, %d errors, %d L1 / %d L2 / %d shared hits)" % (
              r["misses"], r["errors"], r["l1"], r["l2"], r["shared"])))
PY
)"
echo "$report"
if [[ -n "${BENCH_OUT:-}" ]]; then
  echo "$report" >>"$BENCH_OUT"
fi
