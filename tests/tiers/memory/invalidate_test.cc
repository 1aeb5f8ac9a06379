// Memory-tier invalidation: every selector kind, and proof that a tag or
// namespace invalidation visits only the entries it concerns.
#include <gtest/gtest.h>

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

class InvalidateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MemoryTierOptions o;
    o.max_entries = 0;
    o.max_bytes = 0;
    o.shards = 8;
    o.clock = clock_;
    o.removal_listener = log_.listener();
    tier_ = make_memory_tier(o);
  }
  void put(const CacheKey& key, std::vector<std::string> tags = {}) {
    ASSERT_TRUE(tier_->put(key, make_entry(value_of(8), clock_->now_ms(), 0, 0, std::move(tags)))
                    .is_ok());
  }
  bool has(const CacheKey& key) { return *tier_->get(key) != nullptr; }
  uint64_t invalidate(const Selector& s) {
    Result<uint64_t> r = tier_->invalidate(s);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : 0;
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(kT0);
  EventLog log_;
  std::unique_ptr<internal::MemoryTier> tier_;
};

TEST_F(InvalidateTest, SmallTagTouchesOnlyItsEntries) {
  for (uint64_t i = 0; i < 20'000; ++i) {
    put(plan_key("ns", i), i % 1000 == 7 ? std::vector<std::string>{"common", "rare"}
                                          : std::vector<std::string>{"common"});
  }
  const uint64_t scanned_before = tier_->nodes_scanned();
  EXPECT_EQ(invalidate(Sel().tag("rare")), 20u);
  // Only the 20 tagged nodes were examined, not the 20,000 in the cache.
  EXPECT_EQ(tier_->nodes_scanned() - scanned_before, 20u);
  EXPECT_EQ(tier_->stats().entries, 19'980u);
  EXPECT_FALSE(has(plan_key("ns", 7)));
  EXPECT_TRUE(has(plan_key("ns", 8)));
  EXPECT_EQ(log_.count(RemovalCause::kInvalidated), 20u);
  // An unknown tag examines nothing.
  EXPECT_EQ(invalidate(Sel().tag("nobody")), 0u);
  EXPECT_EQ(tier_->nodes_scanned() - scanned_before, 20u);
  EXPECT_EQ(tier_->check_invariants(), "");
}

TEST_F(InvalidateTest, TagNarrowedByNamespace) {
  for (uint64_t i = 0; i < 10; ++i) {
    put(plan_key("a", i), {"t"});
    put(plan_key("b", i), {"t"});
  }
  EXPECT_EQ(invalidate(Sel().ns("a").tag("t")), 10u);
  EXPECT_TRUE(has(plan_key("b", 3)));
  EXPECT_FALSE(has(plan_key("a", 3)));
  EXPECT_EQ(invalidate(Sel().tag("t")), 10u);
  EXPECT_EQ(tier_->stats().entries, 0u);
}

TEST_F(InvalidateTest, NamespaceOnlyVisitsThatNamespace) {
  for (uint64_t i = 0; i < 5000; ++i) put(plan_key("big", i));
  for (uint64_t i = 0; i < 10; ++i) put(plan_key("small", i));
  const uint64_t before = tier_->nodes_scanned();
  EXPECT_EQ(invalidate(Sel().ns("small")), 10u);
  EXPECT_EQ(tier_->nodes_scanned() - before, 10u);
  EXPECT_EQ(tier_->stats().entries, 5000u);
  EXPECT_EQ(tier_->stats().namespaces.count("small"), 0u) << "an emptied namespace has no row";
}

TEST_F(InvalidateTest, PrefixAndPatternMatchOnlyUserKeys) {
  for (int i = 1; i <= 5; ++i) put(user_key("wf", "workflow:standard:step_" + std::to_string(i)));
  put(user_key("wf", "workflow:heavy:step_1"));
  put(user_key("wf", "other:1"));
  put(user_key("elsewhere", "workflow:standard:step_1"));
  const CacheKey plan_lookalike("wf", KeyKind::kPlan, "workflow:standard:step_9");
  put(plan_lookalike);

  EXPECT_EQ(invalidate(Sel().ns("wf").prefix("workflow:standard:")), 5u);
  EXPECT_TRUE(has(plan_lookalike));  // kPlan ids never match a prefix
  EXPECT_TRUE(has(user_key("elsewhere", "workflow:standard:step_1")));
  EXPECT_EQ(invalidate(Sel().pattern("workflow:*:step_[0-9]")), 2u);
  EXPECT_TRUE(has(plan_lookalike));
  EXPECT_TRUE(has(user_key("wf", "other:1")));
  EXPECT_EQ(invalidate(Sel().pattern("*")), 1u);  // other:1; still not the plan key
  EXPECT_TRUE(has(plan_lookalike));
}

TEST_F(InvalidateTest, OlderThan) {
  put(user_key("ns", "t0"));
  clock_->advance_ms(100);
  put(user_key("ns", "t100"));
  clock_->advance_ms(100);
  put(user_key("ns", "t200"));
  EXPECT_EQ(invalidate(Sel().before(kT0 + 100)), 1u);  // strictly before
  EXPECT_TRUE(has(user_key("ns", "t100")));
  EXPECT_EQ(invalidate(Sel().before(kT0 + 150)), 1u);
  EXPECT_TRUE(has(user_key("ns", "t200")));
}

TEST_F(InvalidateTest, EmptySelectorClearsEverything) {
  for (uint64_t i = 0; i < 300; ++i) put(plan_key(i % 2 ? "a" : "b", i), {"x"});
  EXPECT_EQ(invalidate(Selector{}), 300u);
  TierStats s = tier_->stats();
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_EQ(s.invalidations, 300u);
  EXPECT_EQ(log_.count(RemovalCause::kInvalidated), 300u);
  EXPECT_EQ(tier_->check_invariants(), "");
}

TEST_F(InvalidateTest, MalformedSelectorsAreRejected) {
  EXPECT_EQ(tier_->invalidate(Sel().tag("")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tier_->invalidate(Sel().pattern("a[b")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(tier_->invalidate(Sel().ns("")).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(InvalidateTest, ReplacementMovesTheEntryBetweenTags) {
  const CacheKey k = plan_key("ns", 1);
  put(k, {"old", "old"});  // a duplicate tag is harmless
  put(k, {"new"});
  EXPECT_EQ(invalidate(Sel().tag("old")), 0u);
  EXPECT_TRUE(has(k));
  EXPECT_EQ(invalidate(Sel().tag("new")), 1u);
  EXPECT_FALSE(has(k));
  EXPECT_EQ(tier_->check_invariants(), "");
}

}  // namespace
}  // namespace plancache
