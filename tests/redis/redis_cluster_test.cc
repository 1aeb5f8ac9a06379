// RedisClient against Redis Cluster: slot function and routing on the
// shared fixture cluster; MOVED and ASK on a private 3-node cluster whose
// slots this test moves.
#include <gtest/gtest.h>

#include <set>

#include "redis/redis_client.h"
#include "redis_test_util.h"
#include "support/redis_fixture.h"

namespace plancache::internal {
namespace {

using test::RedisClusterProcess;
using test::RedisProcess;

TEST(RedisSlot, KnownValues) {
  EXPECT_EQ(redis_slot_of("123456789"), 12739);  // CRC16-XMODEM check value 0x31C3
  EXPECT_EQ(redis_slot_of("foo"), 12182);
  EXPECT_EQ(redis_slot_of("{user1000}.following"), redis_slot_of("user1000"));
  EXPECT_EQ(redis_slot_of("foo{}{bar}"), redis_slot_of("foo{}{bar}"));
  EXPECT_NE(redis_slot_of("foo{}{bar}"), redis_slot_of("bar"));  // empty tag: whole key
  EXPECT_EQ(redis_slot_of("foo{{bar}}zap"), redis_slot_of("{bar"));
  EXPECT_EQ(redis_slot_of("foo{bar}{zap}"), redis_slot_of("bar"));
}

TEST(RedisSlot, MatchesClusterKeyslot) {
  PLANCACHE_REDIS_FIXTURE(fx);
  auto client = make_client(fx.cluster);
  ASSERT_NE(client, nullptr);
  std::vector<std::string> keys{"{user1000}.following",
                                "{user1000}.followers",
                                "foo{}{bar}",
                                "foo{{bar}}zap",
                                "foo{bar}{zap}",
                                "{}",
                                "{",
                                "}",
                                "}{",
                                "",
                                "a{b",
                                "a}b{c}",
                                std::string("nul\0{x}", 7),
                                "\xff\xfe{\x80}"};
  for (int i = 0; i < 300; ++i) keys.push_back("key:" + std::to_string(i * 7919));
  // The first CLUSTER SLOTS happens on first use.
  ASSERT_TRUE(client->command("x", {"PING"}).is_ok());
  ASSERT_FALSE(client->masters().empty());
  const RedisEndpoint any = client->masters().front();
  for (const std::string& key : keys) {
    const RedisReply slot = must(client->command_on(any, {"CLUSTER", "KEYSLOT", key}));
    ASSERT_EQ(slot.type, RedisReply::Type::kInteger) << slot.str;
    EXPECT_EQ(redis_slot_of(key), slot.integer) << "key '" << key << "'";
  }
}

TEST(RedisCluster, CommandsReachEveryMaster) {
  PLANCACHE_REDIS_FIXTURE(fx);
  auto client = make_client(fx.cluster);
  ASSERT_NE(client, nullptr);
  const std::string p = test::random_key_prefix("route");
  std::vector<std::string> keys;
  for (int i = 0; i < 60; ++i) keys.push_back(p + std::to_string(i));
  for (const std::string& k : keys) {
    ASSERT_TRUE(must(client->command(k, {"SET", k, "v" + k})).is_status("OK")) << k;
  }
  EXPECT_TRUE(client->is_cluster());
  const auto masters = client->masters();
  ASSERT_EQ(masters.size(), 3u);
  std::set<std::string> used;
  for (const std::string& k : keys) {
    EXPECT_EQ(must(client->command(k, {"GET", k})).str, "v" + k);
    for (const RedisEndpoint& m : masters) {  // the owner has it; the others say MOVED
      const RedisReply r = must(client->command_on(m, {"EXISTS", k}));
      if (r.type == RedisReply::Type::kInteger && r.integer == 1) used.insert(m.text());
    }
  }
  EXPECT_EQ(used.size(), 3u) << "60 keys should land on all three masters";
  const RedisClientStats stats = client->stats();
  EXPECT_TRUE(stats.cluster);
  EXPECT_EQ(stats.moved, 0u);
  EXPECT_GE(stats.topology_refreshes, 1u);
  EXPECT_TRUE(client->connected());
  // A pipeline on one hash tag.
  const std::string tag = "{" + p + "tag}";
  auto replies =
      client->pipeline(tag, {{"SET", tag + "a", "1"}, {"INCR", tag + "a"}, {"DEL", tag + "a"}});
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  EXPECT_EQ((*replies)[1].integer, 2);
  for (const std::string& k : keys) (void)client->command(k, {"DEL", k});
}

TEST(RedisCluster, OneSeedFindsOutItIsACluster) {
  PLANCACHE_REDIS_FIXTURE(fx);
  const std::string first_seed = fx.cluster.substr(0, fx.cluster.find(','));
  auto client = make_client(first_seed);
  ASSERT_NE(client, nullptr);
  EXPECT_FALSE(client->is_cluster());  // not known before the first call
  const std::string k = test::random_key_prefix("oneseed") + "k";
  EXPECT_TRUE(must(client->command(k, {"SET", k, "1", "PX", "60000"})).is_status("OK"));
  EXPECT_TRUE(client->is_cluster());
  EXPECT_EQ(client->masters().size(), 3u);
  EXPECT_EQ(must(client->command(k, {"GET", k})).str, "1");
  EXPECT_EQ(client->stats().moved, 0u);
}

// A private cluster for tests that move slots.
class RedisClusterMoves : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new RedisClusterProcess(3); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(cluster_->ok()) << cluster_->create_log();
    // No background slot-map refresh during a test: a MOVED is then seen
    // exactly when the test moved a slot (a refresh racing the move would
    // learn the new owner first and the count would depend on timing).
    client_ = make_client(cluster_->url(), [](RedisClientOptions& o) {
      o.topology_refresh_min = std::chrono::hours(1);
    });
    ASSERT_NE(client_, nullptr);
  }

