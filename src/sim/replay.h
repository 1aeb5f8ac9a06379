// Trace replay for `plancache simulate`: one pass over a trace feeds every
// simulated cache (each policy at each size).
//
// LRU, W-TinyLFU and the cost-aware policy are the real memory tier
// (new_memory_tier(), plancache/memory_tier.h) with a FakeClock, bounded by
// max_entries = size (by entries) or max_bytes = size (by bytes), the other
// bound off, shards chosen by the tier's own rule (as a server lane of that
// bound gets them) unless ReplayOptions::shards says otherwise. Each request
// is a get() of CacheKey(ns or "sim", kUser, decimal key) -- the key the
// server's /v1/entries/sim/<key> store uses -- and, on a miss, a put() of an
// entry whose value has the request's size (by bytes; empty by entries) and
// whose meta.compute_ms is its cost. So the simulator and a server lane run
// the same code and give the same hits.
//
// Optimal is Belady's MIN (sim/optimal.h); it needs the trace's NextUses,
// which scan_trace() builds in a first pass.
//
// Thread-safety: none; a Replayer belongs to one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/clock.h"
#include "plancache/entry.h"
#include "plancache/memory_tier.h"
#include "plancache/status.h"
#include "sim/optimal.h"
#include "sim/trace.h"

namespace plancache::internal {

class SimLane;    // one simulated cache (replay.cc)
class ValuePool;  // the values the simulated tiers store (replay.cc)

// The namespace of requests that have none.
inline constexpr std::string_view kSimNamespace = "sim";

enum class SimPolicy { kLru, kTinyLfu, kCost, kOptimal };

// "lru", "tinylfu", "cost", "optimal".
std::string_view sim_policy_name(SimPolicy policy);
// The inverse. Errors: invalid_argument listing the names; for "cost" while
// the memory tier has no cost-aware policy, invalid_argument saying so.
Result<SimPolicy> parse_sim_policy(std::string_view name);
// The memory tier's policy that `policy` replays; nullopt for kOptimal (not
// a tier policy) and for kCost until EvictionPolicy has kCost.
std::optional<EvictionPolicy> tier_policy(SimPolicy policy);

// What a size counts.
enum class SizeUnit { kEntries, kBytes };
std::string_view size_unit_name(SizeUnit unit);  // "entries", "bytes"

// The figures of one policy at one size.
struct SimResult {
  SimPolicy policy = SimPolicy::kLru;
  uint64_t size = 0;
  uint64_t requests = 0;
  uint64_t hits = 0;
  uint64_t bytes_requested = 0;  // sum of the requests' sizes
  uint64_t bytes_hit = 0;        // ... of the hits
  double cost_ms_requested = 0;  // sum of the requests' cost_ms
  double cost_ms_saved = 0;      // ... of the hits: planner time not spent
};

// A request's identity: its key, or a hash of (namespace, key) when it has a
// namespace other than "sim", matching the CacheKey the tier sees.
uint64_t access_identity(const Access& access);
// The CacheKey a request is replayed under.
CacheKey access_cache_key(const Access& access);
// Bytes the memory tier charges for caching `access` (value, per-entry
// overhead and key): what a byte-bounded tier and optimal-by-bytes count.
uint64_t charged_bytes(const Access& access);
// The fixed part of that: the memory tier's per-entry overhead.
uint64_t entry_overhead_bytes();

// Called every few thousand requests of a pass.
using ProgressFn =
    std::function<void(uint64_t bytes_read, uint64_t total_bytes, uint64_t requests)>;

// The first pass: counts, and the next-use table when optimal is replayed.
struct TraceScan {
  TraceFormat format = TraceFormat::kAuto;
  uint64_t requests = 0;
  uint64_t unique_keys = 0;
  uint64_t unique_bytes = 0;  // charged bytes of every distinct key (first request's size)
  bool has_costs = false;     // some request has cost_ms > 0
  NextUses next_uses;         // empty unless asked for
};

// Errors: those of the trace (invalid_argument "FILE:LINE: ...").
Result<TraceScan> scan_trace(const std::string& path, TraceFormat format, bool with_next_uses,
                             const ProgressFn& progress = {});

struct ReplayOptions {
  std::vector<SimPolicy> policies;
  std::vector<uint64_t> sizes;  // each >= 1
  SizeUnit by = SizeUnit::kEntries;
  // Shards of each simulated memory tier; 0 = the tier's own rule.
  // Default: 0.
  uint32_t shards = 0;
};

// Feeds requests to every (policy, size) cache of the options, in order.
class Replayer {
 public:
  // `next_uses` is required (and must cover the trace) when the options
  // include kOptimal; it is borrowed. Errors: invalid_argument for an empty
  // list, a size of 0, a policy the tier does not have, bad tier options.
  static Result<std::unique_ptr<Replayer>> create(const ReplayOptions& options,
                                                  const NextUses* next_uses);
  ~Replayer();

  // Replays the next request. Errors: failed_precondition when the request
  // is past the end of the next-use table (the trace changed between passes).
  Status access(const Access& access);

  uint64_t requests() const { return position_; }
  // One result per (policy, size), policies in the options' order, sizes
  // ascending within each.
  std::vector<SimResult> results() const;

 private:
  explicit Replayer(const NextUses* next_uses);
  Status add_lane(SimPolicy policy, uint64_t size, const ReplayOptions& options);

  const NextUses* next_uses_;
  std::shared_ptr<FakeClock> clock_;
  std::unique_ptr<ValuePool> values_;
  std::vector<std::unique_ptr<SimLane>> lanes_;
  uint64_t position_ = 0;
};

// What a replay pass found.
struct ReplayRun {
  TraceFormat format = TraceFormat::kAuto;
  uint64_t requests = 0;
  uint64_t unique_keys = 0;  // 0 when not counted
  bool has_costs = false;
  std::vector<SimResult> results;
};

// Reads `path` once, replaying every request through a Replayer. Counts the
// distinct keys when `count_unique_keys` (~32 bytes a key).
Result<ReplayRun> replay_trace(const std::string& path, TraceFormat format,
                               const ReplayOptions& options, const NextUses* next_uses,
                               bool count_unique_keys, const ProgressFn& progress = {});

}  // namespace plancache::internal
