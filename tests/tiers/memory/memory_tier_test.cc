// Memory-tier behaviour, one property per test: options, reads and writes,
// TTL, both bounds, oversize entries, removal causes and statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"

namespace plancache {
namespace {

using testing::EventLog;
using testing::make_memory_tier;
using testing::plan_key;
using testing::Sel;
using testing::user_key;
using testing::value_of;

constexpr int64_t kT0 = 1'790'000'000'000;

struct Fixture {
  explicit Fixture(MemoryTierOptions options = {}) {
    options.clock = clock;
    options.removal_listener = log.listener();
    tier = make_memory_tier(std::move(options));
  }
  EntryPtr put(const CacheKey& key, size_t size = 10, int64_t ttl_ms = 0,
               std::vector<std::string> tags = {}) {
    EntryPtr e = make_entry(value_of(size), clock->now_ms(), ttl_ms, 0, std::move(tags));
    EXPECT_TRUE(tier->put(key, e).is_ok());
    return e;
  }
  EntryPtr get(const CacheKey& key) {
    Result<EntryPtr> r = tier->get(key);
    EXPECT_TRUE(r.is_ok());
    return r.is_ok() ? *r : nullptr;
  }
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>(kT0);
  EventLog log;
  std::unique_ptr<internal::MemoryTier> tier;
};

MemoryTierOptions single_shard(uint64_t max_entries, uint64_t max_bytes = 0) {
  MemoryTierOptions o;
  o.max_entries = max_entries;
  o.max_bytes = max_bytes;
  o.shards = 1;
  return o;
}

TEST(MemoryTierOptions, ValidatesAndPicksShardCounts) {
  MemoryTierOptions o;
  EXPECT_TRUE(new_memory_tier(o).is_ok());
  o.name = "";
  EXPECT_EQ(new_memory_tier(o).status().code(), StatusCode::kInvalidArgument);
  o = {};
  o.max_entries = 10;
  o.shards = 16;
  Result<std::unique_ptr<Tier>> bad = new_memory_tier(o);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("max_entries"), std::string::npos);
  o.shards = 100'000;
  EXPECT_EQ(new_memory_tier(o).status().code(), StatusCode::kInvalidArgument);
  o.shards = 3;  // rounded up to 4
  EXPECT_EQ(*internal::memory_tier_shard_count(o), 4u);
  // Automatic: small tiers get one shard; the default gets many.
  o = {};
  o.max_entries = 100;
  EXPECT_EQ(*internal::memory_tier_shard_count(o), 1u);
  o = {};
  EXPECT_GE(*internal::memory_tier_shard_count(o), 1u);
  EXPECT_LE(o.max_bytes / *internal::memory_tier_shard_count(o), o.max_bytes);
  EXPECT_EQ(new_memory_tier(o).value()->name(), "l1");
}

TEST(MemoryTier, HitReturnsTheStoredEntryWithoutCopying) {
  Fixture f;
  const CacheKey k = plan_key("docs", 1);
  EXPECT_EQ(f.get(k), nullptr);
  EntryPtr e = f.put(k, 4096);
  EntryPtr got = f.get(k);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got.get(), e.get());               // the same Entry object
  EXPECT_EQ(got->value.get(), e->value.get());  // the same payload buffer
  TierStats s = f.tier->stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.puts, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, e->charge() + k.encoded().size());
}

TEST(MemoryTier, ReplaceEraseAndTheirCauses) {
  Fixture f;
  const CacheKey k = user_key("docs", "workflow:1");
  EntryPtr first = f.put(k, 10);
  EntryPtr second = f.put(k, 300);
  EXPECT_EQ(f.get(k).get(), second.get());
  EXPECT_EQ(f.tier->stats().bytes, second->charge() + k.encoded().size());
  std::vector<testing::Event> events = f.log.take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].cause, RemovalCause::kReplaced);
  EXPECT_EQ(events[0].entry.get(), first.get());
  EXPECT_EQ(events[0].key, k.encoded());

  EXPECT_TRUE(*f.tier->erase(k));
  EXPECT_FALSE(*f.tier->erase(k));
  EXPECT_EQ(f.get(k), nullptr);
  events = f.log.take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].cause, RemovalCause::kExplicit);
  EXPECT_EQ(events[0].entry.get(), second.get());
  EXPECT_EQ(f.tier->stats().entries, 0u);
  EXPECT_EQ(f.tier->stats().bytes, 0u);
}

