#include "cache/lane_keys.h"

#include <utility>

namespace plancache::internal {

LaneKeys::LaneKeys(KeyBuilderOptions shared) {
  lanes_.emplace(std::string(kDefaultNamespace), KeyBuilder(std::move(shared)));
}

LaneKeys::LaneKeys(const KeyBuilderOptions& shared, const NamespacePolicies& lanes) {
  for (const auto& [name, policy] : lanes.all()) {
    KeyBuilderOptions options = shared;
    options.lane_rules = policy.keys;
    lanes_.emplace(name, KeyBuilder(std::move(options)));
  }
  // NamespacePolicies always holds the default lane; kept true regardless.
  lanes_.try_emplace(std::string(kDefaultNamespace), shared);
}

const KeyBuilder& LaneKeys::of(std::string_view ns) const {
  auto it = lanes_.find(ns);
  if (it == lanes_.end()) it = lanes_.find(kDefaultNamespace);
  return it->second;
}

}  // namespace plancache::internal
