#include "tiers/memory/policy/policy.h"

#include "tiers/memory/policy/cost.h"
#include "tiers/memory/policy/lru.h"
#include "tiers/memory/policy/tinylfu.h"

namespace plancache::internal {

std::unique_ptr<Policy> make_policy(EvictionPolicy kind, Budget budget,
                                    const TinyLfuConfig& config) {
  switch (kind) {
    case EvictionPolicy::kLru:
      return std::make_unique<LruPolicy>(budget);
    case EvictionPolicy::kCost:
      if (config.cost_variant == CostVariant::kGdsf) return make_gdsf_policy(budget);
      return std::make_unique<CostPolicy>(budget, config);
    case EvictionPolicy::kTinyLfu:
      break;
  }
  return std::make_unique<TinyLfuPolicy>(budget, config);
}

}  // namespace plancache::internal
