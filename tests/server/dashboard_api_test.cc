// GET /ui (the embedded dashboard and its headers), GET /v1/stats/history,
// and the figures the dashboard shows that /v1/stats gained for it
// (planner-seconds saved, per-lane evictions), over real loopback sockets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_server.h"

namespace plancache::testing {
namespace {

using boost::beast::http::verb;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(DashboardApiTest, ServesThePageAndItsFilesWithAStrictPolicy) {
  TestServer server;
  for (const std::string target : {"/ui", "/ui/"}) {
    const auto page = server.call(verb::get, target);
    ASSERT_EQ(page.status, 200u) << target;
    EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(page.header("Cache-Control"), "no-cache");
    EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
    const std::string csp = page.header("Content-Security-Policy");
    EXPECT_THAT(csp, HasSubstr("default-src 'none'"));
    EXPECT_THAT(csp, HasSubstr("script-src 'self'"));
    EXPECT_THAT(csp, HasSubstr("connect-src 'self'"));
    EXPECT_THAT(csp, Not(HasSubstr("unsafe")));
    EXPECT_THAT(csp, Not(HasSubstr("http")));
    EXPECT_THAT(page.body, HasSubstr("<script src=\"/ui/dashboard.js\""));
    EXPECT_THAT(page.body, HasSubstr("data-testid=\"invalidate-form\""));
  }
  const auto js = server.call(verb::get, "/ui/dashboard.js");
  ASSERT_EQ(js.status, 200u);
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_THAT(js.body, HasSubstr("/v1/stats/history"));
  // Same origin only: no absolute URL is fetched.
  EXPECT_THAT(js.body, Not(HasSubstr("fetch('http")));
  const auto css = server.call(verb::get, "/ui/dashboard.css");
  ASSERT_EQ(css.status, 200u);
  EXPECT_EQ(css.header("Content-Type"), "text/css; charset=utf-8");
  expect_error(server.call(verb::get, "/ui/nope.js"), 404, "not_found");
  expect_error(server.call(verb::get, "/ui/../v1/stats"), 404, "not_found");
  EXPECT_EQ(server.call(verb::post, "/ui", "{}").status, 405u);
}

TEST(DashboardApiTest, ThePageNeedsNoTokenButTheHistoryDoes) {
  auto config = test_config();
  config.api_token = "api-secret";
  TestServer server(config);
  EXPECT_EQ(server.call(verb::get, "/ui").status, 200u);
  EXPECT_EQ(server.call(verb::get, "/ui/dashboard.js").status, 200u);
  expect_error(server.call(verb::get, "/v1/stats/history"), 401, "unauthenticated");
  expect_error(server.call(verb::get, "/v1/stats/history", {}, {{"Authorization", "Bearer no"}}),
               403, "permission_denied");
  EXPECT_EQ(
      server.call(verb::get, "/v1/stats/history", {}, {{"Authorization", "Bearer api-secret"}})
          .status,
      200u);
}

TEST(DashboardApiTest, HistoryHasTheStartSnapshotAndHonoursSince) {
  auto config = test_config();
  config.stats_history_interval_s = 3600;  // only the snapshot taken at start
  config.stats_history_size = 7;
  TestServer server(config);
  const auto res = server.call(verb::get, "/v1/stats/history");
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(res.header("Content-Type"), "application/json");
  const json doc = res.json();
  EXPECT_EQ(doc["interval_s"], 3600.0);
  EXPECT_EQ(doc["capacity"], 7);
  EXPECT_EQ(doc["now_ms"], server.clock().now_ms());
  ASSERT_EQ(doc["snapshots"].size(), 1u);
  const json& first = doc["snapshots"][0];
  EXPECT_EQ(first["time_ms"], server.clock().now_ms());
  EXPECT_EQ(first["tiers"][0]["name"], "l1");
  EXPECT_TRUE(first["lanes"].is_object());  // the lanes a tier has counted anything for

  const std::string at = std::to_string(first["time_ms"].get<int64_t>());
  EXPECT_TRUE(server.call(verb::get, "/v1/stats/history?since=" + at).json()["snapshots"].empty());
  EXPECT_EQ(server.call(verb::get, "/v1/stats/history?since=0").json()["snapshots"].size(), 1u);
  for (const char* bad : {"?since=abc", "?since=-1", "?since=", "?since=1.5", "?until=3"}) {
    expect_error(server.call(verb::get, std::string("/v1/stats/history") + bad), 400,
                 "invalid_argument");
  }
}

TEST(DashboardApiTest, StatsCountPlannerSecondsSavedAndLaneEvictions) {
  auto config = test_config();
  config.l1_max_entries = 4;
  TestServer server(config);
  const json plan = {{"steps", json::array({"a"})}};
  ASSERT_EQ(server.put("/v1/plans", {{"goal", "g0"}, {"plan", plan}, {"compute_ms", 1500}}).status,
            201u);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(server.post("/v1/plans/lookup", {{"goal", "g0"}}).status, 200u);
  }
  json stats = server.call(verb::get, "/v1/stats").json();
  EXPECT_DOUBLE_EQ(stats["cache"]["planner_seconds_saved"].get<double>(), 3.0);

  for (int i = 1; i < 40; ++i) {
    ASSERT_EQ(server.put("/v1/plans", {{"goal", "g" + std::to_string(i)}, {"plan", plan}}).status,
              201u);
  }
  stats = server.call(verb::get, "/v1/stats").json();
  const uint64_t tier_evictions = stats["tiers"][0]["evictions"].get<uint64_t>();
  EXPECT_GT(tier_evictions, 0u);
  EXPECT_EQ(stats["namespaces"]["default"]["l1"]["evictions"].get<uint64_t>(), tier_evictions);
  const auto metrics = server.call(verb::get, "/metrics");
  EXPECT_THAT(metrics.body, HasSubstr("plancache_cache_planner_seconds_saved_total 3"));
  EXPECT_THAT(metrics.body,
              HasSubstr("plancache_namespace_evictions_total{tier=\"l1\",namespace=\"default\"} " +
                        std::to_string(tier_evictions)));
}

}  // namespace
}  // namespace plancache::testing
