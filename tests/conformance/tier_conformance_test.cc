// Tier conformance: reads, writes, expiry, invalidation, stats and
// concurrency (the suite and its tiers: tier_conformance.h).
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "conformance/tier_conformance.h"

namespace plancache::conformance {
namespace {

TYPED_TEST(TierConformance, HasAName) { EXPECT_FALSE(this->tier()->name().empty()); }

TYPED_TEST(TierConformance, MissPutHit) {
  const CacheKey k = plan("docs", "a1b2c3");
  EXPECT_EQ(this->get(k), nullptr);
  const EntryPtr e = this->entry(R"({"steps":["plan","act"]})", 60'000, {"team:x"});
  this->put(k, e);
  this->expect_same(this->get(k), e);
}

TYPED_TEST(TierConformance, PutReplaces) {
  const CacheKey k = user("wf", "workflow:standard:step_5");
  this->put(k, this->entry("\"first\""));
  const EntryPtr second = this->entry("\"second\"");
  this->put(k, second);
  this->expect_same(this->get(k), second);
}

TYPED_TEST(TierConformance, EraseSaysWhetherTheKeyWasThere) {
  const CacheKey k = plan("docs", "k");
  EXPECT_FALSE(*this->tier()->erase(k));
  this->put(k, this->entry("1"));
  EXPECT_TRUE(*this->tier()->erase(k));
  EXPECT_EQ(this->get(k), nullptr);
  EXPECT_FALSE(*this->tier()->erase(k));
}

TYPED_TEST(TierConformance, NamespaceKindAndIdAllTellKeysApart) {
  this->put(plan("a", "x"), this->entry("1"));
  this->put(plan("b", "x"), this->entry("2"));
  this->put(user("a", "x"), this->entry("3"));
  EXPECT_EQ(*this->get(plan("a", "x"))->value, "1");
  EXPECT_EQ(*this->get(plan("b", "x"))->value, "2");
  EXPECT_EQ(*this->get(user("a", "x"))->value, "3");
  EXPECT_EQ(this->get(plan("a", "y")), nullptr);
}

TYPED_TEST(TierConformance, PriorityHintsRoundTrip) {
  for (EntryPriority p : {EntryPriority::kImportant, EntryPriority::kTemporary}) {
    const CacheKey k = plan("docs", std::string(entry_priority_name(p)));
    const EntryPtr e = make_entry(std::make_shared<const Bytes>("{}"), this->clock_->now_ms(), 0,
                                  40, {"t"}, 0, p);
    this->put(k, e);
    this->expect_same(this->get(k), e);
  }
}

TYPED_TEST(TierConformance, BigValuesRoundTrip) {
  const CacheKey k = plan("heavy", "big");
  const EntryPtr e = this->entry(std::string(1 << 20, 'z'));
  this->put(k, e);
  this->expect_same(this->get(k), e);
}

TYPED_TEST(TierConformance, TtlExpiresOnTheClock) {
  if (!TypeParam::kClockDrivenExpiry) GTEST_SKIP() << "expiry not driven by the given clock";
  const CacheKey k = plan("docs", "ttl");
  const CacheKey forever = plan("docs", "forever");
  this->put(k, this->entry("1", /*ttl_ms=*/1000));
  this->put(forever, this->entry("2", 0));
  this->clock_->advance_ms(999);
  EXPECT_NE(this->get(k), nullptr);
  this->clock_->advance_ms(1);
  EXPECT_EQ(this->get(k), nullptr);
  EXPECT_NE(this->get(forever), nullptr);
  // Expired entries are not removed by erase / invalidate either: they are gone.
  this->put(k, this->entry("3", 10));
  this->clock_->advance_ms(10);
  EXPECT_FALSE(*this->tier()->erase(k));
  this->put(k, this->entry("4", 10));
  this->clock_->advance_ms(10);
  this->expect_count(this->invalidate(by_ns("docs")), 1);  // only `forever`
  (void)this->tier()->purge_expired();
  EXPECT_EQ(this->get(forever), nullptr);
}

TYPED_TEST(TierConformance, PurgeExpiredRemovesOnlyExpired) {
  if (!TypeParam::kClockDrivenExpiry) GTEST_SKIP() << "expiry not driven by the given clock";
  if (!TypeParam::kTracksEntries) GTEST_SKIP() << "Redis expires entries itself (PX)";
  for (int i = 0; i < 10; ++i) {
    this->put(plan("ns", "e" + std::to_string(i)), this->entry("x", i < 6 ? 100 : 0));
  }
  this->clock_->advance_ms(100);
  this->expect_count(this->tier()->purge_expired(), 6);
  EXPECT_NE(this->get(plan("ns", "e7")), nullptr);
  EXPECT_EQ(this->get(plan("ns", "e2")), nullptr);
}

TYPED_TEST(TierConformance, InvalidateByTag) {
  this->put(plan("a", "1"), this->entry("1", 0, {"red", "blue"}));
  this->put(plan("a", "2"), this->entry("2", 0, {"blue"}));
  this->put(plan("b", "3"), this->entry("3", 0, {"red"}));
  this->expect_count(this->invalidate(by_tag("red")), 2);
  EXPECT_EQ(this->get(plan("a", "1")), nullptr);
  EXPECT_EQ(this->get(plan("b", "3")), nullptr);
  EXPECT_NE(this->get(plan("a", "2")), nullptr);
  EXPECT_EQ(this->invalidate(by_tag("red")), 0u);
}

TYPED_TEST(TierConformance, InvalidateByTagNarrowedByNamespace) {
  this->put(plan("a", "1"), this->entry("1", 0, {"t"}));
  this->put(plan("b", "1"), this->entry("2", 0, {"t"}));
  Selector s = by_tag("t");
  s.ns = "a";
  this->expect_count(this->invalidate(s), 1);
  EXPECT_NE(this->get(plan("b", "1")), nullptr);
}

TYPED_TEST(TierConformance, InvalidateByNamespace) {
  for (int i = 0; i < 5; ++i) this->put(plan("a", std::to_string(i)), this->entry("x"));
  this->put(user("b", "k"), this->entry("y"));
  this->expect_count(this->invalidate(by_ns("a")), 5);
  EXPECT_EQ(this->get(plan("a", "3")), nullptr);
  EXPECT_NE(this->get(user("b", "k")), nullptr);
}

TYPED_TEST(TierConformance, PrefixMatchesUserKeysOnly) {
  this->put(user("wf", "workflow:standard:step_1"), this->entry("1"));
  this->put(user("wf", "workflow:standard:step_2"), this->entry("2"));
  this->put(user("wf", "workflow:heavy:step_1"), this->entry("3"));
  this->put(plan("wf", "workflow:standard:step_3"), this->entry("4"));  // kPlan: never
  Selector s;
  s.prefix = "workflow:standard:";
  this->expect_count(this->invalidate(s), 2);
  EXPECT_EQ(this->get(user("wf", "workflow:standard:step_2")), nullptr);
  EXPECT_NE(this->get(user("wf", "workflow:heavy:step_1")), nullptr);
  EXPECT_NE(this->get(plan("wf", "workflow:standard:step_3")), nullptr);
}

TYPED_TEST(TierConformance, PatternMatchesUserKeysOnly) {
  this->put(user("wf", "workflow:standard:step_1"), this->entry("1"));
  this->put(user("wf", "workflow:heavy:step_1"), this->entry("2"));
  this->put(user("wf", "workflow:heavy:step_22"), this->entry("3"));
  this->put(plan("wf", "workflow:heavy:step_1"), this->entry("4"));
  Selector s;
  s.pattern = "workflow:*:step_?";
  this->expect_count(this->invalidate(s), 2);
  EXPECT_NE(this->get(user("wf", "workflow:heavy:step_22")), nullptr);
  EXPECT_NE(this->get(plan("wf", "workflow:heavy:step_1")), nullptr);
}

TYPED_TEST(TierConformance, InvalidateOlderThan) {
  this->put(plan("a", "old"), this->entry("1"));
  this->clock_->advance_ms(5000);
  this->put(plan("a", "new"), this->entry("2"));
  Selector s;
  s.created_before_ms = kT0 + 5000;
  this->expect_count(this->invalidate(s), 1);
  EXPECT_EQ(this->get(plan("a", "old")), nullptr);
  EXPECT_NE(this->get(plan("a", "new")), nullptr);
}

TYPED_TEST(TierConformance, EmptySelectorRemovesEverything) {
  for (int i = 0; i < 20; ++i) {
    this->put(plan(i % 2 ? "a" : "b", std::to_string(i)), this->entry("x", 0, {"t"}));
  }
  this->expect_count(this->invalidate(Selector{}), 20);
  EXPECT_EQ(this->get(plan("a", "1")), nullptr);
  EXPECT_EQ(this->get(plan("b", "2")), nullptr);
  if (TypeParam::kTracksEntries) {
    EXPECT_EQ(this->tier()->stats().entries, 0u);
  }
}

TYPED_TEST(TierConformance, MalformedSelectorsAreRejected) {
  Selector empty_tag;
  empty_tag.tag = "";
  EXPECT_EQ(this->tier()->invalidate(empty_tag).status().code(), StatusCode::kInvalidArgument);
  Selector bad_pattern;
  bad_pattern.pattern = "step_[1";
  EXPECT_EQ(this->tier()->invalidate(bad_pattern).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(TierConformance, StatsCountReadsAndWrites) {
  for (int i = 0; i < 3; ++i) this->put(plan("s", std::to_string(i)), this->entry("x"));
  (void)this->get(plan("s", "0"));
  (void)this->get(plan("s", "1"));
  (void)this->get(plan("s", "9"));
  const TierStats st = this->tier()->stats();
  EXPECT_EQ(st.name, this->tier()->name());
  EXPECT_EQ(st.hits, 2u);
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.puts, 3u);
  EXPECT_EQ(st.errors, 0u);
  if (!TypeParam::kTracksEntries) return;  // Redis holds the entry counts
  EXPECT_TRUE(st.connected);
  EXPECT_EQ(st.entries, 3u);
  EXPECT_GT(st.bytes, 0u);
  ASSERT_EQ(st.namespaces.count("s"), 1u);
  EXPECT_EQ(st.namespaces.at("s").hits, 2u);
  EXPECT_EQ(st.namespaces.at("s").misses, 1u);
  EXPECT_EQ(st.namespaces.at("s").entries, 3u);
  (void)*this->tier()->erase(plan("s", "0"));
  EXPECT_EQ(this->tier()->stats().entries, 2u);
}

// A namespace has counters while it holds entries (whatever emptied it:
// erase, invalidate, expiry), so names a client invents cost nothing once
// their entries are gone; a kept namespace (the factories keep "kept")
// keeps its counters, and only it gets a row for a miss while empty.
TYPED_TEST(TierConformance, AnEmptiedNamespaceLeavesNoCounters) {
  if (!TypeParam::kTracksEntries) GTEST_SKIP() << "no per-namespace counters (Redis holds them)";
  for (const char* ns : {"gone", "kept", "stay"}) this->put(plan(ns, "a"), this->entry("x"));
  this->put(plan("gone", "b"), this->entry("x", /*ttl_ms=*/1000));
  EXPECT_NE(this->get(plan("gone", "a")), nullptr);
  EXPECT_NE(this->get(plan("kept", "a")), nullptr);
  EXPECT_EQ(this->get(plan("never", "a")), nullptr);
  EXPECT_EQ(this->get(plan("kept", "nope")), nullptr);
  TierStats st = this->tier()->stats();
  EXPECT_EQ(st.misses, 2u);
  EXPECT_EQ(st.namespaces.count("never"), 0u) << "a miss in an empty namespace adds no row";
  EXPECT_EQ(st.namespaces.at("gone").hits, 1u);
  EXPECT_EQ(*this->tier()->erase(plan("gone", "a")), true);
  this->clock_->advance_ms(1000);
  EXPECT_EQ(this->tier()->purge_expired(), 1u);
  this->expect_count(this->invalidate(by_ns("kept")), 1);
  st = this->tier()->stats();
  EXPECT_EQ(st.namespaces.count("gone"), 0u) << "emptied by erase and expiry";
  ASSERT_EQ(st.namespaces.count("kept"), 1u);
  EXPECT_EQ(st.namespaces.at("kept").entries, 0u);
  EXPECT_EQ(st.namespaces.at("kept").hits, 1u);
  EXPECT_EQ(st.namespaces.at("kept").misses, 1u);
  EXPECT_EQ(st.namespaces.at("stay").entries, 1u);
  this->invalidate(Selector{});
  st = this->tier()->stats();
  EXPECT_EQ(st.namespaces.count("stay"), 0u) << "emptied by invalidating everything";
  EXPECT_EQ(st.entries, 0u);
}

TYPED_TEST(TierConformance, EvictFractionValidatesItsArgument) {
  EXPECT_EQ(this->tier()->evict_fraction(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->tier()->evict_fraction(1.01).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(TierConformance, ConcurrentPutsAndGetsSeeWholeEntries) {
  // 4 threads over 64 shared keys; every value names its key, so a torn or
  // crossed entry shows as a mismatch.
  constexpr int kThreads = 4, kOps = 3000, kKeys = 64;
  std::atomic<int> bad{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        const std::string id = "k" + std::to_string((i * 7 + t * 13) % kKeys);
        const CacheKey k = user("c", id);
        if ((i + t) % 3 == 0) {
          Status st = this->tier_->put(k, this->entry(id + "#" + std::to_string(t)));
          if (!st.is_ok()) errors.fetch_add(1);
        } else {
          Result<EntryPtr> r = this->tier_->get(k);
          if (!r.is_ok()) {
            errors.fetch_add(1);
          } else if (*r != nullptr && (*r)->value->rfind(id + "#", 0) != 0) {
            bad.fetch_add(1);
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(errors.load(), 0);
  const TierStats st = this->tier()->stats();
  EXPECT_EQ(st.hits + st.misses, static_cast<uint64_t>(kThreads * kOps * 2 / 3));
}

}  // namespace
}  // namespace plancache::conformance
