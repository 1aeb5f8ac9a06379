// `plancache warm`: usage errors, file validation (line numbers, nothing sent
// before the whole file is valid), how answers are counted, bounded
// concurrency over keep-alive connections — against a scripted POST
// /v1/plans peer that answers by the contract of SPEC §3 — and failures
// against a real plancache::server::Server without a planner.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "plancache/clock.h"
#include "scripted_http_server.h"
#include "server/config.h"
#include "server/server.h"

namespace plancache::cli {
namespace {

using test_support::CliRun;
using test_support::run_plancache;
using test_support::ScriptedHttpServer;
using test_support::ScriptedReply;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using Json = nlohmann::json;

// Answers POST /v1/plans by the goal's first word, as SPEC §3 says the
// read-through endpoint does: hit → cached, compute → computed, fail → a 502
// error, odd → a 200 that is not the contract's shape, close → computed but
// the server closes the connection.
ScriptedReply plans_contract(const ScriptedHttpServer::Request& request) {
  if (request.method() != boost::beast::http::verb::post || request.target() != "/v1/plans") {
    return {404, R"({"error":{"code":"not_found","message":"no such route"}})"};
  }
  const Json body = Json::parse(request.body(), nullptr, false);
  const std::string goal = body.is_object() ? body.value("goal", "") : "";
  const std::string plan = R"({"plan":{"steps":["a","b"]},)";
  if (goal.rfind("hit", 0) == 0) return {200, plan + R"("cached":true,"tier":"l1","key":"k"})"};
  if (goal.rfind("compute", 0) == 0) {
    return {200, plan + R"("cached":false,"key":"k","compute_ms":812})"};
  }
  if (goal.rfind("fail", 0) == 0) {
    return {502, R"({"error":{"code":"bad_gateway","message":"planner crashed"}})"};
  }
  if (goal.rfind("odd", 0) == 0) return {200, R"({"plan":{}})"};
  if (goal.rfind("close", 0) == 0) return {200, plan + R"("cached":false,"key":"k"})", false};
  return {400, R"({"error":{"code":"invalid_argument","message":"unexpected goal"}})"};
}

class WarmTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& path : files_) std::filesystem::remove_all(path);
  }

  std::string write_file(const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("plancache_warm_test_" + std::to_string(::getpid()) + "_" +
                       std::to_string(files_.size()) + ".jsonl");
    std::ofstream(path, std::ios::binary) << text;
    files_.push_back(path);
    return path.string();
  }

  CliRun warm(const std::string& file_text, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"warm", "--file", write_file(file_text), "--server",
                                     peer_.url()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_plancache(args);
  }

  ScriptedHttpServer peer_{plans_contract};
  std::vector<std::filesystem::path> files_;
};

constexpr const char* kSummary = "warmed %d scenarios: %d hits, %d computed, %d failed";

std::string summary(int n, int hits, int computed, int failed) {
  char text[128];
  std::snprintf(text, sizeof text, kSummary, n, hits, computed, failed);
  return std::string(text) + " \\([0-9]+\\.[0-9] s\\)\n";
}

TEST_F(WarmTest, CountsHitsComputedAndFailedLines) {
  const CliRun run = warm(
      "# a comment line\n"
      "{\"goal\":\"hit one\"}\n"
      "\n"
      "{\"goal\":\"compute one\",\"context\":{\"env\":\"prod\"}}\n"
      "   # an indented comment\n"
      "{\"goal\":\"fail one\"}\n"
      "{\"goal\":\"hit two\",\"namespace\":\"heavy\"}\n"
      "{\"goal\":\"odd one\"}\n"
      "{\"goal\":\"compute two\"}\r\n");
  EXPECT_EQ(run.code, kExitFailure) << run.err;
  EXPECT_THAT(run.out, MatchesRegex(summary(6, 2, 2, 2)));
  EXPECT_THAT(run.err, HasSubstr("line 6: bad_gateway: planner crashed\n"));
  EXPECT_THAT(run.err, HasSubstr("line 8: unexpected answer (HTTP 200 without a boolean"));
  EXPECT_THAT(run.err, Not(HasSubstr("line 2:")));
  EXPECT_EQ(peer_.requests().size(), 6u);
}

