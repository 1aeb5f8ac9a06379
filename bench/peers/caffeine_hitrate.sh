#!/usr/bin/env bash
# Caffeine's hit rate on a key stream, several cache sizes in one pass: the peer
# column of the hit-rate tables (bench/hitrate.sh, docs/benchmarks.md, SPEC §5).
#
# Usage: bench/peers/caffeine_hitrate.sh [--runs K] [--cleanup] SIZE... < keys
#   keys: one decimal integer per line, e.g. `zcat ../shared/traces/lirs-gli.trace.gz`
#         or `plancache simulate --trace FILE --print-keys` for any trace format.
#   Prints one JSON object (bench/peers/caffeine/CaffeineHitRate.java documents it).
# Env: PEER_BUILD_DIR (default build/release/peers/caffeine-hitrate), JAVA_OPTS (default -Xmx2g).
# Needs javac/java and libcaffeine-java (deps/debian-packages.txt).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/bench/peers/caffeine/CaffeineHitRate.java"
out="${PEER_BUILD_DIR:-$root/build/release/peers/caffeine-hitrate}"

# The jar: from the package's file list, else the usual place.
jar="$(dpkg -L libcaffeine-java 2>/dev/null | grep -E '/caffeine(-[0-9][^/]*)?\.jar$' | head -n1 || true)"
[[ -n "$jar" && -f "$jar" ]] || jar=/usr/share/java/caffeine.jar
[[ -f "$jar" ]] || { echo "caffeine_hitrate.sh: no caffeine jar (apt-get install libcaffeine-java)" >&2; exit 2; }
command -v javac >/dev/null || { echo "caffeine_hitrate.sh: javac missing (apt-get install default-jdk-headless)" >&2; exit 2; }
version="$(dpkg-query -W -f='${Version}' libcaffeine-java 2>/dev/null || echo unknown)"

mkdir -p "$out"
if [[ ! -f "$out/CaffeineHitRate.class" || "$src" -nt "$out/CaffeineHitRate.class" ]]; then
  javac -nowarn -d "$out" -cp "$jar" "$src"
fi
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:--Xmx2g} -Dcaffeine.version="$version" -cp "$jar:$out" CaffeineHitRate "$@"
