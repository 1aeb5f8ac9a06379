// Eviction hints over HTTP: "priority" on PUT /v1/plans and PUT
// /v1/entries (?priority=), its round trip to lookups, the 400 for any other
// value, and a lane on the cost policy (eviction = "cost") in /v1/stats.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_server.h"

namespace plancache::testing {
namespace {

using boost::beast::http::verb;
using nlohmann::json;
using ::testing::HasSubstr;

// The default lane plus a lane "costly" whose L1 uses the cost policy.
server::ServerConfig cost_lane_config() {
  server::ServerConfig config = test_config();
  NamespacePolicies policies;
  NamespacePolicy lane = policies.get(kDefaultNamespace);
  lane.memory.eviction = EvictionPolicy::kCost;
  EXPECT_TRUE(policies.set("costly", lane).is_ok());
  config.namespaces = std::make_shared<const NamespacePolicies>(std::move(policies));
  return config;
}

class PriorityApiTest : public ::testing::Test {
 protected:
  TestServer server_{cost_lane_config()};
};

TEST_F(PriorityApiTest, PutWithPriorityRoundTripsToLookups) {
  for (const char* ns : {"default", "costly"}) {
    for (const char* priority : {"important", "temporary"}) {
      const std::string goal = std::string("goal ") + priority;
      const auto put = server_.put("/v1/plans", {{"goal", goal},
                                                 {"namespace", ns},
                                                 {"plan", {{"steps", 1}}},
                                                 {"compute_ms", 40'000},
                                                 {"priority", priority}});
      ASSERT_EQ(put.status, 201u) << put.body;
      const auto hit = server_.post("/v1/plans/lookup", {{"goal", goal}, {"namespace", ns}});
      ASSERT_EQ(hit.status, 200u) << hit.body;
      EXPECT_EQ(hit.json()["priority"], priority) << ns;
      EXPECT_EQ(hit.json()["compute_ms"], 40'000);
    }
  }
  // No hint (or "normal", its explicit spelling): no field in the answer.
  ASSERT_EQ(server_.put("/v1/plans", {{"goal", "plain"}, {"plan", 1}}).status, 201u);
  ASSERT_EQ(
      server_.put("/v1/plans", {{"goal", "normal"}, {"plan", 1}, {"priority", "normal"}}).status,
      201u);
  for (const char* goal : {"plain", "normal"}) {
    const auto hit = server_.post("/v1/plans/lookup", {{"goal", goal}});
    ASSERT_EQ(hit.status, 200u) << hit.body;
    EXPECT_FALSE(hit.json().contains("priority")) << hit.body;
  }
}

TEST_F(PriorityApiTest, AnyOtherPriorityIs400NamingTheField) {
  for (const json& bad : {json("high"), json(""), json("IMPORTANT"), json(5), json(nullptr),
                          json::array({"important"})}) {
    const auto res = server_.put("/v1/plans", {{"goal", "g"}, {"plan", 1}, {"priority", bad}});
    EXPECT_THAT(expect_error(res, 400, "invalid_argument"), HasSubstr("'priority'")) << bad.dump();
  }
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "g"}}).status, 404u) << "nothing stored";
}

TEST_F(PriorityApiTest, EntriesTakePriorityFromTheQuery) {
  const auto put = server_.call(verb::put, "/v1/entries/costly/workflow:step_1?priority=important",
                                R"({"a":1})");
  ASSERT_EQ(put.status, 201u) << put.body;
  const auto got = server_.call(verb::get, "/v1/entries/costly/workflow:step_1");
  ASSERT_EQ(got.status, 200u);
  EXPECT_EQ(got.body, R"({"a":1})");
  const auto bad =
      server_.call(verb::put, "/v1/entries/costly/workflow:step_2?priority=sometimes", "{}");
  EXPECT_THAT(expect_error(bad, 400, "invalid_argument"), HasSubstr("'priority'"));
  EXPECT_EQ(server_.call(verb::get, "/v1/entries/costly/workflow:step_2").status, 404u);
}

TEST_F(PriorityApiTest, StatsShowTheLanesEvictionPolicy) {
  ASSERT_EQ(server_.put("/v1/plans", {{"goal", "g"}, {"namespace", "costly"}, {"plan", 1}}).status,
            201u);
  const auto stats = server_.call(verb::get, "/v1/stats");
  ASSERT_EQ(stats.status, 200u);
  const json doc = stats.json();
  ASSERT_TRUE(doc.contains("namespaces")) << stats.body;
  EXPECT_EQ(doc["namespaces"]["costly"]["policy"]["eviction"], "cost") << stats.body;
  EXPECT_EQ(doc["namespaces"]["default"]["policy"]["eviction"], "tinylfu");
}

}  // namespace
}  // namespace plancache::testing
