// Change impact: the documented leaf-share function and the RFC 6902 patch.
#include "neighbours/change_impact.h"

#include <gtest/gtest.h>

namespace plancache::internal {
namespace {

using nlohmann::json;

json ten_fields() {
  json o = json::object();
  for (int i = 0; i < 10; ++i) o["f" + std::to_string(i)] = i;
  return o;
}

TEST(ChangeImpact, OneFieldOfTenIsATenth) {
  const json before = ten_fields();
  json after = before;
  after["f3"] = 33;
  json patch;
  EXPECT_DOUBLE_EQ(change_impact(before, after, &patch), 0.1);
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_EQ(patch[0]["op"], "replace");
  EXPECT_EQ(patch[0]["path"], "/f3");
  EXPECT_EQ(before.patch(patch), after);
}

TEST(ChangeImpact, EqualDocumentsAreZeroAndUnrelatedOnesOne) {
  EXPECT_DOUBLE_EQ(change_impact(ten_fields(), ten_fields(), nullptr), 0.0);
  EXPECT_DOUBLE_EQ(change_impact(json{{"a", 1}}, json{{"b", 2}}, nullptr), 1.0);
  EXPECT_DOUBLE_EQ(change_impact(json(1), json("x"), nullptr), 1.0);
  EXPECT_DOUBLE_EQ(change_impact(json(nullptr), json(nullptr), nullptr), 0.0);
}

TEST(ChangeImpact, AddedAndRemovedMembersCountTheirLeaves) {
  json before = ten_fields();
  json after = before;
  after["extra"] = json{{"x", 1}, {"y", 2}};  // 2 leaves added; after has 12
  EXPECT_DOUBLE_EQ(change_impact(before, after, nullptr), 2.0 / 12.0);
  after = before;
  after.erase("f0");  // 1 leaf removed; before has 10
  EXPECT_DOUBLE_EQ(change_impact(before, after, nullptr), 0.1);
}

TEST(ChangeImpact, ArraysAlignByIndexLikeTheDiff) {
  const json before = json{{"list", {1, 2, 3, 4}}};
  const json after = json{{"list", {1, 2, 3}}};
  json patch;
  EXPECT_DOUBLE_EQ(change_impact(before, after, &patch), 0.25);
  EXPECT_EQ(before.patch(patch), after);
}

TEST(ChangeImpact, ReplacedSubtreeCountsAllItsLeaves) {
  const json before = json{{"a", {{"x", 1}, {"y", 2}, {"z", 3}}}, {"b", 1}};
  const json after = json{{"a", "flat"}, {"b", 1}};
  // 3 of before's 4 leaves replaced.
  EXPECT_DOUBLE_EQ(change_impact(before, after, nullptr), 0.75);
  EXPECT_EQ(json_leaf_count(before), 4u);
  EXPECT_EQ(json_leaf_count(json::object()), 1u);
}

TEST(ChangeImpact, NestedChangeIsLocal) {
  json before = json::object();
  for (int i = 0; i < 5; ++i) before["s" + std::to_string(i)] = ten_fields();  // 50 leaves
  json after = before;
  after["s2"]["f7"] = "changed";
  json patch;
  EXPECT_DOUBLE_EQ(change_impact(before, after, &patch), 1.0 / 50.0);
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_EQ(patch[0]["path"], "/s2/f7");
}

}  // namespace
}  // namespace plancache::internal
