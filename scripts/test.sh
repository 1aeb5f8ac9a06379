#!/usr/bin/env bash
# The test command behind `make test` (and so CI). Stages, each optional by name:
#   release  Release build; every ctest test (unit + integration over real sockets)
#   asan     ASan+UBSan build; the unit tests again
#   fuzz     libFuzzer targets, FUZZ_SECONDS (default 30) each
# Prints one closing line "tests: N passed, M failed" summed over the ctest runs.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
stages=("$@")
((${#stages[@]})) || stages=(release asan fuzz)
jobs="$(nproc)"
passed=0
failed=0
status=0

# run_ctest <build-dir> [ctest args...]: runs ctest, adds its counts to the totals.
run_ctest() {
  local dir="$1"; shift
  local log
  log="$(mktemp)"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line
  line="$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)"
  if [[ -n "$line" ]]; then
    local nfail ntotal
    nfail="$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")"
    ntotal="$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")"
    passed=$((passed + ntotal - nfail))
    failed=$((failed + nfail))
  elif ((rc != 0)); then
    failed=$((failed + 1))
  fi
  rm -f "$log"
  ((rc == 0)) || status=1
}

# ccache (deps/debian-packages.txt) makes a rebuild of unchanged sources a
# cache hit, also from another checkout of the tree: paths under the checkout
# are hashed relative to it. A cold cache costs what no cache costs.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

build() {
  local dir="$1"; shift
  cmake -S . -B "$dir" -G Ninja "${launcher[@]}" "$@" >/dev/null || return 1
  cmake --build "$dir" -j "$jobs"
}

for stage in "${stages[@]}"; do
  echo "=== test stage: $stage"
  case "$stage" in
    release)
      if build build/release -DCMAKE_BUILD_TYPE=Release; then
        run_ctest build/release
      else
        echo "release build failed"; status=1; failed=$((failed + 1))
      fi ;;
    asan)
      if build build/asan -DCMAKE_BUILD_TYPE=Debug -DPLANCACHE_SANITIZE=ON -DPLANCACHE_BENCH=OFF; then
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
          run_ctest build/asan -L unit
      else
        echo "asan build failed"; status=1; failed=$((failed + 1))
      fi ;;
    fuzz)
      if scripts/run-fuzzers.sh "${FUZZ_SECONDS:-30}"; then
        passed=$((passed + 1))
      else
        echo "fuzzing found a failure"; status=1; failed=$((failed + 1))
      fi ;;
    *) echo "unknown stage '$stage' (expected release, asan or fuzz)" >&2; exit 2 ;;
  esac
done

echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
