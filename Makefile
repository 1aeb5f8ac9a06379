# plancache — the two commands a new user needs: `make run` and `make test`.
# Both install missing Debian packages first (one list: deps/debian-packages.txt).

RELEASE_DIR ?= build/release
ASAN_DIR    ?= build/asan
FUZZ_SECONDS ?= 30
ARGS ?=

.PHONY: all deps build run test test-release test-asan fuzz bench bench-micro bench-http bench-http-l2 bench-http-rt bench-http-shared bench-shared-propagation bench-shared-frozen bench-rss bench-peers bench-hitrate clean format

all: build

deps:
	@scripts/install-deps.sh

# Release build of the server, CLI, tests and benchmarks.
build: deps
	@cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(RELEASE_DIR)

# Starts `plancache serve` on 127.0.0.1:8080 with the embedded defaults and
# the example planner (examples/planner.py, which takes ~0.8 s per plan like
# an LLM call) behind POST /v1/plans. Extra flags: make run ARGS="--port 9090";
# another planner: make run PLANNER="--planner-url http://127.0.0.1:9000/plan";
# none: make run PLANNER=.
PLANNER ?= --planner-cmd "/usr/bin/python3 $(CURDIR)/examples/planner.py --stdin"
run: build
	$(RELEASE_DIR)/plancache serve $(PLANNER) $(ARGS)

# Every test: unit + integration (Release), unit again under ASan+UBSan,
# and the libFuzzer targets for FUZZ_SECONDS each.
test: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/test.sh

test-release: deps
	@scripts/test.sh release

test-asan: deps
	@scripts/test.sh asan

fuzz: deps
	@scripts/run-fuzzers.sh $(FUZZ_SECONDS)

bench: bench-micro bench-http bench-peers bench-rss

bench-micro: build
	@for b in $(RELEASE_DIR)/bench/*_bench; do echo "== $$b"; $$b --benchmark_min_time=0.5; done

# L1 and L2 (disk tier) lookups and read-through hits over HTTP beside redis-server, one run.
bench-http: build
	@bench/http.sh $(RELEASE_DIR)/plancache

bench-http-l2: build
	@TIERS=l2 bench/http.sh $(RELEASE_DIR)/plancache

# Read-through hits (POST /v1/plans, planner behind) beside plain lookups, one run.
bench-http-rt: build
	@TIERS="l1 rt" bench/http.sh $(RELEASE_DIR)/plancache

# Shared-tier (Redis) hits over HTTP, no L1, beside L1 hits and redis-server GET, one run.
bench-http-shared: build
	@TIERS="l1 shared" bench/http.sh $(RELEASE_DIR)/plancache

# Invalidation propagation between two instances on one Redis: p50 / p99.
bench-shared-propagation: build
	@/usr/bin/python3 bench/shared_propagation.py --binary $(RELEASE_DIR)/plancache

# L1 hits while Redis is frozen, beside the same load with Redis up.
bench-shared-frozen: build
	@/usr/bin/python3 bench/shared_frozen.py --binary $(RELEASE_DIR)/plancache

# Resident memory of 10,000 plans of 32 KiB in the memory tier (docs/benchmarks.md).
RSS_ARGS ?= --repeat 3 --rounds 2
bench-rss: build
	@/usr/bin/python3 bench/rss.py --binary $(RELEASE_DIR)/plancache $(RSS_ARGS)

bench-peers: build
	@bench/peers/caffeine.sh $(RELEASE_DIR)

# Hit rates on ../shared/traces and synthetic Zipf beside Caffeine and the optimum, and
# planner-seconds saved on the cost-bearing workloads (docs/benchmarks.md); Markdown on stdout.
HITRATE_ARGS ?=
bench-hitrate: build
	@/usr/bin/python3 bench/hitrate.py --binary $(RELEASE_DIR)/plancache $(HITRATE_ARGS)

format:
	@find include src tests bench fuzz -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf build
