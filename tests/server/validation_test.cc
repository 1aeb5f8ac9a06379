// Unit tests of the edge validation helpers and the error table.
#include "server/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/errors.h"
#include "server/router.h"

namespace plancache::internal {
namespace {

using boost::beast::http::status;
using boost::beast::http::verb;

TEST(ValidationTest, Namespaces) {
  for (const std::string& ok : {std::string("default"), std::string("a"), std::string("A-Z_0.9"),
                                std::string("x."), std::string(64, 'n')}) {
    EXPECT_TRUE(validate_namespace(ok).is_ok()) << ok;
  }
  for (const std::string& bad : {std::string(), std::string(".x"), std::string("../x"),
                                 std::string("a/b"), std::string("a b"), std::string(65, 'n'),
                                 std::string("a\0b", 3), std::string("\xc3\xa9")}) {
    const Status s = validate_namespace(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), ::testing::HasSubstr("namespace"));
  }
}

TEST(ValidationTest, UserKeys) {
  EXPECT_TRUE(validate_user_key("workflow:standard:step_5").is_ok());
  EXPECT_TRUE(validate_user_key("caf\xc3\xa9/\xf0\x9f\x98\x80").is_ok());
  EXPECT_TRUE(validate_user_key(std::string(512, 'k')).is_ok());
  EXPECT_FALSE(validate_user_key("").is_ok());
  EXPECT_FALSE(validate_user_key(std::string(513, 'k')).is_ok());
  EXPECT_FALSE(validate_user_key(std::string("a\0b", 3)).is_ok());
  EXPECT_FALSE(validate_user_key("a\tb").is_ok());
  EXPECT_FALSE(validate_user_key("a\x7f").is_ok());
  EXPECT_FALSE(validate_user_key("\xff").is_ok());
}

TEST(ValidationTest, PercentDecoding) {
  EXPECT_EQ(percent_decode("a%20b%2Fc%3a", false), "a b/c:");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%", false), std::nullopt);
  EXPECT_EQ(percent_decode("%4", false), std::nullopt);
  EXPECT_EQ(percent_decode("%zz", false), std::nullopt);
  auto q = parse_query("ttl_s=5&&tags=a%2Cb&flag");
  ASSERT_TRUE(q.is_ok());
  ASSERT_EQ(q->size(), 3u);
  EXPECT_EQ((*q)[1], (std::pair<std::string, std::string>{"tags", "a,b"}));
  EXPECT_EQ((*q)[2].first, "flag");
  EXPECT_FALSE(parse_query("a=%G1").is_ok());
}

TEST(ValidationTest, JsonBodies) {
  EXPECT_TRUE(parse_json_body(R"({"a":[1,"]]]]"]})").is_ok());
  EXPECT_TRUE(check_json_text(" [1, 2] ").is_ok());
  EXPECT_THAT(parse_json_body(std::string("{\"a\":\0}", 7)).status().message(),
              ::testing::HasSubstr("NUL"));
  EXPECT_THAT(parse_json_body("\"\xff\"").status().message(), ::testing::HasSubstr("UTF-8"));
  EXPECT_THAT(check_json_text(std::string(1000, '[')).message(), ::testing::HasSubstr("deeper"));
  EXPECT_THAT(check_json_text("{\"a\":}").message(), ::testing::HasSubstr("not valid JSON"));
  EXPECT_FALSE(check_json_text("").is_ok());
  EXPECT_FALSE(check_json_text("1 2").is_ok());
}

TEST(ErrorsTest, OneTableFromStatusCodeToHttp) {
  EXPECT_EQ(http_status_for(StatusCode::kInvalidArgument), status::bad_request);
  EXPECT_EQ(http_status_for(StatusCode::kNotFound), status::not_found);
  EXPECT_EQ(http_status_for(StatusCode::kFailedPrecondition), status::conflict);
  EXPECT_EQ(http_status_for(StatusCode::kResourceExhausted), status::payload_too_large);
  EXPECT_EQ(http_status_for(StatusCode::kUnavailable), status::service_unavailable);
  EXPECT_EQ(http_status_for(StatusCode::kDeadlineExceeded), status::gateway_timeout);
  EXPECT_EQ(http_status_for(StatusCode::kUnauthenticated), status::unauthorized);
  EXPECT_EQ(http_status_for(StatusCode::kPermissionDenied), status::forbidden);
  EXPECT_EQ(http_status_for(StatusCode::kBadGateway), status::bad_gateway);
  EXPECT_EQ(http_status_for(StatusCode::kInternal), status::internal_server_error);
  EXPECT_EQ(http_status_for(StatusCode::kDataLoss), status::internal_server_error);
}

TEST(ErrorsTest, ErrorBodyIsAlwaysValidJson) {
  const std::string body = error_body(Status::invalid_argument("bad \"x\" \xff\n"));
  const auto doc = nlohmann::json::parse(body);
  EXPECT_EQ(doc["error"]["code"], "invalid_argument");
  EXPECT_THAT(doc["error"]["message"].get<std::string>(), ::testing::HasSubstr("bad \"x\""));
}

TEST(RouterTest, RoutesMethodsAndGuards) {
  EXPECT_EQ(match_route("/v1/plans/lookup").route, Route::kPlansLookup);
  EXPECT_EQ(match_route("/v1/plans/lookup/").route, Route::kNotFound);
  const RouteMatch entries = match_route("/v1/entries/ns/a/b");
  EXPECT_EQ(entries.route, Route::kEntries);
  EXPECT_EQ(entries.rest, "ns/a/b");
  EXPECT_EQ(match_route("/api/cache/stats").route, Route::kStats);
  EXPECT_TRUE(method_allowed(Route::kPlans, verb::delete_));
  EXPECT_FALSE(method_allowed(Route::kPlans, verb::get));
  EXPECT_FALSE(method_allowed(Route::kNotFound, verb::unknown));
  EXPECT_EQ(route_guard(Route::kClear), Guard::kAdmin);
  EXPECT_EQ(route_guard(Route::kHealthz), Guard::kNone);
  EXPECT_EQ(route_guard(Route::kMetrics), Guard::kApi);
}

TEST(RouterTest, OldDesignsAdminAliases) {
  EXPECT_EQ(match_route("/api/cache/evict").route, Route::kEvict);
  const RouteMatch clear = match_route("/api/cache/clear/docs");
  EXPECT_EQ(clear.route, Route::kCacheClearAlias);
  EXPECT_EQ(clear.rest, "docs");
  EXPECT_EQ(match_route("/api/plan-cache/clear").route, Route::kPlanCacheClearAlias);
  EXPECT_EQ(route_name(Route::kPlanCacheClearAlias), "api_plan_cache_clear");
  // Deleting one plan is guarded as DELETE /v1/plans; clearing as /v1/clear.
  EXPECT_EQ(request_guard(Route::kPlanCacheClearAlias, "goal=g&project_context=p"), Guard::kApi);
  EXPECT_EQ(request_guard(Route::kPlanCacheClearAlias, ""), Guard::kAdmin);
  EXPECT_EQ(request_guard(Route::kPlanCacheClearAlias, "goal=&project_context="), Guard::kAdmin);
  EXPECT_EQ(request_guard(Route::kPlanCacheClearAlias, "goal=%zz"), Guard::kAdmin);
  EXPECT_EQ(request_guard(Route::kCacheClearAlias, "goal=g"), Guard::kAdmin);
  EXPECT_EQ(request_guard(Route::kStats, ""), Guard::kApi);
}

}  // namespace
}  // namespace plancache::internal
