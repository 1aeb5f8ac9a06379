// Every client command against a real plancache::server::Server listening on
// 127.0.0.1 (ephemeral port, real sockets), run in-process through run_cli().
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/http_client.h"
#include "cli_runner.h"
#include "plancache/clock.h"
#include "server/config.h"
#include "server/server.h"

namespace plancache::cli {
namespace {

using test_support::CliRun;
using test_support::run_plancache;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using Json = nlohmann::json;

constexpr const char* kAdminToken = "admin-secret";
constexpr size_t kMaxBodyBytes = 64 * 1024;

class CliServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerConfig config = test_support::loopback_server_config(clock_);
    config.admin_token = kAdminToken;
    config.max_body_bytes = kMaxBodyBytes;
    auto started = server::Server::start(std::move(config));
    ASSERT_TRUE(started.is_ok()) << started.status().to_string();
    server_ = std::move(started).value();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  void TearDown() override {
    if (server_) {
      server_->request_stop();
      server_->wait();
    }
    for (const auto& path : files_) std::filesystem::remove(path);
  }

  // `plancache <args...> --server <this server>`.
  CliRun cli(std::vector<std::string> args, const std::string& stdin_text = "",
             std::map<std::string, std::string> env = {}) {
    args.push_back("--server");
    args.push_back(url_);
    return run_plancache(std::move(args), stdin_text, std::move(env));
  }

  std::string write_file(const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("plancache_cli_test_" + std::to_string(::getpid()) + "_" +
                       std::to_string(files_.size()) + ".json");
    std::ofstream(path) << text;
    files_.push_back(path);
    return path.string();
  }

