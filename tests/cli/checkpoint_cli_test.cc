// `plancache checkpoint save|restore|list|cleanup` against a real in-process
// server on 127.0.0.1 (ephemeral port), with a fake clock for ages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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

constexpr int64_t kDayMs = 86'400'000;

class CheckpointCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerConfig config = test_support::loopback_server_config(clock_);
    auto started = server::Server::start(std::move(config));
    ASSERT_TRUE(started.is_ok()) << started.status().to_string();
    server_ = std::move(started).value();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
    dir_ = std::filesystem::temp_directory_path() /
           ("plancache_checkpoint_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    if (server_) {
      server_->request_stop();
      server_->wait();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  CliRun cli(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), "checkpoint");
    args.push_back("--server");
    args.push_back(url_);
    return run_plancache(std::move(args), stdin_text);
  }

  std::string file(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();  // 2026-09-21T14:13:20Z
  std::unique_ptr<server::Server> server_;
  std::string url_;
  std::filesystem::path dir_;
};

TEST_F(CheckpointCliTest, SaveThenRestorePrintsTheSameJson) {
  const Json state = {{"step", 5}, {"done", {"lint", "build"}}, {"env", {{"k", "v é"}}}};
  const CliRun saved =
      cli({"save", "--id", "deploy:step_5", "--file", file("s.json", state.dump(2))});
  ASSERT_EQ(saved.code, 0) << saved.err;
  EXPECT_THAT(saved.out, MatchesRegex("saved checkpoint 'deploy:step_5' \\([0-9]+ B\\)\n"));

  const CliRun restored = cli({"restore", "--id", "deploy:step_5"});
  ASSERT_EQ(restored.code, 0) << restored.err;
  EXPECT_EQ(Json::parse(restored.out), state);

  const std::string out = (dir_ / "restored.json").string();
  const CliRun to_file = cli({"restore", "--id", "deploy:step_5", "--output", out});
  ASSERT_EQ(to_file.code, 0) << to_file.err;
  EXPECT_THAT(to_file.out, HasSubstr("restored checkpoint 'deploy:step_5' to " + out));
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(Json::parse(text.str()), state);
}

TEST_F(CheckpointCliTest, SaveReadsStandardInputAndReplaces) {
  ASSERT_EQ(cli({"save", "--id", "a b/c", "--file", "-"}, "[1]").code, 0);
  ASSERT_EQ(cli({"save", "--id", "a b/c", "--file", "-"}, "[2, 3]").code, 0);
  const CliRun restored = cli({"restore", "--id", "a b/c"});
  ASSERT_EQ(restored.code, 0) << restored.err;
  EXPECT_EQ(Json::parse(restored.out), Json::parse("[2,3]"));
}

