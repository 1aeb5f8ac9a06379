// Tier conformance: Tier::list (the suite and its tiers: tier_conformance.h).
#include <string>
#include <vector>

#include "conformance/tier_conformance.h"

namespace plancache::conformance {
namespace {

std::vector<std::string> listed_ids(const Result<std::vector<ListedEntry>>& rows) {
  std::vector<std::string> ids;
  if (!rows.is_ok()) return {"error: " + rows.status().to_string()};
  for (const ListedEntry& row : *rows)
    ids.push_back(std::string(row.key.ns()) + "/" + static_cast<char>(row.key.kind()) +
                  std::string(row.key.id()));
  return ids;
}

TYPED_TEST(TierConformance, ListIsInKeyOrderWithTheEntriesMetadata) {
  if (!TypeParam::kTracksEntries) GTEST_SKIP() << "the shared tier does not list";
  this->put(user("a", "zeta"), this->entry("\"z\"", 0, {"t2", "t1"}));
  this->put(user("a", "alpha"), this->entry("[1,2,3]", 60'000));
  this->put(plan("a", "ff00"), this->entry("{}"));
  this->put(user("b", "other"), this->entry("1"));
  const Result<std::vector<ListedEntry>> rows = this->tier()->list(by_ns("a"), 100);
  // Plans ('p') sort before user keys ('u') of the same namespace.
  EXPECT_EQ(listed_ids(rows), (std::vector<std::string>{"a/pff00", "a/ualpha", "a/uzeta"}));
  ASSERT_TRUE(rows.is_ok());
  const ListedEntry& alpha = (*rows)[1];
  EXPECT_EQ(alpha.created_ms, kT0);
  EXPECT_EQ(alpha.expires_ms, kT0 + 60'000);
  EXPECT_EQ(alpha.value_bytes, 7u);
  EXPECT_TRUE(alpha.tags.empty());
  const ListedEntry& zeta = (*rows)[2];
  EXPECT_EQ(zeta.expires_ms, 0);
  EXPECT_EQ(zeta.tags, (std::vector<std::string>{"t2", "t1"}));
  EXPECT_EQ(listed_ids(this->tier()->list(Selector{}, 100)),
            (std::vector<std::string>{"a/pff00", "a/ualpha", "a/uzeta", "b/uother"}));
}

TYPED_TEST(TierConformance, ListReturnsTheFirstLimitKeys) {
  if (!TypeParam::kTracksEntries) GTEST_SKIP() << "the shared tier does not list";
  for (const char* id : {"k5", "k1", "k4", "k2", "k3"}) this->put(user("n", id), this->entry("1"));
  for (const char* id : {"k9", "k0"}) this->put(user("m", id), this->entry("1"));
  EXPECT_EQ(listed_ids(this->tier()->list(by_ns("n"), 2)),
            (std::vector<std::string>{"n/uk1", "n/uk2"}));
  EXPECT_EQ(listed_ids(this->tier()->list(Selector{}, 3)),
            (std::vector<std::string>{"m/uk0", "m/uk9", "n/uk1"}));
  EXPECT_TRUE(this->tier()->list(by_ns("n"), 0)->empty());
  EXPECT_TRUE(this->tier()->list(by_ns("nothing-here"), 10)->empty());
}

TYPED_TEST(TierConformance, ListSkipsExpiredEntriesAndRemovesNothing) {
  if (!TypeParam::kTracksEntries) GTEST_SKIP() << "the shared tier does not list";
  if (!TypeParam::kClockDrivenExpiry) GTEST_SKIP() << "expiry not driven by the given clock";
  this->put(user("n", "short"), this->entry("1", 1000));
  this->put(user("n", "long"), this->entry("2", 5000));
  this->clock_->advance_ms(1000);
  EXPECT_EQ(listed_ids(this->tier()->list(by_ns("n"), 10)), (std::vector<std::string>{"n/ulong"}));
  EXPECT_EQ(this->tier()->stats().entries, 2u);  // the expired one is left to get / purge
  this->clock_->advance_ms(4000);
  EXPECT_TRUE(this->tier()->list(by_ns("n"), 10)->empty());
}

TYPED_TEST(TierConformance, ListSelectsLikeInvalidate) {
  if (!TypeParam::kTracksEntries) GTEST_SKIP() << "the shared tier does not list";
  this->put(user("wf", "workflow:a:1"), this->entry("1", 0, {"red"}));
  this->put(user("wf", "workflow:b:1"), this->entry("2", 0, {"blue"}));
  this->put(user("wf", "workflow:a:22"), this->entry("3"));
  this->put(plan("wf", "workflow:a:3"), this->entry("4", 0, {"red"}));
  this->clock_->advance_ms(10);
  this->put(user("xx", "workflow:a:1"), this->entry("5", 0, {"red"}));
  Selector prefix = by_ns("wf");
  prefix.prefix = "workflow:a:";
  EXPECT_EQ(listed_ids(this->tier()->list(prefix, 10)),
            (std::vector<std::string>{"wf/uworkflow:a:1", "wf/uworkflow:a:22"}));
  Selector pattern;
  pattern.pattern = "workflow:?:1";
  EXPECT_EQ(listed_ids(this->tier()->list(pattern, 10)),
            (std::vector<std::string>{"wf/uworkflow:a:1", "wf/uworkflow:b:1", "xx/uworkflow:a:1"}));
  // A tag across namespaces (plans included), then cut to the first two.
  EXPECT_EQ(listed_ids(this->tier()->list(by_tag("red"), 10)),
            (std::vector<std::string>{"wf/pworkflow:a:3", "wf/uworkflow:a:1", "xx/uworkflow:a:1"}));
  EXPECT_EQ(listed_ids(this->tier()->list(by_tag("red"), 2)),
            (std::vector<std::string>{"wf/pworkflow:a:3", "wf/uworkflow:a:1"}));
  Selector red_in_xx = by_tag("red");
  red_in_xx.ns = "xx";
  EXPECT_EQ(listed_ids(this->tier()->list(red_in_xx, 10)),
            (std::vector<std::string>{"xx/uworkflow:a:1"}));
  Selector old;
  old.created_before_ms = kT0 + 10;
  EXPECT_EQ(this->tier()->list(old, 10)->size(), 4u);
  Selector bad;
  bad.pattern = "step_[1";
  EXPECT_EQ(this->tier()->list(bad, 10).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(TierConformance, ListReportsTheUncompressedValueSize) {
  if (!TypeParam::kTracksEntries) GTEST_SKIP() << "the shared tier does not list";
  this->put(plan("heavy", "big"), this->entry(std::string(1 << 20, 'z')));
  const Result<std::vector<ListedEntry>> rows = this->tier()->list(by_ns("heavy"), 10);
  ASSERT_TRUE(rows.is_ok()) << rows.status().to_string();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].value_bytes, 1u << 20);
}

}  // namespace
}  // namespace plancache::conformance
