#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (ASan + UBSan) in build/fuzz and
# runs each one for a bounded time over a scratch copy of its seed corpus
# (fuzz/corpus/<target>/ is never modified).
#
#   scripts/run-fuzzers.sh [seconds-per-target]     (default 60)
#
# Exits non-zero when a target crashes or a property check fails; the input
# that did it is kept in build/fuzz/artifacts/<target>/ and the log in
# build/fuzz/logs/<target>.log.
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: $0 [seconds-per-target]  (a positive integer; got '$seconds')" >&2
  exit 2
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/fuzz"
targets=(entry_decoder_fuzz key_builder_fuzz)

for tool in clang-14 clang++-14 cmake ninja; do
  command -v "$tool" >/dev/null || { echo "run-fuzzers: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done

# A cache made by another compiler cannot be switched to clang in place.
if [[ -f "$build/CMakeCache.txt" ]] && ! grep -q 'CMAKE_CXX_COMPILER:.*clang++-14' "$build/CMakeCache.txt"; then
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
fi

echo "run-fuzzers: configuring $build (clang-14, libFuzzer, ASan, UBSan)"
CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O1 -fsanitize=fuzzer-no-link" \
  -DPLANCACHE_FUZZ=ON -DPLANCACHE_SANITIZE=ON -DPLANCACHE_BENCH=OFF >"$build.configure.log" 2>&1 \
  || { cat "$build.configure.log" >&2; exit 1; }
ninja -C "$build" -j2 "${targets[@]}"

mkdir -p "$build/logs"
failed=()
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  artifacts="$build/artifacts/$target"
  log="$build/logs/$target.log"
  rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts"
  if [[ -d "$root/fuzz/corpus/$target" ]]; then
    cp -R "$root/fuzz/corpus/$target/." "$corpus/"
  fi
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  if [[ -f "$root/fuzz/$target.dict" ]]; then
    args+=(-dict="$root/fuzz/$target.dict")
  fi
  echo "run-fuzzers: $target for ${seconds}s"
  set +e
  "$build/fuzz/$target" "${args[@]}" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs|stat::peak_rss_mb)' "$log" || true
  if ((rc != 0)); then
    echo "run-fuzzers: $target FAILED (exit $rc); log: $log" >&2
    tail -n 40 "$log" >&2
    failed+=("$target")
  else
    echo "run-fuzzers: $target ok ($(ls "$corpus" | wc -l) corpus files)"
  fi
done

if ((${#failed[@]} > 0)); then
  echo "run-fuzzers: failed: ${failed[*]}" >&2
  exit 1
fi
echo "run-fuzzers: all ${#targets[@]} targets ran ${seconds}s each without a crash"
