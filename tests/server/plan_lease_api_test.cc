// POST / DELETE /v1/plans/lease and PUT /v1/plans with a lease token, over
// real loopback sockets. The server runs on a fake clock: lease expiry and
// the waiters' bounds happen when the test advances it (the sweeper notices
// within PlanLeases::kSweepMs of real time). A waiter is known to wait when
// the server counts it as coalesced -- never by sleeping.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "test_server.h"

namespace plancache::testing {
namespace {

using boost::beast::http::verb;
using nlohmann::json;

const json kAsk = {{"goal", "deploy web"}, {"context", {{"env", "prod"}}}};

json with(json body, const json& extra) {
  body.update(extra);
  return body;
}

class PlanLeaseApiTest : public ::testing::Test {
 protected:
  json planning() { return server_.call(verb::get, "/v1/stats").json()["planning"]; }

  // Waits (bounded) until `n` callers have joined a flight.
  void await_coalesced(uint64_t n) {
    for (int i = 0; i < 2000 && planning()["coalesced"].get<uint64_t>() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(planning()["coalesced"].get<uint64_t>(), n);
  }

  // A lease request on its own thread.
  std::future<HttpAnswer> ask_async(json body) {
    return std::async(std::launch::async, [this, body] {
      TestClient client(server_.port(), std::chrono::seconds(30));
      return client.request(verb::post, "/v1/plans/lease", body.dump());
    });
  }

  std::string take_lease(const json& body = kAsk) {
    const auto first = server_.post("/v1/plans/lease", body);
    EXPECT_EQ(first.status, 200u) << first.body;
    EXPECT_EQ(first.json()["status"], "lease") << first.body;
    return first.json().value("token", "");
  }

  TestServer server_;
};

TEST_F(PlanLeaseApiTest, TheHoldersPutReachesTheWaiterAndLaterCallersHit) {
  const std::string token = take_lease();
  ASSERT_THAT(token, ::testing::MatchesRegex("[0-9a-f]{32}"));
  auto waiter = ask_async(kAsk);
  await_coalesced(1);
  const json plan = {{"steps", {"build", "ship"}}};
  const auto put = server_.put("/v1/plans", with(kAsk, {{"plan", plan},
                                                        {"lease_token", token},
                                                        {"compute_ms", 900},
                                                        {"tags", {"web"}}}));
  ASSERT_EQ(put.status, 201u) << put.body;
  EXPECT_EQ(put.json()["stored"], true);
  const HttpAnswer waited = waiter.get();
  ASSERT_EQ(waited.status, 200u) << waited.body;
  EXPECT_EQ(waited.json()["status"], "hit");
  EXPECT_EQ(waited.json()["coalesced"], true);
  EXPECT_EQ(waited.json()["tier"], "lease");
  EXPECT_EQ(waited.json()["plan"], plan);
  EXPECT_EQ(waited.json()["tags"], json::array({"web"}));

  const auto later = server_.post("/v1/plans/lease", kAsk);
  EXPECT_EQ(later.json()["status"], "hit");
  EXPECT_EQ(later.json()["tier"], "l1");
  EXPECT_EQ(later.json()["compute_ms"], 900);
  const json p = planning();
  EXPECT_EQ(p["leases_granted"], 1);
  EXPECT_EQ(p["leases_completed"], 1);
  EXPECT_EQ(p["leases_held"], 0);
}

TEST_F(PlanLeaseApiTest, AWaiterPastItsBoundIsToldPending) {
  take_lease();
  auto waiter = ask_async(with(kAsk, {{"wait_ms", 200}}));
  await_coalesced(1);
  server_.clock().advance_ms(201);
  const HttpAnswer pending = waiter.get();
  ASSERT_EQ(pending.status, 200u) << pending.body;
  EXPECT_EQ(pending.json()["status"], "pending");
  EXPECT_TRUE(pending.json().contains("key"));
}

TEST_F(PlanLeaseApiTest, AnExpiredLeaseGoesToTheWaiterAndTheOldTokenIsRefused) {
  const std::string first = take_lease(with(kAsk, {{"lease_ms", 1000}}));
  auto waiter = ask_async(with(kAsk, {{"lease_ms", 1000}, {"wait_ms", 60'000}}));
  await_coalesced(1);
  server_.clock().advance_ms(1000);
  const HttpAnswer second = waiter.get();
  ASSERT_EQ(second.json()["status"], "lease") << second.body;
  EXPECT_NE(second.json()["token"], first);
  expect_error(server_.put("/v1/plans", with(kAsk, {{"plan", 1}, {"lease_token", first}})), 409,
               "lease_lost");
  EXPECT_FALSE(server_.post("/v1/plans/lookup", kAsk).json()["hit"]) << "nothing stored";
  EXPECT_EQ(planning()["leases_expired"], 1);
}

TEST_F(PlanLeaseApiTest, RenewingKeepsTheLease) {
  const std::string token = take_lease(with(kAsk, {{"lease_ms", 1000}}));
  server_.clock().advance_ms(900);
  const auto renewed =
      server_.post("/v1/plans/lease", with(kAsk, {{"token", token}, {"lease_ms", 1000}}));
  ASSERT_EQ(renewed.status, 200u) << renewed.body;
  EXPECT_EQ(renewed.json()["status"], "lease");
  server_.clock().advance_ms(900);  // 1800 ms after the grant, 900 after the renewal
  const auto put = server_.put("/v1/plans", with(kAsk, {{"plan", "p"}, {"lease_token", token}}));
  EXPECT_EQ(put.status, 201u) << put.body;
  expect_error(server_.post("/v1/plans/lease", with(kAsk, {{"token", token}})), 409, "lease_lost");
}

TEST_F(PlanLeaseApiTest, AReleasedLeaseGoesToTheNextWaiter) {
  const std::string first = take_lease();
  auto waiter = ask_async(kAsk);
  await_coalesced(1);
  const auto released =
      server_.call(verb::delete_, "/v1/plans/lease", with(kAsk, {{"token", first}}).dump());
  ASSERT_EQ(released.status, 200u) << released.body;
  EXPECT_EQ(released.json()["released"], true);
  EXPECT_EQ(waiter.get().json()["status"], "lease");
  expect_error(
      server_.call(verb::delete_, "/v1/plans/lease", with(kAsk, {{"token", first}}).dump()), 409,
      "lease_lost");
}

TEST_F(PlanLeaseApiTest, AnExistingPlanIsTheAnswer) {
  ASSERT_EQ(server_.put("/v1/plans", with(kAsk, {{"plan", {1, 2}}})).status, 201u);
  const auto hit = server_.post("/v1/plans/lease", kAsk);
  ASSERT_EQ(hit.status, 200u);
  EXPECT_EQ(hit.json()["status"], "hit");
  EXPECT_EQ(hit.json()["hit"], true);
  EXPECT_EQ(hit.json()["plan"], json({1, 2}));
  EXPECT_EQ(planning()["leases_granted"], 0);
}

TEST_F(PlanLeaseApiTest, BadInputIs400NamingTheField) {
  expect_error(server_.post("/v1/plans/lease", with(kAsk, {{"lease_ms", 50}})), 400,
               "invalid_argument");
  expect_error(server_.post("/v1/plans/lease", with(kAsk, {{"wait_ms", "soon"}})), 400,
               "invalid_argument");
  expect_error(server_.post("/v1/plans/lease", with(kAsk, {{"token", 7}})), 400,
               "invalid_argument");
  const std::string message =
      expect_error(server_.call(verb::delete_, "/v1/plans/lease", kAsk.dump()), 400,
                   "invalid_argument");
  EXPECT_THAT(message, ::testing::HasSubstr("token"));
  expect_error(server_.put("/v1/plans", with(kAsk, {{"plan", 1}, {"lease_token", ""}})), 400,
               "invalid_argument");
  expect_error(server_.post("/v1/plans/lease", {{"context", 1}}), 400, "invalid_argument");
  const auto get = server_.call(verb::get, "/v1/plans/lease");
  EXPECT_EQ(get.status, 405u);
  EXPECT_EQ(get.header("Allow"), "POST, DELETE");
}

TEST_F(PlanLeaseApiTest, BelowTheMinComputeTimeTheWaitersGetThePlanUnstored) {
  server::ServerConfig config = test_config();
  config.min_compute_ms = 500;
  TestServer server(std::move(config));
  const auto lease = server.post("/v1/plans/lease", kAsk);
  const std::string token = lease.json()["token"];
  const auto put = server.put(
      "/v1/plans", with(kAsk, {{"plan", "cheap"}, {"lease_token", token}, {"compute_ms", 20}}));
  ASSERT_EQ(put.status, 200u) << put.body;
  EXPECT_EQ(put.json()["stored"], false);
  EXPECT_EQ(put.json()["reason"], "compute_ms is below min_compute_ms");
}

}  // namespace
}  // namespace plancache::testing
