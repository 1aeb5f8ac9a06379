// compose(): the configuration → running objects, in dependency order:
// policies, key builder, L1 lanes, L2 (opened, wiped of its non-persistent
// namespaces, wrapped in write-behind), the cache over them, then planning.
//
// Non-persistent namespaces (persistent = false) are wiped from the disk
// tier here, before the cache exists and so before anything is served. The
// namespaces found on disk come from the disk tier's per-namespace counters
// (read when it opens), so the wipe visits only those namespaces' key
// ranges, never the whole store.
#include "server/composition.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include "cache/namespaced_tier.h"
#include "cache/write_behind_tier.h"
#include "plancache/disk_tier.h"
#include "plancache/memory_tier.h"
#include "plancache/redis_tier.h"
#include "server/config_namespaces.h"
#include "server/namespace_report.h"
#include "server/planner_setup.h"
#include "server/publishing_cache.h"

namespace plancache::internal {
namespace {

// Requests waiting on Redis at once (each thread blocks for at most the
// command timeout; a node's breaker turns the rest into fast misses).
constexpr size_t kSharedCallThreads = 16;

Result<KeyBuilderOptions> key_options(const server::ServerConfig& config) {
  auto hash = parse_hash_algorithm(config.hash);
  if (!hash.is_ok()) return hash.status();
  KeyBuilderOptions options;
  options.hash = *hash;
  options.ignored_fields = config.ignored_context_fields;
  return options;
}

// Removes from `disk` the entries of every namespace whose policy says
// persistent = false (unconfigured namespaces follow the default policy).
Status wipe_transient_namespaces(Tier& disk, const NamespacePolicies& policies,
                                 spdlog::logger* logger) {
  for (const auto& [ns, counters] : disk.stats().namespaces) {
    if (policies.get(ns).disk.persistent || counters.entries == 0) continue;
    Selector selector;
    selector.ns = ns;
    Result<uint64_t> n = disk.invalidate(selector);
    if (!n.is_ok()) {
      return Status(n.status().code(), "cannot wipe non-persistent namespace '" + ns +
                                           "' from the disk tier: " + n.status().message());
    }
    if (logger != nullptr) {
      logger->info("namespace '{}' is not persistent: wiped {} entries from the disk tier", ns, *n);
    }
  }
  return Status::ok();
}

DiskTierOptions disk_options(const server::ServerConfig& config, std::shared_ptr<Clock> clock,
                             std::shared_ptr<const NamespacePolicies> policies) {
  DiskTierOptions l2;
  l2.path = config.data_dir;
  l2.max_bytes = config.l2_max_bytes;
  l2.sync_writes = config.sync_writes;
  l2.clock = std::move(clock);
  apply_lane_policies(l2, std::move(policies));
  l2.wal_recovery =
      config.disk_recovery == "strict" ? WalRecovery::kStrict : WalRecovery::kPointInTime;
  if (std::shared_ptr<spdlog::logger> logger = config.logger) {
    l2.log = [logger](DiskLogLevel level, std::string_view message) {
      const auto lvl = level == DiskLogLevel::kError     ? spdlog::level::err
                       : level == DiskLogLevel::kWarning ? spdlog::level::warn
                                                         : spdlog::level::info;
      logger->log(lvl, "{}", message);
    };
  }
  return l2;
}

// L2: the disk tier, wiped of its non-persistent namespaces, behind a
// write-behind queue when one is configured.
Result<std::unique_ptr<Tier>> open_disk_tier(const server::ServerConfig& config,
                                             std::shared_ptr<Clock> clock,
                                             std::shared_ptr<const NamespacePolicies> policies) {
  auto disk = new_disk_tier(disk_options(config, clock, policies));
  if (!disk.is_ok()) {
    return Status(disk.status().code(),
                  "cannot open the disk tier (--data-dir): " + disk.status().message());
  }
  PLANCACHE_RETURN_IF_ERROR(wipe_transient_namespaces(**disk, *policies, config.logger.get()));
  if (config.write_behind_queue == 0) return disk;
  WriteBehindOptions behind;
  behind.max_queue = config.write_behind_queue;
  behind.clock = std::move(clock);
  return new_write_behind_tier(std::move(disk).value(), std::move(behind));
}

// The shared tier: Redis or Redis Cluster (--redis-url).
Result<std::unique_ptr<Tier>> open_shared_tier(const server::ServerConfig& config,
                                               std::shared_ptr<Clock> clock,
                                               std::shared_ptr<const NamespacePolicies> policies) {
  RedisTierOptions shared;
  shared.url = config.redis_url;
  shared.key_prefix = config.redis_key_prefix;
  shared.command_timeout = std::chrono::milliseconds(config.redis_timeout_ms);
  shared.connect_timeout = shared.command_timeout;
  shared.lease_ttl = std::chrono::milliseconds(config.redis_lease_ms);
  // A waiter outlasts the holder's planner call (its timeout) and a margin.
  shared.lease_wait = std::chrono::milliseconds(int64_t{config.planner_timeout_ms} + 10'000);
  shared.policies = std::move(policies);
  shared.clock = std::move(clock);
  if (std::shared_ptr<spdlog::logger> logger = config.logger) {
    shared.log = [logger](std::string_view level, std::string_view message) {
      logger->log(level == "warn" ? spdlog::level::warn : spdlog::level::info, "{}", message);
    };
  }
  auto tier = new_redis_tier(std::move(shared));
  if (!tier.is_ok()) {
    const bool prefix = tier.status().message().rfind("key prefix", 0) == 0;
    return Status(tier.status().code(), std::string(prefix ? "--redis-key-prefix: " : "--redis-url: ") +
                                            tier.status().message());
  }
  return tier;
}

// The Cache: L1 (one memory lane per configured namespace, each also put in
// *l1_lanes for the memory watchdog), then L2, then the shared tier, behind
// the PublishingCache that tells `events` of every put.
Result<std::unique_ptr<Cache>> make_cache(const server::ServerConfig& config,
                                          std::shared_ptr<const NamespacePolicies> policies,
                                          std::vector<PressureLane>* l1_lanes,
                                          EventBus& events) {
  std::shared_ptr<Clock> clock = config.clock ? config.clock : system_clock();
  MemoryTierOptions l1;
  l1.clock = clock;
  // The one listener: the near-miss indexes' upkeep and the event stream.
  l1.removal_listener = events.removal_listener();
  SubTierFactory lane_factory = [l1_lanes, make = memory_sub_tier_factory(std::move(l1))](
                                    const std::string& ns, const NamespacePolicy& policy) {
    auto tier = make(ns, policy);
    if (tier.is_ok()) l1_lanes->push_back(PressureLane{.name = ns, .tier = tier->get()});
    return tier;
  };
  auto lanes = new_namespaced_tier(TierKind::kMemory, *policies, lane_factory);
  if (!lanes.is_ok()) return lanes.status();
  CacheOptions options;
  options.tiers.push_back(std::move(lanes).value());
  std::vector<TierKind> kinds = {TierKind::kMemory};
  if (!config.data_dir.empty()) {
    auto disk = open_disk_tier(config, clock, policies);
    if (!disk.is_ok()) return disk.status();
    options.tiers.push_back(std::move(disk).value());
    kinds.push_back(TierKind::kDisk);
  }
  if (!config.redis_url.empty()) {
    auto shared = open_shared_tier(config, clock, policies);
    if (!shared.is_ok()) return shared.status();
    options.tiers.push_back(std::move(shared).value());
    kinds.push_back(TierKind::kShared);
  }
  options.default_ttl_ms = policies->get(kDefaultNamespace).default_ttl_ms;
  options.clock = std::move(clock);
  options.policies = std::move(policies);
  options.max_value_bytes = config.max_plan_bytes;
  std::shared_ptr<const NamespacePolicies> lane_policies = options.policies;
  auto cache = new_cache(std::move(options));
  if (!cache.is_ok()) return cache.status();
  return std::unique_ptr<Cache>(std::make_unique<PublishingCache>(
      std::move(cache).value(), events, std::move(lane_policies), std::move(kinds)));
}

// The event bus; the near-miss indexes (when a lane has them) hear of L1's
// removals through it.
std::unique_ptr<EventBus> make_events(const server::ServerConfig& config, NearMiss& near_miss) {
  EventBusOptions options;
  options.subscriber_buffer = config.events_buffer;
  options.heartbeat = std::chrono::milliseconds(config.sse_heartbeat_ms);
  options.clock = config.clock ? config.clock : system_clock();
  if (near_miss.any()) options.removal_sinks.push_back(near_miss.removal_listener());
  return std::make_unique<EventBus>(std::move(options));
}

// The stats ring, its first snapshot taken; the timer started.
std::unique_ptr<StatsHistory> make_stats_history(const server::ServerConfig& config,
                                                 const Runtime& runtime) {
  StatsSource source = [&cache = *runtime.cache, planning = runtime.planning.get(),
                        policies = runtime.policies, max = config.stats_max_namespaces] {
    StatsReading reading{.cache = cache.stats(), .planner_calls = planning->stats().planner_calls};
    fold_namespaces(&reading.cache, policies.get(), max);
    return reading;
  };
  auto history = std::make_unique<StatsHistory>(
      runtime.cache->clock(), std::move(source),
      StatsHistoryOptions{.capacity = config.stats_history_size,
                          .interval = std::chrono::seconds(config.stats_history_interval_s)});
  history->record();
  history->start();
  return history;
}

// Predictive pre-computation over the lanes with predict = true, its timer
// started; null when there is none.
std::unique_ptr<Predictions> make_predictions(const server::ServerConfig& config,
                                              Runtime& runtime) {
  bool any = false;
  for (const auto& [ns, lane] : runtime.near_miss->lanes()) any = any || lane->policy.predict;
  if (!any) return nullptr;
  PredictionsOptions options;
  options.interval = std::chrono::seconds(config.predict_interval_s);
  options.predictor.horizon_ms = 2 * int64_t{config.predict_interval_s} * 1000;
  auto predictions = std::make_unique<Predictions>(*runtime.near_miss, *runtime.planning,
                                                   *runtime.cache, runtime.keys, options);
  predictions->start();
  return predictions;
}

// The memory-pressure watchdog over the L1 lanes, started; null when off.
Result<std::unique_ptr<MemoryWatchdog>> make_memory_watchdog(const server::ServerConfig& config,
                                                             std::vector<PressureLane> lanes) {
  auto kind = parse_memory_source_kind(config.memory_source);
  if (!kind.is_ok()) return kind.status();
  if (*kind == MemorySourceKind::kOff) return std::unique_ptr<MemoryWatchdog>();
  auto source = open_memory_source(*kind, "", config.memory_budget);
  if (!source.is_ok()) {
    return Status(source.status().code(), "--memory-source " + config.memory_source + ": " +
                                              source.status().message());
  }
  MemoryWatchdogOptions options;
  options.pressure.high_watermark = config.memory_high_watermark;
  options.pressure.evict_fraction = config.pressure_evict_fraction;
  options.interval = std::chrono::milliseconds(config.memory_check_interval_ms);
  options.release_memory = [] { malloc_trim(0); };  // give freed heap pages back
  options.logger = config.logger;
  auto watchdog = std::make_unique<MemoryWatchdog>(std::move(source).value(), std::move(lanes),
                                                   std::move(options));
  watchdog->start();
  return watchdog;
}

}  // namespace

Result<Runtime> compose(const server::ServerConfig& config) {
  auto keys = key_options(config);
  if (!keys.is_ok()) return keys.status();
  auto policies = effective_namespaces(config);
  if (!policies.is_ok()) return policies.status();
  Runtime runtime;
  runtime.policies = *policies;
  runtime.keys = LaneKeys(*keys, **policies);
  std::vector<PressureLane> l1_lanes;
  runtime.near_miss = std::make_unique<NearMiss>(*runtime.policies);
  runtime.events = make_events(config, *runtime.near_miss);
  auto cache = make_cache(config, runtime.policies, &l1_lanes, *runtime.events);
  if (!cache.is_ok()) return cache.status();
  runtime.cache = std::move(cache).value();
  auto watchdog = make_memory_watchdog(config, std::move(l1_lanes));
  if (!watchdog.is_ok()) return watchdog.status();
  runtime.memory_watchdog = std::move(watchdog).value();
  if (!config.redis_url.empty()) {
    runtime.shared_calls = std::make_unique<boost::asio::thread_pool>(kSharedCallThreads);
  }
  // Planning reads the lane policies from the config: hand it the resolved ones.
  server::ServerConfig resolved = config;
  resolved.namespaces = runtime.policies;
  auto planning =
      make_planning(resolved, *runtime.cache, runtime.near_miss.get(), runtime.events.get());
  if (!planning.is_ok()) return planning.status();
  runtime.planning = std::move(planning).value();
  runtime.leases = std::make_unique<PlanLeases>(runtime.planning->engine(), runtime.cache->clock());
  runtime.predictions = make_predictions(config, runtime);
  runtime.stats_history = make_stats_history(config, runtime);
  if (!config.access_log.empty()) {
    auto log = AccessLog::open({.path = config.access_log,
                                .sample = config.access_log_sample,
                                .max_bytes = config.access_log_max_bytes,
                                .max_queued_lines = 100'000,
                                .clock = config.clock ? config.clock : system_clock()});
    if (!log.is_ok()) return log.status();
    runtime.access_log = std::move(log).value();
  }
  runtime.background = std::make_unique<boost::asio::thread_pool>(1);
  return runtime;
}

}  // namespace plancache::internal
