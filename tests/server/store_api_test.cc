// /v1/entries, /v1/invalidate, /v1/clear, /v1/evict, tokens, stats and
// metrics, over real loopback sockets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "test_server.h"

namespace plancache::testing {
namespace {

using boost::beast::http::verb;
using nlohmann::json;
using ::testing::HasSubstr;

const std::map<std::string, std::string> kAdmin = {{"Authorization", "Bearer admin-secret"}};

server::ServerConfig admin_config() {
  auto config = test_config();
  config.admin_token = "admin-secret";
  return config;
}

class StoreApiTest : public ::testing::Test {
 protected:
  void put_entry(const std::string& ns, const std::string& key, const std::string& query = "") {
    const auto res = server_.call(verb::put, "/v1/entries/" + ns + "/" + key + query, "{}");
    ASSERT_EQ(res.status, 201u) << res.body;
  }
  uint64_t invalidate(const json& body) {
    const auto res = server_.post("/v1/invalidate", body);
    EXPECT_EQ(res.status, 200u) << res.body;
    return res.status == 200 ? res.json()["invalidated"].get<uint64_t>() : 0;
  }

  TestServer server_{admin_config()};
};

TEST_F(StoreApiTest, EntriesStoreValuesVerbatim) {
  const std::string raw = "{\"b\": 1,   \"a\": [1, 2.50]}\n";
  const auto put = server_.call(
      verb::put, "/v1/entries/standard/workflow:standard:step_5?ttl_s=60&tags=wf,x", raw);
  ASSERT_EQ(put.status, 201u) << put.body;
  EXPECT_EQ(put.json(), (json{{"namespace", "standard"}, {"key", "workflow:standard:step_5"}}));
  const auto got = server_.call(verb::get, "/v1/entries/standard/workflow:standard:step_5");
  ASSERT_EQ(got.status, 200u);
  EXPECT_EQ(got.body, raw);
  EXPECT_EQ(got.header("X-Plancache-Tier"), "l1");
  EXPECT_EQ(got.header("X-Plancache-Expires-Ms"),
            std::to_string(server_.clock().now_ms() + 60'000));
  EXPECT_EQ(invalidate({{"tag", "x"}}), 1u);
  expect_error(server_.call(verb::get, "/v1/entries/standard/workflow:standard:step_5"), 404,
               "not_found");
}

TEST_F(StoreApiTest, EntryKeysArePercentDecodedAndMayHoldSlashes) {
  ASSERT_EQ(server_.call(verb::put, "/v1/entries/ns/a%20b/c%3Ad", "[1]").status, 201u);
  EXPECT_EQ(server_.call(verb::get, "/v1/entries/ns/a%20b/c:d").body, "[1]");
  const auto del = server_.call(verb::delete_, "/v1/entries/ns/a%20b%2Fc%3ad");
  EXPECT_EQ(del.json(), (json{{"removed", true}}));
  EXPECT_EQ(server_.call(verb::delete_, "/v1/entries/ns/a%20b%2Fc%3ad").json(),
            (json{{"removed", false}}));
}

TEST_F(StoreApiTest, HostileEntryPathsAre400) {
  const std::string long_key(513, 'k');
  for (const std::string& target :
       {std::string("/v1/entries/ns/a%00b"), std::string("/v1/entries/ns/%ff%fe"),
        std::string("/v1/entries/ns/a%0Ab"), std::string("/v1/entries/ns/"),
        std::string("/v1/entries/..%2Fx/k"),
        std::string("/v1/entries/.x/k"), std::string("/v1/entries/ns/a%zz"),
        "/v1/entries/ns/" + long_key}) {
    expect_error(server_.call(verb::get, target), 400, "invalid_argument");
  }
  EXPECT_EQ(server_.call(verb::get, "/v1/entries/ns/" + std::string(512, 'k')).status, 404u);
  // Without a key, GET lists the namespace (entries_list_test.cc); PUT needs a key.
  EXPECT_EQ(server_.call(verb::get, "/v1/entries/ns").status, 200u);
  expect_error(server_.call(verb::put, "/v1/entries/ns", "1"), 400, "invalid_argument");
}

TEST_F(StoreApiTest, EntryPutChecksBodyAndQuery) {
  expect_error(server_.call(verb::put, "/v1/entries/ns/k", "not json"), 400, "invalid_argument");
  expect_error(server_.call(verb::put, "/v1/entries/ns/k", ""), 400, "invalid_argument");
  expect_error(server_.call(verb::put, "/v1/entries/ns/k", "\"\xff\""), 400, "invalid_argument");
  EXPECT_THAT(expect_error(server_.call(verb::put, "/v1/entries/ns/k?ttl_s=-1", "1"), 400,
                           "invalid_argument"),
              HasSubstr("ttl_s"));
  EXPECT_THAT(expect_error(server_.call(verb::put, "/v1/entries/ns/k?tags=a,,b", "1"), 400,
                           "invalid_argument"),
              HasSubstr("tags"));
  EXPECT_THAT(
      expect_error(server_.call(verb::put, "/v1/entries/ns/k?ttl=5", "1"), 400, "invalid_argument"),
      HasSubstr("ttl"));
  ASSERT_EQ(server_.call(verb::put, "/v1/entries/ns/k?ttl_s=5", "1").status, 201u);
  server_.clock().advance_ms(5'000);
  EXPECT_EQ(server_.call(verb::get, "/v1/entries/ns/k").status, 404u);
}

TEST_F(StoreApiTest, InvalidateBySelectors) {
  for (const char* key : {"workflow:a:1", "workflow:a:2", "workflow:b:1", "report:1"}) {
    put_entry("lane", key,
              std::string("?tags=t-") + std::string(key).substr(0, std::string(key).find(':')));
  }
  put_entry("other", "workflow:a:9");
  EXPECT_EQ(invalidate({{"pattern", "workflow:a:*"}, {"namespace", "lane"}}), 2u);
  EXPECT_EQ(server_.call(verb::get, "/v1/entries/other/workflow:a:9").status, 200u);
  EXPECT_EQ(invalidate({{"prefix", "workflow:"}}), 2u);
  EXPECT_EQ(invalidate({{"tag", "t-report"}}), 1u);
  put_entry("lane", "old");
  server_.clock().advance_ms(100'000);
  put_entry("lane", "new");
  EXPECT_EQ(invalidate({{"older_than_s", 50}}), 1u);
  EXPECT_EQ(server_.call(verb::get, "/v1/entries/lane/new").status, 200u);
  EXPECT_EQ(invalidate({{"namespace", "lane"}}), 1u);
}

TEST_F(StoreApiTest, InvalidateRejectsEmptyUnknownAndMistypedSelectors) {
  expect_error(server_.post("/v1/invalidate", json::object()), 400, "invalid_argument");
  EXPECT_THAT(
      expect_error(server_.post("/v1/invalidate", {{"tagg", "x"}}), 400, "invalid_argument"),
      HasSubstr("tagg"));
  EXPECT_THAT(expect_error(server_.post("/v1/invalidate", {{"tag", 5}}), 400, "invalid_argument"),
              HasSubstr("tag"));
  EXPECT_THAT(
      expect_error(server_.post("/v1/invalidate", {{"older_than_s", -1}}), 400, "invalid_argument"),
      HasSubstr("older_than_s"));
  expect_error(server_.post("/v1/invalidate", {{"namespace", "../x"}}), 400, "invalid_argument");
  expect_error(server_.post("/v1/invalidate", {{"pattern", "[a"}}), 400, "invalid_argument");
  expect_error(server_.call(verb::post, "/v1/invalidate", ""), 400, "invalid_argument");
}

TEST_F(StoreApiTest, AdminEndpointsNeedTheAdminToken) {
  put_entry("a", "k1");
  put_entry("b", "k2");
  const auto missing = server_.post("/v1/clear", json::object());
  expect_error(missing, 401, "unauthenticated");
  EXPECT_EQ(missing.header("WWW-Authenticate"), "Bearer");
  expect_error(server_.post("/v1/clear", json::object(), {{"Authorization", "Bearer nope"}}), 403,
               "permission_denied");
  expect_error(server_.post("/v1/clear", json::object(), {{"Authorization", "Basic abc"}}), 401,
               "unauthenticated");
  expect_error(server_.post("/v1/evict", json::object()), 401, "unauthenticated");

  const auto cleared = server_.post("/v1/clear", {{"namespace", "a"}}, kAdmin);
  ASSERT_EQ(cleared.status, 200u) << cleared.body;
  EXPECT_EQ(cleared.json(), (json{{"cleared", 1}}));
  EXPECT_EQ(server_.call(verb::get, "/v1/entries/a/k1").status, 404u);
  EXPECT_EQ(server_.call(verb::get, "/v1/entries/b/k2").status, 200u);
  const auto all = server_.call(verb::post, "/v1/clear", "", kAdmin);
  EXPECT_EQ(all.json(), (json{{"cleared", 1}}));
  expect_error(server_.post("/v1/clear", {{"nmespace", "a"}}, kAdmin), 400, "invalid_argument");
}

TEST_F(StoreApiTest, EvictTakesAFraction) {
  for (int i = 0; i < 10; ++i) put_entry("ns", "k" + std::to_string(i));
  const auto half = server_.post("/v1/evict", {{"fraction", 0.5}}, kAdmin);
  ASSERT_EQ(half.status, 200u) << half.body;
  const uint64_t evicted = half.json()["evicted"];
  EXPECT_GE(evicted, 4u);
  EXPECT_LE(evicted, 6u);
  EXPECT_EQ(server_.call(verb::get, "/v1/stats").json()["l1_size"], 10 - evicted);
  const auto by_default = server_.call(verb::post, "/v1/evict", "", kAdmin);
  ASSERT_EQ(by_default.status, 200u);
  EXPECT_TRUE(by_default.json()["evicted"].is_number_unsigned());
  for (const json& bad : {json(0), json(1.5), json("half")}) {
    EXPECT_THAT(expect_error(server_.post("/v1/evict", {{"fraction", bad}}, kAdmin), 400,
                             "invalid_argument"),
                HasSubstr("fraction"));
  }
}

TEST(ApiTokenTest, GuardsEverythingButHealth) {
  auto config = admin_config();
  config.api_token = "api";
  TestServer server(config);
  EXPECT_EQ(server.call(verb::get, "/healthz").status, 200u);
  EXPECT_EQ(server.call(verb::get, "/readyz").status, 200u);
  expect_error(server.call(verb::get, "/v1/stats"), 401, "unauthenticated");
  expect_error(server.call(verb::get, "/metrics"), 401, "unauthenticated");
  expect_error(server.post("/v1/plans/lookup", {{"goal", "g"}}), 401, "unauthenticated");
  expect_error(server.call(verb::get, "/v1/stats", "", {{"Authorization", "Bearer apix"}}), 403,
               "permission_denied");
  EXPECT_EQ(server.call(verb::get, "/v1/stats", "", {{"Authorization", "Bearer api"}}).status,
            200u);
  EXPECT_EQ(server.call(verb::get, "/v1/stats", "", kAdmin).status, 200u);
  EXPECT_EQ(
      server.post("/v1/plans/lookup", {{"goal", "g"}}, {{"Authorization", "bearer api"}}).status,
      404u);
  // The admin endpoints want the admin token itself.
  expect_error(server.post("/v1/clear", json::object(), {{"Authorization", "Bearer api"}}), 403,
               "permission_denied");
  EXPECT_EQ(server.post("/v1/clear", json::object(), kAdmin).status, 200u);
}

TEST(ApiTokenTest, AdminEndpointsFallBackToTheApiToken) {
  auto config = test_config();
  config.api_token = "api";
  TestServer server(config);
  expect_error(server.post("/v1/clear", json::object()), 401, "unauthenticated");
  EXPECT_EQ(server.post("/v1/clear", json::object(), {{"Authorization", "Bearer api"}}).status,
            200u);
}

TEST(NoTokenTest, AdminEndpointsAreOpenWithoutTokensOnLoopback) {
  TestServer server;
  EXPECT_EQ(server.post("/v1/clear", json::object()).status, 200u);
}

TEST_F(StoreApiTest, StatsReflectHitsAndMisses) {
  ASSERT_EQ(server_.put("/v1/plans", {{"goal", "g"}, {"plan", {1}}, {"namespace", "docs"}}).status,
            201u);
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "g"}, {"namespace", "docs"}}).status, 200u);
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "g"}, {"namespace", "docs"}}).status, 200u);
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "nope"}, {"namespace", "docs"}}).status,
            404u);
  for (const char* path : {"/v1/stats", "/api/plan-cache/stats", "/api/cache/stats"}) {
    const auto res = server_.call(verb::get, path);
    ASSERT_EQ(res.status, 200u) << path;
    const json stats = res.json();
    EXPECT_EQ(stats["l1_size"], 1);
    EXPECT_EQ(stats["l1_max_size"], 100'000);
    EXPECT_EQ(stats["l1_hits"], 2);
    EXPECT_EQ(stats["l1_misses"], 1);
    EXPECT_DOUBLE_EQ(stats["l1_hit_rate"].get<double>(), 2.0 / 3.0);
    EXPECT_EQ(stats["l2_connected"], false);
    EXPECT_EQ(stats["l2_hits"], 0);
    EXPECT_EQ(stats["l2_hit_rate"], 0.0);
    EXPECT_EQ(stats["cache"]["hits"], 2);
    EXPECT_EQ(stats["cache"]["misses"], 1);
    EXPECT_EQ(stats["cache"]["get_latency_us"]["count"], 3);
    EXPECT_EQ(stats["tiers"][0]["name"], "l1");
    EXPECT_EQ(stats["tiers"][0]["entries"], 1);
    EXPECT_EQ(stats["namespaces"]["docs"]["l1"]["hits"], 2);
    EXPECT_EQ(stats["namespaces"]["docs"]["l1"]["entries"], 1);
    EXPECT_EQ(stats["http"]["requests"]["plans_lookup"]["200"], 2);
    EXPECT_EQ(stats["http"]["requests"]["plans_lookup"]["404"], 1);
  }
}

