// RedisClient against a standalone redis-server: the shared fixture for
// plain commands (random key prefixes), private servers for auth, db
// selection and the pool bound.
#include "redis/redis_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "redis_test_util.h"
#include "support/redis_fixture.h"

namespace plancache::internal {
namespace {

using test::RedisProcess;

TEST(RedisClient, SetGetIsBinarySafe) {
  PLANCACHE_REDIS_FIXTURE(fx);
  auto client = make_client(fx.standalone);
  ASSERT_NE(client, nullptr);
  const std::string p = test::random_key_prefix("binsafe");
  const std::string nul("a\0b\0\xff\r\n", 7);
  const std::string big(1 << 20, '\0');
  std::string mixed(1 << 20, 'x');
  for (size_t i = 0; i < mixed.size(); i += 97) mixed[i] = static_cast<char>(i % 256);
  for (const std::string* value : {&nul, &big, static_cast<const std::string*>(&mixed)}) {
    const std::string key = p + std::string("k\0ey", 4);
    EXPECT_TRUE(must(client->command(key, {"SET", key, *value})).is_status("OK"));
    const RedisReply got = must(client->command(key, {"GET", key}));
    ASSERT_TRUE(got.is_string());
    EXPECT_EQ(got.str.size(), value->size());
    EXPECT_TRUE(got.str == *value);
  }
  EXPECT_TRUE(must(client->command(p, {"GET", p + "missing"})).is_nil());
  EXPECT_FALSE(client->is_cluster());
  EXPECT_TRUE(client->connected());
  (void)client->command(p, {"DEL", p + std::string("k\0ey", 4)});
}

TEST(RedisClient, PipelineAnswersInOrder) {
  PLANCACHE_REDIS_FIXTURE(fx);
  auto client = make_client(fx.standalone);
  ASSERT_NE(client, nullptr);
  const std::string k = test::random_key_prefix("pipe") + "n";
  auto replies = client->pipeline(k, {{"SET", k, "1"},
                                      {"INCRBY", k, "41"},
                                      {"GET", k},
                                      {"LPUSH", k, "x"},  // WRONGTYPE: an error reply
                                      {"PEXPIRE", k, "60000"},
                                      {"DEL", k}});
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  ASSERT_EQ(replies->size(), 6u);
  EXPECT_TRUE((*replies)[0].is_status("OK"));
  EXPECT_EQ((*replies)[1].integer, 42);
  EXPECT_EQ((*replies)[2].str, "42");
  EXPECT_TRUE((*replies)[3].is_error());
  EXPECT_EQ((*replies)[4].integer, 1);
  EXPECT_EQ((*replies)[5].integer, 1);
  auto empty = client->pipeline(k, {});
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->empty());
}

TEST(RedisClient, ErrorReplyIsNotAFailedCall) {
  PLANCACHE_REDIS_FIXTURE(fx);
  auto client = make_client(fx.standalone);
  ASSERT_NE(client, nullptr);
  auto r = client->command("", {"NOSUCHCOMMAND", "x"});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->type, RedisReply::Type::kError);
  EXPECT_NE(r->str.find("unknown command"), std::string::npos) << r->str;
  // The connection is still good afterwards.
  EXPECT_EQ(must(client->command("", {"ECHO", "still"})).str, "still");
  EXPECT_EQ(client->stats().nodes.at(0).errors, 0u);
  const RedisReply arr = must(client->command("", {"COMMAND", "INFO", "get"}));
  EXPECT_EQ(arr.type, RedisReply::Type::kArray);
  EXPECT_EQ(client->command("", {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(RedisClient, RequirepassAuth) {
  RedisProcess server({"--requirepass", "s3cr:t"}, "s3cr:t");
  ASSERT_TRUE(server.ok());
  auto client = make_client("redis://:s3cr%3At@" + server.endpoint());
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(must(client->command("k", {"SET", "k", "v"})).is_status("OK"));
  EXPECT_EQ(must(client->command("k", {"GET", "k"})).str, "v");

  auto wrong = make_client("redis://:nope@" + server.endpoint());
  auto r = wrong->command("k", {"GET", "k"});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("AUTH"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(server.endpoint()), std::string::npos);
  EXPECT_EQ(r.status().message().find("nope"), std::string::npos);  // no password in errors

  auto none = make_client(server.url());  // no password: NOAUTH is an error reply
  const RedisReply noauth = must(none->command("k", {"GET", "k"}));
  EXPECT_TRUE(noauth.is_error());
  EXPECT_NE(noauth.str.find("NOAUTH"), std::string::npos) << noauth.str;
}

TEST(RedisClient, AclUserAuth) {
  RedisProcess server;
  ASSERT_TRUE(server.ok());
  ASSERT_EQ(server.cli({"ACL", "SETUSER", "app", "on", ">p@ss w", "~*", "+@all"}), "OK");
  auto client = make_client("redis://app:p%40ss%20w@" + server.endpoint());
  EXPECT_EQ(must(client->command("", {"ACL", "WHOAMI"})).str, "app");

  auto wrong = make_client("redis://app:other@" + server.endpoint());
  auto r = wrong->command("", {"PING"});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find("user 'app'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("WRONGPASS"), std::string::npos) << r.status().message();
}

TEST(RedisClient, DbSelection) {
  RedisProcess server;
  ASSERT_TRUE(server.ok());
  auto db3 = make_client(server.url() + "/3");
  auto db0 = make_client(server.url());
  EXPECT_TRUE(must(db3->command("k", {"SET", "k", "in3"})).is_status("OK"));
  EXPECT_EQ(must(db3->command("k", {"GET", "k"})).str, "in3");
  EXPECT_TRUE(must(db0->command("k", {"GET", "k"})).is_nil());
  EXPECT_EQ(server.cli({"-n", "3", "GET", "k"}), "in3");
}

TEST(RedisClient, PoolIsBounded) {
  RedisProcess server;
  ASSERT_TRUE(server.ok());
  auto client = make_client(server.url(), [](RedisClientOptions& o) {
    o.pool_size = 2;
    o.command_timeout = std::chrono::milliseconds(2000);
  });
  const auto own_connections = [&] {
    // CLIENT LIST names every connection; ours are the ones not from redis-cli.
    const std::string list = server.cli({"CLIENT", "LIST"});
    int n = 0;
    for (size_t at = 0; (at = list.find("cmd=", at)) != std::string::npos; ++at) ++n;
    return n - 1;  // minus the redis-cli asking
  };
  std::atomic<int> max_seen{0};
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread watcher([&] {
    while (!done) {
      max_seen = std::max(max_seen.load(), own_connections());
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i) {
        const std::string key = "k" + std::to_string(t);
        auto r = client->pipeline(key, {{"INCR", key}, {"GET", key}});
        if (!r.is_ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  done = true;
  watcher.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(max_seen.load(), 1);
  EXPECT_LE(max_seen.load(), 2);
  EXPECT_LE(client->stats().nodes.at(0).idle_connections, 2u);
  EXPECT_EQ(server.cli({"GET", "k7"}), "150");
}

TEST(RedisClient, LazyConnectAndBadOptions) {
  // Nothing listens on port 1: creating the client still works.
  auto client = make_client("redis://127.0.0.1:1");
  ASSERT_NE(client, nullptr);
  auto r = client->command("k", {"PING"});
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("127.0.0.1:1"), std::string::npos) << r.status().message();

  RedisClientOptions o;
  EXPECT_EQ(new_redis_client(o).status().code(), StatusCode::kInvalidArgument);  // no seeds
  o.url = parse_redis_url("redis://h:1").value();
  o.pool_size = 0;
  EXPECT_EQ(new_redis_client(o).status().code(), StatusCode::kInvalidArgument);
  o.pool_size = 1;
  o.command_timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(new_redis_client(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plancache::internal
