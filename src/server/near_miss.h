// NearMiss: the server's near-miss reuse (issue 14; docs/architecture.md,
// "Near-miss reuse"). One NeighbourIndex per configured lane whose policy
// enables a near-miss feature (NearMissPolicy::enabled), kept in step with
// the cache, and the lane's counters. A lane without a feature has no
// entry here and costs nothing; namespaces nobody configured have none
// either (a client inventing names cannot make the server build indexes).
//
// Upkeep: stored() after every plan the server stores (PUT /v1/plans, a
// read-through compute, a lease holder's PUT); removal_listener() hears
// every L1 removal (a removal sink of the EventBus, L1's one listener:
// event_bus.h), and erases a removed key
// whatever the cause (eviction, expiry, delete, invalidation by tag or
// prefix, clear) except a replacement (the key stays); cleared() for a
// namespace clear or a clear of everything. The index is therefore at most
// a superset of what the cache holds (removals can race a store, and a lane
// without L1 hears of no removal): every neighbour is fetched from the
// cache before it is used, and one that is gone is a miss and erased
// (fetch_neighbour).
//
// Ownership: owns the lanes; a lane's address is stable for the NearMiss's
// lifetime. The cache a call is given must outlive the call only.
// Thread-safety: every method may be called from any thread (the lane map
// is immutable after construction; indexes and counters are thread-safe).
// Nothing here calls user code.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "neighbours/neighbour_index.h"
#include "plancache/cache.h"
#include "plancache/key_builder.h"
#include "plancache/namespace_policy.h"
#include "plancache/tier.h"
#include "server/predict_history.h"

namespace plancache::internal {

// Decisions and veto reasons, as array slots.
inline constexpr size_t kSimilarDecisionCount = 6;  // SimilarDecision values
inline constexpr size_t kVetoReasonCount = 11;      // VetoReason values
static_assert(static_cast<size_t>(SimilarDecision::kNone) + 1 == kSimilarDecisionCount);
static_assert(static_cast<size_t>(VetoReason::kWordOrder) + 1 == kVetoReasonCount);

// What one lane counted since start (relaxed atomics: counters only).
struct NearMissCounters {
  std::atomic<uint64_t> exact_hits{0};    // hits of the exact key (lookup, read-through)
  std::atomic<uint64_t> similar_hits{0};  // misses answered with a neighbour's plan
  // Similar-goal lookups that did not serve, by SimilarDecision (the kServe
  // slot stays 0: see neighbour_gone).
  std::array<std::atomic<uint64_t>, kSimilarDecisionCount> similar_misses{};
  // ... whose neighbour passed every guard but was gone from the cache.
  std::atomic<uint64_t> neighbour_gone{0};
  // Unserved lookups whose best candidate the veto refused, by VetoReason.
  std::array<std::atomic<uint64_t>, kVetoReasonCount> vetoes{};
  std::atomic<uint64_t> shadow_right{0};  // shadow mode: the neighbour's plan was the computed one
  std::atomic<uint64_t> shadow_wrong{0};  // ... it was not
  std::atomic<uint64_t> incremental_computes{0};   // plans made by an incremental planner call
  std::atomic<uint64_t> incremental_fallbacks{0};  // incremental calls given up for a full one
  std::atomic<uint64_t> planner_ms_saved_incremental{0};
  std::atomic<uint64_t> planner_ms_saved_similar{0};
  // Predictive pre-computation (predictions.h).
  std::atomic<uint64_t> predictions_started{0};   // background planner runs begun
  std::atomic<uint64_t> predictions_used{0};      // ... whose plan a caller then got
  std::atomic<uint64_t> predictions_wasted{0};    // ... evicted or expired unasked
  std::atomic<uint64_t> predictions_dropped_busy{0};  // candidates not started: no free slot
};

// One lane with near-miss reuse.
struct NearMissLane {
  NearMissLane(std::string name, NearMissPolicy lane_policy, NeighbourIndexOptions options)
      : ns(std::move(name)), policy(std::move(lane_policy)), index(options) {}

