#include "server/namespace_report.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace plancache::internal {
namespace {

struct Weight {
  std::string_view ns;  // a key of stats->tiers[*].namespaces
  uint64_t entries = 0;
  uint64_t bytes = 0;
};

bool heavier(const Weight& a, const Weight& b) {
  return std::tie(b.entries, b.bytes, a.ns) < std::tie(a.entries, a.bytes, b.ns);
}

// The names of the `keep` heaviest of `unconfigured`.
std::set<std::string, std::less<>> heaviest(std::vector<Weight> unconfigured, size_t keep) {
  std::partial_sort(unconfigured.begin(), unconfigured.begin() + static_cast<long>(keep),
                    unconfigured.end(), heavier);
  std::set<std::string, std::less<>> out;
  for (size_t i = 0; i < keep; ++i) out.emplace(unconfigured[i].ns);
  return out;
}

}  // namespace

uint64_t fold_namespaces(CacheStats* stats, const NamespacePolicies* policies,
                         size_t max_unconfigured) {
  auto configured = [policies](std::string_view ns) {
    return policies != nullptr ? policies->configured(ns) : ns == kDefaultNamespace;
  };
  std::map<std::string_view, Weight> by_name;
  for (const TierStats& t : stats->tiers) {
    for (const auto& [ns, c] : t.namespaces) {
      if (configured(ns)) continue;
      Weight& w = by_name[ns];
      w.ns = ns;
      w.entries += c.entries;
      w.bytes += c.bytes;
    }
  }
  if (by_name.size() <= max_unconfigured) return 0;
  const uint64_t folded = by_name.size() - max_unconfigured;
  std::vector<Weight> weights;
  weights.reserve(by_name.size());
  for (const auto& [ns, w] : by_name) weights.push_back(w);
  by_name.clear();
  const std::set<std::string, std::less<>> shown = heaviest(std::move(weights), max_unconfigured);
  for (TierStats& t : stats->tiers) {
    NamespaceCounters other;
    bool any = false;
    for (auto it = t.namespaces.begin(); it != t.namespaces.end();) {
      if (configured(it->first) || shown.count(it->first) != 0) {
        ++it;
        continue;
      }
      other.entries += it->second.entries;
      other.bytes += it->second.bytes;
      other.hits += it->second.hits;
      other.misses += it->second.misses;
      other.evictions += it->second.evictions;
      any = true;
      it = t.namespaces.erase(it);
    }
    if (any) t.namespaces.emplace(std::string(kOtherNamespaces), other);
  }
  return folded;
}

}  // namespace plancache::internal
