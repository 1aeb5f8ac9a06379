// Disk tier invalidation: every selector kind, the key ranges each one walks
// (a tag walks its index, not the store), index upkeep on replace, clear.
#include <gtest/gtest.h>

#include "disk_test_util.h"

namespace plancache::testing {
namespace {

class DiskInvalidateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DiskTierOptions o;
    o.path = dir_.file("store");
    o.max_bytes = 0;
    o.clock = clock_;
    tier_ = open_disk(o);
    ASSERT_NE(tier_, nullptr);
  }
  void put(const CacheKey& key, std::vector<std::string> tags = {}) {
    ASSERT_TRUE(tier_->put(key, make_entry(bytes("v:" + key.encoded()), clock_->now_ms(), 0, 0,
                                           std::move(tags)))
                    .is_ok());
  }
  bool present(const CacheKey& key) { return !value_of(*tier_, key).empty(); }
  uint64_t invalidate(const Selector& s) {
    auto r = tier_->invalidate(s);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : 0;
  }
  // A store with many unrelated entries: 2 × 1000 in "bulk".
  void fill_bulk() {
    for (int i = 0; i < 1000; ++i) {
      put(user_key("bulk", "u" + std::to_string(i)), {"bulk-tag"});
      put(plan_key("bulk", "p" + std::to_string(i)));
    }
  }

  TempDir dir_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::unique_ptr<internal::DiskTier> tier_;
};

TEST_F(DiskInvalidateTest, ByNamespaceWalksOnlyThatNamespace) {
  fill_bulk();
  put(user_key("docs", "a"));
  put(plan_key("docs", "b"));
  put(user_key("docs2", "a"));  // "docs" is a prefix of it: must survive
  const uint64_t before = tier_->keys_scanned();
  EXPECT_EQ(invalidate(by_ns("docs")), 2u);
  EXPECT_LE(tier_->keys_scanned() - before, 2u);
  EXPECT_FALSE(present(user_key("docs", "a")));
  EXPECT_FALSE(present(plan_key("docs", "b")));
  EXPECT_TRUE(present(user_key("docs2", "a")));
  EXPECT_EQ(tier_->stats().invalidations, 2u);
  EXPECT_EQ(tier_->stats().entries, 2001u);
}

TEST_F(DiskInvalidateTest, ByTagUsesTheTagIndexNotAScan) {
  fill_bulk();
  put(user_key("docs", "a"), {"release-7", "x"});
  put(plan_key("heavy", "b"), {"release-7"});
  put(user_key("docs", "c"), {"release-8"});
  const uint64_t before = tier_->keys_scanned();
  EXPECT_EQ(invalidate(by_tag("release-7")), 2u);
  EXPECT_LE(tier_->keys_scanned() - before, 2u);  // the 2 tag records, not 2000 entries
  EXPECT_FALSE(present(user_key("docs", "a")));
  EXPECT_FALSE(present(plan_key("heavy", "b")));
  EXPECT_TRUE(present(user_key("docs", "c")));
  // The removed entry's other tag records went with it.
  EXPECT_EQ(invalidate(by_tag("x")), 0u);
}

TEST_F(DiskInvalidateTest, ByTagWithinANamespace) {
  put(user_key("docs", "a"), {"t"});
  put(user_key("heavy", "a"), {"t"});
  EXPECT_EQ(invalidate(by_tag("t", "docs")), 1u);
  EXPECT_FALSE(present(user_key("docs", "a")));
  EXPECT_TRUE(present(user_key("heavy", "a")));
}

TEST_F(DiskInvalidateTest, TagIndexFollowsReplacement) {
  const CacheKey key = user_key("docs", "a");
  put(key, {"old"});
  put(key, {"new"});
  EXPECT_EQ(invalidate(by_tag("old")), 0u);
  EXPECT_TRUE(present(key));
  EXPECT_EQ(invalidate(by_tag("new")), 1u);
  EXPECT_FALSE(present(key));
}

TEST_F(DiskInvalidateTest, ByPrefixInANamespaceWalksOnlyThatRange) {
  fill_bulk();
  put(user_key("wf", "workflow:standard:step_1"));
  put(user_key("wf", "workflow:standard:step_2"));
  put(user_key("wf", "workflow:heavy:step_1"));
  put(plan_key("wf", "workflow:standard:x"));  // a plan: prefixes never match plans
  put(user_key("other", "workflow:standard:step_1"));
  const uint64_t before = tier_->keys_scanned();
  EXPECT_EQ(invalidate(by_prefix("workflow:standard:", "wf")), 2u);
  EXPECT_LE(tier_->keys_scanned() - before, 2u);
  EXPECT_TRUE(present(user_key("wf", "workflow:heavy:step_1")));
  EXPECT_TRUE(present(plan_key("wf", "workflow:standard:x")));
  EXPECT_TRUE(present(user_key("other", "workflow:standard:step_1")));
}

