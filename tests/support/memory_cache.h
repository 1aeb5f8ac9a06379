// A Cache over one memory tier, on a given clock and lane policies: the
// cache most read-through tests run against.
//
// Ownership: the caller owns the cache. Thread-safety: as Cache.
#pragma once

#include <memory>
#include <utility>

#include "plancache/cache.h"
#include "plancache/memory_tier.h"

namespace plancache::testing {

inline std::unique_ptr<Cache> memory_cache(std::shared_ptr<Clock> clock,
                                           std::shared_ptr<const NamespacePolicies> policies) {
  MemoryTierOptions l1;
  l1.clock = clock;
  CacheOptions options;
  options.tiers.push_back(std::move(new_memory_tier(std::move(l1))).value());
  options.clock = std::move(clock);
  options.policies = std::move(policies);
  return std::move(new_cache(std::move(options))).value();
}

}  // namespace plancache::testing
