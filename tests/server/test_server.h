// Starts an in-process Server on 127.0.0.1 with an ephemeral port, a fake
// clock and quiet logging, for the server tests.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <string>

#include "plancache/clock.h"
#include "server/config.h"
#include "server/server.h"
#include "test_client.h"

namespace plancache::testing {

inline server::ServerConfig test_config() {
  server::ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.data_dir = "";
  config.io_threads = 2;
  config.logger =
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  return config;
}

class TestServer {
 public:
  explicit TestServer(server::ServerConfig config = test_config())
      : clock_(std::make_shared<FakeClock>()) {
    if (!config.clock) config.clock = clock_;
    auto started = server::Server::start(std::move(config));
    EXPECT_TRUE(started.is_ok()) << started.status().to_string();
    if (started.is_ok()) server_ = std::move(started).value();
  }

  bool ok() const { return server_ != nullptr; }
  server::Server& server() { return *server_; }
  FakeClock& clock() { return *clock_; }
  uint16_t port() const { return server_->port(); }

  // One request on a fresh connection.
  HttpAnswer call(boost::beast::http::verb method, std::string_view target,
                  std::string_view body = {}, std::map<std::string, std::string> headers = {}) {
    TestClient client(port());
    return client.request(method, target, body, std::move(headers));
  }
  HttpAnswer post(std::string_view target, const nlohmann::json& body,
                  std::map<std::string, std::string> headers = {}) {
    return call(boost::beast::http::verb::post, target, body.dump(), std::move(headers));
  }
  HttpAnswer put(std::string_view target, const nlohmann::json& body,
                 std::map<std::string, std::string> headers = {}) {
    return call(boost::beast::http::verb::put, target, body.dump(), std::move(headers));
  }

 private:
  std::shared_ptr<FakeClock> clock_;
  std::unique_ptr<server::Server> server_;
};

// Asserts the §3 error shape and returns the message.
inline std::string expect_error(const HttpAnswer& answer, unsigned status,
                                const std::string& code) {
  EXPECT_EQ(answer.status, status) << answer.body;
  EXPECT_EQ(answer.header("Content-Type"), "application/json");
  const auto doc = nlohmann::json::parse(answer.body, nullptr, false);
  EXPECT_TRUE(doc.is_object() && doc.contains("error")) << answer.body;
  if (!doc.is_object() || !doc.contains("error")) return "";
  EXPECT_EQ(doc["error"]["code"], code) << answer.body;
  EXPECT_TRUE(doc["error"]["message"].is_string());
  return doc["error"]["message"].get<std::string>();
}

}  // namespace plancache::testing
