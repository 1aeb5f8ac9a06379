// Advice from an access log (GET /v1/advice, `plancache stats --recommend`):
// per lane, the L1 size for a target hit rate (or the knee of the curve),
// the policy that saves the most planner time, and a TTL from the observed
// re-request intervals -- each with the figure it rests on and the
// planner-seconds it would save per day.
//
// The log is the server's (server/access_log.h): JSON lines of gets and
// puts of a key-sampled share of the traffic. Each lane's gets are replayed
// through the simulator (sim/replay.h: the real memory-tier policies) over a
// ladder of sizes; by the key-sampling rule (SHARDS), a cache of s entries
// over the sample stands for one of s / sample over all keys, so the sizes
// advised are scaled up by 1 / sample.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plancache/namespace_policy.h"
#include "plancache/status.h"
#include "sim/replay.h"

namespace plancache::internal {

struct AdviceOptions {
  // The log files, oldest first (FILE.1, FILE). Missing files are skipped.
  std::vector<std::string> paths;
  // The share of keys the log follows (--access-log-sample).
  double sample = 1.0;
  // Advise the smallest L1 reaching this hit rate (0..1); nullopt = the knee.
  std::optional<double> target_hit_rate;
  // The lanes' current settings (what "now" is simulated at); may be null.
  const NamespacePolicies* current = nullptr;
};

struct LaneAdvice {
  std::string ns;
  uint64_t requests = 0;     // gets in the log (of the sample)
  uint64_t unique_keys = 0;  // in the sample
  double span_s = 0;         // first to last get
  // Size.
  uint64_t entries = 0;  // advised L1 max_entries (scaled to all keys)
  uint64_t bytes = 0;    // advised L1 max_bytes: entries x mean charged bytes
  double hit_rate = 0;   // simulated at that size
  std::string size_basis;
  // Policy.
  SimPolicy policy = SimPolicy::kTinyLfu;
  double planner_seconds_saved_per_day = 0;  // with the advice
  std::vector<std::pair<SimPolicy, double>> saved_per_day_by_policy;
  std::string policy_basis;
  // TTL (nullopt: too few re-requests to tell).
  std::optional<int64_t> ttl_s;
  std::string ttl_basis;
  // Now: the lane's current max_entries simulated the same way.
  uint64_t current_entries = 0;
  double current_hit_rate = 0;
  double current_saved_per_day = 0;
};

struct Advice {
  uint64_t lines = 0;  // log lines read
  double sample = 1.0;
  std::vector<LaneAdvice> lanes;  // by namespace
};

// Errors: invalid_argument "FILE:LINE: ..." for a line that is not the log's
// format; not_found when no file exists.
Result<Advice> advise_from_access_log(const AdviceOptions& options);

}  // namespace plancache::internal
