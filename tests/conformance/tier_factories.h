// The tiers the conformance suite runs over: one factory per Tier that
// production composes -- the memory tier, the disk tier, and the two
// decorators the server puts around them (NamespacedTier for L1's lanes,
// WriteBehindTier for L2's write-behind mode).
//
// A factory is a struct with kName, two capability flags, make() and
// settle(). make() returns `unavailable` when its backing service is missing
// (e.g. no redis-server), and the suite skips for it. settle() makes every
// write the tier accepted visible to stats() and counts (a write-behind
// tier's flush); the fixture calls it before each step it checks.
//
// Adding a tier: write a factory like these, add it to TierFactories, and
// its library to tests/conformance/CMakeLists.txt.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "cache/namespaced_tier.h"
#include "cache/write_behind_tier.h"
#include "plancache/clock.h"
#include "plancache/disk_tier.h"
#include "plancache/memory_tier.h"
#include "plancache/namespace_policy.h"
#include "plancache/redis_tier.h"
#include "plancache/tier.h"
#include "support/redis_fixture.h"

namespace plancache::conformance {

struct MemoryTierFactory {
  static constexpr const char* kName = "memory";
  // invalidate() returns exact counts (not an estimate).
  static constexpr bool kExactCounts = true;
  // Expiry is judged against the Clock passed to make() (so a FakeClock can
  // drive it).
  static constexpr bool kClockDrivenExpiry = true;
  // invalidate() returns a count at all (a shared tier cannot tell).
  static constexpr bool kCountsInvalidated = true;
  // stats() counts entries, bytes and per-namespace counters; list() and
  // purge_expired() work (a shared tier leaves those to Redis).
  static constexpr bool kTracksEntries = true;

  static Result<std::unique_ptr<Tier>> make(std::shared_ptr<Clock> clock) {
    MemoryTierOptions o;
    o.clock = std::move(clock);
    o.kept_namespaces = {"kept"};
    return new_memory_tier(std::move(o));
  }
  static void settle(Tier&) {}
};

// The memory tier with the cost-aware policy (EvictionPolicy::kCost).
struct CostMemoryTierFactory : MemoryTierFactory {
  static constexpr const char* kName = "memory_cost";
  static Result<std::unique_ptr<Tier>> make(std::shared_ptr<Clock> clock) {
    MemoryTierOptions o;
    o.clock = std::move(clock);
    o.kept_namespaces = {"kept"};
    o.policy = EvictionPolicy::kCost;
    return new_memory_tier(std::move(o));
  }
};

// Options of a fresh disk store, in a directory under /tmp that is removed
// at exit (after every test has closed its tier).
inline DiskTierOptions fresh_disk_options(std::shared_ptr<Clock> clock) {
  struct Root {
    std::string path = std::filesystem::temp_directory_path() /
                       ("plancache-conformance-" + std::to_string(::getpid()));
    ~Root() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static Root root;
  static std::atomic<int> next{0};
  DiskTierOptions o;
  o.path = root.path + "/" + std::to_string(next++);
  o.clock = std::move(clock);
  o.kept_namespaces = {"kept"};
  return o;
}

// The disk tier (RocksDB): one fresh store per test.
struct DiskTierFactory {
  static constexpr const char* kName = "disk";
  static constexpr bool kExactCounts = true;
  static constexpr bool kClockDrivenExpiry = true;
  static constexpr bool kCountsInvalidated = true;
  static constexpr bool kTracksEntries = true;

  static Result<std::unique_ptr<Tier>> make(std::shared_ptr<Clock> clock) {
    return new_disk_tier(fresh_disk_options(std::move(clock)));
  }
  static void settle(Tier&) {}
};

// L1 as the server builds it: a memory sub-tier per lane. Besides the
// presets (docs, heavy, ... and default, which every unconfigured name
// shares), the suite's "a" and "kept" are lanes of their own, so that keys
// of one test land in several sub-tiers and listings merge across them.
struct NamespacedTierFactory {
  static constexpr const char* kName = "namespaced";
  static constexpr bool kExactCounts = true;
  static constexpr bool kClockDrivenExpiry = true;
  static constexpr bool kCountsInvalidated = true;
  static constexpr bool kTracksEntries = true;

  static Result<std::unique_ptr<Tier>> make(std::shared_ptr<Clock> clock) {
    NamespacePolicies policies;
    for (const char* lane : {"a", "kept"}) {
      PLANCACHE_RETURN_IF_ERROR(policies.set(lane, NamespacePolicy{}));
    }
    MemoryTierOptions base;
    base.clock = std::move(clock);
    return internal::new_namespaced_tier(TierKind::kMemory, policies,
                                         internal::memory_sub_tier_factory(std::move(base)));
  }
  static void settle(Tier&) {}
};

// L2 in write-behind mode, as the server builds it: the disk tier behind a
// write-behind queue judged by the same clock.
struct WriteBehindTierFactory {
  static constexpr const char* kName = "write_behind";
  static constexpr bool kExactCounts = true;
  static constexpr bool kClockDrivenExpiry = true;
  static constexpr bool kCountsInvalidated = true;
  static constexpr bool kTracksEntries = true;

  static Result<std::unique_ptr<Tier>> make(std::shared_ptr<Clock> clock) {
    Result<std::unique_ptr<Tier>> disk = new_disk_tier(fresh_disk_options(clock));
    if (!disk.is_ok()) return disk.status();
    internal::WriteBehindOptions o;
    o.clock = std::move(clock);
    return internal::new_write_behind_tier(std::move(disk).value(), std::move(o));
  }
  // Stats and counts are the disk tier's: let the queued writes reach it.
  static void settle(Tier& tier) { static_cast<internal::WriteBehindTier&>(tier).flush(); }
};

// The shared tier on the test command's Redis (standalone, then Cluster):
// a key prefix of its own per test, so parallel tests never meet.
template <bool kCluster>
struct RedisTierFactoryOf {
  static constexpr const char* kName = kCluster ? "redis_cluster" : "redis";
  static constexpr bool kExactCounts = false;
  // Redis expires entries by its own clock (PX); get() also checks the
  // given clock, but erase() and purge_expired() cannot.
  static constexpr bool kClockDrivenExpiry = false;
  static constexpr bool kCountsInvalidated = false;
  static constexpr bool kTracksEntries = false;

  static Result<std::unique_ptr<Tier>> make(std::shared_ptr<Clock> clock) {
    const test::RedisFixtureUrls urls = test::redis_fixture_urls();
    if (urls.standalone.empty()) return Status::internal("no Redis fixture");
    RedisTierOptions o;
    o.url = kCluster ? urls.cluster : urls.standalone;
    static std::atomic<int> next{0};
    o.key_prefix = "pcconf" + std::to_string(::getpid()) + "x" + std::to_string(next++);
    o.clock = std::move(clock);
    return new_redis_tier(std::move(o));
  }
  static void settle(Tier&) {}
};
using RedisTierFactory = RedisTierFactoryOf<false>;
using RedisClusterTierFactory = RedisTierFactoryOf<true>;

using TierFactories = ::testing::Types<MemoryTierFactory, CostMemoryTierFactory, DiskTierFactory,
                                       NamespacedTierFactory,
                                       WriteBehindTierFactory, RedisTierFactory,
                                       RedisClusterTierFactory>;

}  // namespace plancache::conformance
