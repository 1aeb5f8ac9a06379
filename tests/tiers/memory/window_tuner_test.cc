// WindowTuner: the miniature caches pick the window share the workload
// wants, move only on a clear paired difference, and sample large shards.
#include "tiers/memory/policy/window_tuner.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "test_util.h"
#include "tiers/memory/node.h"
#include "tiers/memory/policy/tinylfu.h"

namespace plancache::internal {
namespace {

std::unique_ptr<Policy> fixed_tinylfu(Budget budget, double share) {
  TinyLfuConfig config;
  config.initial_window = share;
  config.adaptive_window = false;
  return std::make_unique<TinyLfuPolicy>(budget, config);
}

// Feeds `keys` to a tuner as a shard would (every request is a read; the
// tuner sees the sampled ones), starting at `share`, and follows every move.
// Returns the shares it moved to, in order.
std::vector<double> follow(WindowTuner& tuner, const std::vector<uint64_t>& keys, double share) {
  const EntryPtr entry = make_entry(testing::value_of(1), 0, 0);
  std::unordered_map<uint64_t, NodePtr> nodes;  // one node per key, for its hash
  std::vector<double> moves;
  for (uint64_t k : keys) {
    auto it = nodes.find(k);
    if (it == nodes.end()) {
      const CacheKey key("t", KeyKind::kUser, std::to_string(k));
      it = nodes.emplace(k, Node::create(key, entry, 64)).first;
    }
    if (tuner.sampled(it->second->hash)) tuner.access(*it->second, 1.0);
    if (auto next = tuner.on_read(share)) {
      share = *next;
      moves.push_back(share);
    }
  }
  return moves;
}

// Every key is asked twice, the second time a few hundred requests after
// the first, and never again: all recency. LRU (or a large window) hits every
// second request; a 1% window sends each new key to compete at frequency 1
// against incumbents and loses almost all of them.
std::vector<uint64_t> asked_twice(uint64_t requests, uint64_t gap, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> keys;
  std::vector<uint64_t> pending;
  uint64_t next = 0;
  while (keys.size() < requests) {
    keys.push_back(next);
    pending.push_back(next++);
    if (pending.size() > gap) {
      const size_t pick = rng() % (pending.size() / 2);  // among the older half
      keys.push_back(pending[pick]);
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(pick));
    }
  }
  return keys;
}

// A hot set of 100 keys takes half the requests; the rest is a scan of keys
// never seen again. The small window keeps the hot set; the larger ones let
// the scan through and lose hits.
std::vector<uint64_t> hot_set_with_scan(uint64_t requests, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> keys;
  uint64_t scan = 1'000'000;
  while (keys.size() < requests) keys.push_back(rng() % 2 == 0 ? rng() % 100 : scan++);
  return keys;
}

TEST(WindowTuner, MovesToALargeWindowWhenRecencyWins) {
  WindowTuner tuner(Budget{500, kUnbounded}, fixed_tinylfu);
  ASSERT_EQ(tuner.rate(), 1u);  // a small shard: every key in the sample
  const std::vector<double> moves = follow(tuner, asked_twice(60'000, 300, 1), 0.01);
  ASSERT_FALSE(moves.empty());
  EXPECT_GE(moves.back(), 0.5);
}

TEST(WindowTuner, KeepsTheSmallWindowWhenFrequencyWins) {
  WindowTuner tuner(Budget{500, kUnbounded}, fixed_tinylfu);
  EXPECT_EQ(follow(tuner, hot_set_with_scan(60'000, 2), 0.01), std::vector<double>{});
  // From plain LRU it moves down to a window small enough that the scan
  // cannot flush the hot set (1% and 20% -- 100 entries of 500 -- tie here).
  WindowTuner from_large(Budget{500, kUnbounded}, fixed_tinylfu);
  const std::vector<double> moves = follow(from_large, hot_set_with_scan(60'000, 3), 1.0);
  ASSERT_FALSE(moves.empty());
  EXPECT_LE(moves.back(), 0.2);
}

// When every miniature hits the same requests there is no difference to act
// on, whatever the share: no move.
TEST(WindowTuner, TiedMiniaturesNeverMove) {
  std::vector<uint64_t> keys;
  for (uint64_t i = 0; i < 50'000; ++i) keys.push_back(i % 40);  // 40 keys, all fit
  for (double share : WindowTuner::kShares) {
    WindowTuner tuner(Budget{500, kUnbounded}, fixed_tinylfu);
    EXPECT_EQ(follow(tuner, keys, share), std::vector<double>{}) << share;
  }
}

TEST(WindowTuner, SamplesLargeShardsAndSizesItsPeriod) {
  WindowTuner small(Budget{50, kUnbounded}, fixed_tinylfu);
  EXPECT_EQ(small.rate(), 1u);
  EXPECT_EQ(small.period(), 1000u);  // at least 1,000 reads
  WindowTuner large(Budget{1'000'000, kUnbounded}, fixed_tinylfu);
  EXPECT_EQ(large.rate(), 1'000'000u / 512);
  EXPECT_EQ(large.period(), 10'000'000u);  // 10 reads per entry
  uint64_t sampled = 0;
  std::mt19937_64 rng(4);
  for (int i = 0; i < 200'000; ++i) sampled += large.sampled(rng()) ? 1 : 0;
  EXPECT_NEAR(static_cast<double>(sampled), 200'000.0 / 1953, 40);
}

// Through the tier: on the recency workload the adaptive W-TinyLFU follows
// LRU (the 100% miniature) instead of staying far below it, as a fixed 1%
// window does.
TEST(WindowTuner, TheTierFollowsLruOnARecencyWorkload) {
  const std::vector<uint64_t> keys = asked_twice(120'000, 300, 5);
  auto rate = [&](EvictionPolicy policy, bool adaptive) {
    MemoryTierOptions o;
    o.max_entries = 500;
    o.max_bytes = 0;
    o.shards = 1;
    o.policy = policy;
    TinyLfuConfig config;
    config.adaptive_window = adaptive;
    auto tier = testing::make_memory_tier(o, config);
    const EntryPtr entry = make_entry(testing::value_of(1), 0, 0);
    uint64_t hits = 0;
    for (uint64_t k : keys) {
      const CacheKey key("t", KeyKind::kUser, std::to_string(k));
      if (*tier->get(key) != nullptr) {
        ++hits;
      } else {
        EXPECT_TRUE(tier->put(key, entry).is_ok());
      }
    }
    return static_cast<double>(hits) / static_cast<double>(keys.size());
  };
  const double lru = rate(EvictionPolicy::kLru, false);
  const double fixed = rate(EvictionPolicy::kTinyLfu, false);
  const double adaptive = rate(EvictionPolicy::kTinyLfu, true);
  EXPECT_GT(lru - fixed, 0.2);  // the workload is what it claims
  EXPECT_GT(adaptive, lru - 0.02);
  const double cost = rate(EvictionPolicy::kCost, true);
  EXPECT_GT(cost, lru - 0.02);
}

}  // namespace
}  // namespace plancache::internal
