#include "core/selector_match.h"

#include <gtest/gtest.h>

namespace plancache::internal {
namespace {

TEST(GlobMatch, LiteralsAndWildcards) {
  EXPECT_TRUE(glob_match("workflow:*", "workflow:standard:step_5"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("*:step_?", "workflow:step_5"));
  EXPECT_FALSE(glob_match("workflow:*", "work"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
}

TEST(GlobMatch, ClassesAndEscapes) {
  EXPECT_TRUE(glob_match("step_[0-9]", "step_7"));
  EXPECT_FALSE(glob_match("step_[0-9]", "step_x"));
  EXPECT_TRUE(glob_match("step_[!0-9]", "step_x"));
  EXPECT_TRUE(glob_match("step_[^0-9]", "step_x"));
  EXPECT_TRUE(glob_match("[abc]", "b"));
  EXPECT_TRUE(glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(glob_match("a\\*b", "aXb"));
  EXPECT_TRUE(glob_match("[]]", "]"));
}

TEST(GlobMatch, NoExponentialBlowUp) {
  // A pathological pattern for naive recursive matchers finishes at once here.
  const std::string text(5000, 'a');
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*b", text));
}

TEST(Selector, MatchesAllFieldsAnded) {
  const CacheKey user("ns1", KeyKind::kUser, "workflow:a");
  const CacheKey plan("ns1", KeyKind::kPlan, "abcdef");
  EntryMeta meta;
  meta.created_ms = 100;
  meta.tags = {"t1", "t2"};

  EXPECT_TRUE(selector_matches(Selector{}, plan, meta));
  Selector by_ns;
  by_ns.ns = "ns1";
  EXPECT_TRUE(selector_matches(by_ns, plan, meta));
  by_ns.ns = "ns2";
  EXPECT_FALSE(selector_matches(by_ns, plan, meta));

  Selector by_prefix;
  by_prefix.prefix = "workflow:";
  EXPECT_TRUE(selector_matches(by_prefix, user, meta));
  EXPECT_FALSE(selector_matches(by_prefix, plan, meta)) << "prefix matches user keys only";

  Selector by_tag;
  by_tag.tag = "t2";
  EXPECT_TRUE(selector_matches(by_tag, plan, meta));
  by_tag.ns = "other";
  EXPECT_FALSE(selector_matches(by_tag, plan, meta));

  Selector by_age;
  by_age.created_before_ms = 101;
  EXPECT_TRUE(selector_matches(by_age, plan, meta));
  by_age.created_before_ms = 100;
  EXPECT_FALSE(selector_matches(by_age, plan, meta));
}

TEST(Selector, ValidationNamesTheField) {
  Selector s;
  s.pattern = "step_[0-9";
  const Status st = validate_selector(s);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("pattern"), std::string::npos);
  s.pattern = "";
  EXPECT_FALSE(validate_selector(s).is_ok());
  s.pattern = "ok*";
  EXPECT_TRUE(validate_selector(s).is_ok());
}

TEST(CacheKey, EncodesAndDecodes) {
  const CacheKey key("docs", KeyKind::kUser, "a:b");
  EXPECT_EQ(key.ns(), "docs");
  EXPECT_EQ(key.id(), "a:b");
  EXPECT_EQ(key.kind(), KeyKind::kUser);
  CacheKey back("x", KeyKind::kPlan, "y");
  ASSERT_TRUE(CacheKey::decode(key.encoded(), &back));
  EXPECT_EQ(back, key);
  EXPECT_EQ(back.hash(), key.hash());
  EXPECT_FALSE(CacheKey::decode(std::string_view("nonul"), &back));
  EXPECT_FALSE(CacheKey::decode(std::string_view("ns\0zid", 6), &back));
}

}  // namespace
}  // namespace plancache::internal
