// NamespacePolicy: the per-namespace ("lane") rules of SPEC §2.
//
// Every namespace has a policy: the configured one, or the `default` policy
// for namespaces nobody configured. Presets `docs`, `standard`, `heavy`,
// `checkpoints` and `default` exist from the start; the TOML config can
// override any field of a preset or add namespaces of its own.
//
// Thread-safety: NamespacePolicies is immutable once built; share it as
// std::shared_ptr<const NamespacePolicies>.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/key_builder.h"
#include "plancache/memory_tier.h"
#include "plancache/status.h"
#include "plancache/tier.h"

namespace plancache {

// The memory tier's (L1's) part of a lane's policy.
struct MemoryLanePolicy {
  // L1 bound for this namespace (configured namespaces get an L1 of their
  // own; unconfigured ones share the default namespace's); 0 = unbounded.
  // Default: 100,000.
  uint64_t max_entries = 100'000;
  // L1 byte bound for this namespace; 0 = unbounded. Default: 256 MiB.
  uint64_t max_bytes = 256ull << 20;
  // L1 eviction policy. Default: kTinyLfu.
  EvictionPolicy eviction = EvictionPolicy::kTinyLfu;
};

// The disk tier's (L2's) part.
struct DiskLanePolicy {
  // Compress large values on disk. Default: true.
  bool compress = true;
  // false: the namespace's disk entries are wiped when the server starts.
  // Default: true.
  bool persistent = true;
};

// The shared tier's part (Redis). Whether a lane uses the shared tier at
// all is NamespacePolicy::tiers ("shared").
struct SharedLanePolicy {
  // Longest time an entry of the lane stays in Redis; 0 = as long as the
  // entry's own TTL. Shorter than the entry's TTL, it bounds how long
  // another instance can pick the entry up. Default: 0.
  int64_t ttl_ms = 0;
};

// The read-through part: how a missing or expired plan is recomputed.
// (The planner that computes it is the server's business: server config.)
struct ReadThroughLanePolicy {
  // After an entry's TTL, keep serving it for this many seconds while one
  // compute refreshes it in the background (stale-while-revalidate).
  // Default: 0 (off).
  int64_t stale_while_revalidate_s = 0;
  // After an entry's TTL, serve it for this many seconds when recomputing
  // it fails (stale-if-error). Default: 0 (off).
  int64_t stale_if_error_s = 0;

  // How long past its TTL an entry is kept for the two windows above.
  int64_t stale_grace_ms() const;
};

// Near-miss reuse (docs/http_api.md, "Near-miss reuse"): a plan cached for
// a neighbouring request helps answer a missed one. Off unless a lane opts
// in; a lane with neither feature costs nothing (no index is kept for it).
struct NearMissPolicy {
  // Incremental planning: on a read-through miss, the cached plan of the
  // same goal with the closest context is handed to a planner that declares
  // the capability, with the context changes, for it to patch. Default: false.
  bool incremental = false;
  // ... only when the change impact (0 = same context, 1 = unrelated) is at
  // most this, in [0, 1]. Default: 0.3.
  double max_change_impact = 0.3;
  // Similar-goal lookup: a miss may be answered with the plan of a reworded
  // goal scoring at least this, in [0, 1] (the server never goes below its
  // floor, 0.90, and its config refuses a lower value). nullopt = off.
  // Default: off.
  std::optional<double> similar_goal_min_score;
  // The context need only be equal on these top-level members for a
  // similar-goal answer; empty = the whole context. Default: empty.
  std::vector<std::string> similar_hard_fields;
  // Shadow mode of the similar-goal lookup: never answer with a neighbour's
  // plan; compute as usual and count whether the neighbour's plan would have
  // been right. Default: false.
  bool similar_shadow = false;
  // Predictive pre-computation: from the lane's recent requests, plans
  // likely to be asked soon (recurring ones about to expire, missing members
  // of a context family) are computed in the background, on free planner
  // threads only (docs/http_api.md, "Predictive pre-computation").
  // Default: false.
  bool predict = false;
  // ... those whose confidence is at least this, in [0, 1]. Default: 0.8.
  double predict_min_confidence = 0.8;
  // ... at most this many at once, at least 1. Default: 4.
  uint32_t predict_max_runs = 4;

  bool similar() const { return similar_goal_min_score.has_value(); }
  // Whether the lane keeps a neighbour index at all.
  bool enabled() const { return incremental || similar() || predict; }
};

// A lane's policy: what holds for the whole lane, then one part per layer;
// a layer reads only its own part.
struct NamespacePolicy {
  // TTL of puts that give none, in every tier; 0 = never expires.
  // Default: 1 hour.
  int64_t default_ttl_ms = 3'600'000;
  // The tiers this namespace uses. Default: all three.
  std::vector<TierKind> tiers{std::begin(kAllTierKinds), std::end(kAllTierKinds)};
  // A plan is stored only when computing it took at least this long (the
  // old PLAN_CACHE_MIN_GEN_TIME), whoever computed it. Default: 0 (always).
  int64_t min_compute_ms = 0;

  // The key builder's part: the lane's own rules for plan-key contexts
  // (set arrays, ignored fields added to the server-wide ones). Not empty:
  // the lane's keys are of key format version 2. Default: none.
  KeyRules keys;
  MemoryLanePolicy memory;
  DiskLanePolicy disk;
  SharedLanePolicy shared;
  ReadThroughLanePolicy read_through;
  NearMissPolicy near_miss;

  bool uses(TierKind tier) const;
  // The one rule "is this plan worth storing?", for every path that stores
  // a computed plan (PUT with compute_ms, read-through, get_or_compute).
  bool worth_storing(int64_t compute_ms) const { return compute_ms >= min_compute_ms; }
};

class NamespacePolicies {
 public:
  // The presets: default, docs, standard, heavy, checkpoints.
  NamespacePolicies();

  // Adds or replaces the policy of `name`.
  // Errors: invalid_argument for a bad name (see validate_namespace_name) or
  // policy (negative TTL, min compute time or stale periods, no tier, key
  // rules that validate_key_rules refuses).
  Status set(const std::string& name, NamespacePolicy policy);

  // The policy of `ns`: its own when configured, else the default one.
  const NamespacePolicy& get(std::string_view ns) const;
  bool configured(std::string_view ns) const;
  const std::map<std::string, NamespacePolicy, std::less<>>& all() const { return policies_; }

 private:
  std::map<std::string, NamespacePolicy, std::less<>> policies_;
};

inline constexpr std::string_view kDefaultNamespace = "default";
inline constexpr std::string_view kCheckpointsNamespace = "checkpoints";

// validate_namespace_name (the rule for names) is in plancache/entry.h.

// Parses "tinylfu" / "lru" / "cost".
Result<EvictionPolicy> parse_eviction_policy(std::string_view name);
// "tinylfu", "lru" or "cost": the name parse_eviction_policy() reads.
std::string_view eviction_policy_name(EvictionPolicy policy);

}  // namespace plancache
