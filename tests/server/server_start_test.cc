// Server::start refusals, bind failures and run_server's exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <csignal>
#include <regex>
#include <sstream>
#include <thread>

#include "test_server.h"

namespace plancache::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

Status start_status(server::ServerConfig config) {
  auto started = server::Server::start(std::move(config));
  return started.status();
}

TEST(ServerStartTest, RefusesARedisUrlItCannotUseNamingTheFlag) {
  auto config = test_config();
  config.redis_url = "rediss://127.0.0.1:6379";
  Status s = start_status(config);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("--redis-url"), HasSubstr("TLS")));
  config.redis_url = "redis://127.0.0.1:notaport";
  s = start_status(config);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--redis-url"));
}

TEST(ServerStartTest, RefusesAPlannerUrlItCannotCall) {
  auto config = test_config();
  config.planner_url = "https://planner.example/plan";
  const Status s = start_status(config);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("planner URL"), HasSubstr("https is not supported")));
}

TEST(ServerStartTest, RefusesNonLoopbackWithoutAdminToken) {
  auto config = test_config();
  config.host = "0.0.0.0";
  const Status s = start_status(config);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("0.0.0.0"), HasSubstr("--admin-token")));
}

TEST(ServerStartTest, LocalhostNeedsNoToken) {
  auto config = test_config();
  config.host = "localhost";
  TestServer server(config);
  EXPECT_TRUE(server.ok());
}

TEST(ServerStartTest, BusyPortIsUnavailableAndRunServerExits1) {
  TestServer first;
  ASSERT_TRUE(first.ok());
  auto config = test_config();
  config.port = first.port();
  const Status s = start_status(config);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr(std::to_string(first.port())));
  EXPECT_EQ(server::run_server(config), 1);
}

TEST(ServerStartTest, RunServerExits2OnRefusedConfig) {
  auto config = test_config();
  config.redis_url = "http://127.0.0.1:6379";
  EXPECT_EQ(server::run_server(config), 2);
}

TEST(ServerStartTest, DataDirOpensTheDiskTier) {
  std::ostringstream log;
  auto config = test_config();
  config.logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  config.data_dir = ::testing::TempDir() + "plancache-start-test-" + std::to_string(::getpid());
  {
    TestServer server(config);
    EXPECT_TRUE(server.ok());
  }
  std::filesystem::remove_all(config.data_dir);
  EXPECT_THAT(log.str(), HasSubstr("disk tier (l2) in '" + config.data_dir + "'"));
  EXPECT_THAT(log.str(), HasSubstr("listening on http://127.0.0.1:"));
}

TEST(ServerStartTest, DestructorStopsARunningServer) {
  auto started = server::Server::start(test_config());
  ASSERT_TRUE(started.is_ok());
  TestClient client((*started)->port());
  EXPECT_EQ(client.request(boost::beast::http::verb::get, "/healthz").status, 200u);
  started = Status::internal("drop the server");  // destroys it: must not hang
  EXPECT_TRUE(client.closed_by_server(std::chrono::milliseconds(5000)));
}

// The port run_server logged, or 0 (bounded poll of its log).
uint16_t wait_for_listening(spdlog::sinks::ringbuffer_sink_mt& log) {
  const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 10'000; ++i) {
    for (const std::string& line : log.last_formatted()) {
      std::smatch m;
      if (std::regex_search(line, m, listening)) return static_cast<uint16_t>(std::stoi(m[1]));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return 0;
}

TEST(RunServerTest, SigtermStopsGracefullyAndExits0) {
  auto log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  auto config = test_config();
  config.logger = std::make_shared<spdlog::logger>("ring", log);
  int exit_code = -1;
  std::thread runner([&] { exit_code = server::run_server(config); });
  const uint16_t port = wait_for_listening(*log);
  if (port == 0) {
    runner.join();  // run_server failed to start and returned
    FAIL() << "run_server did not start; exit code " << exit_code;
  }
  TestClient client(port);
  EXPECT_EQ(client.request(boost::beast::http::verb::get, "/healthz").status, 200u);
  // The signal handler is installed before the log line above is written.
  ASSERT_EQ(std::raise(SIGTERM), 0);
  runner.join();
  EXPECT_EQ(exit_code, 0);
  EXPECT_TRUE(client.closed_by_server(std::chrono::milliseconds(5000)));
}

}  // namespace
}  // namespace plancache::testing