TEST_F(WarmTest, AllWarmedExitsZeroAndSendsEachScenarioAsWritten) {
  const CliRun run = warm(
      "{\"goal\":\"hit a\",\"context\":{\"rev\":7,\"env\":\"prod\"},\"namespace\":\"docs\"}\n"
      "{\"goal\":\"compute b\"}\n"
      "{\"goal\":\"compute c\",\"context\":[1,2.5,null]}\n",
      {"--token", "s3cret", "--concurrency", "1"});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_THAT(run.out, MatchesRegex(summary(3, 1, 2, 0)));
  EXPECT_EQ(run.err, "");

  const auto requests = peer_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(Json::parse(requests[0].body()),
            Json::parse(R"({"goal":"hit a","context":{"env":"prod","rev":7},"namespace":"docs"})"));
  EXPECT_EQ(Json::parse(requests[1].body()), Json::parse(R"({"goal":"compute b"})"));
  EXPECT_EQ(Json::parse(requests[2].body()),
            Json::parse(R"({"goal":"compute c","context":[1,2.5,null]})"));
  for (const auto& request : requests) {
    EXPECT_EQ(request.method(), boost::beast::http::verb::post);
    EXPECT_EQ(request.target(), "/v1/plans");
    EXPECT_EQ(request[boost::beast::http::field::authorization], "Bearer s3cret");
    EXPECT_TRUE(request.keep_alive());
  }
  // One worker, one keep-alive connection for every request.
  EXPECT_EQ(peer_.connections(), 1);
}

TEST_F(WarmTest, RunsExactlyConcurrencyRequestsAtOnceEachOnItsOwnConnection) {
  // The peer answers only when 3 requests are in flight together: a client
  // with fewer in flight would stall (bounded by the peer's hold limit) and
  // fail the max_in_flight check; one with more would exceed it.
  peer_.hold_until_in_flight(3);
  std::string file;
  for (int i = 0; i < 9; ++i) file += "{\"goal\":\"compute " + std::to_string(i) + "\"}\n";
  const CliRun run = warm(file, {"--concurrency", "3"});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_THAT(run.out, MatchesRegex(summary(9, 0, 9, 0)));
  EXPECT_EQ(peer_.max_in_flight(), 3);
  EXPECT_EQ(peer_.connections(), 3);
}

TEST_F(WarmTest, NoMoreWorkersThanScenarios) {
  const CliRun run = warm("{\"goal\":\"hit x\"}\n{\"goal\":\"hit y\"}\n", {"--concurrency", "64"});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_LE(peer_.connections(), 2);
}

TEST_F(WarmTest, ReconnectsWhenTheServerClosesTheConnection) {
  const CliRun run = warm("{\"goal\":\"close 1\"}\n{\"goal\":\"close 2\"}\n{\"goal\":\"hit 3\"}\n",
                          {"--concurrency", "1"});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_THAT(run.out, MatchesRegex(summary(3, 1, 2, 0)));
  EXPECT_EQ(peer_.connections(), 3);
}

TEST_F(WarmTest, PrintsAtMostTenFailedLines) {
  std::string file;
  for (int i = 0; i < 13; ++i) file += "{\"goal\":\"fail " + std::to_string(i) + "\"}\n";
  const CliRun run = warm(file);
  EXPECT_EQ(run.code, kExitFailure);
  EXPECT_THAT(run.out, MatchesRegex(summary(13, 0, 0, 13)));
  EXPECT_THAT(run.err, HasSubstr("line 1: bad_gateway: planner crashed\nline 2: "));
  EXPECT_THAT(run.err, HasSubstr("line 10: bad_gateway: planner crashed\n"
                                 "... and 3 more failed lines\n"));
  EXPECT_THAT(run.err, Not(HasSubstr("line 11:")));
}