  // The options of a similar-goal lookup: the lane's hard fields and the
  // floor effective_min_score(lane, client) -- a client may raise it, never
  // lower it.
  SimilarOptions similar_options(std::optional<double> client_min_score) const;
  // NeighbourIndex::similar for `key` with similar_options(client). A client
  // floor above 1 (no score reaches it) turns a kServe into kBelowFloor.
  SimilarResult similar(const PlanKey& key, std::optional<double> client_min_score) const;
  // Counts a lookup that did not serve: its decision, and the reason of the
  // veto when it fired on the best candidate (even if the floor or the
  // margin stopped the lookup first).
  void count_unserved(const SimilarResult& result);

  const std::string ns;
  const NearMissPolicy policy;
  NeighbourIndex index;
  NearMissCounters counters;
  // policy.predict: the lane's recent requests, its predictions until used
  // or wasted, and how many of them run now (at most predict_max_runs).
  RequestHistory history;
  PredictionLedger ledger;
  std::atomic<uint32_t> predictions_running{0};
};

// What a similar-goal lookup found after an exact miss.
struct SimilarFind {
  SimilarResult result;
  // The neighbour's plan when it is to be served (decision kServe, not
  // shadow mode, still in the cache); null otherwise: a miss.
  EntryPtr entry;
  std::string_view tier;  // where `entry` was found (static storage)
  bool served() const { return entry != nullptr; }
};

class NearMiss {
 public:
  // A lane for every configured namespace whose policy enables a feature;
  // each index bounded by its lane's L1 bounds (lane_index_options).
  explicit NearMiss(const NamespacePolicies& policies);
  NearMiss(const NearMiss&) = delete;
  NearMiss& operator=(const NearMiss&) = delete;

  // Whether any lane has near-miss reuse (else nothing needs wiring).
  bool any() const { return !lanes_.empty(); }
  // The lane of namespace `ns`; null when it has no near-miss reuse.
  NearMissLane* lane(std::string_view ns) const;
  const std::map<std::string, std::unique_ptr<NearMissLane>, std::less<>>& lanes() const {
    return lanes_;
  }

  // A plan of `key` was stored, made in `compute_ms`.
  void stored(const PlanKey& key, int64_t compute_ms);
  // A caller asked `key` (a lookup or a read-through request) at `now_ms`
  // and `found` is what the tiers had: recorded for the predictor in a lane
  // with predict = true, and a prediction's plan reaching a caller counted
  // as used (PredictionLedger::on_request); nothing in other lanes.
  void requested(const PlanKey& key, const Lookup& found, int64_t now_ms) const;
  // The removal sink for L1's memory tiers (EventBusOptions::removal_sinks).
  // The listener holds a pointer to this NearMiss, which must outlive the tiers.
  RemovalListener removal_listener();
  // Namespace `ns` was cleared; nullopt: every namespace was.
  void cleared(const std::optional<std::string>& ns);

  // Similar-goal lookup after `key` missed exactly (with the same `get`
  // options as that lookup): nullopt when its lane has none. Counts the
  // lookup: a served plan (and the planner time it saved), or the decision
  // and veto of one that was not served. Shadow lanes never serve and
  // count nothing for a kServe decision (their computes count right or
  // wrong: near_miss_compute.h).
  std::optional<SimilarFind> find_similar(Cache& cache, const PlanKey& key,
                                          std::optional<double> client_min_score,
                                          const GetOptions& get) const;

  // /v1/stats: {"<ns>": {"exact_hits", ..., "index": {...}, "policy": {...}}}.
  nlohmann::json stats_json() const;
  // /metrics: the plancache_near_miss_* families, labelled by namespace
  // ("" when no lane has near-miss reuse).
  std::string prometheus_text() const;

 private:
  std::map<std::string, std::unique_ptr<NearMissLane>, std::less<>> lanes_;  // immutable
};

// The bounds of a lane's index: its L1 entry bound (100,000 when
// unbounded) and a quarter of its L1 byte bound (at least 1 MiB; 256 MiB
// when unbounded).
NeighbourIndexOptions lane_index_options(const NamespacePolicy& policy);

// The plan of neighbour `key_hex` of `lane`, looked up in `cache`; a miss
// that is final (not a local-only miss a shared tier could still answer)
// erases the key from the index (and counts it in neighbour_gone when
// `count_gone`). A miss is a Lookup without entry.
Lookup fetch_neighbour(Cache& cache, NearMissLane& lane, std::string_view key_hex,
                       const GetOptions& get, bool count_gone);

}  // namespace plancache::internal
