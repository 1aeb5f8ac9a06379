#include "plancache/namespace_policy.h"

#include <algorithm>
#include <limits>

namespace plancache {
namespace {

constexpr int64_t kHourMs = 3'600'000;

// The lane presets. The lane design of SPEC §1 names the lanes but gives no
// figures; these are ours (docs/decisions.md): many small, long-lived doc
// answers; a middle lane; few large, expensive plans.
NamespacePolicy preset(uint64_t entries, uint64_t bytes, int64_t ttl_ms) {
  NamespacePolicy p;
  p.memory.max_entries = entries;
  p.memory.max_bytes = bytes;
  p.default_ttl_ms = ttl_ms;
  return p;
}

// The near-miss settings as a whole: ranges, and the similar-goal settings
// only together with the score that turns the lookup on.
Status validate_near_miss(const std::string& where, const NearMissPolicy& p) {
  if (!(p.max_change_impact >= 0.0 && p.max_change_impact <= 1.0)) {
    return Status::invalid_argument(where + "max_change_impact must be in [0, 1]");
  }
  if (p.similar_goal_min_score &&
      !(*p.similar_goal_min_score >= 0.0 && *p.similar_goal_min_score <= 1.0)) {
    return Status::invalid_argument(where + "similar_goal_min_score must be in [0, 1]");
  }
  if (!p.similar() && (p.similar_shadow || !p.similar_hard_fields.empty())) {
    return Status::invalid_argument(
        where + "similar_shadow and similar_hard_fields need similar_goal_min_score");
  }
  for (const std::string& field : p.similar_hard_fields) {
    if (field.empty()) return Status::invalid_argument(where + "empty name in similar_hard_fields");
  }
  if (!(p.predict_min_confidence >= 0.0 && p.predict_min_confidence <= 1.0)) {
    return Status::invalid_argument(where + "predict_min_confidence must be in [0, 1]");
  }
  if (p.predict_max_runs < 1) {
    return Status::invalid_argument(where + "predict_max_runs must be at least 1");
  }
  return Status::ok();
}

}  // namespace

bool NamespacePolicy::uses(TierKind tier) const {
  return std::find(tiers.begin(), tiers.end(), tier) != tiers.end();
}

int64_t ReadThroughLanePolicy::stale_grace_ms() const {
  const int64_t s = std::max(stale_while_revalidate_s, stale_if_error_s);
  return s > std::numeric_limits<int64_t>::max() / 1000 ? std::numeric_limits<int64_t>::max()
                                                         : s * 1000;
}

NamespacePolicies::NamespacePolicies() {
  policies_.emplace(std::string(kDefaultNamespace), NamespacePolicy{});
  policies_.emplace("docs", preset(10'000, 64ull << 20, 24 * kHourMs));
  policies_.emplace("standard", preset(5'000, 128ull << 20, kHourMs));
  policies_.emplace("heavy", preset(500, 256ull << 20, 6 * kHourMs));
  NamespacePolicy checkpoints = preset(1'000, 64ull << 20, 0);
  // A machine's own snapshots: never shared.
  checkpoints.tiers.assign(std::begin(kAllTierKinds), std::end(kAllTierKinds) - 1);
  policies_.emplace(std::string(kCheckpointsNamespace), checkpoints);
}

Status NamespacePolicies::set(const std::string& name, NamespacePolicy policy) {
  PLANCACHE_RETURN_IF_ERROR(validate_namespace_name(name));
  const std::string where = "namespace '" + name + "': ";
  if (policy.default_ttl_ms < 0) {
    return Status::invalid_argument(where + "default_ttl must not be negative");
  }
  if (policy.min_compute_ms < 0) {
    return Status::invalid_argument(where + "min_compute_ms must not be negative");
  }
  if (policy.read_through.stale_while_revalidate_s < 0) {
    return Status::invalid_argument(where + "stale_while_revalidate_s must not be negative");
  }
  if (policy.read_through.stale_if_error_s < 0) {
    return Status::invalid_argument(where + "stale_if_error_s must not be negative");
  }
  if (policy.shared.ttl_ms < 0) {
    return Status::invalid_argument(where + "shared_ttl_s must not be negative");
  }
  if (policy.tiers.empty()) {
    return Status::invalid_argument(where + "tiers must name at least one of l1, l2, shared");
  }
  PLANCACHE_RETURN_IF_ERROR(validate_near_miss(where, policy.near_miss));
  if (Status s = validate_key_rules(policy.keys); !s.is_ok()) {
    return Status::invalid_argument(where + s.message());
  }
  policies_[name] = std::move(policy);
  return Status::ok();
}

const NamespacePolicy& NamespacePolicies::get(std::string_view ns) const {
  auto it = policies_.find(ns);
  if (it != policies_.end()) return it->second;
  return policies_.find(kDefaultNamespace)->second;
}

bool NamespacePolicies::configured(std::string_view ns) const {
  return policies_.find(ns) != policies_.end();
}

Result<TierKind> parse_tier_kind(std::string_view name) {
  for (TierKind kind : kAllTierKinds) {
    if (name == tier_kind_name(kind)) return kind;
  }
  return Status::invalid_argument("unknown tier '" + std::string(name) +
                                  "' (expected l1, l2 or shared)");
}

Result<EvictionPolicy> parse_eviction_policy(std::string_view name) {
  if (name == "tinylfu" || name == "w-tinylfu") return EvictionPolicy::kTinyLfu;
  if (name == "lru") return EvictionPolicy::kLru;
  if (name == "cost") return EvictionPolicy::kCost;
  return Status::invalid_argument("unknown eviction policy '" + std::string(name) +
                                  "' (expected tinylfu, lru or cost)");
}

std::string_view eviction_policy_name(EvictionPolicy policy) {
  switch (policy) {
    case EvictionPolicy::kTinyLfu: return "tinylfu";
    case EvictionPolicy::kLru: return "lru";
    case EvictionPolicy::kCost: return "cost";
  }
  return "tinylfu";
}

}  // namespace plancache
