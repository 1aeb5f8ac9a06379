// NamespacedTier: one logical tier made of a sub-tier per configured
// namespace, so that each lane has its own bounds and eviction policy (one
// lane filling up cannot evict another lane's plans). Namespaces that nobody
// configured share the sub-tier of the default namespace, so a client
// inventing namespaces cannot make the process allocate new tiers.
//
// An operation over every lane (invalidate or list without a namespace,
// evict_fraction) treats a failing sub-tier as MultiTierCache treats a
// failing tier (cache/fan_out.h): the other lanes are still reached; counts
// then report the error, listings skip the lane unless every lane failed.
//
// Thread-safety: fully thread-safe; the routing table is immutable after
// create() and every sub-tier is thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "plancache/disk_tier.h"
#include "plancache/namespace_policy.h"
#include "plancache/tier.h"

namespace plancache::internal {

// Builds the sub-tier of one namespace from its policy.
using SubTierFactory =
    std::function<Result<std::unique_ptr<Tier>>(const std::string& ns, const NamespacePolicy&)>;

// One sub-tier per namespace of `policies` whose policy uses `kind` (plus
// the default namespace's); the tier is named tier_kind_name(kind).
// REQUIRES: the factory makes tiers of that kind.
// Errors: whatever the factory returns.
Result<std::unique_ptr<Tier>> new_namespaced_tier(TierKind kind,
                                                  const NamespacePolicies& policies,
                                                  const SubTierFactory& factory);

// The memory-tier factory used for L1: bounds and eviction from the policy;
// the lane's namespace is kept (MemoryTierOptions::kept_namespaces), so its
// counters survive its emptying, while the unconfigured names sharing the
// default lane have counters only while they hold entries.
SubTierFactory memory_sub_tier_factory(MemoryTierOptions base);

// The lane rules of the one disk tier (L2 is shared by every lane): each
// configured namespace's counters are kept, and each lane's `compress`
// decides for its entries.
void apply_lane_policies(DiskTierOptions& l2, std::shared_ptr<const NamespacePolicies> policies);

}  // namespace plancache::internal