TEST_F(WarmTest, InvalidLinesAreReportedByNumberAndNothingIsSent) {
  const CliRun run = warm(
      "{\"goal\":\"hit fine\"}\n"          // 1: valid, must not be sent
      "# comment\n"                          // 2
      "{\"goal\":\"oops\"\n"                // 3: not JSON
      "[\"goal\",\"x\"]\n"                  // 4: an array
      "{\"goal\":42}\n"                     // 5: goal not a string
      "{\"context\":{}}\n"                  // 6: no goal
      "{\"goal\":\"\"}\n"                   // 7: empty goal
      "{\"goal\":\"g\",\"namespace\":1}\n"  // 8: namespace not a string
      "{\"goal\":\"g\",\"contxt\":{}}\n"    // 9: unknown field
      "\"just a string\"\n");               // 10
  EXPECT_EQ(run.code, kExitUsage);
  EXPECT_EQ(run.out, "");
  EXPECT_THAT(run.err, HasSubstr("has 8 invalid lines; nothing was sent:\n"));
  EXPECT_THAT(run.err, ContainsRegex("  line 3: it is not valid JSON: parse error at column 15"));
  EXPECT_THAT(run.err, HasSubstr("  line 4: expected a JSON object {\"goal\": ...}, got an array\n"));
  EXPECT_THAT(run.err, HasSubstr("  line 5: \"goal\" must be a non-empty string\n"));
  EXPECT_THAT(run.err, HasSubstr("  line 6: \"goal\" must be a non-empty string\n"));
  EXPECT_THAT(run.err, HasSubstr("  line 7: \"goal\" must be a non-empty string\n"));
  EXPECT_THAT(run.err, HasSubstr("  line 8: \"namespace\" must be a string\n"));
  EXPECT_THAT(run.err, HasSubstr("  line 9: unknown field \"contxt\""));
  EXPECT_THAT(run.err, HasSubstr("  line 10: expected a JSON object {\"goal\": ...}, got a JSON "
                                 "string\n"));
  EXPECT_THAT(run.err, Not(HasSubstr("line 1:")));
  EXPECT_THAT(run.err, HasSubstr("Run 'plancache warm --help'"));
  EXPECT_EQ(peer_.connections(), 0);
}

TEST_F(WarmTest, ListsAtMostTenInvalidLines) {
  std::string file;
  for (int i = 0; i < 12; ++i) file += "nope\n";
  const CliRun run = warm(file);
  EXPECT_EQ(run.code, kExitUsage);
  EXPECT_THAT(run.err, HasSubstr("has 12 invalid lines"));
  EXPECT_THAT(run.err, HasSubstr("  line 10: "));
  EXPECT_THAT(run.err, Not(HasSubstr("  line 11: ")));
  EXPECT_THAT(run.err, HasSubstr("  ... and 2 more\n"));
  EXPECT_EQ(peer_.connections(), 0);
}

