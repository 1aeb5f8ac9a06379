// The cost-aware policy (EvictionPolicy::kCost, policy/cost.cc) through the
// real tier: cost-blind when costs are equal or unknown, expensive entries
// kept against cheap popular ones, the priority hints, bounds and removal
// causes. Quality on public traces is measured by cost_replay (see
// docs/decisions.md), not here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "test_util.h"

namespace plancache {
namespace {

using testing::EventLog;
using testing::make_memory_tier;
using testing::plan_key;
using testing::value_of;

struct OneShard {
  explicit OneShard(EvictionPolicy policy, uint64_t max_entries, uint64_t max_bytes = 0,
                    internal::TinyLfuConfig config = {}) {
    MemoryTierOptions o;
    o.max_entries = max_entries;
    o.max_bytes = max_bytes;
    o.shards = 1;
    o.policy = policy;
    o.clock = clock;
    o.removal_listener = log.listener();
    tier = make_memory_tier(std::move(o), config);
  }
  void put(const CacheKey& key, uint32_t compute_ms,
           EntryPriority priority = EntryPriority::kNormal, size_t size = 10) {
    EXPECT_TRUE(
        tier->put(key, make_entry(value_of(size), clock->now_ms(), 0, compute_ms, {}, 0, priority))
            .is_ok());
  }
  bool get(const CacheKey& key) {
    Result<EntryPtr> r = tier->get(key);
    return r.is_ok() && *r != nullptr;
  }
  // get; on a miss, put (the cache-aside loop every trace replays).
  bool read(const CacheKey& key, uint32_t compute_ms,
            EntryPriority priority = EntryPriority::kNormal, size_t size = 10) {
    if (get(key)) return true;
    put(key, compute_ms, priority, size);
    return false;
  }
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  EventLog log;
  std::unique_ptr<internal::MemoryTier> tier;
};

// Zipf(0.9) over 5,000 keys with one-off scans mixed in.
std::vector<uint64_t> small_trace() {
  std::mt19937_64 rng(3);
  std::vector<double> cdf(5000);
  double sum = 0;
  for (size_t i = 0; i < cdf.size(); ++i) cdf[i] = sum += 1.0 / std::pow(double(i + 1), 0.9);
  std::uniform_real_distribution<double> u(0, sum);
  std::vector<uint64_t> keys;
  uint64_t scan = 1'000'000;
  for (int phase = 0; phase < 4; ++phase) {
    for (int i = 0; i < 10'000; ++i) {
      keys.push_back(
          static_cast<uint64_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin()));
    }
    for (int i = 0; i < 2'000; ++i) keys.push_back(scan++);
  }
  return keys;
}

std::vector<bool> hits_of(EvictionPolicy policy, const std::vector<uint64_t>& keys,
                          uint32_t compute_ms) {
  OneShard t(policy, 300);
  std::vector<bool> hits;
  hits.reserve(keys.size());
  for (uint64_t k : keys) hits.push_back(t.read(plan_key("ns", k), compute_ms));
  EXPECT_EQ(t.tier->check_invariants(), "");
  return hits;
}

double rate(const std::vector<bool>& hits) {
  return static_cast<double>(std::count(hits.begin(), hits.end(), true)) /
         static_cast<double>(hits.size());
}

TEST(CostPolicy, EqualOrUnknownCostsMakeTheSameChoices) {
  // Unknown costs (0) count as the typical cost, so a lane without costs and
  // a lane whose plans all cost the same make identical decisions (powers of
  // two keep the arithmetic exact).
  const std::vector<uint64_t> keys = small_trace();
  const std::vector<bool> unknown = hits_of(EvictionPolicy::kCost, keys, 0);
  for (uint32_t ms : {1u, 64u, 4096u}) {
    EXPECT_EQ(hits_of(EvictionPolicy::kCost, keys, ms), unknown) << ms << " ms";
  }
}

TEST(CostPolicy, WithoutCostsAtLeastLruAndCloseToTinyLfu) {
  const std::vector<uint64_t> keys = small_trace();
  const double cost = rate(hits_of(EvictionPolicy::kCost, keys, 0));
  const double lru = rate(hits_of(EvictionPolicy::kLru, keys, 0));
  const double tiny = rate(hits_of(EvictionPolicy::kTinyLfu, keys, 0));
  std::printf("zipf+scans @300: lru %.3f  w-tinylfu %.3f  cost %.3f\n", lru, tiny, cost);
  EXPECT_GT(cost, lru + 0.02);
  EXPECT_GT(cost, tiny - 0.02);
}

TEST(CostPolicy, ExpensiveEntrySurvivesABurstOfCheapPopularOnes) {
  // One 40 s plan read twice, then 400 cheap (200 ms) plans read three
  // times each: W-TinyLFU lets the more frequent cheap ones displace it; the
  // cost policy keeps it (2 x 40 s outweighs 3 x 200 ms).
  for (EvictionPolicy policy : {EvictionPolicy::kTinyLfu, EvictionPolicy::kCost}) {
    OneShard t(policy, 100);
    const CacheKey dear = plan_key("ns", 999'999);
    t.read(dear, 40'000);
    t.read(dear, 40'000);
    for (uint64_t round = 0; round < 4; ++round) {
      for (uint64_t k = 0; k < 100; ++k) {
        const CacheKey cheap = plan_key("ns", round * 100 + k);
        for (int i = 0; i < 3; ++i) t.read(cheap, 200);
      }
    }
    EXPECT_EQ(t.get(dear), policy == EvictionPolicy::kCost)
        << (policy == EvictionPolicy::kCost ? "cost" : "tinylfu");
    EXPECT_EQ(t.tier->check_invariants(), "");
  }
}

TEST(CostPolicy, PrefersWhatSavesMostPerByte) {
  // Byte bound: a small expensive plan against big cheap ones of the same
  // popularity; the cheap ones come and go, the small dear one stays.
  OneShard t(EvictionPolicy::kCost, 0, 64 * 1024);
  const CacheKey small_dear = plan_key("ns", 1);
  for (int i = 0; i < 3; ++i) t.read(small_dear, 5'000, EntryPriority::kNormal, 500);
  for (uint64_t k = 10; k < 200; ++k) {
    for (int i = 0; i < 3; ++i) t.read(plan_key("ns", k), 5'000, EntryPriority::kNormal, 8'000);
  }
  EXPECT_TRUE(t.get(small_dear));
  EXPECT_LE(t.tier->stats().bytes, 64u * 1024);
  EXPECT_EQ(t.tier->check_invariants(), "");
}

TEST(CostPolicy, TemporaryEntriesGoFirst) {
  OneShard t(EvictionPolicy::kCost, 10);
  for (uint64_t k = 0; k < 8; ++k) t.put(plan_key("ns", k), 100);
  const CacheKey temp1 = plan_key("ns", 100), temp2 = plan_key("ns", 101);
  t.put(temp1, 100, EntryPriority::kTemporary);
  t.put(temp2, 100, EntryPriority::kTemporary);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(t.get(temp1));  // popular, still temporary
  t.log.take();
  // Two more normal entries: the two temporary ones are the victims, least
  // recently used first.
  t.put(plan_key("ns", 8), 100);
  t.put(plan_key("ns", 9), 100);
  std::vector<testing::Event> events = t.log.take();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].key, temp2.encoded());
  EXPECT_EQ(events[1].key, temp1.encoded());
  EXPECT_EQ(events[0].cause, RemovalCause::kSize);
  // A temporary entry stored into a full shard displaces an older entry once
  // (it is not evicted by its own put), then is the next to go.
  const CacheKey temp3 = plan_key("ns", 102);
  t.put(temp3, 100, EntryPriority::kTemporary);
  EXPECT_TRUE(t.get(temp3));
  EXPECT_EQ(t.log.take().size(), 1u);
  t.put(plan_key("ns", 50), 100);
  events = t.log.take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key, temp3.encoded());
  EXPECT_EQ(t.tier->check_invariants(), "");
}

TEST(CostPolicy, ImportantEntriesOutlastNormalOnes) {
  // 40 important and 40 normal plans of the same cost, read the same way,
  // then a stream of new plans read twice each: the important ones (cost
  // counted 8x) stay, the normal ones give way.
  OneShard t(EvictionPolicy::kCost, 100);
  for (uint64_t k = 0; k < 40; ++k) {
    t.read(plan_key("imp", k), 1'000, EntryPriority::kImportant);
    t.read(plan_key("norm", k), 1'000);
  }
  for (uint64_t k = 0; k < 600; ++k) {
    for (int i = 0; i < 2; ++i) t.read(plan_key("new", k), 1'000);
  }
  int important = 0, normal = 0;
  for (uint64_t k = 0; k < 40; ++k) {
    important += t.get(plan_key("imp", k)) ? 1 : 0;
    normal += t.get(plan_key("norm", k)) ? 1 : 0;
  }
  EXPECT_GE(important, 35);
  EXPECT_LE(normal, 5);
  EXPECT_EQ(t.tier->check_invariants(), "");
}

TEST(CostPolicy, OtherPoliciesIgnoreHints) {
  // LRU evicts by recency whatever the hint: the oldest goes, temporary or not.
  OneShard t(EvictionPolicy::kLru, 3);
  t.put(plan_key("ns", 1), 0, EntryPriority::kImportant);
  t.put(plan_key("ns", 2), 0, EntryPriority::kTemporary);
  t.put(plan_key("ns", 3), 0);
  t.put(plan_key("ns", 4), 0);
  EXPECT_FALSE(t.get(plan_key("ns", 1)));
  EXPECT_TRUE(t.get(plan_key("ns", 2)));
}

TEST(CostPolicy, UpdatesMoveEntriesBetweenPriorities) {
  OneShard t(EvictionPolicy::kCost, 5);
  for (uint64_t k = 0; k < 5; ++k) t.put(plan_key("ns", k), 100);
  // Key 4 becomes temporary (and bigger), then normal again, then temporary.
  t.put(plan_key("ns", 4), 100, EntryPriority::kTemporary, 500);
  EXPECT_EQ(t.tier->check_invariants(), "");
  t.put(plan_key("ns", 4), 100, EntryPriority::kNormal, 20);
  EXPECT_EQ(t.tier->check_invariants(), "");
  t.put(plan_key("ns", 4), 100, EntryPriority::kTemporary);
  EXPECT_EQ(t.tier->check_invariants(), "");
  EXPECT_EQ(t.log.count(RemovalCause::kReplaced), 3u);
  t.log.take();
  t.put(plan_key("ns", 9), 100);
  std::vector<testing::Event> events = t.log.take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key, plan_key("ns", 4).encoded());
  EXPECT_EQ(t.tier->stats().entries, 5u);
}

TEST(CostPolicy, RemovalCauses) {
  OneShard t(EvictionPolicy::kCost, 4);
  t.put(plan_key("ns", 1), 100, EntryPriority::kTemporary);
  t.put(plan_key("ns", 2), 100, EntryPriority::kImportant);
  t.put(plan_key("ns", 3), 100);
  ASSERT_TRUE(t.tier->put(plan_key("ns", 4), make_entry(value_of(10), t.clock->now_ms(), 1000, 100))
                  .is_ok());
  EXPECT_TRUE(*t.tier->erase(plan_key("ns", 1)));
  t.put(plan_key("ns", 2), 300, EntryPriority::kImportant);
  t.clock->advance_ms(2000);
  EXPECT_EQ(t.tier->purge_expired(), 1u);
  Selector ns;
  ns.ns = "ns";
  EXPECT_EQ(*t.tier->invalidate(ns), 2u);
  for (uint64_t k = 10; k < 20; ++k) t.put(plan_key("ns", k), 100);
  EXPECT_EQ(t.log.count(RemovalCause::kExplicit), 1u);
  EXPECT_EQ(t.log.count(RemovalCause::kReplaced), 1u);
  EXPECT_EQ(t.log.count(RemovalCause::kExpired), 1u);
  EXPECT_EQ(t.log.count(RemovalCause::kInvalidated), 2u);
  EXPECT_EQ(t.log.count(RemovalCause::kSize), 6u);
  EXPECT_EQ(t.tier->stats().entries, 4u);
  EXPECT_EQ(t.tier->check_invariants(), "");
}

// Random reads, puts, updates (with changing priorities, costs and sizes),
// erasures and evict_fraction under tight bounds: the bounds hold after
// every operation and the structures agree. For every variant the tool runs.
TEST(CostPolicy, BoundsAlwaysHold) {
  for (internal::CostVariant variant :
       {internal::CostVariant::kWindowGdsf,
        internal::CostVariant::kGdsf}) {
    internal::TinyLfuConfig config;
    config.cost_variant = variant;
    OneShard t(EvictionPolicy::kCost, 60, 48 * 1024, config);
    std::mt19937_64 rng(static_cast<uint64_t>(variant) + 5);
    const EntryPriority priorities[] = {EntryPriority::kNormal, EntryPriority::kNormal,
                                        EntryPriority::kImportant, EntryPriority::kTemporary};
    for (int step = 0; step < 20'000; ++step) {
      const CacheKey key = plan_key("ns", rng() % 300);
      const uint64_t op = rng() % 100;
      if (op < 60) {
        t.read(key, static_cast<uint32_t>(rng() % 3 == 0 ? 0 : rng() % 60'000),
               priorities[rng() % 4], 16 + rng() % 4000);
      } else if (op < 90) {
        t.put(key, static_cast<uint32_t>(rng() % 60'000), priorities[rng() % 4], 16 + rng() % 6000);
      } else if (op < 99) {
        (void)t.tier->erase(key);
      } else {
        (void)t.tier->evict_fraction(0.25);
      }
      const TierStats s = t.tier->stats();
      ASSERT_LE(s.entries, 60u) << step;
      ASSERT_LE(s.bytes, 48u * 1024) << step;
      if (step % 97 == 0) {
        ASSERT_EQ(t.tier->check_invariants(), "") << step;
      }
    }
    EXPECT_EQ(t.tier->check_invariants(), "");
  }
}

}  // namespace
}  // namespace plancache