  // The node that serves `key` (it answers; the others say MOVED).
  RedisProcess* owner_of(const std::string& key) {
    for (size_t i = 0; i < cluster_->size(); ++i) {
      RedisProcess& n = cluster_->node(i);
      const std::string out = n.cli({"GET", key});
      if (out.find("MOVED") == std::string::npos) return &n;
    }
    return nullptr;
  }
  RedisProcess* other_than(RedisProcess* n) {
    for (size_t i = 0; i < cluster_->size(); ++i) {
      if (&cluster_->node(i) != n) return &cluster_->node(i);
    }
    return nullptr;
  }
  static std::string id(RedisProcess* n) { return n->cli({"CLUSTER", "MYID"}); }
  // Starts moving `slot` from src to dst (MIGRATING / IMPORTING).
  static void begin_move(int slot, RedisProcess* src, RedisProcess* dst) {
    const std::string s = std::to_string(slot);
    ASSERT_EQ(dst->cli({"CLUSTER", "SETSLOT", s, "IMPORTING", id(src)}), "OK");
    ASSERT_EQ(src->cli({"CLUSTER", "SETSLOT", s, "MIGRATING", id(dst)}), "OK");
  }
  static void migrate_key(const std::string& key, RedisProcess* src, RedisProcess* dst) {
    ASSERT_EQ(src->cli({"MIGRATE", "127.0.0.1", std::to_string(dst->port()), "", "0", "5000",
                        "KEYS", key}),
              "OK");
  }
  // Ends the move: every node learns that dst serves the slot.
  static void end_move(int slot, RedisProcess* dst) {
    const std::string s = std::to_string(slot);
    const std::string dst_id = id(dst);
    ASSERT_EQ(dst->cli({"CLUSTER", "SETSLOT", s, "NODE", dst_id}), "OK");
    for (size_t i = 0; i < cluster_->size(); ++i) {
      RedisProcess& n = cluster_->node(i);
      if (&n != dst) {
        ASSERT_EQ(n.cli({"CLUSTER", "SETSLOT", s, "NODE", dst_id}), "OK");
      }
    }
  }

  static RedisClusterProcess* cluster_;
  std::unique_ptr<RedisClient> client_;
};
RedisClusterProcess* RedisClusterMoves::cluster_ = nullptr;