TEST_F(WarmTest, UnreadableFileIsBadUsage) {
  const std::string missing = write_file("") + ".missing";
  const CliRun absent = run_plancache({"warm", "--file", missing, "--server", peer_.url()});
  EXPECT_EQ(absent.code, kExitUsage);
  EXPECT_THAT(absent.err, HasSubstr("cannot open scenarios file '" + missing +
                                    "': No such file or directory"));

  const auto dir = std::filesystem::temp_directory_path() /
                   ("plancache_warm_test_dir_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  files_.push_back(dir);
  const CliRun directory = run_plancache({"warm", "--file", dir.string(), "--server", peer_.url()});
  EXPECT_EQ(directory.code, kExitUsage);
  EXPECT_THAT(directory.err, HasSubstr("it is a directory"));
  EXPECT_EQ(peer_.connections(), 0);
}

TEST_F(WarmTest, UsageErrors) {
  const std::string file = write_file("{\"goal\":\"hit\"}\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"warm"}, "--file is required"},
      {{"warm", "--file", file, "--concurrency", "0"}, "--concurrency"},
      {{"warm", "--file", file, "--concurrency", "65"}, "--concurrency"},
      {{"warm", "--file", file, "--concurrency", "many"}, "--concurrency"},
      {{"warm", "--file", file, "--progress", "sometimes"}, "--progress"},
      {{"warm", "--file", file, "--server", "https://example.org"}, "only http://"},
      {{"warm", "--file", file, "extra"}, "extra"},
  };
  for (const auto& [args, message] : cases) {
    const CliRun run = run_plancache(args);
    EXPECT_EQ(run.code, kExitUsage) << args.back();
    EXPECT_THAT(run.err, HasSubstr(message)) << args.back();
  }
  EXPECT_EQ(peer_.connections(), 0);
}

TEST_F(WarmTest, ReadsStandardInputAndAcceptsAnEmptyFile) {
  const CliRun piped = run_plancache({"warm", "--file", "-", "--server", peer_.url()},
                                     "{\"goal\":\"hit s\"}\n{\"goal\":\"compute s\"}\n");
  ASSERT_EQ(piped.code, kExitOk) << piped.err;
  EXPECT_THAT(piped.out, MatchesRegex(summary(2, 1, 1, 0)));

  const CliRun empty = warm("# nothing to warm\n\n");
  EXPECT_EQ(empty.code, kExitOk) << empty.err;
  EXPECT_THAT(empty.out, MatchesRegex(summary(0, 0, 0, 0)));
}

TEST_F(WarmTest, ProgressBarOnlyWhenStderrIsATerminalOrAsked) {
  const std::string file = "{\"goal\":\"hit p\"}\n{\"goal\":\"compute p\"}\n";
  const CliRun quiet = warm(file);  // a string stream is not a terminal
  ASSERT_EQ(quiet.code, kExitOk);
  EXPECT_EQ(quiet.err, "");

  const CliRun bar = warm(file, {"--progress", "always"});
  ASSERT_EQ(bar.code, kExitOk);
  EXPECT_THAT(bar.err, HasSubstr("\r[########################]      2/2 100%  hits 1  computed 1"));
  EXPECT_THAT(bar.err, HasSubstr("\r\x1b[K"));  // erased before the summary
  EXPECT_THAT(bar.out, MatchesRegex(summary(2, 1, 1, 0)));
}

TEST_F(WarmTest, UnreachableServerFailsEveryLine) {
  uint16_t port = 0;
  {
    ScriptedHttpServer gone(plans_contract);
    port = gone.port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const CliRun run = run_plancache(
      {"warm", "--file", write_file("{\"goal\":\"hit a\"}\n{\"goal\":\"hit b\"}\n"), "--server",
       url});
  EXPECT_EQ(run.code, kExitFailure);
  EXPECT_THAT(run.out, MatchesRegex(summary(2, 0, 0, 2)));
  EXPECT_THAT(run.err, HasSubstr("line 1: cannot reach plancache server at " + url));
  EXPECT_THAT(run.err, HasSubstr("line 2: cannot reach plancache server at " + url));
}

TEST_F(WarmTest, HelpExplainsTheFileFormat) {
  const CliRun help = run_plancache({"warm", "--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_THAT(help.out, HasSubstr("File format (JSON lines)"));
  EXPECT_THAT(help.out, HasSubstr("{\"goal\": \"deploy the web tier\""));
  EXPECT_THAT(help.out, HasSubstr("--concurrency"));
  EXPECT_THAT(help.out, HasSubstr("warmed 2 scenarios: 1 hits, 0 computed, 1 failed"));
  const CliRun root = run_plancache({"--help"});
  EXPECT_THAT(root.out, HasSubstr("warm"));
}

// A real server with no planner: POST /v1/plans cannot compute a plan it does
// not have, so every never-stored goal is a failed line (today a 503).
TEST(WarmAgainstServerTest, ServerErrorsAreFailedLines) {
  server::ServerConfig config = test_support::loopback_server_config(std::make_shared<FakeClock>());
  auto started = server::Server::start(std::move(config));
  ASSERT_TRUE(started.is_ok()) << started.status().to_string();
  std::unique_ptr<server::Server> server = std::move(started).value();
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port());

  const CliRun run = run_plancache({"warm", "--file", "-", "--server", url},
                                   "{\"goal\":\"never stored\"}\n"
                                   "{\"goal\":\"never stored either\",\"namespace\":\"docs\"}\n");
  server->request_stop();
  server->wait();
  EXPECT_EQ(run.code, kExitFailure) << run.err;
  EXPECT_THAT(run.out, MatchesRegex(summary(2, 0, 0, 2)));
  EXPECT_THAT(run.err, ContainsRegex("line 1: [a-z_]+: .+\nline 2: [a-z_]+: .+\n"));
}

}  // namespace
}  // namespace plancache::cli
