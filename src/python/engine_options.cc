// compose_engine(): EngineOptions → policies, key builder, L1 lanes, L2, the
// Cache, in that order (see engine_options.h).
#include "python/engine_options.h"

#include <utility>

#include "cache/namespaced_tier.h"
#include "plancache/disk_tier.h"
#include "plancache/memory_tier.h"

namespace plancache::internal {
namespace {

Status apply_lane(const std::string& name, const LaneOptions& lane, NamespacePolicy& policy) {
  if (lane.max_entries) policy.memory.max_entries = *lane.max_entries;
  if (lane.max_bytes) policy.memory.max_bytes = *lane.max_bytes;
  if (lane.eviction) {
    auto eviction = parse_eviction_policy(*lane.eviction);
    if (!eviction.is_ok()) {
      return Status::invalid_argument("lane '" + name +
                                      "': eviction: " + eviction.status().message());
    }
    policy.memory.eviction = *eviction;
  }
  if (lane.default_ttl_ms) policy.default_ttl_ms = *lane.default_ttl_ms;
  if (lane.min_compute_ms) policy.min_compute_ms = *lane.min_compute_ms;
  if (lane.compress) policy.disk.compress = *lane.compress;
  if (lane.key_ignored_fields) policy.keys.ignored_fields = *lane.key_ignored_fields;
  if (lane.key_set_arrays) {
    policy.keys.set_arrays = {lane.key_set_arrays->begin(), lane.key_set_arrays->end()};
  }
  if (lane.tiers) {
    policy.tiers.clear();
    for (const std::string& tier : *lane.tiers) {
      auto kind = parse_tier_kind(tier);
      if (!kind.is_ok() || *kind == TierKind::kShared) {
        return Status::invalid_argument("lane '" + name +
                                        "': tiers: expected \"l1\" or \"l2\", got '" + tier +
                                        "' (the engine has no shared tier)");
      }
      policy.tiers.push_back(*kind);
    }
  }
  return Status::ok();
}

// The presets, the default lane from the engine-wide settings, then the
// lane tables (each over its preset, or the built-in default for a new name).
Result<std::shared_ptr<const NamespacePolicies>> lane_policies(const EngineOptions& options) {
  auto policies = std::make_shared<NamespacePolicies>();
  NamespacePolicy base = policies->get(kDefaultNamespace);
  base.memory.max_entries = options.memory_max_entries;
  base.memory.max_bytes = options.memory_max_bytes;
  auto eviction = parse_eviction_policy(options.eviction);
  if (!eviction.is_ok())
    return Status::invalid_argument("eviction: " + eviction.status().message());
  base.memory.eviction = *eviction;
  base.default_ttl_ms = options.default_ttl_ms;
  PLANCACHE_RETURN_IF_ERROR(policies->set(std::string(kDefaultNamespace), std::move(base)));
  const NamespacePolicies presets;
  for (const auto& [name, lane] : options.lanes) {
    if (Status s = validate_namespace_name(name); !s.is_ok()) {
      return Status::invalid_argument("lane '" + name + "': " + s.message());
    }
    NamespacePolicy policy = name == kDefaultNamespace ? policies->get(name) : presets.get(name);
    PLANCACHE_RETURN_IF_ERROR(apply_lane(name, lane, policy));
    PLANCACHE_RETURN_IF_ERROR(policies->set(name, std::move(policy)));
  }
  return std::shared_ptr<const NamespacePolicies>(std::move(policies));
}

Result<KeyBuilderOptions> key_options(const EngineOptions& options) {
  auto hash = parse_hash_algorithm(options.hash);
  if (!hash.is_ok()) return Status::invalid_argument("hash: " + hash.status().message());
  KeyBuilderOptions keys;
  keys.hash = *hash;
  keys.ignored_fields = options.ignored_fields;
  return keys;
}

Result<std::unique_ptr<Tier>> open_disk(const EngineOptions& options,
                                        std::shared_ptr<const NamespacePolicies> policies,
                                        std::shared_ptr<Clock> clock) {
  DiskTierOptions l2;
  l2.path = options.disk_dir;
  l2.max_bytes = options.disk_max_bytes;
  l2.sync_writes = options.disk_sync_writes;
  l2.clock = std::move(clock);
  apply_lane_policies(l2, std::move(policies));
  auto disk = new_disk_tier(std::move(l2));
  if (!disk.is_ok()) {
    return Status(disk.status().code(), "cannot open the disk tier in '" + options.disk_dir +
                                            "': " + disk.status().message());
  }
  return disk;
}

}  // namespace

Result<EngineParts> compose_engine(const EngineOptions& options) {
  auto policies = lane_policies(options);
  if (!policies.is_ok()) return policies.status();
  auto keys = key_options(options);
  if (!keys.is_ok()) return keys.status();
  std::shared_ptr<Clock> clock = system_clock();
  MemoryTierOptions l1;
  l1.clock = clock;
  auto lanes =
      new_namespaced_tier(TierKind::kMemory, **policies, memory_sub_tier_factory(std::move(l1)));
  if (!lanes.is_ok()) return lanes.status();
  CacheOptions cache;
  cache.tiers.push_back(std::move(lanes).value());
  if (!options.disk_dir.empty()) {
    auto disk = open_disk(options, *policies, clock);
    if (!disk.is_ok()) return disk.status();
    cache.tiers.push_back(std::move(disk).value());
  }
  cache.default_ttl_ms = (*policies)->get(kDefaultNamespace).default_ttl_ms;
  cache.clock = std::move(clock);
  cache.policies = *policies;
  cache.max_value_bytes = options.max_value_bytes;
  auto made = new_cache(std::move(cache));
  if (!made.is_ok()) return made.status();
  EngineParts parts{*policies, LaneKeys(*keys, **policies), std::move(made).value()};
  return parts;
}

}  // namespace plancache::internal