TEST_F(RedisClusterMoves, MovedIsFollowedAndRemembered) {
  const std::string key = "{moved-test}k";
  const int slot = redis_slot_of(key);
  ASSERT_TRUE(must(client_->command(key, {"SET", key, "v1"})).is_status("OK"));
  RedisProcess* src = owner_of(key);
  ASSERT_NE(src, nullptr);
  RedisProcess* dst = other_than(src);
  begin_move(slot, src, dst);
  migrate_key(key, src, dst);
  end_move(slot, dst);

  EXPECT_EQ(must(client_->command(key, {"GET", key})).str, "v1");
  EXPECT_EQ(client_->stats().moved, 1u);
  EXPECT_EQ(must(client_->command(key, {"GET", key})).str, "v1");
  EXPECT_EQ(client_->stats().moved, 1u) << "the slot map should have been updated";
  auto replies = client_->pipeline(key, {{"SET", key, "v2"}, {"GET", key}});
  ASSERT_TRUE(replies.is_ok());
  EXPECT_EQ((*replies)[1].str, "v2");

  // Move it back: a pipeline is redirected as a whole.
  begin_move(slot, dst, src);
  migrate_key(key, dst, src);
  end_move(slot, src);
  replies = client_->pipeline(key, {{"GET", key}, {"STRLEN", key}});
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  EXPECT_EQ((*replies)[0].str, "v2");
  EXPECT_EQ((*replies)[1].integer, 2);
  EXPECT_EQ(client_->stats().moved, 2u);
}

TEST_F(RedisClusterMoves, AskIsFollowedOnceDuringAMigration) {
  const std::string a = "{ask-test}a";
  const std::string b = "{ask-test}b";
  const int slot = redis_slot_of(a);
  ASSERT_TRUE(must(client_->command(a, {"SET", a, "va"})).is_status("OK"));
  ASSERT_TRUE(must(client_->command(b, {"SET", b, "vb"})).is_status("OK"));
  RedisProcess* src = owner_of(a);
  ASSERT_NE(src, nullptr);
  RedisProcess* dst = other_than(src);
  const uint64_t moved_before = client_->stats().moved;
  begin_move(slot, src, dst);
  migrate_key(a, src, dst);

  EXPECT_EQ(must(client_->command(a, {"GET", a})).str, "va");  // src: ASK dst
  EXPECT_EQ(client_->stats().ask, 1u);
  EXPECT_EQ(must(client_->command(b, {"GET", b})).str, "vb");  // still on src
  EXPECT_EQ(client_->stats().ask, 1u);
  EXPECT_EQ(must(client_->command(a, {"GET", a})).str, "va");  // ASK is not remembered
  EXPECT_EQ(client_->stats().ask, 2u);
  EXPECT_EQ(client_->stats().moved, moved_before);

  migrate_key(b, src, dst);
  end_move(slot, dst);
  EXPECT_EQ(must(client_->command(b, {"GET", b})).str, "vb");
  EXPECT_EQ(client_->stats().moved, moved_before + 1);
  // Restore: the slot goes home.
  begin_move(slot, dst, src);
  migrate_key(a, dst, src);
  migrate_key(b, dst, src);
  end_move(slot, src);
  EXPECT_EQ(must(client_->command(a, {"GET", a})).str, "va");
  EXPECT_EQ(must(client_->command(b, {"GET", b})).str, "vb");
  EXPECT_EQ(owner_of(a), src);
}

TEST_F(RedisClusterMoves, ReplicasAreRecordedAsNonMasters) {
  RedisClusterProcess with_replicas(3, 1);
  ASSERT_TRUE(with_replicas.ok()) << with_replicas.create_log();
  // Replicas show up in CLUSTER SLOTS once they have joined; a new client
  // loads the slot map at its first call.
  std::unique_ptr<RedisClient> client;
  ASSERT_TRUE(test::wait_until(
      [&] {
        client = make_client(with_replicas.url());
        return client->command("k", {"SET", "k", "v"}).is_ok() &&
               client->stats().nodes.size() == 6u;
      },
      std::chrono::seconds(30)))
      << "nodes known: " << client->stats().nodes.size() << "; CLUSTER SLOTS of node 0:\n"
      << with_replicas.node(0).cli({"CLUSTER", "SLOTS"}) << "\nCLUSTER NODES:\n"
      << with_replicas.node(0).cli({"CLUSTER", "NODES"});
  size_t masters = 0, replicas = 0;
  for (const RedisNodeStats& n : client->stats().nodes) (n.master ? masters : replicas)++;
  EXPECT_EQ(masters, 3u);
  EXPECT_EQ(replicas, 3u);
  EXPECT_EQ(client->masters().size(), 3u);
}

}  // namespace
}  // namespace plancache::internal
