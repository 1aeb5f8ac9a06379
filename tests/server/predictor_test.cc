// The predictor's pure logic (server/predictor.h) and what it reads and
// keeps (server/predict_history.h), on explicit times: no clock, no sleeps.
#include "server/predictor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plancache/entry.h"
#include "server/predict_history.h"

namespace plancache::internal {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'000'000;
constexpr int64_t kWindow = 600'000;

// A request of goal with context `c` at `at`, fresh until `fresh` (0: a miss).
void ask(RequestHistory& h, const std::string& goal, const json& c, int64_t at = kNow,
         int64_t fresh = 0, int64_t ttl = 3'600'000) {
  h.record(goal + c.dump(), goal, c.dump(), at, fresh, fresh == 0 ? 0 : ttl);
}

std::vector<Prediction> families(RequestHistory& h, PredictorOptions o = {}) {
  std::vector<Prediction> out;
  for (Prediction& p : predict(h.snapshot(kNow, kWindow), o, kNow)) {
    if (p.kind == PredictionKind::kFamily) out.push_back(std::move(p));
  }
  return out;
}

json env(const std::string& e) { return {{"env", e}, {"region", "eu"}, {"replicas", 3}}; }

// Two other goals asked with all three values; the goal with two.
void three_envs(RequestHistory& h) {
  for (const char* goal : {"deploy the api", "deploy the web app"}) {
    for (const char* e : {"dev", "staging", "prod"}) ask(h, goal, env(e));
  }
  ask(h, "deploy the worker", env("dev"));
  ask(h, "deploy the worker", env("staging"));
}

TEST(Predictor, TheMissingMemberOfAFamilyIsProposedWithTheCompletionRate) {
  RequestHistory h;
  three_envs(h);
  const std::vector<Prediction> got = families(h);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].goal, "deploy the worker");
  EXPECT_EQ(json::parse(got[0].context), env("prod"));
  EXPECT_TRUE(got[0].key.empty());  // the caller builds it with the lane's rules
  // 2 of the 2 goals asked with dev and staging also had prod; prior 2/3.
  EXPECT_NEAR(got[0].confidence, (2 + 2.0 / 3) / 3, 1e-9);
  EXPECT_NE(got[0].reason.find("family over \"env\""), std::string::npos) << got[0].reason;
  EXPECT_NE(got[0].reason.find("\"prod\""), std::string::npos) << got[0].reason;
}

