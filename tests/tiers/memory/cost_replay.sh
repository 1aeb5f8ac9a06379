#!/bin/sh
# Reruns the measurement behind EvictionPolicy::kCost (docs/decisions.md,
# "Cost-aware eviction"): every trace of ../shared/traces through
# cost_replay with lru, tinylfu, cost and gdsf at three or more sizes.
#   tests/tiers/memory/cost_replay.sh [BUILD_DIR] [TRACES_DIR]
# BUILD_DIR defaults to build/release (build the target first:
# `ninja -C BUILD_DIR cost_replay`). Takes ~3 minutes on one core.
set -eu
build=${1:-build/release}
traces=${2:-${PLANCACHE_TRACES_DIR:-../shared/traces}}
tool="$build/tests/tiers/memory/cost_replay"
[ -x "$tool" ] || { echo "no $tool: ninja -C $build cost_replay" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
policies=lru,tinylfu,cost,gdsf

echo "## synthetic plan workload (byte bound = share of the distinct plans' bytes)"
"$tool" --format synthetic --bytes --fractions 0.01,0.03,0.1,0.3 --policies "$policies"
echo "## the same, costs hidden from the policy (compute_ms 0), priority hints on"
"$tool" --format synthetic --bytes --fractions 0.01,0.03,0.1,0.3 --policies tinylfu,cost \
  --hide-costs
"$tool" --format synthetic --bytes --fractions 0.01,0.03,0.1,0.3 --policies cost \
  --hide-costs --hints | tail -n +3

echo "## penalties-gcc (cost = miss penalty; entry bound)"
xz -dc "$traces/penalties-gcc.trace.xz" > "$tmp/gcc"
"$tool" --format gcc --trace "$tmp/gcc" --sizes 25,50,100,250 --policies "$policies"

echo "## traces without costs (saved = hits; entry bound = share of the distinct keys)"
for f in "$traces"/lirs-*.trace.gz; do
  name=$(basename "$f" .trace.gz)
  gzip -dc "$f" > "$tmp/t"
  echo "# $name"
  "$tool" --format lirs --trace "$tmp/t" --policies "$policies" | tail -n +3
done
gzip -dc "$traces/arc-oltp.trace.gz" > "$tmp/t"
echo "# arc-oltp"
"$tool" --format arc --trace "$tmp/t" --sizes 1000,2000,5000 --policies "$policies" | tail -n +3