TEST(MemoryTier, RejectsNullEntries) {
  Fixture f;
  EXPECT_EQ(f.tier->put(plan_key("a", 1), nullptr).code(), StatusCode::kInvalidArgument);
  auto no_value = std::make_shared<Entry>();
  EXPECT_EQ(f.tier->put(plan_key("a", 1), no_value).code(), StatusCode::kInvalidArgument);
}

TEST(MemoryTier, TtlExpiresOnTheFakeClock) {
  Fixture f;
  const CacheKey k = plan_key("docs", 1);
  const CacheKey forever = plan_key("docs", 2);
  EntryPtr e = f.put(k, 10, /*ttl_ms=*/100);
  f.put(forever, 10, 0);
  f.clock->advance_ms(99);
  EXPECT_EQ(f.get(k).get(), e.get());
  f.clock->advance_ms(1);  // now == expires: expired
  EXPECT_EQ(f.get(k), nullptr);
  EXPECT_NE(f.get(forever), nullptr);
  std::vector<testing::Event> events = f.log.take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].cause, RemovalCause::kExpired);
  EXPECT_EQ(events[0].entry.get(), e.get());
  TierStats s = f.tier->stats();
  EXPECT_EQ(s.expirations, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 2u);
}

TEST(MemoryTier, ExpiredEntriesAreAbsentForEraseInvalidateAndPut) {
  Fixture f;
  const CacheKey a = user_key("ns", "a"), b = user_key("ns", "b"), c = user_key("ns", "c");
  f.put(a, 10, 50);
  f.put(b, 10, 50);
  EntryPtr old_c = f.put(c, 10, 50);
  f.clock->advance_ms(50);
  EXPECT_FALSE(*f.tier->erase(a));                           // expired: not "removed"
  EXPECT_EQ(*f.tier->invalidate(Sel().ns("ns")), 0u);  // b is expired
  EntryPtr new_c = f.put(c, 10, 0);                          // replaces an expired entry
  EXPECT_EQ(f.get(c).get(), new_c.get());
  std::vector<testing::Event> events = f.log.take();
  ASSERT_EQ(events.size(), 3u);
  for (const auto& e : events) EXPECT_EQ(e.cause, RemovalCause::kExpired);
  EXPECT_EQ(events[2].entry.get(), old_c.get());
  EXPECT_EQ(f.tier->stats().expirations, 3u);
  EXPECT_EQ(f.tier->stats().invalidations, 0u);
}

TEST(MemoryTier, PurgeExpiredSweepsEveryShardInBatches) {
  MemoryTierOptions o;
  o.shards = 2;
  Fixture f(o);
  for (uint64_t i = 0; i < 1500; ++i) f.put(plan_key("ns", i), 10, i % 3 == 0 ? 0 : 100);
  f.clock->advance_ms(99);
  EXPECT_EQ(f.tier->purge_expired(), 0u);
  f.clock->advance_ms(1);
  EXPECT_EQ(f.tier->purge_expired(), 1000u);  // > the 256 batch per shard
  EXPECT_EQ(f.tier->stats().entries, 500u);
  EXPECT_EQ(f.log.count(RemovalCause::kExpired), 1000u);
  EXPECT_EQ(f.tier->purge_expired(), 0u);
  EXPECT_EQ(f.tier->check_invariants(), "");
}

TEST(MemoryTier, EntryBoundEvictsForSize) {
  for (EvictionPolicy policy :
       {EvictionPolicy::kTinyLfu, EvictionPolicy::kLru, EvictionPolicy::kCost}) {
    MemoryTierOptions o = single_shard(100);
    o.policy = policy;
    Fixture f(o);
    for (uint64_t i = 0; i < 1000; ++i) f.put(plan_key("ns", i));
    TierStats s = f.tier->stats();
    EXPECT_EQ(s.entries, 100u);
    EXPECT_EQ(s.evictions, 900u);
    EXPECT_EQ(s.max_entries, 100u);
    EXPECT_EQ(f.log.count(RemovalCause::kSize), 900u);
    EXPECT_EQ(f.tier->check_invariants(), "");
  }
}

