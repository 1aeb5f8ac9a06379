// `plancache warm --predict`: the request it sends (POST /v1/predict with
// dry_run and namespace in the query), the table it prints, and its usage
// and server errors -- against a scripted peer that answers by the contract
// of docs/http_api.md ("Predictive pre-computation").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "scripted_http_server.h"

namespace plancache::cli {
namespace {

using test_support::CliRun;
using test_support::run_plancache;
using test_support::ScriptedHttpServer;
using test_support::ScriptedReply;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kCandidates = R"({"dry_run":DRY,"predictions":[
  {"namespace":"ops","kind":"family","goal":"deploy the worker",
   "context":{"env":"prod","region":"eu"},"key":"ab12","confidence":0.8888,
   "reason":"family over \"env\": this goal was asked with \"dev\", \"staging\"",
   "action":"ACTION"},
  {"namespace":"ops","kind":"family","goal":"deploy the cron jobs",
   "context":{"env":"prod"},"key":"cd34","confidence":0.5,"reason":"too few goals",
   "action":"below_threshold"}]})";

std::string answer(bool dry_run) {
  std::string body = kCandidates;
  body.replace(body.find("DRY"), 3, dry_run ? "true" : "false");
  body.replace(body.find("ACTION"), 6, dry_run ? "would_compute" : "started");
  return body;
}

class WarmPredictTest : public ::testing::Test {
 protected:
  std::vector<std::string> targets() {
    std::lock_guard lock(mu_);
    return targets_;
  }

  std::mutex mu_;  // guards targets_ (the peer's thread writes it)
  std::vector<std::string> targets_;
  ScriptedHttpServer peer_{[this](const ScriptedHttpServer::Request& request) -> ScriptedReply {
    const std::string target(request.target());
    {
      std::lock_guard lock(mu_);
      targets_.push_back(std::string(request.method_string()) + " " + target);
    }
    if (target.rfind("/v1/predict", 0) != 0) return {404, R"({"error":{"code":"not_found"}})"};
    if (target.find("namespace=none") != std::string::npos) {
      return {409, R"({"error":{"code":"failed_precondition",)"
                   R"("message":"namespace 'none' does not have predict = true"}})"};
    }
    return {200, answer(target.find("dry_run=1") != std::string::npos)};
  }};
};

TEST_F(WarmPredictTest, ADryRunPrintsEachCandidateWithItsReasonAndConfidence) {
  const CliRun run = run_plancache({"warm", "--predict", "--dry-run", "--server", peer_.url()});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_EQ(targets(), std::vector<std::string>{"POST /v1/predict?dry_run=1"});
  EXPECT_THAT(run.out, HasSubstr("ACTION"));
  EXPECT_THAT(run.out, HasSubstr("REASON"));
  EXPECT_THAT(run.out, HasSubstr("would compute"));
  EXPECT_THAT(run.out, HasSubstr("0.89"));
  EXPECT_THAT(run.out, HasSubstr("deploy the worker"));
  EXPECT_THAT(run.out, HasSubstr(R"({"env":"prod","region":"eu"})"));
  EXPECT_THAT(run.out, HasSubstr(R"(family over "env")"));
  EXPECT_THAT(run.out, HasSubstr("below threshold"));
  EXPECT_THAT(run.out, HasSubstr("2 candidates: 1 below threshold, 1 would compute (dry run"));
}

TEST_F(WarmPredictTest, APassPrintsWhatItStartedForOneNamespace) {
  const CliRun run =
      run_plancache({"warm", "--predict", "--namespace", "ops", "--server", peer_.url()});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_EQ(targets(), std::vector<std::string>{"POST /v1/predict?namespace=ops"});
  EXPECT_THAT(run.out, HasSubstr("started"));
  EXPECT_THAT(run.out, Not(HasSubstr("dry run")));
}

TEST_F(WarmPredictTest, ServerAndUsageErrors) {
  const CliRun refused =
      run_plancache({"warm", "--predict", "--namespace", "none", "--server", peer_.url()});
  EXPECT_EQ(refused.code, kExitFailure);
  EXPECT_THAT(refused.err, HasSubstr("failed_precondition"));
  EXPECT_THAT(refused.err, HasSubstr("does not have predict = true"));
  const size_t asked = targets().size();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"warm", "--dry-run", "--server", peer_.url()},
        std::vector<std::string>{"warm", "--predict", "--file", "x.jsonl", "--server",
                                 peer_.url()}}) {
    const CliRun run = run_plancache(args);
    EXPECT_EQ(run.code, kExitUsage) << run.err;
  }
  EXPECT_EQ(targets().size(), asked);
}

}  // namespace
}  // namespace plancache::cli
