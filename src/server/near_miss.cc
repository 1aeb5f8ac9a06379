// NearMiss: the per-lane neighbour indexes, their upkeep, and the
// similar-goal lookup of a missed plan (near_miss.h). The stats renderings
// are in near_miss_report.cc, the read-through compute (incremental
// planning, shadow mode) in near_miss_compute.cc.
//
// Invariant: what the index offers is never trusted on its own. The index
// may hold keys the cache has lost (a removal racing a store, a lane
// without L1, a restart's disk entries the index never saw in reverse), so
// a neighbour's plan is always fetched from the cache, and a key found gone
// is erased there and then: an invalidated plan is never served, whatever
// the index says.
#include "server/near_miss.h"

#include <algorithm>

namespace plancache::internal {

SimilarOptions NearMissLane::similar_options(std::optional<double> client_min_score) const {
  SimilarOptions options;
  options.min_score = effective_min_score(
      policy.similar_goal_min_score.value_or(kSimilarScoreFloor), client_min_score);
  options.hard_fields = policy.similar_hard_fields;
  return options;
}

SimilarResult NearMissLane::similar(const PlanKey& key,
                                    std::optional<double> client_min_score) const {
  SimilarResult result =
      index.similar(key.normalized_goal, key.canonical_context, similar_options(client_min_score));
  if (result.served() && client_min_score && *client_min_score > 1.0) {
    result.decision = SimilarDecision::kBelowFloor;  // the options cap the floor at 1
    result.min_score = *client_min_score;
  }
  return result;
}

void NearMissLane::count_unserved(const SimilarResult& result) {
  counters.similar_misses[static_cast<size_t>(result.decision)].fetch_add(
      1, std::memory_order_relaxed);
  if (result.veto) {  // the veto fired on the best candidate (whatever else stopped it)
    counters.vetoes[static_cast<size_t>(*result.veto)].fetch_add(1, std::memory_order_relaxed);
  }
}

NeighbourIndexOptions lane_index_options(const NamespacePolicy& policy) {
  NeighbourIndexOptions options;
  if (policy.memory.max_entries != 0) options.max_entries = policy.memory.max_entries;
  if (policy.memory.max_bytes != 0) {
    options.max_bytes = std::max<uint64_t>(policy.memory.max_bytes / 4, uint64_t{1} << 20);
  }
  return options;
}

NearMiss::NearMiss(const NamespacePolicies& policies) {
  for (const auto& [ns, policy] : policies.all()) {
    if (!policy.near_miss.enabled()) continue;
    lanes_.emplace(
        ns, std::make_unique<NearMissLane>(ns, policy.near_miss, lane_index_options(policy)));
  }
}

NearMissLane* NearMiss::lane(std::string_view ns) const {
  if (lanes_.empty()) return nullptr;
  const auto it = lanes_.find(ns);
  return it == lanes_.end() ? nullptr : it->second.get();
}

void NearMiss::stored(const PlanKey& key, int64_t compute_ms) {
  NearMissLane* l = lane(key.key.ns());
  if (l == nullptr || key.key.kind() != KeyKind::kPlan) return;
  l->index.upsert(key.key.id(), key.normalized_goal, key.canonical_context, compute_ms);
}

void NearMiss::requested(const PlanKey& key, const Lookup& found, int64_t now_ms) const {
  NearMissLane* l = lane(key.key.ns());
  if (l == nullptr || !l->policy.predict || key.key.kind() != KeyKind::kPlan) return;
  const Entry* hit = found.hit() ? found.entry.get() : nullptr;
  const int64_t fresh_until = hit != nullptr ? hit->meta.fresh_until() : 0;
  const int64_t ttl = fresh_until != 0 ? fresh_until - hit->meta.created_ms : 0;
  l->history.record(key.key.id(), key.normalized_goal, key.canonical_context, now_ms, fresh_until,
                    ttl);
  if (l->ledger.on_request(key.key.id(), hit) == PredictionLedger::Event::kUsed) {
    l->counters.predictions_used.fetch_add(1, std::memory_order_relaxed);
  }
}

RemovalListener NearMiss::removal_listener() {
  return [this](const CacheKey& key, const EntryPtr& entry, RemovalCause cause) {
    // A replacement keeps the key (its new value is upserted by the put).
    if (cause == RemovalCause::kReplaced || key.kind() != KeyKind::kPlan) return;
    NearMissLane* l = lane(key.ns());
    if (l == nullptr) return;
    l->index.erase(key.id());
    if (l->policy.predict && entry != nullptr &&
        l->ledger.on_removal(key.id(), *entry, cause) == PredictionLedger::Event::kWasted) {
      l->counters.predictions_wasted.fetch_add(1, std::memory_order_relaxed);
    }
  };
}

void NearMiss::cleared(const std::optional<std::string>& ns) {
  const auto clear = [](NearMissLane& l) {
    l.index.clear();
    l.history.clear();
    l.ledger.clear();
  };
  if (ns) {
    if (NearMissLane* l = lane(*ns)) clear(*l);
    return;
  }
  for (const auto& [name, l] : lanes_) clear(*l);
}

Lookup fetch_neighbour(Cache& cache, NearMissLane& lane, std::string_view key_hex,
                       const GetOptions& get, bool count_gone) {
  Lookup found = cache.get(CacheKey(lane.ns, KeyKind::kPlan, key_hex), get);
  if (found.hit() || found.shared_unasked) return found;
  lane.index.erase(key_hex);  // gone from the cache: the index was behind
  if (count_gone) lane.counters.neighbour_gone.fetch_add(1, std::memory_order_relaxed);
  return Lookup{};
}

std::optional<SimilarFind> NearMiss::find_similar(Cache& cache, const PlanKey& key,
                                                  std::optional<double> client_min_score,
                                                  const GetOptions& get) const {
  NearMissLane* l = lane(key.key.ns());
  if (l == nullptr || !l->policy.similar()) return std::nullopt;
  SimilarFind find;
  find.result = l->similar(key, client_min_score);
  if (!find.result.served()) {
    l->count_unserved(find.result);
    return find;
  }
  if (l->policy.similar_shadow || !find.result.best) return find;
  Lookup neighbour = fetch_neighbour(cache, *l, find.result.best->key, get, /*count_gone=*/true);
  if (!neighbour.hit()) return find;
  find.entry = std::move(neighbour.entry);
  find.tier = neighbour.tier;
  l->counters.similar_hits.fetch_add(1, std::memory_order_relaxed);
  l->counters.planner_ms_saved_similar.fetch_add(find.entry->meta.compute_ms,
                                                 std::memory_order_relaxed);
  return find;
}

}  // namespace plancache::internal
