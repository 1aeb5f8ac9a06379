#include "plancache/namespace_policy.h"

#include <algorithm>

namespace plancache {
namespace {

constexpr int64_t kHourMs = 3'600'000;

// The lane presets. The lane design of SPEC §1 names the lanes but gives no
// figures; these are ours (docs/decisions.md): many small, long-lived doc
// answers; a middle lane; few large, expensive plans.
NamespacePolicy preset(uint64_t entries, uint64_t bytes, int64_t ttl_ms) {
  NamespacePolicy p;
  p.max_entries = entries;
  p.max_bytes = bytes;
  p.default_ttl_ms = ttl_ms;
  return p;
}

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

}  // namespace

bool NamespacePolicy::uses_tier(std::string_view tier) const {
  return std::find(tiers.begin(), tiers.end(), tier) != tiers.end();
}

NamespacePolicies::NamespacePolicies() {
  policies_.emplace(std::string(kDefaultNamespace), NamespacePolicy{});
  policies_.emplace("docs", preset(10'000, 64ull << 20, 24 * kHourMs));
  policies_.emplace("standard", preset(5'000, 128ull << 20, kHourMs));
  policies_.emplace("heavy", preset(500, 256ull << 20, 6 * kHourMs));
  NamespacePolicy checkpoints = preset(1'000, 64ull << 20, 0);
  checkpoints.tiers = {"l1", "l2"};  // a machine's own snapshots: never shared
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
  if (policy.stale_while_revalidate_s < 0) {
    return Status::invalid_argument(where + "stale_while_revalidate_s must not be negative");
  }
  if (policy.stale_if_error_s < 0) {
    return Status::invalid_argument(where + "stale_if_error_s must not be negative");
  }
  if (!policy.planner_url.empty() && !policy.planner_cmd.empty()) {
    return Status::invalid_argument(where + "give planner_url or planner_cmd, not both");
  }
  if (policy.tiers.empty()) {
    return Status::invalid_argument(where + "tiers must name at least one of l1, l2, shared");
  }
  for (const auto& tier : policy.tiers) {
    if (tier != "l1" && tier != "l2" && tier != "shared") {
      return Status::invalid_argument(where + "unknown tier '" + tier +
                                      "' (expected l1, l2 or shared)");
    }
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

Status validate_namespace_name(std::string_view name) {
  if (name.empty()) return Status::invalid_argument("namespace must not be empty");
  if (name.size() > 64) {
    return Status::invalid_argument("namespace is longer than 64 characters");
  }
  if (name.front() == '.' || name.front() == '-') {
    return Status::invalid_argument("namespace must not start with '.' or '-'");
  }
  for (char c : name) {
    if (!valid_name_char(c)) {
      return Status::invalid_argument(
          "namespace may contain only letters, digits, '_', '.' and '-'");
    }
  }
  return Status::ok();
}

Result<EvictionPolicy> parse_eviction_policy(std::string_view name) {
  if (name == "tinylfu" || name == "w-tinylfu") return EvictionPolicy::kTinyLfu;
  if (name == "lru") return EvictionPolicy::kLru;
  return Status::invalid_argument("unknown eviction policy '" + std::string(name) +
                                  "' (expected tinylfu or lru)");
}

}  // namespace plancache
