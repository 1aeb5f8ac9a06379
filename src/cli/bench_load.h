// The load of `plancache bench` (commands/bench.cc): what is sent, by how
// many connections, and what came back.
//
// A fixed key space: `keys` goals "plancache bench key <i>" in one
// namespace, each PUT once before the clock starts (the setup) with a plan
// of exactly `value_bytes` bytes of JSON. Then `connections` workers, each on
// its own keep-alive connection, send a weighted mix until `duration` has
// passed or `max_requests` were sent:
//   hit           POST /v1/plans/lookup of a stored key;
//   miss          POST /v1/plans/lookup of a goal never stored (new each time);
//   put           PUT /v1/plans of a stored key (same size);
//   read-through  POST /v1/plans of a stored key (never of an unstored one,
//                 so the planner is not run unless a stored plan was evicted).
// An answer is classified by what it says, not by what was meant: a lookup
// answered 200 is a hit and 404 a miss (a stored plan may have been
// evicted); a read-through answer is a hit when "cached" is true.
//
// Thread-safety: run_bench_load() runs its own threads and returns after
// joining them; `on_tick` is called on the calling thread only.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/latency_histogram.h"
#include "cli/command_support.h"

namespace plancache::cli {

// What a worker sends (the --mix names).
enum class BenchOp : unsigned char { kHit, kMiss, kPut, kReadThrough };
inline constexpr size_t kBenchOps = 4;
inline constexpr std::array<std::string_view, kBenchOps> kBenchOpNames = {"hit", "miss", "put",
                                                                          "read-through"};

// What came back: the rows of the report.
enum class BenchAnswer : unsigned char { kHit, kMiss, kPut, kReadThroughHit, kReadThroughComputed };
inline constexpr size_t kBenchAnswers = 5;
inline constexpr std::array<std::string_view, kBenchAnswers> kBenchAnswerNames = {
    "hit", "miss", "put", "read_through_hit", "read_through_computed"};

struct BenchLoad {
  std::string ns = "bench";                    // Default: "bench"
  uint64_t keys = 1000;                        // Default: 1000
  uint64_t value_bytes = 1024;                 // Default: 1024
  int connections = 4;                         // Default: 4
  std::chrono::milliseconds duration{10'000};  // Default: 10 s
  uint64_t max_requests = 10'000'000;          // Default: 10 M
  std::array<uint32_t, kBenchOps> weights{};   // by BenchOp; sum > 0
};

// The server's route labels of /v1/stats http.requests that bench sends to.
inline constexpr size_t kBenchRoutes = 2;
inline constexpr std::array<std::string_view, kBenchRoutes> kBenchRouteNames = {"plans_lookup",
                                                                                "plans"};
inline constexpr int kMaxStatus = 600;

struct BenchResult {
  double setup_s = 0;       // the setup's puts
  double elapsed_s = 0;     // the timed mix, until the last answer
  uint64_t requests = 0;    // answered or failed in the timed mix
  uint64_t failed = 0;      // transport failures and unexpected statuses
  uint64_t not_stored = 0;  // puts answered {"stored":false}
  std::array<uint64_t, kBenchOps> sent{};
  // Every request sent, setup included, by route and HTTP status (0 = no
  // answer): what the server's /v1/stats http.requests counts.
  std::array<std::array<uint64_t, kMaxStatus>, kBenchRoutes> statuses{};
  std::string first_error;  // "" when nothing failed
};

// Latencies by BenchAnswer (the project's one histogram, src/cache).
using BenchLatencies = std::array<internal::LatencyHistogram, kBenchAnswers>;

// Called about every 200 ms while the mix runs: seconds elapsed, requests so
// far, failures so far.
using BenchTick = std::function<void(double elapsed_s, uint64_t requests, uint64_t failed)>;

// Runs the setup, then the mix. Errors: the setup failed (the first failed
// put's problem, as "error: CODE: MESSAGE" would print it); the mix's
// failures are counted in the result instead.
Result<BenchResult> run_bench_load(const Client& client, const BenchLoad& load,
                                   BenchLatencies& latencies, const BenchTick& on_tick);

}  // namespace plancache::cli
