// Tier::limit_bytes on the memory tier (auto-sizing under memory pressure):
// a limit below the contents evicts at once in the policy's order, later puts
// keep to it, the configured bound still decides what is too large, and
// lifting it lets the tier fill to its bound again.
#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

namespace plancache {
namespace {

using testing::EventLog;
using testing::make_memory_tier;
using testing::plan_key;
using testing::value_of;

constexpr int64_t kT0 = 1'790'000'000'000;

struct Fixture {
  explicit Fixture(MemoryTierOptions options) {
    options.clock = clock;
    options.removal_listener = log.listener();
    tier = make_memory_tier(std::move(options));
  }
  void put(uint64_t i, size_t size = 1000) {
    EntryPtr e = make_entry(value_of(size), clock->now_ms(), 0);
    ASSERT_TRUE(tier->put(plan_key("ns", i), e).is_ok());
  }
  bool has(uint64_t i) {
    Result<EntryPtr> r = tier->get(plan_key("ns", i));
    return r.is_ok() && *r != nullptr;
  }
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>(kT0);
  EventLog log;
  std::unique_ptr<internal::MemoryTier> tier;
};

MemoryTierOptions lru_shards(uint32_t shards, uint64_t max_bytes) {
  MemoryTierOptions o;
  o.max_entries = 0;
  o.max_bytes = max_bytes;
  o.shards = shards;
  o.policy = EvictionPolicy::kLru;
  return o;
}

TEST(MemoryTierByteLimit, EvictsAtOnceLeastRecentFirstAndKeepsTheBound) {
  Fixture f(lru_shards(1, 1 << 20));
  for (uint64_t i = 0; i < 100; ++i) f.put(i);
  const uint64_t full = f.tier->stats().bytes;
  ASSERT_EQ(f.tier->stats().entries, 100u);

  const uint64_t evicted = f.tier->limit_bytes(full / 2);
  const TierStats s = f.tier->stats();
  EXPECT_GE(evicted, 49u);
  EXPECT_EQ(s.entries, 100u - evicted);
  EXPECT_LE(s.bytes, full / 2);
  EXPECT_EQ(s.max_bytes, 1u << 20) << "the configured bound is unchanged";
  EXPECT_EQ(f.log.count(RemovalCause::kSize), evicted);
  EXPECT_FALSE(f.has(0)) << "least recently used goes first";
  EXPECT_TRUE(f.has(99));
  EXPECT_EQ(f.tier->check_invariants(), "");

  // Later puts keep to the limit, by the policy's own eviction.
  for (uint64_t i = 100; i < 200; ++i) f.put(i);
  EXPECT_LE(f.tier->stats().bytes, full / 2);
  EXPECT_TRUE(f.has(199));
  EXPECT_EQ(f.tier->check_invariants(), "");
}

TEST(MemoryTierByteLimit, AnEntryOverTheLimitButUnderTheBoundIsNotRefused) {
  Fixture f(lru_shards(1, 1 << 20));
  f.tier->limit_bytes(100);
  // 10 KB is over the limit, well under the configured bound: the put
  // succeeds (nothing is refused as too large), the limit then evicts it.
  EntryPtr e = make_entry(value_of(10'000), f.clock->now_ms(), 0);
  EXPECT_TRUE(f.tier->put(plan_key("ns", 1), e).is_ok());
  EXPECT_LE(f.tier->stats().bytes, 100u);
  // Over the configured bound it is refused as before.
  e = make_entry(value_of(2 << 20), f.clock->now_ms(), 0);
  EXPECT_EQ(f.tier->put(plan_key("ns", 2), e).code(), StatusCode::kResourceExhausted);
}

TEST(MemoryTierByteLimit, LiftingTheLimitLetsTheTierFillToItsBound) {
  Fixture f(lru_shards(4, 400'000));
  f.tier->limit_bytes(100'000);
  for (uint64_t i = 0; i < 300; ++i) f.put(i);
  EXPECT_LE(f.tier->stats().bytes, 100'000u);
  EXPECT_EQ(f.tier->limit_bytes(0), 0u) << "lifting evicts nothing";
  for (uint64_t i = 300; i < 700; ++i) f.put(i);
  EXPECT_GT(f.tier->stats().bytes, 300'000u);
  EXPECT_LE(f.tier->stats().bytes, 400'000u);
  EXPECT_EQ(f.tier->check_invariants(), "");
}

class ByteLimitPolicies : public ::testing::TestWithParam<EvictionPolicy> {};

TEST_P(ByteLimitPolicies, EveryPolicyStaysUnderTheLimitUnderTurnover) {
  MemoryTierOptions o;
  o.max_entries = 10'000;
  o.max_bytes = 4 << 20;
  o.shards = 4;
  o.policy = GetParam();
  Fixture f(o);
  for (uint64_t i = 0; i < 3000; ++i) f.put(i, 1000 + (i % 7) * 100);
  EXPECT_GT(f.tier->stats().bytes, 2u << 20);
  for (uint64_t limit : {1u << 20, 256u << 10, 3u << 20}) {
    f.tier->limit_bytes(limit);
    EXPECT_LE(f.tier->stats().bytes, limit);
    for (uint64_t i = 0; i < 3000; ++i) {
      f.put(10'000 + i, 1000 + (i % 5) * 200);
      if (i % 3 == 0) f.has(10'000 + i / 2);
    }
    EXPECT_LE(f.tier->stats().bytes, limit);
    EXPECT_GT(f.tier->stats().bytes, limit / 2) << "the tier still uses what it may";
    EXPECT_EQ(f.tier->check_invariants(), "");
  }
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, ByteLimitPolicies,
                         ::testing::Values(EvictionPolicy::kTinyLfu, EvictionPolicy::kLru,
                                           EvictionPolicy::kCost),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case EvictionPolicy::kLru:
                               return std::string("lru");
                             case EvictionPolicy::kCost:
                               return std::string("cost");
                             case EvictionPolicy::kTinyLfu:
                               break;
                           }
                           return std::string("tinylfu");
                         });

}  // namespace
}  // namespace plancache