TEST_F(DiskInvalidateTest, ByPrefixAcrossNamespaces) {
  put(user_key("a", "job:1"));
  put(user_key("b", "job:2"));
  put(user_key("b", "other"));
  EXPECT_EQ(invalidate(by_prefix("job:")), 2u);
  EXPECT_TRUE(present(user_key("b", "other")));
  EXPECT_EQ(tier_->stats().entries, 1u);
}

TEST_F(DiskInvalidateTest, ByPattern) {
  fill_bulk();
  put(user_key("wf", "workflow:standard:step_5"));
  put(user_key("wf", "workflow:heavy:step_5"));
  put(user_key("wf", "workflow:heavy:step_6"));
  put(user_key("wf", "task:step_5"));
  const uint64_t before = tier_->keys_scanned();
  // Literal prefix "workflow:" bounds the walk to three keys.
  EXPECT_EQ(invalidate(by_pattern("workflow:*:step_5", "wf")), 2u);
  EXPECT_LE(tier_->keys_scanned() - before, 3u);
  EXPECT_TRUE(present(user_key("wf", "workflow:heavy:step_6")));
  EXPECT_TRUE(present(user_key("wf", "task:step_5")));
  // Without a namespace: every namespace (a walk over the meta records).
  put(user_key("other", "task:step_5"));
  EXPECT_EQ(invalidate(by_pattern("task:step_?")), 2u);
  EXPECT_EQ(invalidate(by_pattern("u[0-9]")), 10u);  // u0..u9 in "bulk"
}

TEST_F(DiskInvalidateTest, OlderThan) {
  put(user_key("docs", "old1"));
  put(plan_key("heavy", "old2"));
  clock_->advance_ms(5000);
  const int64_t cutoff = clock_->now_ms();
  put(user_key("docs", "new"));
  EXPECT_EQ(invalidate(created_before(cutoff, "heavy")), 1u);
  EXPECT_TRUE(present(user_key("docs", "old1")));
  EXPECT_EQ(invalidate(created_before(cutoff)), 1u);
  EXPECT_FALSE(present(user_key("docs", "old1")));
  EXPECT_TRUE(present(user_key("docs", "new")));
}

TEST_F(DiskInvalidateTest, SelectorFieldsAreAnded) {
  put(user_key("docs", "job:1"), {"t"});
  put(user_key("docs", "job:2"));
  put(user_key("docs", "misc"), {"t"});
  Selector s = by_tag("t", "docs");
  s.prefix = "job:";
  EXPECT_EQ(invalidate(s), 1u);
  EXPECT_TRUE(present(user_key("docs", "job:2")));
  EXPECT_TRUE(present(user_key("docs", "misc")));
}

TEST_F(DiskInvalidateTest, MalformedSelectorsAreRejected) {
  put(user_key("docs", "a"));
  EXPECT_EQ(tier_->invalidate(by_tag("")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tier_->invalidate(by_pattern("[abc")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(present(user_key("docs", "a")));
}

TEST_F(DiskInvalidateTest, EmptySelectorClearsEverythingAndStaysCleared) {
  fill_bulk();
  put(user_key("docs", "a"), {"t"});
  clock_->advance_ms(1);
  EXPECT_EQ(invalidate(Selector{}), 2001u);
  TierStats s = tier_->stats();
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_TRUE(s.namespaces.count("bulk") == 0 || s.namespaces["bulk"].entries == 0);
  EXPECT_FALSE(present(user_key("docs", "a")));
  EXPECT_EQ(invalidate(by_tag("t")), 0u);
  // The store works after a clear, and the clear survives a reopen.
  put(user_key("docs", "after"));
  tier_.reset();
  DiskTierOptions o;
  o.path = dir_.file("store");
  o.clock = clock_;
  tier_ = open_disk(o);
  EXPECT_EQ(tier_->stats().entries, 1u);
  EXPECT_TRUE(present(user_key("docs", "after")));
  EXPECT_FALSE(present(user_key("bulk", "u5")));
}

}  // namespace
}  // namespace plancache::testing
