// InvalidationListeners against real servers: a private server for
// flushes, kills and freezes; the shared fixture cluster for one listener
// per master.
#include "redis/invalidation_listener.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>

#include "redis_test_util.h"
#include "support/redis_fixture.h"

namespace plancache::internal {
namespace {

using test::RedisProcess;
using test::wait_until;
using namespace std::chrono_literals;

// Everything the callbacks saw, in order: "up", "down", "flush", "keys:k1,k2".
class Recorder {
 public:
  ListenerCallbacks callbacks() {
    ListenerCallbacks cb;
    cb.on_keys = [this](const RedisEndpoint& node, const std::vector<std::string>& keys) {
      std::string line = "keys:";
      for (size_t i = 0; i < keys.size(); ++i) line += (i ? "," : "") + keys[i];
      add(node, line);
    };
    cb.on_flush = [this](const RedisEndpoint& node) { add(node, "flush"); };
    cb.on_state = [this](const RedisEndpoint& node, bool up) { add(node, up ? "up" : "down"); };
    return cb;
  }
  // Waits until event number `index` exists; returns it ("" on timeout).
  std::string wait_event(size_t index, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return events_.size() > index; });
    return events_.size() > index ? events_[index] : "";
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return events_.size();
  }
  std::vector<std::pair<std::string, std::string>> with_nodes() {
    std::lock_guard lock(mu_);
    return nodes_;
  }

 private:
  void add(const RedisEndpoint& node, std::string event) {
    {
      std::lock_guard lock(mu_);
      events_.push_back(event);
      nodes_.emplace_back(node.text(), std::move(event));
    }
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
  std::vector<std::pair<std::string, std::string>> nodes_;
};

ListenerOptions fast_options(std::string prefix) {
  ListenerOptions o;
  o.prefixes = {std::move(prefix)};
  o.heartbeat_interval = 100ms;
  o.heartbeat_timeout = 300ms;
  o.reconnect_backoff_min = 10ms;
  o.reconnect_backoff_max = 100ms;
  return o;
}

std::unique_ptr<InvalidationListeners> start(RedisClient& client, ListenerOptions o,
                                             Recorder& rec) {
  auto l = start_invalidation_listeners(client, std::move(o), rec.callbacks());
  EXPECT_TRUE(l.is_ok()) << l.status().to_string();
  return l.is_ok() ? std::move(l.value()) : nullptr;
}

TEST(InvalidationListener, KeysFlushKillAndFreeze) {
  RedisProcess server;
  ASSERT_TRUE(server.ok());
  auto client = make_client(server.url(), [](RedisClientOptions& o) { o.command_timeout = 150ms; });
  Recorder rec;
  auto listeners = start(*client, fast_options("pfx:"), rec);
  ASSERT_NE(listeners, nullptr);
  ASSERT_EQ(rec.wait_event(0), "up");
  EXPECT_TRUE(listeners->all_up());

  // A key outside the prefix sends nothing: the first message is the later in-prefix key.
  ASSERT_EQ(server.cli({"SET", "other:x", "1"}), "OK");
  ASSERT_EQ(server.cli({"SET", "pfx:a", "1"}), "OK");
  EXPECT_EQ(rec.wait_event(1), "keys:pfx:a");
  ASSERT_EQ(server.cli({"DEL", "pfx:a"}), "1");
  EXPECT_EQ(rec.wait_event(2), "keys:pfx:a");
  ASSERT_EQ(server.cli({"FLUSHALL"}), "OK");
  EXPECT_EQ(rec.wait_event(3), "flush");

  // Killed by the server: lost, then subscribed again within 1 s; messages flow again.
  ASSERT_NE(server.cli({"CLIENT", "KILL", "TYPE", "pubsub"}), "0");
  EXPECT_EQ(rec.wait_event(4), "down");
  EXPECT_EQ(rec.wait_event(5, 1s), "up");
  ASSERT_EQ(server.cli({"SET", "pfx:b", "1"}), "OK");
  EXPECT_EQ(rec.wait_event(6), "keys:pfx:b");

  // Frozen: the heartbeat finds out (interval + timeout + margin); thawed: up again.
  server.freeze();
  EXPECT_EQ(rec.wait_event(7, 100ms + 300ms + 700ms), "down");
  EXPECT_FALSE(listeners->all_up());
  server.thaw();
  EXPECT_EQ(rec.wait_event(8), "up");
  ASSERT_EQ(server.cli({"SET", "pfx:c", "1"}), "OK");
  EXPECT_EQ(rec.wait_event(9), "keys:pfx:c");

  const ListenerStats s = listeners->stats();
  EXPECT_EQ(s.listeners, 1u);
  EXPECT_EQ(s.up, 1u);
  EXPECT_EQ(s.messages, 5u);
  EXPECT_EQ(s.keys, 4u);
  EXPECT_EQ(s.flushes, 1u);
  EXPECT_EQ(s.losses, 2u);
  EXPECT_EQ(s.resubscribes, 2u) << "the first subscribe is not a resubscribe";

  const auto before = std::chrono::steady_clock::now();
  listeners->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);  // generous; ~immediate
  EXPECT_EQ(rec.size(), 10u);                                // a plain stop() reports nothing
}

