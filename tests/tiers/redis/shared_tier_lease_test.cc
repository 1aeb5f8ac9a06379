// Single-flight across instances: a lease in Redis makes one instance
// compute a missing key while the others wait for its value.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "redis/redis_client.h"
#include "redis/redis_url.h"
#include "support/redis_fixture.h"
#include "tiers/redis/instances.h"
#include "tiers/redis/redis_keys.h"

namespace plancache::test {
namespace {

// A gate the compute functions wait at until the test opens it.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

Result<Computed> computed(const std::string& value) {
  Computed c;
  c.value = std::make_shared<const Bytes>(value);
  return c;
}

class SharedLease : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    const RedisFixtureUrls urls = redis_fixture_urls();
    ASSERT_FALSE(urls.standalone.empty());
    options_.url = GetParam() ? urls.cluster : urls.standalone;
    options_.prefix = fresh_prefix("l");
    options_.lease_ttl = std::chrono::milliseconds(600);
  }
  std::vector<std::unique_ptr<Instance>> start(int n) {
    std::vector<std::unique_ptr<Instance>> out;
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<Instance>(options_));
    EXPECT_TRUE(eventually([&] {
      for (auto& i : out) {
        if (!i->connected()) return false;
      }
      return true;
    }));
    return out;
  }
  InstanceOptions options_;
};

// 3 instances x 20 threads miss the same key at once: one compute.
TEST_P(SharedLease, ConcurrentMissesOnThreeInstancesComputeOnce) {
  auto instances = start(3);
  const CacheKey k = plan_key("docs", "once");
  std::atomic<int> computes{0};
  Gate gate;
  std::vector<std::thread> callers;
  std::vector<std::string> answers(60);
  for (int i = 0; i < 60; ++i) {
    callers.emplace_back([&, i] {
      auto r = instances[i % 3]->cache().get_or_compute(k, [&]() -> Result<Computed> {
        computes.fetch_add(1);
        gate.wait();
        return computed(R"({"plan":"the one"})");
      });
      answers[i] = r.is_ok() ? *r->entry->value : r.status().to_string();
    });
  }
  // Every instance has its flight waiting (one computing, two on the lease).
  ASSERT_TRUE(eventually([&] { return computes.load() == 1; }));
  ASSERT_TRUE(eventually([&] {
    uint64_t waits = 0;
    for (auto& i : instances) waits += i->shared_stats().shared.lease_waits;
    return waits == 2;
  })) << "the other two instances wait on the lease";
  gate.open();
  for (auto& t : callers) t.join();
  EXPECT_EQ(computes.load(), 1);
  for (const std::string& a : answers) EXPECT_EQ(a, R"({"plan":"the one"})");
  uint64_t found = 0;
  for (auto& i : instances) found += i->shared_stats().shared.lease_found;
  EXPECT_EQ(found, 2u);
}

// A holder that died (its lease set, never renewed, never committed):
// after the lease expires exactly one waiter computes.
TEST_P(SharedLease, ADeadHoldersLeaseExpiresAndOneOtherComputes) {
  auto instances = start(2);
  const CacheKey k = plan_key("docs", "orphan");
  auto url = internal::parse_redis_url(options_.url);
  ASSERT_TRUE(url.is_ok());
  internal::RedisClientOptions co;
  co.url = *url;
  auto raw = internal::new_redis_client(co);
  ASSERT_TRUE(raw.is_ok());
  const std::string lease = internal::RedisKeys(options_.prefix).lease(k);
  auto set = (*raw)->command(lease, {"SET", lease, "dead-holder", "PX", "400"});
  ASSERT_TRUE(set.is_ok() && set->is_status("OK"));
  std::atomic<int> computes{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 10; ++i) {
    callers.emplace_back([&, i] {
      auto r = instances[i % 2]->cache().get_or_compute(k, [&]() -> Result<Computed> {
        computes.fetch_add(1);
        return computed("\"recomputed\"");
      });
      ASSERT_TRUE(r.is_ok());
      EXPECT_EQ(*r->entry->value, "\"recomputed\"");
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(computes.load(), 1);
}

// An erase of the key while it is computed revokes the lease: the caller
// gets its plan, but nothing stale is committed.
TEST_P(SharedLease, AnInvalidationDuringTheComputeRevokesTheCommit) {
  auto instances = start(2);
  Instance& a = *instances[0];
  Instance& b = *instances[1];
  const CacheKey k = plan_key("docs", "revoked");
  Gate started, finish;
  std::thread caller([&] {
    auto r = a.cache().get_or_compute(k, [&]() -> Result<Computed> {
      started.open();
      finish.wait();
      return computed("\"made from old input\"");
    });
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(*r->entry->value, "\"made from old input\"");
  });
  started.wait();
  // The erase deletes the lease with the entry: A's commit finds its token gone.
  ASSERT_TRUE(b.cache().erase(k).is_ok());
  finish.open();
  caller.join();
  EXPECT_EQ(a.shared_stats().shared.lease_lost, 1u);
  EXPECT_EQ(a.value(k), "") << "not committed, not kept locally";
  EXPECT_EQ(b.value(k), "");
}

// A namespace invalidation while it is computed: the holder hears of it
// (a meta change fails every open guard) and does not commit either.
TEST_P(SharedLease, ANamespaceInvalidationDuringTheComputeRevokesTheCommit) {
  auto instances = start(2);
  Instance& a = *instances[0];
  Instance& b = *instances[1];
  const CacheKey k = plan_key("docs", "revoked-ns");
  Gate started, finish;
  std::thread caller([&] {
    auto r = a.cache().get_or_compute(k, [&]() -> Result<Computed> {
      started.open();
      finish.wait();
      return computed("\"old\"");
    });
    EXPECT_TRUE(r.is_ok());
  });
  started.wait();
  const uint64_t before = a.shared_stats().shared.invalidations_received;
  Selector docs;
  docs.ns = "docs";
  ASSERT_TRUE(b.cache().invalidate(docs).is_ok());
  ASSERT_TRUE(eventually([&] { return a.shared_stats().shared.invalidations_received > before; }));
  finish.open();
  caller.join();
  EXPECT_EQ(a.shared_stats().shared.lease_lost, 1u);
  EXPECT_EQ(a.value(k), "");
  EXPECT_EQ(b.value(k), "");
}

// A stale plan in Redis (past its TTL, kept for the stale windows) is not
// the answer to a miss: the leader computes a fresh one.
TEST_P(SharedLease, AStalePlanInRedisIsRecomputedNotServed) {
  auto instances = start(2);
  const CacheKey k = plan_key("docs", "stale");
  PutOptions o;
  o.ttl_ms = 30;
  o.stale_grace_ms = 60'000;
  ASSERT_TRUE(instances[0]->cache().put(k, std::make_shared<const Bytes>("\"old\""), o).is_ok());
  ASSERT_TRUE(eventually([&] { return !instances[1]->cache().get(k).hit(); }))
      << "the plan goes stale after 30 ms";
  std::atomic<int> computes{0};
  auto r = instances[1]->cache().get_or_compute(k, [&]() -> Result<Computed> {
    computes.fetch_add(1);
    return computed("\"fresh\"");
  });
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r->entry->value, "\"fresh\"");
  EXPECT_EQ(computes.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(StandaloneAndCluster, SharedLease, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "cluster" : "standalone"; });

}  // namespace
}  // namespace plancache::test
