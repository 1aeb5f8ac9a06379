#include "tiers/memory/policy/policy.h"

#include "tiers/memory/policy/lru.h"
#include "tiers/memory/policy/tinylfu.h"

namespace plancache::internal {

std::unique_ptr<Policy> make_policy(EvictionPolicy kind, Budget budget,
                                    const TinyLfuConfig& config) {
  if (kind == EvictionPolicy::kLru) return std::make_unique<LruPolicy>(budget);
  return std::make_unique<TinyLfuPolicy>(budget, config);
}

}  // namespace plancache::internal