TEST_F(CheckpointCliTest, ListShowsIdCreatedAgeAndSize) {
  EXPECT_EQ(cli({"list"}).out, "no checkpoints\n");
  ASSERT_EQ(cli({"save", "--id", "first", "--file", "-"}, R"({"a":1})").code, 0);
  clock_->advance_ms(2 * 3'600'000 + 5 * 60'000);
  // Stored compact: the indentation of the file is not kept.
  const Json big = Json::array({std::string(3000, 'x')});
  ASSERT_EQ(cli({"save", "--id", "second", "--file", "-"}, big.dump(4)).code, 0);
  clock_->advance_ms(42'000);

  const CliRun table = cli({"list"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out,
            "ID      CREATED               AGE    SIZE\n"
            "first   2026-09-21T14:13:20Z  2h 5m  7 B\n"
            "second  2026-09-21T16:18:20Z  42s    2.9 KiB\n");

  const CliRun json_run = cli({"list", "--json"});
  ASSERT_EQ(json_run.code, 0) << json_run.err;
  const Json doc = Json::parse(json_run.out);
  EXPECT_EQ(doc["namespace"], "checkpoints");
  ASSERT_EQ(doc["entries"].size(), 2u);
  EXPECT_EQ(doc["entries"][0]["key"], "first");
  EXPECT_TRUE(doc["entries"][0]["expires_ms"].is_null());  // checkpoints never expire
  EXPECT_EQ(doc["truncated"], false);
}

TEST_F(CheckpointCliTest, CleanupRemovesCheckpointsOlderThanNDays) {
  ASSERT_EQ(cli({"save", "--id", "old", "--file", "-"}, "1").code, 0);
  // An entry of another namespace, as old as "old": not a checkpoint.
  ASSERT_EQ(run_plancache(
                {"put", "--goal", "g", "--plan-file", "-", "--ttl-s", "0", "--server", url_}, "{}")
                .code,
            0);
  clock_->advance_ms(3 * kDayMs);
  ASSERT_EQ(cli({"save", "--id", "new", "--file", "-"}, "2").code, 0);
  clock_->advance_ms(1000);

  const CliRun none = cli({"cleanup", "--max-age-days", "4"});
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_EQ(none.out, "removed 0 checkpoints older than 4 days\n");
  const CliRun one = cli({"cleanup", "--max-age-days", "2"});
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out, "removed 1 checkpoint older than 2 days\n");
  EXPECT_EQ(cli({"restore", "--id", "old"}).code, 1);
  EXPECT_EQ(cli({"restore", "--id", "new"}).code, 0);
  const CliRun all = cli({"cleanup", "--max-age-days", "0"});
  EXPECT_EQ(all.out, "removed 1 checkpoint older than 0 days\n");
  EXPECT_EQ(cli({"list"}).out, "no checkpoints\n");
  EXPECT_EQ(run_plancache({"get", "--goal", "g", "--server", url_}).code, 0);
}

TEST_F(CheckpointCliTest, RestoreOfAMissingIdExitsOne) {
  const CliRun run = cli({"restore", "--id", "nope"});
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_THAT(run.err, HasSubstr("no checkpoint 'nope'"));
}

TEST_F(CheckpointCliTest, BadInputExitsTwoNamingTheProblem) {
  const std::string not_json = file("bad.json", "{\"a\": ");
  const struct {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"save", "--file", not_json}, "--id is required"},
      {{"save", "--id", "x"}, "--file is required"},
      {{"save", "--id", "", "--file", not_json}, "--id must be 1 to 512 bytes long"},
      {{"save", "--id", "a\tb", "--file", not_json}, "--id must not contain control characters"},
      {{"save", "--id", "x", "--file", (dir_ / "missing.json").string()},
       "cannot open checkpoint file '"},
      {{"save", "--id", "x", "--file", not_json}, "is not valid JSON"},
      {{"restore"}, "--id is required"},
      {{"cleanup"}, "--max-age-days is required"},
      {{"cleanup", "--max-age-days", "-1"}, "--max-age-days must be between 0 and"},
      {{"cleanup", "--max-age-days", "soon"}, "--max-age-days"},
      {{"list", "--bogus"}, "--bogus"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.args));
    const CliRun run = cli(c.args);
    EXPECT_EQ(run.code, 2) << run.err;
    EXPECT_THAT(run.err, HasSubstr(c.message));
    EXPECT_EQ(run.out, "");
  }
  EXPECT_EQ(cli({"list"}).out, "no checkpoints\n");  // nothing was stored
  const CliRun bare = run_plancache({"checkpoint"});
  EXPECT_EQ(bare.code, 2);
  EXPECT_THAT(bare.err, HasSubstr("A subcommand is required"));
}

TEST_F(CheckpointCliTest, EveryCommandHasHelp) {
  for (const char* sub : {"save", "restore", "list", "cleanup"}) {
    const CliRun run = run_plancache({"checkpoint", sub, "--help"});
    EXPECT_EQ(run.code, 0) << sub;
    EXPECT_THAT(run.out, HasSubstr("--server")) << sub;
  }
  const CliRun top = run_plancache({"checkpoint", "--help"});
  EXPECT_EQ(top.code, 0);
  for (const char* sub : {"save", "restore", "list", "cleanup"})
    EXPECT_THAT(top.out, HasSubstr(sub));
  EXPECT_THAT(run_plancache({"--help"}).out, HasSubstr("checkpoint"));
}

TEST_F(CheckpointCliTest, ServerErrorsExitOne) {
  const CliRun run = cli({"save", "--id", std::string(513, 'x'), "--file", "-"}, "1");
  EXPECT_EQ(run.code, 2);  // caught before the server
  const std::string unreachable = "http://127.0.0.1:1";
  const CliRun down = run_plancache({"checkpoint", "list", "--server", unreachable});
  EXPECT_EQ(down.code, 1);
  EXPECT_THAT(down.err, HasSubstr("cannot reach plancache server"));
}

}  // namespace
}  // namespace plancache::cli
