// GET /v1/entries/{namespace}: the listing of a namespace's user keys, over
// real loopback sockets.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "test_server.h"

namespace plancache::testing {
namespace {

using boost::beast::http::verb;
using nlohmann::json;

class EntriesListTest : public ::testing::Test {
 protected:
  void put(const std::string& path, const std::string& body = "{}") {
    const auto res = server_.call(verb::put, "/v1/entries/" + path, body);
    ASSERT_EQ(res.status, 201u) << res.body;
  }
  json list(const std::string& target) {
    const auto res = server_.call(verb::get, target);
    EXPECT_EQ(res.status, 200u) << res.body;
    EXPECT_EQ(res.header("Content-Type"), "application/json");
    return res.status == 200 ? res.json() : json();
  }
  static std::vector<std::string> keys(const json& doc) {
    std::vector<std::string> out;
    for (const auto& row : doc["entries"]) out.push_back(row["key"].get<std::string>());
    return out;
  }

  TestServer server_;
};

TEST_F(EntriesListTest, ListsUserKeysInOrderWithTheirMetadata) {
  const int64_t t0 = server_.clock().now_ms();
  put("wf/step%3A2?ttl_s=60&tags=a,b", R"({"x":1})");
  put("wf/step:1?ttl_s=0");
  put("other/step:0");
  // A plan in the same namespace is not a /v1/entries key: not listed.
  ASSERT_EQ(server_.put("/v1/plans", {{"goal", "g"}, {"namespace", "wf"}, {"plan", 1}}).status,
            201u);
  server_.clock().advance_ms(7);
  const json doc = list("/v1/entries/wf");
  EXPECT_EQ(doc["namespace"], "wf");
  EXPECT_EQ(doc["truncated"], false);
  EXPECT_EQ(doc["now_ms"], t0 + 7);
  ASSERT_EQ(keys(doc), (std::vector<std::string>{"step:1", "step:2"}));
  const json& first = doc["entries"][0];
  EXPECT_EQ(first["created_ms"], t0);
  EXPECT_TRUE(first["expires_ms"].is_null());
  EXPECT_EQ(first["bytes"], 2);
  EXPECT_EQ(first["tags"], json::array());
  const json& second = doc["entries"][1];
  EXPECT_EQ(second["expires_ms"], t0 + 60'000);
  EXPECT_EQ(second["bytes"], 7);
  EXPECT_EQ(second["tags"], (json{"a", "b"}));
  EXPECT_EQ(list("/v1/entries/empty-ns"), (json{{"namespace", "empty-ns"},
                                                {"entries", json::array()},
                                                {"truncated", false},
                                                {"now_ms", t0 + 7}}));
}

TEST_F(EntriesListTest, PrefixAndLimitNarrowTheListing) {
  for (const char* key : {"run:3", "run:1", "run:2", "job:1"}) put(std::string("ns/") + key);
  EXPECT_EQ(keys(list("/v1/entries/ns?prefix=run%3A")),
            (std::vector<std::string>{"run:1", "run:2", "run:3"}));
  const json cut = list("/v1/entries/ns?limit=2&prefix=run:");
  EXPECT_EQ(keys(cut), (std::vector<std::string>{"run:1", "run:2"}));
  EXPECT_EQ(cut["truncated"], true);
  const json exact = list("/v1/entries/ns?limit=4");
  EXPECT_EQ(exact["entries"].size(), 4u);
  EXPECT_EQ(exact["truncated"], false);
  EXPECT_EQ(keys(list("/v1/entries/ns?prefix=")).size(), 4u);  // empty prefix: everything
}

TEST_F(EntriesListTest, ExpiredAndRemovedEntriesAreNotListed) {
  put("ns/short?ttl_s=1");
  put("ns/gone");
  put("ns/kept");
  ASSERT_EQ(server_.call(verb::delete_, "/v1/entries/ns/gone").status, 200u);
  server_.clock().advance_ms(1000);
  EXPECT_EQ(keys(list("/v1/entries/ns")), (std::vector<std::string>{"kept"}));
}

TEST_F(EntriesListTest, BadQueriesAndNamespacesAre400) {
  for (const char* target :
       {"/v1/entries/ns?limit=0", "/v1/entries/ns?limit=10001", "/v1/entries/ns?limit=-1",
        "/v1/entries/ns?limit=ten", "/v1/entries/ns?limit=", "/v1/entries/ns?sort=key",
        "/v1/entries/ns?prefix=%ZZ", "/v1/entries/ns?prefix=a%00b", "/v1/entries/..",
        "/v1/entries/", "/v1/entries/a%2Fb"}) {
    SCOPED_TRACE(target);
    const std::string message =
        expect_error(server_.call(verb::get, target), 400, "invalid_argument");
    EXPECT_FALSE(message.empty());
  }
  EXPECT_EQ(list("/v1/entries/ns?limit=10000")["truncated"], false);
  // Without a key, only GET lists: a PUT or DELETE still needs a key.
  expect_error(server_.call(verb::put, "/v1/entries/ns", "{}"), 400, "invalid_argument");
  expect_error(server_.call(verb::delete_, "/v1/entries/ns"), 400, "invalid_argument");
}

TEST(EntriesListDiskTest, EntriesOnDiskAreListedAfterARestart) {
  std::string dir = "/tmp/plancache-entries-list-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  auto config = test_config();
  config.data_dir = dir;
  {
    TestServer first(config);
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(first.call(verb::put, "/v1/entries/checkpoints/cp-1?ttl_s=0", "[1,2]").status, 201u);
    first.server().request_stop();
    first.server().wait();
  }
  TestServer second(config);
  ASSERT_TRUE(second.ok());
  const auto res = second.call(verb::get, "/v1/entries/checkpoints");
  ASSERT_EQ(res.status, 200u) << res.body;
  const json doc = res.json();
  ASSERT_EQ(doc["entries"].size(), 1u);
  EXPECT_EQ(doc["entries"][0]["key"], "cp-1");
  EXPECT_EQ(doc["entries"][0]["bytes"], 5);
  EXPECT_TRUE(doc["entries"][0]["expires_ms"].is_null());
  second.server().request_stop();
  second.server().wait();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace plancache::testing