TEST(MemoryTier, ByteBoundHoldsWithBigValues) {
  for (EvictionPolicy policy :
       {EvictionPolicy::kTinyLfu, EvictionPolicy::kLru, EvictionPolicy::kCost}) {
    MemoryTierOptions o = single_shard(0, 64 * 1024);
    o.policy = policy;
    Fixture f(o);
    for (uint64_t i = 0; i < 200; ++i) {
      f.put(plan_key("ns", i), 4096 + (i % 7) * 1000);
      ASSERT_LE(f.tier->stats().bytes, 64u * 1024);
    }
    TierStats s = f.tier->stats();
    EXPECT_GT(s.entries, 5u);
    EXPECT_LT(s.entries, 16u);
    EXPECT_EQ(s.evictions, 200 - s.entries);
    EXPECT_EQ(s.max_bytes, 64u * 1024);
    EXPECT_EQ(f.tier->check_invariants(), "");
  }
}

TEST(MemoryTier, ReplacingWithABiggerValueEvictsToFit) {
  Fixture f(single_shard(0, 20'000));
  for (uint64_t i = 0; i < 10; ++i) f.put(plan_key("ns", i), 1000);
  f.put(plan_key("ns", 0), 15'000);
  EXPECT_LE(f.tier->stats().bytes, 20'000u);
  EXPECT_GT(f.log.count(RemovalCause::kSize), 0u);
  EXPECT_EQ(f.tier->check_invariants(), "");
}

TEST(MemoryTier, OversizeEntryIsRejectedAndTheStaleOneRemoved) {
  Fixture f(single_shard(0, 10'000));
  const CacheKey k = plan_key("ns", 1);
  EntryPtr old = f.put(k, 100);
  const CacheKey other = plan_key("ns", 2);
  EntryPtr kept = f.put(other, 100);
  EntryPtr huge = make_entry(value_of(20'000), kT0, 0);
  Status st = f.tier->put(k, huge);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  const std::string size = std::to_string(huge->charge() + k.encoded().size());
  EXPECT_NE(st.message().find(size), std::string::npos) << st.message();     // the size
  EXPECT_NE(st.message().find("10000"), std::string::npos) << st.message();  // the limit
  EXPECT_EQ(f.get(k), nullptr);
  EXPECT_EQ(f.get(other).get(), kept.get());  // nothing else was evicted for it
  std::vector<testing::Event> events = f.log.take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].cause, RemovalCause::kReplaced);
  EXPECT_EQ(events[0].entry.get(), old.get());
  // A fresh key too big is simply refused.
  EXPECT_EQ(f.tier->put(plan_key("ns", 3), make_entry(value_of(20'000), kT0, 0)).code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(f.tier->stats().entries, 1u);
  EXPECT_EQ(f.tier->check_invariants(), "");
}

TEST(MemoryTier, ListenerRunsAfterTheShardLockIsReleased) {
  // The listener calls back into the tier (stats() locks every shard, get()
  // locks the key's shard): with a lock still held this would deadlock.
  MemoryTierOptions o = single_shard(2);
  auto clock = std::make_shared<FakeClock>(kT0);
  o.clock = clock;
  Tier* self = nullptr;
  int calls = 0;
  o.removal_listener = [&](const CacheKey& key, const EntryPtr&, RemovalCause) {
    ++calls;
    (void)self->stats();
    (void)self->get(key);
  };
  auto tier = make_memory_tier(o);
  self = tier.get();
  for (uint64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(tier->put(plan_key("ns", i), make_entry(value_of(1), kT0, 10)).is_ok());
  }
  clock->advance_ms(10);
  EXPECT_EQ(tier->purge_expired(), 2u);
  EXPECT_EQ(calls, 5);
}

TEST(MemoryTier, ThrowingListenerIsCountedNotPropagated) {
  MemoryTierOptions o = single_shard(1);
  o.removal_listener = [](const CacheKey&, const EntryPtr&, RemovalCause) {
    throw std::runtime_error("listener bug");
  };
  auto tier = make_memory_tier(o);
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tier->put(plan_key("ns", i), make_entry(value_of(1), kT0, 0)).is_ok());
  }
  EXPECT_EQ(tier->stats().errors, 2u);
}

TEST(MemoryTier, StatsPerNamespace) {
  Fixture f;
  EntryPtr a = f.put(plan_key("docs", 1), 100);
  f.put(plan_key("docs", 2), 100);
  f.put(plan_key("heavy", 1), 5000);
  f.get(plan_key("docs", 1));
  f.get(plan_key("docs", 1));
  f.get(plan_key("docs", 3));
  f.get(plan_key("nowhere", 1));
  TierStats s = f.tier->stats();
  ASSERT_EQ(s.namespaces.count("docs"), 1u);
  const NamespaceCounters& docs = s.namespaces.at("docs");
  EXPECT_EQ(docs.entries, 2u);
  EXPECT_EQ(docs.bytes, 2 * (a->charge() + plan_key("docs", 1).encoded().size()));
  EXPECT_EQ(docs.hits, 2u);
  EXPECT_EQ(docs.misses, 1u);
  EXPECT_EQ(s.namespaces.at("heavy").entries, 1u);
  EXPECT_EQ(s.namespaces.count("nowhere"), 0u) << "a miss in an empty namespace adds no row";
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.bytes, s.namespaces.at("docs").bytes + s.namespaces.at("heavy").bytes);
  EXPECT_DOUBLE_EQ(s.hit_rate(), 0.5);
}

// Invented names cost nothing once their entries are gone, however they
// went: a row per namespace that still holds an entry, none after a clear.
TEST(MemoryTier, NamespacesLeaveNoRecordOnceEmpty) {
  MemoryTierOptions o;
  o.max_entries = 64;
  o.shards = 2;
  Fixture f(o);
  for (uint64_t i = 0; i < 5000; ++i) f.put(plan_key("ns" + std::to_string(i), 1));
  TierStats s = f.tier->stats();
  EXPECT_LE(s.entries, 64u);
  EXPECT_EQ(s.namespaces.size(), s.entries) << "evicted namespaces left their rows behind";
  EXPECT_EQ(f.tier->check_invariants(), "");
  ASSERT_TRUE(f.tier->invalidate(Selector{}).is_ok());
  EXPECT_TRUE(f.tier->stats().namespaces.empty());
  EXPECT_EQ(f.tier->check_invariants(), "");
}

TEST(MemoryTier, EvictFractionTakesTheShareOfEveryNamespaceColdestFirst) {
  MemoryTierOptions o;
  o.policy = EvictionPolicy::kLru;
  o.shards = 1;
  Fixture f(o);
  for (uint64_t i = 0; i < 100; ++i) f.put(plan_key("big", i));
  for (uint64_t i = 0; i < 10; ++i) f.put(plan_key("small", i));
  for (uint64_t i = 50; i < 100; ++i) f.get(plan_key("big", i));  // the hot half
  EXPECT_EQ(f.tier->evict_fraction(0.0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.tier->evict_fraction(-1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.tier->evict_fraction(1.5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.tier->evict_fraction(std::nan("")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*f.tier->evict_fraction(0.5), 55u);
  TierStats s = f.tier->stats();
  EXPECT_EQ(s.namespaces.at("big").entries, 50u);
  EXPECT_EQ(s.namespaces.at("small").entries, 5u);
  EXPECT_EQ(s.invalidations, 55u);
  EXPECT_EQ(f.log.count(RemovalCause::kInvalidated), 55u);
  for (uint64_t i = 50; i < 100; ++i) EXPECT_NE(f.get(plan_key("big", i)), nullptr) << i;
  EXPECT_EQ(*f.tier->evict_fraction(1.0), 55u);
  EXPECT_EQ(f.tier->stats().entries, 0u);
  EXPECT_EQ(f.tier->check_invariants(), "");
}

TEST(MemoryTier, EvictFractionSpreadsRoundingOverShards) {
  MemoryTierOptions o;
  o.shards = 8;
  Fixture f(o);
  for (uint64_t i = 0; i < 101; ++i) f.put(plan_key("a", i));
  for (uint64_t i = 0; i < 7; ++i) f.put(plan_key("b", i));
  for (uint64_t i = 0; i < 3; ++i) f.put(plan_key("c", i));
  // round(0.3 * n) per namespace, although each shard holds only a few.
  EXPECT_EQ(*f.tier->evict_fraction(0.3), 30u + 2u + 1u);
  TierStats s = f.tier->stats();
  EXPECT_EQ(s.namespaces.at("a").entries, 71u);
  EXPECT_EQ(s.namespaces.at("b").entries, 5u);
  EXPECT_EQ(s.namespaces.at("c").entries, 2u);
}

TEST(MemoryTier, EvictFractionWithTinyLfuKeepsTheFrequentlyUsed) {
  Fixture f(single_shard(1000));
  for (uint64_t i = 0; i < 200; ++i) f.put(plan_key("ns", i));
  for (int round = 0; round < 5; ++round) {
    for (uint64_t i = 0; i < 20; ++i) f.get(plan_key("ns", i));
  }
  EXPECT_EQ(*f.tier->evict_fraction(0.5), 100u);
  for (uint64_t i = 0; i < 20; ++i) EXPECT_NE(f.get(plan_key("ns", i)), nullptr) << i;
}

}  // namespace
}  // namespace plancache
