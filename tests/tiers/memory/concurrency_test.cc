// Multi-threaded stress: 4 threads run a bounded random mix of every
// operation on a tightly bounded tier (so evictions, expirations and
// invalidations race with reads). Meant to be run under ASan/UBSan (and TSan
// if available) to catch races; afterwards the counters must add up and the
// indexes must agree.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace plancache {
namespace {

using testing::make_memory_tier;
using testing::plan_key;
using testing::user_key;

constexpr int64_t kT0 = 1'790'000'000'000;

struct Counts {
  std::atomic<uint64_t> puts{0}, gets{0}, hits{0}, wrong{0}, errors{0};
  std::atomic<uint64_t> by_cause[static_cast<int>(RemovalCause::kCorrupt) + 1] = {};
};

void run_stress(EvictionPolicy policy, uint32_t shards) {
  auto clock = std::make_shared<FakeClock>(kT0);
  Counts c;
  MemoryTierOptions o;
  o.policy = policy;
  o.shards = shards;
  o.max_entries = 256;
  o.max_bytes = 128 * 1024;
  o.clock = clock;
  o.removal_listener = [&c](const CacheKey& key, const EntryPtr& e, RemovalCause cause) {
    c.by_cause[static_cast<int>(cause)].fetch_add(1);
    if (*e->value != key.encoded()) c.wrong.fetch_add(1);  // listener got a crossed pair
  };
  auto tier = make_memory_tier(o);

  constexpr int kThreads = 4, kOps = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
      for (int i = 0; i < kOps; ++i) {
        const uint64_t id = rng() % 600;
        const std::string ns = "ns" + std::to_string(id % 3);
        const CacheKey key =
            id % 2 ? plan_key(ns, id) : user_key(ns, "job:" + std::to_string(id));
        const uint64_t op = rng() % 1000;
        if (op < 450) {
          // The value is the key itself: any crossing of keys and entries shows.
          const int64_t ttl = static_cast<int64_t>(rng() % 4) * 5;
          EntryPtr e = make_entry(std::make_shared<const Bytes>(key.encoded()), clock->now_ms(),
                                  ttl, 0, {"t" + std::to_string(id % 7)});
          if (!tier->put(key, e).is_ok()) c.errors.fetch_add(1);
          c.puts.fetch_add(1);
        } else if (op < 900) {
          const int64_t before = clock->now_ms();
          Result<EntryPtr> r = tier->get(key);
          c.gets.fetch_add(1);
          if (!r.is_ok()) {
            c.errors.fetch_add(1);
          } else if (*r != nullptr) {
            c.hits.fetch_add(1);
            if (*(*r)->value != key.encoded()) c.wrong.fetch_add(1);
            if ((*r)->meta.expired_at(before)) c.wrong.fetch_add(1);  // served expired
          }
        } else if (op < 960) {
          (void)tier->erase(key);
        } else if (op < 963) {
          Selector s;
          s.tag = "t" + std::to_string(rng() % 7);
          if (!tier->invalidate(s).is_ok()) c.errors.fetch_add(1);
        } else if (op < 983) {
          if (t == 0) clock->advance_ms(3);
          (void)tier->purge_expired();
        } else if (op < 993) {
          (void)tier->stats();
        } else if (op < 994) {
          if (!tier->evict_fraction(0.25).is_ok()) c.errors.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_EQ(c.errors.load(), 0u);
  EXPECT_EQ(c.wrong.load(), 0u);
  EXPECT_EQ(tier->check_invariants(), "");
  const TierStats s = tier->stats();
  EXPECT_LE(s.entries, o.max_entries);
  EXPECT_LE(s.bytes, o.max_bytes);
  EXPECT_EQ(s.puts, c.puts.load());
  EXPECT_EQ(s.hits, c.hits.load());
  EXPECT_EQ(s.hits + s.misses, c.gets.load());
  EXPECT_EQ(s.evictions, c.by_cause[static_cast<int>(RemovalCause::kSize)].load());
  EXPECT_EQ(s.expirations, c.by_cause[static_cast<int>(RemovalCause::kExpired)].load());
  EXPECT_EQ(s.invalidations, c.by_cause[static_cast<int>(RemovalCause::kInvalidated)].load());
  // The mix really raced every kind of removal with the reads.
  EXPECT_GT(s.evictions, 1000u);
  EXPECT_GT(s.expirations, 100u);
  EXPECT_GT(s.invalidations, 100u);
  EXPECT_GT(s.hits, 1000u);
  // Every entry ever stored either left (reported once, whatever the cause)
  // or is still there.
  uint64_t left = 0;
  for (const auto& n : c.by_cause) left += n.load();
  EXPECT_EQ(c.puts.load(), left + s.entries);
}

TEST(MemoryTierConcurrency, StressTinyLfu) { run_stress(EvictionPolicy::kTinyLfu, 4); }
TEST(MemoryTierConcurrency, StressLru) { run_stress(EvictionPolicy::kLru, 2); }
TEST(MemoryTierConcurrency, StressCost) { run_stress(EvictionPolicy::kCost, 2); }
TEST(MemoryTierConcurrency, StressSingleShard) { run_stress(EvictionPolicy::kTinyLfu, 1); }

}  // namespace
}  // namespace plancache
