#!/usr/bin/env bash
# Memory tier vs Caffeine, same workload, same run (SPEC §5 memory-tier bar).
# Usage: bench/peers/caffeine.sh [build-dir]   (default build/release; `make bench-peers`)
# Needs javac/java and libcaffeine-java (deps/debian-packages.txt).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build/release}"
seconds="${SECONDS_PER_CASE:-3}"
jar=/usr/share/java/caffeine.jar
[[ -f "$jar" ]] || { echo "caffeine.sh: $jar missing (apt-get install libcaffeine-java)" >&2; exit 2; }
[[ -x "$build/bench/memory_tier_bench" ]] || { echo "caffeine.sh: build $build/bench/memory_tier_bench first (make build)" >&2; exit 2; }
out="$build/peers/caffeine"
mkdir -p "$out"
javac -d "$out" -cp "$jar" "$root/bench/peers/caffeine/CaffeineBench.java"

caffeine="$(java -Xms1g -Xmx1g -cp "$jar:$out" CaffeineBench "$seconds")"
ours="$("$build/bench/memory_tier_bench" --benchmark_filter='BM_GetHit/tinylfu/' \
        --benchmark_min_time="$seconds" --benchmark_format=csv 2>/dev/null)"

echo "== memory tier (W-TinyLFU) vs Caffeine 2.6.2, Zipf(0.99) hits, $(date -u +%FT%TZ) =="
for keys in 100000 1000; do
  for threads in 1 2; do
    c="$(awk -v k="keys=$keys" -v t="threads=$threads" '$2==k && $3==t {sub("ops_per_s=","",$4); print $4}' <<<"$caffeine")"
    p="$(grep "BM_GetHit/tinylfu/keys:$keys/real_time/threads:$threads\"" <<<"$ours" | python3 -c 'import csv,sys; r=next(csv.reader(sys.stdin)); print(r[6])')"
    printf 'keys=%-6s threads=%s  plancache %10.0f ops/s   caffeine %10.0f ops/s   ratio %.2f\n' \
      "$keys" "$threads" "$p" "$c" "$(python3 -c "print($p/$c)")"
  done
done
