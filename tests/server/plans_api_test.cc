// The plan endpoints and request validation, over real loopback sockets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_server.h"

namespace plancache::testing {
namespace {

using boost::beast::http::verb;
using nlohmann::json;
using ::testing::HasSubstr;

class PlansApiTest : public ::testing::Test {
 protected:
  TestServer server_;
};

TEST_F(PlansApiTest, PutThenLookupReturnsThePlanAndItsMetadata) {
  const json plan = {{"steps", {{{"run", "make"}}, {{"run", "make test"}}}}, {"cost", 1.5}};
  const auto put = server_.put("/v1/plans", {{"goal", "Deploy  the\tweb tier "},
                                             {"context", {{"env", "prod"}, {"rev", 7}}},
                                             {"namespace", "heavy"},
                                             {"plan", plan},
                                             {"ttl_s", 600},
                                             {"tags", {"web"}},
                                             {"compute_ms", 1200}});
  ASSERT_EQ(put.status, 201u) << put.body;
  const std::string key = put.json()["key"];
  EXPECT_THAT(key, ::testing::MatchesRegex("[0-9a-f]{64}"));

  const auto hit = server_.post("/v1/plans/lookup", {{"goal", "Deploy the web tier"},
                                                     {"context", {{"rev", 7}, {"env", "prod"}}},
                                                     {"namespace", "heavy"}});
  ASSERT_EQ(hit.status, 200u) << hit.body;
  EXPECT_EQ(hit.header("Content-Type"), "application/json");
  const json doc = hit.json();
  EXPECT_EQ(doc["hit"], true);
  EXPECT_EQ(doc["key"], key);
  EXPECT_EQ(doc["namespace"], "heavy");
  EXPECT_EQ(doc["tier"], "l1");
  EXPECT_EQ(doc["plan"], plan);
  EXPECT_EQ(doc["compute_ms"], 1200);
  EXPECT_EQ(doc["tags"], json::array({"web"}));
  EXPECT_EQ(doc["created_ms"], server_.clock().now_ms());
  EXPECT_EQ(doc["expires_ms"], server_.clock().now_ms() + 600'000);
  // The plan bytes are spliced in as stored: its serialisation, verbatim.
  EXPECT_THAT(hit.body, HasSubstr("\"plan\":" + plan.dump() + ","));
}

TEST_F(PlansApiTest, PlanJsonRoundTripsExactly) {
  const std::string plan_text =
      R"({"z":[1,2.5,-3e-07,"\u00e9\ud83d\ude00"],"a":null,"m":{"":true}})";
  const json plan = json::parse(plan_text);
  ASSERT_EQ(server_.put("/v1/plans", {{"goal", "g"}, {"plan", plan}}).status, 201u);
  const auto hit = server_.post("/v1/plans/lookup", {{"goal", "g"}});
  ASSERT_EQ(hit.status, 200u);
  EXPECT_EQ(hit.json()["plan"], plan);
  EXPECT_THAT(hit.body, HasSubstr("\"plan\":" + plan.dump() + ","));
}

TEST_F(PlansApiTest, MissAnswers404WithTheKey) {
  const auto miss = server_.post("/v1/plans/lookup", {{"goal", "never stored"}});
  EXPECT_EQ(miss.status, 404u);
  EXPECT_EQ(miss.json()["hit"], false);
  EXPECT_THAT(miss.json()["key"].get<std::string>(), ::testing::MatchesRegex("[0-9a-f]{64}"));
}

TEST_F(PlansApiTest, ContextAndNamespaceArePartOfTheKey) {
  ASSERT_EQ(server_.put("/v1/plans", {{"goal", "g"}, {"context", {{"a", 1}}}, {"plan", 1}}).status,
            201u);
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "g"}, {"context", {{"a", 1}}}}).status,
            200u);
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "g"}, {"context", {{"a", 2}}}}).status,
            404u);
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "g"}}).status, 404u);
  EXPECT_EQ(server_
                .post("/v1/plans/lookup",
                      {{"goal", "g"}, {"context", {{"a", 1}}}, {"namespace", "other"}})
                .status,
            404u);
}

TEST_F(PlansApiTest, DeleteRemovesOnce) {
  ASSERT_EQ(server_.put("/v1/plans", {{"goal", "g"}, {"plan", "p"}}).status, 201u);
  const auto first = server_.call(verb::delete_, "/v1/plans", json{{"goal", "g"}}.dump());
  ASSERT_EQ(first.status, 200u);
  EXPECT_EQ(first.json()["removed"], true);
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "g"}}).status, 404u);
  const auto second = server_.call(verb::delete_, "/v1/plans", json{{"goal", "g"}}.dump());
  EXPECT_EQ(second.json()["removed"], false);
}

TEST_F(PlansApiTest, TtlExpiresWithTheClock) {
  ASSERT_EQ(server_.put("/v1/plans", {{"goal", "g"}, {"plan", 1}, {"ttl_s", 10}}).status, 201u);
  server_.clock().advance_ms(9'999);
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "g"}}).status, 200u);
  server_.clock().advance_ms(1);
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "g"}}).status, 404u);
}