  CliRun put(const std::string& goal, const Json& plan, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"put", "--goal", goal, "--plan-file", write_file(plan.dump())};
    args.insert(args.end(), extra.begin(), extra.end());
    return cli(args);
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::unique_ptr<server::Server> server_;
  std::string url_;
  std::vector<std::filesystem::path> files_;
};

TEST_F(CliServerTest, PutThenGetReturnsTheSamePlan) {
  const Json plan = {{"steps", {{{"run", "make"}}, {{"run", "make test"}}}}, {"cost", 1.5}};
  const CliRun stored = put("deploy  the web tier", plan,
                            {"--context", R"({"env":"prod","rev":7})", "--namespace", "heavy"});
  ASSERT_EQ(stored.code, 0) << stored.err;
  EXPECT_THAT(stored.out, MatchesRegex("[0-9a-f]{64}\n"));

  // Same goal modulo whitespace, same context with keys in another order.
  const CliRun got = cli({"get", "--goal", "deploy the web tier", "--context",
                          R"({"rev":7,"env":"prod"})", "--namespace", "heavy"});
  ASSERT_EQ(got.code, 0) << got.err;
  EXPECT_EQ(Json::parse(got.out), plan);

  const CliRun compact = cli({"get", "--goal", "deploy the web tier", "--context",
                              R"({"env":"prod","rev":7})", "--namespace", "heavy", "--compact"});
  EXPECT_EQ(compact.out, plan.dump() + "\n");
}

TEST_F(CliServerTest, GetOfAMissExitsOneWithAMessage) {
  ASSERT_EQ(put("goal", {{"a", 1}}).code, 0);
  const CliRun other_context = cli({"get", "--goal", "goal", "--context", R"({"x":1})"});
  EXPECT_EQ(other_context.code, 1);
  EXPECT_THAT(other_context.err, HasSubstr("no plan cached for this goal (key \""));
  EXPECT_EQ(other_context.out, "");
  const CliRun other_namespace = cli({"get", "--goal", "goal", "--namespace", "docs"});
  EXPECT_EQ(other_namespace.code, 1);
}

TEST_F(CliServerTest, PutReadsThePlanFromStdin) {
  const CliRun stored =
      cli({"put", "--goal", "from stdin", "--plan-file", "-", "--ttl-s", "60", "--compute-ms",
           "1200", "--tag", "t1", "--tag", "t2"},
          R"({"steps":["a","b"]})");
  ASSERT_EQ(stored.code, 0) << stored.err;
  const CliRun got = cli({"get", "--goal", "from stdin"});
  ASSERT_EQ(got.code, 0) << got.err;
  EXPECT_EQ(Json::parse(got.out), Json::parse(R"({"steps":["a","b"]})"));
}

TEST_F(CliServerTest, StatsPrintsJsonOrATable) {
  ASSERT_EQ(put("g", {{"a", 1}}).code, 0);
  ASSERT_EQ(cli({"get", "--goal", "g"}).code, 0);
  ASSERT_EQ(cli({"get", "--goal", "missing"}).code, 1);

  const CliRun json_run = cli({"stats"});
  ASSERT_EQ(json_run.code, 0) << json_run.err;
  const Json stats = Json::parse(json_run.out);
  EXPECT_EQ(stats["l1_size"], 1);
  EXPECT_EQ(stats["l1_hits"], 1);
  EXPECT_GE(stats["l1_misses"].get<int>(), 1);

  const CliRun table = cli({"stats", "--format", "table"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("summary\n"));
  EXPECT_THAT(table.out, MatchesRegex("(.|\n)*  l1_size +1\n(.|\n)*"));
  EXPECT_THAT(table.out, HasSubstr("\ntiers "));
}

TEST_F(CliServerTest, InvalidateByTagDropsOnlyThoseEntries) {
  ASSERT_EQ(put("web", {{"a", 1}}, {"--tag", "web"}).code, 0);
  ASSERT_EQ(put("db", {{"b", 2}}, {"--tag", "db"}).code, 0);
  const CliRun run = cli({"invalidate", "--tag", "web"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "invalidated 1 entry\n");
  EXPECT_EQ(cli({"get", "--goal", "web"}).code, 1);
  EXPECT_EQ(cli({"get", "--goal", "db"}).code, 0);
}

TEST_F(CliServerTest, InvalidateByPatternAndPrefixOnUserKeys) {
  ServerUrl url;
  url.host = "127.0.0.1";
  url.port = server_->port();
  HttpClient http(url);
  for (const char* key : {"workflow:standard:step_1", "workflow:heavy:step_2", "other:1"}) {
    auto res = http.send({HttpMethod::kPut, std::string("/v1/entries/default/") + key, "{}", ""});
    ASSERT_TRUE(res.is_ok());
    ASSERT_EQ(res->status, 201) << res->body;
  }
  const CliRun pattern = cli({"invalidate", "--pattern", "workflow:*:step_1"});
  ASSERT_EQ(pattern.code, 0) << pattern.err;
  EXPECT_EQ(pattern.out, "invalidated 1 entry\n");
  const CliRun prefix = cli({"invalidate", "--prefix", "workflow:", "--namespace", "default"});
  ASSERT_EQ(prefix.code, 0) << prefix.err;
  EXPECT_EQ(prefix.out, "invalidated 1 entry\n");
  auto left = http.send({HttpMethod::kGet, "/v1/entries/default/other:1", "", ""});
  ASSERT_TRUE(left.is_ok());
  EXPECT_EQ(left->status, 200);
}

TEST_F(CliServerTest, InvalidateOlderThanUsesTheServersClock) {
  ASSERT_EQ(put("old", {{"a", 1}}).code, 0);
  clock_->advance_ms(60'000);
  ASSERT_EQ(put("new", {{"b", 2}}).code, 0);
  const CliRun run = cli({"invalidate", "--older-than-s", "30"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "invalidated 1 entry\n");
  EXPECT_EQ(cli({"get", "--goal", "old"}).code, 1);
  EXPECT_EQ(cli({"get", "--goal", "new"}).code, 0);
}

TEST_F(CliServerTest, ClearNeedsTheAdminToken) {
  ASSERT_EQ(put("a", {{"a", 1}}).code, 0);
  ASSERT_EQ(put("b", {{"b", 1}}, {"--namespace", "docs"}).code, 0);

  const CliRun no_token = cli({"clear"});
  EXPECT_EQ(no_token.code, 1);
  EXPECT_THAT(no_token.err, MatchesRegex("error: unauthenticated: .+\n"));
  const CliRun wrong = cli({"clear", "--token", "nope"});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_THAT(wrong.err, MatchesRegex("error: permission_denied: .+\n"));
  EXPECT_EQ(cli({"get", "--goal", "a"}).code, 0);

  const CliRun one = cli({"clear", "--namespace", "docs", "--token", kAdminToken});
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out, "cleared 1 entry from namespace docs\n");
  // The token can come from the environment.
  const CliRun all = cli({"clear"}, "", {{"PLANCACHE_TOKEN", kAdminToken}});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(all.out, "cleared 1 entry (every namespace)\n");
  EXPECT_EQ(cli({"get", "--goal", "a"}).code, 1);
}

TEST_F(CliServerTest, ServerErrorsArePrintedWithTheirCodeAndExitOne) {
  const CliRun bad_namespace = cli({"get", "--goal", "g", "--namespace", "../etc"});
  EXPECT_EQ(bad_namespace.code, 1);
  EXPECT_THAT(bad_namespace.err, MatchesRegex("error: invalid_argument: .*namespace.*\n"));
  const CliRun bad_ttl = put("g", {{"a", 1}}, {"--ttl-s", "9223372036854775807"});
  EXPECT_EQ(bad_ttl.code, 1);
  EXPECT_THAT(bad_ttl.err, MatchesRegex("error: invalid_argument: .*ttl_s.*\n"));
  // Larger than the server's body limit: 413.
  const CliRun too_big = put("g", {{"blob", std::string(kMaxBodyBytes, 'x')}});
  EXPECT_EQ(too_big.code, 1);
  EXPECT_THAT(too_big.err, MatchesRegex("error: [a-z_]+: .+\n"));
  EXPECT_EQ(cli({"get", "--goal", "g"}).code, 1);
}

TEST_F(CliServerTest, ServerUrlCanComeFromTheEnvironment) {
  const CliRun run = run_plancache({"stats"}, "", {{"PLANCACHE_SERVER", url_}});
  EXPECT_EQ(run.code, 0) << run.err;
  // The flag wins over the variable.
  const CliRun flag_wins = run_plancache({"stats", "--server", url_}, "",
                                         {{"PLANCACHE_SERVER", "http://127.0.0.1:1"}});
  EXPECT_EQ(flag_wins.code, 0) << flag_wins.err;
}

}  // namespace
}  // namespace plancache::cli
