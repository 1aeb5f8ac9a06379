#!/usr/bin/env bash
# The test command behind `make test` (and so CI). Stages, each optional by name:
#   release  Release build; every ctest test (unit + integration over real sockets)
#   asan     ASan+UBSan build; the unit tests again
#   fuzz     libFuzzer targets, FUZZ_SECONDS (default 30) each
# Prints one closing line "tests: N passed, M failed" summed over the stages.
#
# With every stage (the default), the stages overlap to keep CI short on two
# cores: the release tests spend most of their time waiting on sockets, child
# servers and Redis, so the ASan build runs beside them at the lowest CPU
# priority (nice 19: the tests' processes always come first), and the
# fuzzers run beside the ASan unit tests. Each stage's output goes to
# build/test-logs/<stage>.log and is printed whole when the stage ends.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
stages=("$@")
((${#stages[@]})) || stages=(release asan fuzz)
jobs="$(nproc)"
logs="$root/build/test-logs"
mkdir -p "$logs"

# ccache (deps/debian-packages.txt) makes a rebuild of unchanged sources a
# cache hit, also from another checkout of the tree: paths under the checkout
# are hashed relative to it. A cold cache costs what no cache costs.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

# build <dir> <cmake args...>
build() {
  local dir="$1"; shift
  cmake -S . -B "$dir" -G Ninja "${launcher[@]}" "$@" >/dev/null || return 1
  cmake --build "$dir" -j "$jobs"
}

# run_ctest <stage> <build-dir> [ctest args...]: runs ctest and writes the
# counts of its closing line to $logs/<stage>.counts ("passed failed").
run_ctest() {
  local stage="$1" dir="$2"; shift 2
  local log="$logs/$stage.ctest"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" >"$log" 2>&1
  local rc=$?
  cat "$log"
  local line nfail=0 ntotal=0
  line="$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)"
  if [[ -n "$line" ]]; then
    nfail="$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")"
    ntotal="$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")"
  elif ((rc != 0)); then
    nfail=1 ntotal=1
  fi
  echo "$((ntotal - nfail)) $nfail" >"$logs/$stage.counts"
  return "$rc"
}

stage_release() {
  if ! build build/release -DCMAKE_BUILD_TYPE=Release; then
    echo "release build failed"; echo "0 1" >"$logs/release.counts"; return 1
  fi
  run_ctest release build/release
}

# The ASan build alone (so it can run beside the release tests), at the
# lowest CPU priority. -g1: line tables only (stack traces keep file:line),
# about a sixth less compile time than -g. Only what the unit tests run is
# built (the stage runs `ctest -L unit`): not the plancache binary, the
# header self-containment check or the measurement tools.
build_asan() {
  cmake -S . -B build/asan -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DPLANCACHE_SANITIZE=ON -DPLANCACHE_BENCH=OFF >/dev/null || return 1
  local targets
  targets="$(unit_test_targets build/asan)" || return 1
  # shellcheck disable=SC2086  # one word per target
  nice -n 19 cmake --build build/asan -j "$jobs" --target $targets
}

# The targets the unit tests of a configured build dir run, one per line:
# the unit tests' names (plancache_test names each test after its target)
# that are targets of the build (fixtures such as redis_fixture_start are not).
unit_test_targets() {
  local dir="$1" targets
  targets="$(ninja -C "$dir" -t targets all | sed -n 's/^\([A-Za-z0-9_]*\): .*/\1/p' | sort -u)"
  ctest --test-dir "$dir" -N -L unit | sed -n 's/^ *Test *#[0-9]*: \([A-Za-z0-9_]*\)$/\1/p' |
    sort -u | comm -12 - <(printf '%s\n' "$targets")
}

test_asan() {
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest asan build/asan -L unit
}

stage_fuzz() {
  if scripts/run-fuzzers.sh "${FUZZ_SECONDS:-30}"; then
    echo "1 0" >"$logs/fuzz.counts"
  else
    echo "fuzzing found a failure"; echo "0 1" >"$logs/fuzz.counts"; return 1
  fi
}

# run_logged <stage> <function>: runs it with its output in $logs/<stage>.log.
run_logged() {
  local stage="$1" fn="$2"
  "$fn" >"$logs/$stage.log" 2>&1
}

status=0
rm -f "$logs"/*.counts
for stage in "${stages[@]}"; do
  case "$stage" in
    release|asan|fuzz) ;;
    *) echo "unknown stage '$stage' (expected release, asan or fuzz)" >&2; exit 2 ;;
  esac
done

if [[ "${stages[*]}" == "release asan fuzz" ]]; then
  # Overlapped: release build; then its tests beside the ASan build; then
  # the ASan unit tests beside the fuzzers.
  echo "=== test stage: release (build)"
  if ! build build/release -DCMAKE_BUILD_TYPE=Release; then
    echo "release build failed"; echo "0 1" >"$logs/release.counts"; status=1
  else
    echo "=== test stage: release (tests) beside the asan build"
    run_logged asan-build build_asan &
    asan_build_pid=$!
    run_ctest release build/release || status=1
    if wait "$asan_build_pid"; then
      echo "=== test stage: asan (tests) beside fuzz"
      run_logged fuzz stage_fuzz &
      fuzz_pid=$!
      test_asan || status=1
      wait "$fuzz_pid" || status=1
      echo "=== test stage: fuzz"
      cat "$logs/fuzz.log"
    else
      echo "=== asan build failed:"; tail -50 "$logs/asan-build.log"
      echo "0 1" >"$logs/asan.counts"; status=1
      echo "=== test stage: fuzz"
      stage_fuzz || status=1
    fi
  fi
else
  for stage in "${stages[@]}"; do
    echo "=== test stage: $stage"
    case "$stage" in
      release) stage_release || status=1 ;;
      asan)
        if build_asan; then
          test_asan || status=1
        else
          echo "asan build failed"; echo "0 1" >"$logs/asan.counts"; status=1
        fi ;;
      fuzz) stage_fuzz || status=1 ;;
    esac
  done
fi

passed=0
failed=0
for counts in "$logs"/*.counts; do
  [[ -f "$counts" ]] || continue
  read -r p f <"$counts"
  passed=$((passed + p))
  failed=$((failed + f))
done
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
