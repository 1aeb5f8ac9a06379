// The near-miss keys of a [namespaces.<name>] table (incremental,
// max_change_impact, similar_goal_min_score, similar_hard_fields,
// similar_shadow, planner_incremental) and --planner-incremental: values,
// defaults, and errors naming the table and the key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/config.h"

namespace plancache::server {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class NearMissConfigTest : public ::testing::Test {
 protected:
  ~NearMissConfigTest() override { std::filesystem::remove(path_); }
  Result<ServerConfig> resolve(const std::string& text, ServeFlags flags = {}) {
    std::ofstream(path_) << text;
    flags.config_path = path_.string();
    return resolve_server_config(flags, [](std::string_view) { return std::nullopt; });
  }
  std::string error(const std::string& text) {
    auto r = resolve(text);
    EXPECT_FALSE(r.is_ok()) << text;
    return r.is_ok() ? "" : r.status().message();
  }

  const std::filesystem::path path_ =
      std::filesystem::temp_directory_path() /
      (std::string("plancache_near_miss_config_") +
       ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".toml");
};

TEST_F(NearMissConfigTest, OffByDefault) {
  auto c = resolve("");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  const NearMissPolicy& p = c->namespaces->get("default").near_miss;
  EXPECT_FALSE(p.enabled());
  EXPECT_FALSE(p.incremental);
  EXPECT_DOUBLE_EQ(p.max_change_impact, 0.3);
  EXPECT_FALSE(p.similar_goal_min_score.has_value());
  EXPECT_FALSE(c->planner_incremental);
}

TEST_F(NearMissConfigTest, EveryKeyIsRead) {
  ServeFlags flags;
  flags.planner_incremental = "true";
  auto c = resolve(R"(
planner_cmd = "planner"

[namespaces.ops]
incremental = true
max_change_impact = 0.5
similar_goal_min_score = 0.95
similar_hard_fields = ["env", "region"]
similar_shadow = true
planner_cmd = "ops-planner"
planner_incremental = true

[namespaces.docs]
similar-goal-min-score = 1
)",
                   flags);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  const NearMissPolicy& ops = c->namespaces->get("ops").near_miss;
  EXPECT_TRUE(ops.incremental);
  EXPECT_DOUBLE_EQ(ops.max_change_impact, 0.5);
  EXPECT_DOUBLE_EQ(*ops.similar_goal_min_score, 0.95);
  EXPECT_EQ(ops.similar_hard_fields, (std::vector<std::string>{"env", "region"}));
  EXPECT_TRUE(ops.similar_shadow);
  EXPECT_TRUE(c->namespace_planners.at("ops").incremental);
  EXPECT_DOUBLE_EQ(*c->namespaces->get("docs").near_miss.similar_goal_min_score, 1.0);
  EXPECT_TRUE(c->planner_incremental);
}

TEST_F(NearMissConfigTest, BadValuesNameTheTableAndTheKey) {
  EXPECT_THAT(error("[namespaces.ops]\nmax_change_impact = 1.5\n"),
              AllOf(HasSubstr("[namespaces.ops]"), HasSubstr("'max_change_impact'"),
                    HasSubstr("[0, 1]"), HasSubstr("1.5")));
  EXPECT_THAT(error("[namespaces.ops]\nsimilar_goal_min_score = 0.5\n"),
              AllOf(HasSubstr("'similar_goal_min_score'"), HasSubstr("[0.9, 1]")))
      << "a lane cannot go below the server's floor";
  EXPECT_THAT(error("[namespaces.ops]\nincremental = \"yes\"\n"),
              AllOf(HasSubstr("'incremental'"), HasSubstr("true or false")));
  EXPECT_THAT(error("[namespaces.ops]\nsimilar_hard_fields = [\"\"]\n"), HasSubstr("empty"));
  EXPECT_THAT(error("[namespaces.ops]\nsimilar_shadow = true\n"),
              HasSubstr("need similar_goal_min_score"));
  EXPECT_THAT(error("[namespaces.ops]\nplanner_incremental = true\n"),
              HasSubstr("planner_incremental needs planner_url or planner_cmd"));
}

}  // namespace
}  // namespace plancache::server
