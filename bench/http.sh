#!/usr/bin/env bash
# bench/http.sh: the HTTP hit path of plancache against redis-server, side by
# side in one run on this machine (SPEC §5: plancache lookups >= 0.5x
# redis-server GET ops/s at the same value size and concurrency; hit p99 < 2 ms).
#
#   bench/http.sh [path/to/plancache]        (default: build/release/plancache)
#
# 1. starts `plancache serve` on 127.0.0.1 (free port, memory tier only),
#    preloads 1,000 plans of 4 KB (PUT /v1/plans), runs
#    `wrk -t2 -c16 -d10s --latency` of POST /v1/plans/lookup cycling through
#    the 1,000 goals (100 % hits; bench/http/lookup.lua), checks no miss;
# 2. starts `redis-server` on 127.0.0.1 (free port, no persistence),
#    preloads 1,000 keys of 4096 bytes, runs
#    `redis-benchmark -t get -d 4096 -c 16 -n N -r 1000`;
# 3. prints both throughputs, the latency percentiles and the ratio.
# It builds nothing (`make bench` builds first). Servers it started are
# stopped on exit. Every process it starts listens on 127.0.0.1 only.
#
# Environment:
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

# ---------------------------------------------------------------- plancache
pc_port="$(free_port)"
"$bin" serve --host 127.0.0.1 --port "$pc_port" --data-dir '' --log-level warn \
  --io-threads "$io_threads" --l1-max-entries 100000 >"$work/plancache.log" 2>&1 &
pids+=($!)
wait_for "plancache on port $pc_port" curl -sf "http://127.0.0.1:$pc_port/healthz"
pc_url="http://127.0.0.1:$pc_port"

# Preload: PLANS plans whose JSON text is exactly PLAN_BYTES bytes.
"$py" - "$pc_port" "$plans" "$plan_bytes" <<'PY'
import http.client, json, sys
port, plans, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for i in range(plans):
    plan = {"goal_id": i, "steps": ["checkout", "build", "test", "deploy"], "pad": ""}
    plan["pad"] = "x" * (size - len(json.dumps(plan, separators=(",", ":"))))
    body = json.dumps({"goal": "bench goal %04d" % i, "plan": plan, "ttl_s": 0},
                      separators=(",", ":"))
    conn.request("PUT", "/v1/plans", body, {"Content-Type": "application/json"})
    res = conn.getresponse()
    res.read()
    if res.status != 201:
        sys.exit("preload: PUT /v1/plans answered %d" % res.status)
conn.close()
PY
stats_misses() {
  curl -sf "$pc_url/v1/stats" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["cache"]["misses"])'
}
misses_before="$(stats_misses)"
size_check="$(curl -sf -X POST -H 'Content-Type: application/json' \
  -d '{"goal":"bench goal 0000"}' "$pc_url/v1/plans/lookup" | wc -c)"

echo "plancache: wrk -t$wrk_threads -c$connections -d$duration --latency (POST /v1/plans/lookup, $plans goals, ${plan_bytes} B plans, answer $size_check B)" >&2
wrk -t"$wrk_threads" -c"$connections" -d"$duration" --latency \
  -s "$root/bench/http/lookup.lua" "$pc_url" >"$work/wrk.txt" 2>&1 || { cat "$work/wrk.txt" >&2; die "wrk failed"; }
cat "$work/wrk.txt" >&2
misses_after="$(stats_misses)"
wrk_line="$(grep '^WRK_RESULT ' "$work/wrk.txt")" || die "no WRK_RESULT line in the wrk output"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $wrk_line"; }
pc_rps="$(field rps)"; pc_p50="$(field p50_us)"; pc_p99="$(field p99_us)"
pc_p999="$(field p999_us)"; pc_errors="$(( $(field errors_status) + $(field errors_socket) ))"
pc_misses=$(( misses_after - misses_before ))

# -------------------------------------------------------------------- redis
redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
wait_for "redis-server on port $redis_port" redis-cli -p "$redis_port" ping
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
report="$("$py" - "$pc_rps" "$pc_p50" "$pc_p99" "$pc_p999" "$pc_errors" "$pc_misses" \
  "$redis_rps" "$redis_p50" "$redis_p99" <<PY
import sys
pc_rps, pc_p50, pc_p99, pc_p999 = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pc_errors, pc_misses = int(sys.argv[5]), int(sys.argv[6])
redis_rps, redis_p50, redis_p99 = float(sys.argv[7]), float(sys.argv[8]), float(sys.argv[9])
ratio = pc_rps / redis_rps if redis_rps else float("nan")
print("== bench/http.sh (%s, %d B values, %d connections, %s cores) ==" % (
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)", $plan_bytes, $connections, "$(nproc)"))
print("plancache lookup  : %9.0f req/s  p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  errors %d  misses %d"
      % (pc_rps, pc_p50 / 1000, pc_p99 / 1000, pc_p999 / 1000, pc_errors, pc_misses))
print("    wrk -t$wrk_threads -c$connections -d$duration --latency -s bench/http/lookup.lua (POST /v1/plans/lookup)")
print("redis-server GET  : %9.0f ops/s  p50 %.3f ms  p99 %.3f ms" % (redis_rps, redis_p50, redis_p99))
print("    redis-benchmark -t get -d $plan_bytes -c $connections -n $redis_requests -r $plans")
print("ratio plancache/redis: %.2f   (target >= 0.5: %s)" % (ratio, "PASS" if ratio >= 0.5 else "FAIL"))
print("plancache hit p99    : %.3f ms (target < 2 ms: %s)" % (pc_p99 / 1000, "PASS" if pc_p99 < 2000 else "FAIL"))
print("100 %% hits          : %s" % ("PASS" if pc_misses == 0 and pc_errors == 0 else
                                     "FAIL (%d misses, %d errors)" % (pc_misses, pc_errors)))
PY
)"
echo "$report"
if [[ -n "${BENCH_OUT:-}" ]]; then
  echo "$report" >>"$BENCH_OUT"
fi