TEST_F(StoreApiTest, MetricsAreValidPrometheusText) {
  ASSERT_EQ(server_.put("/v1/plans", {{"goal", "g"}, {"plan", 1}}).status, 201u);
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "g"}}).status, 200u);
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "x"}}).status, 404u);
  const auto res = server_.call(verb::get, "/metrics");
  ASSERT_EQ(res.status, 200u);
  EXPECT_THAT(res.header("Content-Type"), HasSubstr("text/plain"));
  const std::string& text = res.body;
  EXPECT_THAT(text, HasSubstr("# TYPE plancache_tier_hits_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# HELP plancache_tier_entries "));
  EXPECT_THAT(text, HasSubstr("plancache_tier_hits_total{tier=\"l1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("plancache_tier_misses_total{tier=\"l1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("plancache_tier_entries{tier=\"l1\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("plancache_namespace_hits_total{tier=\"l1\",namespace=\"default\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("plancache_http_requests_total{route=\"plans_lookup\",code=\"404\"} 1\n"));
  // Every line is a comment or a plancache_ sample "name{labels} value".
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_THAT(line, ::testing::MatchesRegex("plancache_[a-z0-9_]+(\\{.*\\})? [-+.e0-9]+"))
        << line;
  }
}

TEST(MaintenanceTest, ExpiredEntriesAreSweptWithoutLookups) {
  auto config = test_config();
  config.purge_interval_ms = 5;
  TestServer server(config);
  ASSERT_EQ(server.call(verb::put, "/v1/entries/ns/k?ttl_s=1", "1").status, 201u);
  ASSERT_EQ(server.call(verb::put, "/v1/entries/ns/forever?ttl_s=0", "1").status, 201u);
  server.clock().advance_ms(2'000);
  // Bounded poll: the sweep runs on its own thread every 5 ms.
  json stats;
  for (int i = 0; i < 500; ++i) {
    stats = server.call(verb::get, "/v1/stats").json();
    if (stats["l1_size"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(stats["l1_size"], 1);
  EXPECT_EQ(stats["tiers"][0]["expirations"], 1);
}

TEST(HealthTest, HealthzAndReadyz) {
  TestServer server;
  const auto health = server.call(verb::get, "/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.json()["status"], "ok");
  EXPECT_EQ(server.call(verb::get, "/readyz").json()["ready"], true);
  expect_error(server.call(verb::post, "/healthz"), 405, "method_not_allowed");
}

}  // namespace
}  // namespace plancache::testing