TEST(InvalidationListener, AuthAndDbAreUsed) {
  RedisProcess server({"--requirepass", "pw"}, "pw");
  ASSERT_TRUE(server.ok());
  auto client = make_client("redis://:pw@" + server.endpoint() + "/2");
  Recorder rec;
  auto listeners = start(*client, fast_options("p:"), rec);
  ASSERT_EQ(rec.wait_event(0), "up");
  ASSERT_EQ(server.cli({"-n", "2", "SET", "p:k", "1"}), "OK");
  EXPECT_EQ(rec.wait_event(1), "keys:p:k");
}

TEST(InvalidationListener, StopWhileServerIsFrozenIsPrompt) {
  RedisProcess server;
  ASSERT_TRUE(server.ok());
  auto client = make_client(server.url());
  Recorder rec;
  auto listeners = start(*client, fast_options("p:"), rec);
  ASSERT_EQ(rec.wait_event(0), "up");
  server.freeze();
  ASSERT_EQ(rec.wait_event(1, 2s), "down");  // now reconnecting to a frozen server
  const auto before = std::chrono::steady_clock::now();
  listeners->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
  server.thaw();
}

TEST(InvalidationListener, EmptyPrefixesAreRefused) {
  auto client = make_client("redis://127.0.0.1:1");
  auto l = start_invalidation_listeners(*client, ListenerOptions{}, {});
  EXPECT_EQ(l.status().code(), StatusCode::kInvalidArgument);
}

TEST(InvalidationListener, OneListenerPerClusterMaster) {
  PLANCACHE_REDIS_FIXTURE(fx);
  auto client = make_client(fx.cluster);
  const std::string prefix = test::random_key_prefix("listen");
  Recorder rec;
  auto listeners = start(*client, fast_options(prefix), rec);
  ASSERT_TRUE(wait_until([&] { return listeners->all_up(); }, 5s));
  EXPECT_EQ(listeners->stats().listeners, 3u);
  std::set<std::string> written;
  for (int i = 0; i < 30; ++i) {
    const std::string k = prefix + std::to_string(i);
    ASSERT_TRUE(must(client->command(k, {"SET", k, "1", "PX", "60000"})).is_status("OK"));
    written.insert(k);
  }
  std::set<std::string> seen_keys;
  std::set<std::string> seen_nodes;
  ASSERT_TRUE(wait_until([&] {
    seen_keys.clear();
    seen_nodes.clear();
    for (const auto& [node, event] : rec.with_nodes()) {
      if (event.rfind("keys:", 0) != 0) continue;
      seen_nodes.insert(node);
      std::string rest = event.substr(5);
      for (size_t at = 0; at <= rest.size();) {
        const size_t comma = std::min(rest.find(',', at), rest.size());
        seen_keys.insert(rest.substr(at, comma - at));
        at = comma + 1;
      }
    }
    return seen_keys == written;
  }));
  EXPECT_EQ(seen_nodes.size(), 3u);
  for (const std::string& k : written) (void)client->command(k, {"DEL", k});
}

}  // namespace
}  // namespace plancache::internal
