// Argument validation, help and version: everything the CLI decides before it
// talks to a server. Bad usage must exit 2 with a message naming the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli_runner.h"

namespace plancache::cli {
namespace {

using test_support::run_plancache;
using ::testing::HasSubstr;

TEST(CliUsageTest, HelpExplainsPlancacheAndExitCodes) {
  const auto run = run_plancache({"--help"});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, HasSubstr("a multi-tier cache for expensive plans"));
  EXPECT_THAT(run.out, HasSubstr("Exit codes:"));
  for (const char* command : {"serve", "stats", "get", "put", "invalidate", "clear"}) {
    EXPECT_THAT(run.out, HasSubstr(command));
  }
  EXPECT_EQ(run.err, "");
}

TEST(CliUsageTest, EveryCommandHasHelp) {
  for (const char* command : {"serve", "stats", "get", "put", "invalidate", "clear"}) {
    const auto run = run_plancache({command, "--help"});
    EXPECT_EQ(run.code, 0) << command;
    EXPECT_THAT(run.out, HasSubstr(std::string("Usage: plancache ") + command)) << command;
  }
  EXPECT_THAT(run_plancache({"put", "--help"}).out, HasSubstr("--plan-file"));
  EXPECT_THAT(run_plancache({"serve", "--help"}).out, HasSubstr("--port"));
}

TEST(CliUsageTest, VersionPrintsAndExitsZero) {
  const auto run = run_plancache({"--version"});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, HasSubstr("plancache 0."));
}

struct UsageCase {
  std::vector<std::string> args;
  std::string message_part;
};

class CliBadUsageTest : public ::testing::TestWithParam<UsageCase> {};

TEST_P(CliBadUsageTest, ExitsTwoNamingTheProblem) {
  const auto run = run_plancache(GetParam().args);
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr(GetParam().message_part));
  EXPECT_THAT(run.err, HasSubstr("--help"));
  EXPECT_EQ(run.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadUsageTest,
    ::testing::Values(
        UsageCase{{}, "A subcommand is required"},
        UsageCase{{"frobnicate"}, "unknown command 'frobnicate'"},
        UsageCase{{"get"}, "--goal is required"},
        UsageCase{{"get", "--goal", "g", "--bogus"}, "--bogus"},
        UsageCase{{"get", "--goal", ""}, "--goal must not be empty"},
        UsageCase{{"get", "--goal", "g", "--context", "{x"}, "--context is not valid JSON"},
        UsageCase{{"put", "--goal", "g"}, "--plan-file is required"},
        UsageCase{{"put", "--goal", "g", "--plan-file", "/nonexistent/plan.json"},
                  "cannot open plan file '/nonexistent/plan.json'"},
        UsageCase{{"put", "--goal", "g", "--plan-file", "-", "--ttl-s", "-5"}, "--ttl-s"},
        UsageCase{{"put", "--goal", "g", "--plan-file", "-", "--ttl-s", "soon"}, "--ttl-s"},
        UsageCase{{"invalidate"}, "missing selector"},
        UsageCase{{"invalidate", "--tag", "a", "--pattern", "b*"}, "conflicting selectors"},
        UsageCase{{"invalidate", "--tag", ""}, "--tag must not be empty"},
        UsageCase{{"invalidate", "--namespace", "docs"}, "plancache clear --namespace"},
        UsageCase{{"stats", "--format", "xml"}, "--format"},
        UsageCase{{"stats", "--server", "https://cache:443"}, "only http:// is supported"},
        UsageCase{{"stats", "--server", "localhost:8080"}, "missing scheme"},
        UsageCase{{"stats", "--timeout-s", "0"}, "--timeout-s"},
        UsageCase{{"clear", "extra-positional"}, "extra-positional"}));

TEST(CliUsageTest, PlanFromStdinMustBeJsonAndTheErrorGivesThePosition) {
  const auto run = run_plancache({"put", "--goal", "g", "--plan-file", "-"}, "{\"steps\": [1,,]}");
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("standard input is not valid JSON"));
  EXPECT_THAT(run.err, HasSubstr("line 1, column 14"));
}

TEST(CliUsageTest, PlanFileThatIsNotJsonNamesTheFile) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("plancache_cli_bad_plan_" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream file(path);
    file << "{\n  \"a\": 1\n  \"b\": 2\n}\n";
  }
  const auto run = run_plancache({"put", "--goal", "g", "--plan-file", path.string()});
  std::filesystem::remove(path);
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("plan file '" + path.string() + "' is not valid JSON"));
  EXPECT_THAT(run.err, HasSubstr("line 3"));
}

TEST(CliUsageTest, EnvServerUrlIsValidatedToo) {
  const auto run = run_plancache({"stats"}, "", {{"PLANCACHE_SERVER", "ftp://x"}});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("invalid server URL 'ftp://x'"));
}

// A port that nothing listens on: bind an ephemeral port, then release it.
uint16_t closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(
      ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

TEST(CliUsageTest, UnreachableServerExitsOneNamingTheUrl) {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port());
  const auto run = run_plancache({"stats", "--server", url, "--timeout-s", "5"});
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.err, HasSubstr("cannot reach plancache server at " + url + ": "));
  EXPECT_THAT(run.err, HasSubstr("refused"));
}

}  // namespace
}  // namespace plancache::cli