TEST(Predictor, AFamilyThatStoppedShortLowersTheConfidenceOneOnItsWayDoesNot) {
  RequestHistory h;
  three_envs(h);
  // A third goal's release stopped at staging: a newer one was asked since.
  ask(h, "deploy the cron jobs", env("dev"), kNow - 3'000);
  ask(h, "deploy the cron jobs", env("staging"), kNow - 2'000);
  json newer = env("dev");
  newer["replicas"] = 5;
  ask(h, "deploy the cron jobs", newer, kNow - 1'000);
  std::vector<Prediction> got = families(h);
  ASSERT_EQ(got.size(), 1u);  // the superseded release is not completed
  EXPECT_EQ(got[0].goal, "deploy the worker");
  EXPECT_NEAR(got[0].confidence, (2 + 2.0 / 3) / 4, 1e-9);
  EXPECT_NE(got[0].reason.find("2 of the 3 settled families"), std::string::npos) << got[0].reason;
  // A fourth goal still on its way (dev, staging, nothing newer) counts neither way.
  ask(h, "deploy the queue", env("dev"));
  ask(h, "deploy the queue", env("staging"));
  got = families(h);
  ASSERT_EQ(got.size(), 2u);
  for (const Prediction& p : got) EXPECT_NEAR(p.confidence, (2 + 2.0 / 3) / 4, 1e-9) << p.goal;
}

TEST(Predictor, AValueSeenForTooFewOtherGoalsIsNoCandidate) {
  RequestHistory h;
  for (const char* e : {"dev", "staging", "prod"}) ask(h, "deploy the api", env(e));
  ask(h, "deploy the worker", env("dev"));
  ask(h, "deploy the worker", env("staging"));
  EXPECT_TRUE(families(h).empty());  // prod: one other goal, min_support 2
  PredictorOptions one;
  one.min_support = 1;
  ASSERT_EQ(families(h, one).size(), 1u);
}

TEST(Predictor, OnlyContextsDifferingInOneMemberFormAFamily) {
  RequestHistory h;
  three_envs(h);
  RequestHistory two_changes;
  for (const char* goal : {"deploy the api", "deploy the web app"}) {
    for (const char* e : {"dev", "staging", "prod"}) ask(two_changes, goal, env(e));
  }
  ask(two_changes, "deploy the worker", env("dev"));
  json other = env("staging");
  other["region"] = "us";  // env and region differ: not a family
  ask(two_changes, "deploy the worker", other);
  EXPECT_TRUE(families(two_changes).empty());
  // A member present on one side only is no family either.
  RequestHistory added;
  for (const char* goal : {"deploy the api", "deploy the web app"}) {
    for (const char* e : {"dev", "staging", "prod"}) ask(added, goal, env(e));
  }
  ask(added, "deploy the worker", env("dev"));
  json more = env("dev");
  more["debug"] = true;
  ask(added, "deploy the worker", more);
  EXPECT_TRUE(families(added).empty());
}

TEST(Predictor, AMemberWithManyValuesIsAnIdentifierNotAVariant) {
  RequestHistory h;
  for (int g = 0; g < 3; ++g) {
    for (int rev = 0; rev < 20; ++rev) {
      ask(h, "build " + std::to_string(g), {{"rev", rev}, {"os", "linux"}});
    }
  }
  EXPECT_TRUE(families(h).empty());  // 20 values of rev > max_values
}

TEST(Predictor, RequestsOutsideTheWindowDoNotCount) {
  RequestHistory h;
  for (const char* goal : {"deploy the api", "deploy the web app"}) {
    for (const char* e : {"dev", "staging", "prod"}) ask(h, goal, env(e), kNow - kWindow - 1);
  }
  ask(h, "deploy the worker", env("dev"));
  ask(h, "deploy the worker", env("staging"));
  EXPECT_TRUE(families(h).empty());
  EXPECT_EQ(h.size(), 2u);  // the old keys are forgotten by the snapshot
}

TEST(Predictor, RecurringNeedsMinRequestsAndAKnownFreshness) {
  RequestHistory h;
  const json c = {{"env", "prod"}};
  ask(h, "nightly report", c, kNow - 5'000, kNow + 30'000);
  ask(h, "nightly report", c, kNow - 1'000, 0);  // a miss keeps the known freshness
  ask(h, "rare report", c, kNow - 1'000, kNow + 30'000);
  ask(h, "unknown report", c, kNow - 2'000, 0);
  ask(h, "unknown report", c, kNow - 1'000, 0);
  ask(h, "long-lived report", c, kNow - 2'000, kNow + 3'600'000);  // far from its end
  ask(h, "long-lived report", c, kNow - 1'000, kNow + 3'600'000);
  // 50 s left of a 60 s TTL: within the horizon, not within half the TTL.
  ask(h, "short-lived report", c, kNow - 2'000, kNow + 50'000, 60'000);
  ask(h, "short-lived report", c, kNow - 1'000, kNow + 50'000, 60'000);
  std::vector<Prediction> got = predict(h.snapshot(kNow, kWindow), {}, kNow);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, PredictionKind::kRecurring);
  EXPECT_EQ(got[0].goal, "nightly report");
  EXPECT_EQ(got[0].key, "nightly report" + c.dump());
  EXPECT_NEAR(got[0].confidence, 1 - std::exp(-2.0), 1e-9);
  EXPECT_NE(got[0].reason.find("asked 2 times"), std::string::npos) << got[0].reason;
  // Once a prediction refreshes it, its freshness is unknown until a hit.
  h.forget_freshness("nightly report" + c.dump());
  EXPECT_TRUE(predict(h.snapshot(kNow, kWindow), {}, kNow).empty());
}

TEST(RequestHistory, IsBoundedByItsLeastRecentlyAskedKey) {
  RequestHistory h(2);
  ask(h, "a", json(1));
  ask(h, "b", json(1));
  ask(h, "a", json(1));  // a is the most recent now
  ask(h, "c", json(1));  // b goes
  std::vector<std::string> goals;
  for (const RequestRecord& r : h.snapshot(kNow, kWindow)) goals.push_back(r.goal);
  EXPECT_EQ(goals, (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(h.snapshot(kNow, kWindow)[1].requests, 2u);
  h.clear();
  EXPECT_EQ(h.size(), 0u);
}

Entry entry_made_at(int64_t created_ms) {
  Entry e;
  e.meta.created_ms = created_ms;
  return e;
}

TEST(PredictionLedger, AHitOnThePredictedPlanIsAUse) {
  PredictionLedger ledger;
  ledger.started("k", 100);
  EXPECT_TRUE(ledger.tracked("k"));
  ledger.finished("k", /*stored=*/true);
  const Entry old = entry_made_at(50);  // the entry from before (a refresh's)
  EXPECT_EQ(ledger.on_request("k", &old), PredictionLedger::Event::kNone);
  const Entry made = entry_made_at(150);
  EXPECT_EQ(ledger.on_request("k", &made), PredictionLedger::Event::kUsed);
  EXPECT_FALSE(ledger.tracked("k"));
  EXPECT_EQ(ledger.on_request("k", &made), PredictionLedger::Event::kNone);  // once
}

TEST(PredictionLedger, ACallerJoiningTheRunningFlightIsAUse) {
  PredictionLedger ledger;
  ledger.started("k", 100);
  EXPECT_EQ(ledger.on_request("k", nullptr), PredictionLedger::Event::kUsed);
  ledger.finished("k", true);  // the flight ends after: nothing left to track
  EXPECT_FALSE(ledger.tracked("k"));
}

TEST(PredictionLedger, EvictedOrExpiredUnaskedIsWasteInvalidatedIsForgotten) {
  PredictionLedger ledger;
  const Entry made = entry_made_at(150);
  for (RemovalCause cause : {RemovalCause::kSize, RemovalCause::kExpired}) {
    ledger.started("k", 100);
    ledger.finished("k", true);
    EXPECT_EQ(ledger.on_removal("k", made, RemovalCause::kReplaced),
              PredictionLedger::Event::kNone);
    EXPECT_EQ(ledger.on_removal("k", entry_made_at(50), cause), PredictionLedger::Event::kNone);
    EXPECT_EQ(ledger.on_removal("k", made, cause), PredictionLedger::Event::kWasted);
    EXPECT_FALSE(ledger.tracked("k"));
  }
  ledger.started("k", 100);
  ledger.finished("k", true);
  EXPECT_EQ(ledger.on_removal("k", made, RemovalCause::kInvalidated),
            PredictionLedger::Event::kNone);
  EXPECT_FALSE(ledger.tracked("k"));
  ledger.started("k", 100);
  ledger.finished("k", /*stored=*/false);  // nothing stored: nothing to use or waste
  EXPECT_FALSE(ledger.tracked("k"));
}

TEST(PredictionLedger, IsBoundedByItsOldestKey) {
  PredictionLedger ledger(2);
  ledger.started("a", 1);
  ledger.started("b", 2);
  ledger.started("a", 3);  // started again: its old slot must not evict it
  ledger.started("c", 4);
  EXPECT_FALSE(ledger.tracked("b"));
  EXPECT_TRUE(ledger.tracked("a"));
  EXPECT_TRUE(ledger.tracked("c"));
  for (int i = 0; i < 20; ++i) ledger.started("k" + std::to_string(i), 10 + i);
  EXPECT_EQ(ledger.size(), 2u);
}

}  // namespace
}  // namespace plancache::internal
