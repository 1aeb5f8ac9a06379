// The per-node breaker, against private servers that are frozen (SIGSTOP)
// or killed and restarted on the same port.
#include <gtest/gtest.h>

#include <mutex>

#include "redis/redis_client.h"
#include "redis_test_util.h"

namespace plancache::internal {
namespace {

using test::RedisProcess;
using test::wait_until;
using namespace std::chrono_literals;

// Records on_node_state calls.
struct Transitions {
  std::mutex mu;
  std::vector<BreakerState> states;
  std::vector<std::string> nodes;
  size_t size() {
    std::lock_guard lock(mu);
    return states.size();
  }
  BreakerState at(size_t i) {
    std::lock_guard lock(mu);
    return states.at(i);
  }
};

std::unique_ptr<RedisClient> breaker_client(const RedisProcess& server, Transitions& seen) {
  return make_client(server.url(), [&](RedisClientOptions& o) {
    o.command_timeout = 150ms;
    o.connect_timeout = 150ms;
    o.failures_to_open = 3;
    o.failure_window = 5s;  // three sequential timeouts must fit
    o.probe_backoff_min = 10ms;
    o.probe_backoff_max = 100ms;
    o.on_node_state = [&](const RedisEndpoint& node, BreakerState state, const std::string&) {
      std::lock_guard lock(seen.mu);
      seen.states.push_back(state);
      seen.nodes.push_back(node.text());
    };
  });
}

uint64_t node_errors(const RedisClient& client) { return client.stats().nodes.at(0).errors; }

TEST(RedisBreaker, FrozenServerOpensItAndThawClosesIt) {
  RedisProcess server;
  ASSERT_TRUE(server.ok());
  Transitions seen;
  auto client = breaker_client(server, seen);
  ASSERT_TRUE(must(client->command("k", {"PING"})).is_status("PONG"));
  EXPECT_TRUE(client->connected());

  server.freeze();
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto r = client->command("k", {"PING"});
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().to_string();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // ~command_timeout, generously
  }
  ASSERT_TRUE(wait_until([&] { return seen.size() >= 1; }));
  EXPECT_EQ(seen.at(0), BreakerState::kOpen);
  EXPECT_EQ(seen.nodes.at(0), server.endpoint());
  EXPECT_FALSE(client->connected());
  const RedisNodeStats stats = client->stats().nodes.at(0);
  EXPECT_EQ(stats.breaker, BreakerState::kOpen);
  EXPECT_EQ(stats.breaker_opens, 1u);
  EXPECT_EQ(stats.errors, 3u);

  // Open: fails at once, without a network call (no new error is counted).
  for (int i = 0; i < 20; ++i) {
    auto r = client->command("k", {"PING"});
    ASSERT_EQ(r.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(r.status().message().find("breaker open"), std::string::npos);
    EXPECT_NE(r.status().message().find(server.endpoint()), std::string::npos);
  }
  EXPECT_EQ(node_errors(*client), 3u);

  server.thaw();
  EXPECT_TRUE(wait_until([&] { return client->connected(); }, 1s)) << "not closed within 1 s";
  EXPECT_TRUE(must(client->command("k", {"PING"})).is_status("PONG"));
  ASSERT_TRUE(wait_until([&] { return seen.size() >= 2; }));
  EXPECT_EQ(seen.at(1), BreakerState::kClosed);
  EXPECT_EQ(seen.size(), 2u);  // once per transition
}

TEST(RedisBreaker, KilledAndRestartedServerIsBackWithinASecond) {
  RedisProcess server;
  ASSERT_TRUE(server.ok());
  Transitions seen;
  auto client = breaker_client(server, seen);
  ASSERT_TRUE(must(client->command("k", {"SET", "k", "v"})).is_status("OK"));

  server.kill9();
  while (seen.size() == 0) {  // refused connections fail fast; three open the breaker
    ASSERT_EQ(client->command("k", {"GET", "k"}).status().code(), StatusCode::kUnavailable);
  }
  EXPECT_EQ(seen.at(0), BreakerState::kOpen);

  ASSERT_TRUE(server.restart());
  EXPECT_TRUE(wait_until([&] { return client->connected(); }, 1s)) << "not back within 1 s";
  EXPECT_TRUE(must(client->command("k", {"PING"})).is_status("PONG"));
  EXPECT_TRUE(must(client->command("k", {"GET", "k"})).is_nil());  // a fresh server
  ASSERT_TRUE(wait_until([&] { return seen.size() >= 2; }));
  EXPECT_EQ(seen.at(1), BreakerState::kClosed);
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(client->stats().nodes.at(0).breaker_opens, 1u);
  EXPECT_GE(client->stats().nodes.at(0).reconnects, 1u);
}

TEST(RedisBreaker, FailuresOutsideTheWindowDoNotOpenIt) {
  RedisProcess server;
  ASSERT_TRUE(server.ok());
  Transitions seen;
  auto client = make_client(server.url(), [&](RedisClientOptions& o) {
    o.failures_to_open = 2;
    o.failure_window = 1ms;
    o.on_node_state = [&](const RedisEndpoint&, BreakerState s, const std::string&) {
      std::lock_guard lock(seen.mu);
      seen.states.push_back(s);
    };
  });
  server.kill9();
  ASSERT_FALSE(client->command("k", {"PING"}).is_ok());
  std::this_thread::sleep_for(5ms);  // move past the 1 ms window (not a timing assertion)
  ASSERT_FALSE(client->command("k", {"PING"}).is_ok());
  EXPECT_EQ(client->stats().nodes.at(0).breaker, BreakerState::kClosed);
  EXPECT_EQ(seen.size(), 0u);
}

}  // namespace
}  // namespace plancache::internal