TEST_F(PlansApiTest, ReadThroughWithoutPlannerIs503) {
  const auto res = server_.post("/v1/plans", {{"goal", "g"}});
  EXPECT_THAT(expect_error(res, 503, "unavailable"), HasSubstr("no planner configured"));
  expect_error(server_.post("/v1/plans", {{"goal", 1}}), 400, "invalid_argument");
}

TEST_F(PlansApiTest, WrongTypesAre400NamingTheField) {
  struct Case {
    json body;
    const char* field;
  };
  const Case cases[] = {
      {{{"plan", 1}}, "goal"},
      {{{"goal", ""}, {"plan", 1}}, "goal"},
      {{{"goal", 5}, {"plan", 1}}, "goal"},
      {{{"goal", "g"}}, "plan"},
      {{{"goal", "g"}, {"plan", 1}, {"ttl_s", -1}}, "ttl_s"},
      {{{"goal", "g"}, {"plan", 1}, {"ttl_s", 1.5}}, "ttl_s"},
      {{{"goal", "g"}, {"plan", 1}, {"ttl_s", "60"}}, "ttl_s"},
      {{{"goal", "g"}, {"plan", 1}, {"tags", "web"}}, "tags"},
      {{{"goal", "g"}, {"plan", 1}, {"tags", {""}}}, "tags"},
      {{{"goal", "g"}, {"plan", 1}, {"tags", {1}}}, "tags"},
      {{{"goal", "g"}, {"plan", 1}, {"compute_ms", -5}}, "compute_ms"},
      {{{"goal", "g"}, {"plan", 1}, {"namespace", 3}}, "namespace"},
  };
  for (const Case& c : cases) {
    const auto res = server_.put("/v1/plans", c.body);
    EXPECT_THAT(expect_error(res, 400, "invalid_argument"), HasSubstr(c.field)) << c.body.dump();
  }
}

TEST_F(PlansApiTest, HostileNamespacesAre400) {
  for (const char* ns : {"../x", "a/b", "", ".hidden", "a b", "x\n", "é",
                         "0123456789012345678901234567890123456789012345678901234567890123456"}) {
    const auto res = server_.post("/v1/plans/lookup", {{"goal", "g"}, {"namespace", ns}});
    EXPECT_THAT(expect_error(res, 400, "invalid_argument"), HasSubstr("namespace")) << ns;
  }
  EXPECT_EQ(server_.post("/v1/plans/lookup", {{"goal", "g"}, {"namespace", "a-b_c.d9"}}).status,
            404u);
}

TEST_F(PlansApiTest, MalformedBodiesAre400) {
  const std::string bodies[] = {
      "",                                             // empty
      "{\"goal\":",                                   // truncated
      "{goal: 'x'}",                                  // not JSON
      "[1,2]",                                        // not an object
      std::string("{\"goal\":\"a\0b\"}", 13),         // raw NUL
      "{\"goal\":\"\xff\xfe\"}",                      // invalid UTF-8
      "{\"goal\":\"\xc0\xaf\"}",                      // overlong encoding
      std::string(300, '[') + std::string(300, ']'),  // too deep
      "{\"goal\":\"a\\u0000b\"}",                     // escaped NUL in the goal
  };
  for (const std::string& body : bodies) {
    const auto res = server_.call(verb::post, "/v1/plans/lookup", body);
    expect_error(res, 400, "invalid_argument");
  }
}

TEST_F(PlansApiTest, CacheDisabledDropsPutsAndMissesLookups) {
  auto config = test_config();
  config.cache_enabled = false;
  TestServer disabled(config);
  const auto put = disabled.put("/v1/plans", {{"goal", "g"}, {"plan", 1}});
  EXPECT_EQ(put.status, 200u);
  EXPECT_EQ(put.json()["stored"], false);
  EXPECT_EQ(disabled.post("/v1/plans/lookup", {{"goal", "g"}}).status, 404u);
}

TEST_F(PlansApiTest, MinComputeTimeSkipsCheapPlans) {
  auto config = test_config();
  config.min_compute_ms = 500;
  TestServer server(config);
  const auto cheap = server.put("/v1/plans", {{"goal", "cheap"}, {"plan", 1}, {"compute_ms", 20}});
  EXPECT_EQ(cheap.status, 200u);
  EXPECT_EQ(cheap.json()["stored"], false);
  EXPECT_EQ(server.post("/v1/plans/lookup", {{"goal", "cheap"}}).status, 404u);
  const auto dear = server.put("/v1/plans", {{"goal", "dear"}, {"plan", 1}, {"compute_ms", 900}});
  EXPECT_EQ(dear.status, 201u);
  EXPECT_EQ(server.post("/v1/plans/lookup", {{"goal", "dear"}}).status, 200u);
}

TEST_F(PlansApiTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  expect_error(server_.call(verb::get, "/v1/nope"), 404, "not_found");
  expect_error(server_.call(verb::get, "/"), 404, "not_found");
  const auto res = server_.call(verb::get, "/v1/plans/lookup");
  expect_error(res, 405, "method_not_allowed");
  EXPECT_EQ(res.header("Allow"), "POST");
  const auto entries = server_.call(verb::post, "/v1/entries/ns/k", "1");
  expect_error(entries, 405, "method_not_allowed");
  EXPECT_EQ(entries.header("Allow"), "GET, PUT, DELETE");
}

}  // namespace
}  // namespace plancache::testing
