// The memory tier's building blocks on their own: the node table, the expiry
// heap and the frequency sketch.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "test_util.h"
#include "tiers/memory/expiry_heap.h"
#include "tiers/memory/frequency_sketch.h"
#include "tiers/memory/node_table.h"

namespace plancache::internal {
namespace {

using testing::plan_key;
using testing::value_of;

NodePtr make_node(uint64_t i, int64_t expires_ms = 0) {
  auto entry = std::make_shared<Entry>();
  entry->value = value_of(1);
  entry->meta.expires_ms = expires_ms;
  return Node::create(plan_key("ns", i), entry, 1);
}

TEST(Node, KeepsTheKeyBytesInline) {
  const CacheKey key = testing::user_key("docs", "workflow:standard:step_5");
  NodePtr node = Node::create(key, make_entry(value_of(3), 0, 0), 7);
  EXPECT_EQ(node->key(), key.encoded());
  EXPECT_EQ(node->hash, key.hash());
  EXPECT_EQ(node->charge, 7u);
  const CacheKey rebuilt = node->make_key();
  EXPECT_EQ(rebuilt, key);
  EXPECT_EQ(rebuilt.hash(), key.hash());
  EXPECT_EQ(rebuilt.ns(), "docs");
  EXPECT_EQ(rebuilt.kind(), KeyKind::kUser);
}

TEST(NodeTable, FindsWhatWasInsertedAndNothingElse) {
  NodeTable table;
  std::vector<NodePtr> nodes;
  for (uint64_t i = 0; i < 1000; ++i) {
    nodes.push_back(make_node(i));
    table.insert(nodes.back().get());
  }
  EXPECT_EQ(table.size(), 1000u);
  EXPECT_GE(table.capacity() * 3, table.size() * 4);  // load <= 3/4
  for (const auto& n : nodes) {
    EXPECT_EQ(table.find(n->hash, n->key()), n.get());
  }
  const CacheKey absent = plan_key("ns", 5000);
  EXPECT_EQ(table.find(absent.hash(), absent.encoded()), nullptr);
  // Same hash, different bytes: must not match (the bytes are compared).
  EXPECT_EQ(table.find(nodes[0]->hash, "not the key"), nullptr);
}

TEST(NodeTable, RandomInsertEraseMatchesAReferenceSet) {
  NodeTable table;
  std::map<uint64_t, NodePtr> live;
  std::mt19937_64 rng(42);
  for (int step = 0; step < 20000; ++step) {
    const uint64_t i = rng() % 600;
    auto it = live.find(i);
    if (it == live.end()) {
      auto node = make_node(i);
      table.insert(node.get());
      live.emplace(i, std::move(node));
    } else {
      table.erase(it->second.get());
      live.erase(it);
    }
    if (step % 97 == 0) {
      ASSERT_EQ(table.size(), live.size());
      for (uint64_t j = 0; j < 600; ++j) {
        const CacheKey k = plan_key("ns", j);
        auto l = live.find(j);
        ASSERT_EQ(table.find(k.hash(), k.encoded()), l == live.end() ? nullptr : l->second.get())
            << "step " << step << " key " << j;
      }
    }
  }
  size_t visited = 0;
  table.for_each([&](Node*) { ++visited; });
  EXPECT_EQ(visited, live.size());
  // Shrinks back after most entries leave.
  for (auto& [i, node] : live) table.erase(node.get());
  EXPECT_EQ(table.size(), 0u);
  EXPECT_LE(table.capacity(), 32u);
}

TEST(ExpiryHeap, TopIsAlwaysTheEarliestAndEraseWorksAnywhere) {
  ExpiryHeap heap;
  std::mt19937_64 rng(7);
  std::vector<NodePtr> nodes;
  std::set<std::pair<int64_t, Node*>> reference;
  for (uint64_t i = 0; i < 3000; ++i) {
    if (!reference.empty() && rng() % 3 == 0) {
      auto it = reference.begin();
      std::advance(it, static_cast<long>(rng() % reference.size()));
      heap.erase(it->second);
      EXPECT_EQ(it->second->heap_index, kNotInHeap);
      reference.erase(it);
    } else {
      nodes.push_back(make_node(i, 1 + static_cast<int64_t>(rng() % 500)));
      heap.push(nodes.back().get());
      reference.emplace(nodes.back()->expires_ms, nodes.back().get());
    }
    ASSERT_EQ(heap.size(), reference.size());
    if (!reference.empty()) {
      ASSERT_EQ(heap.top()->expires_ms, reference.begin()->first);
    }
  }
}

TEST(FrequencySketch, CountsUpToFifteenAndSeparatesKeys) {
  FrequencySketch sketch(1024);
  const uint64_t hot = plan_key("ns", 1).hash();
  for (int i = 0; i < 10; ++i) sketch.increment(hot);
  EXPECT_EQ(sketch.frequency(hot), 10u);
  for (int i = 0; i < 20; ++i) sketch.increment(hot);
  EXPECT_EQ(sketch.frequency(hot), 15u);  // 4-bit counters saturate
  // Other keys, never incremented, estimate (almost always) 0.
  int nonzero = 0;
  for (uint64_t i = 100; i < 1100; ++i) nonzero += sketch.frequency(plan_key("ns", i).hash()) > 0;
  EXPECT_LE(nonzero, 5);
}

TEST(FrequencySketch, AgeingHalvesEveryCounter) {
  FrequencySketch sketch(64);
  ASSERT_EQ(sketch.sample_size(), 640u);
  const uint64_t hot = plan_key("ns", 1).hash();
  for (int i = 0; i < 12; ++i) sketch.increment(hot);
  EXPECT_EQ(sketch.frequency(hot), 12u);
  // Many distinct keys once each until one reset happens.
  uint64_t i = 1000;
  while (sketch.resets() == 0) sketch.increment(plan_key("ns", i++).hash());
  // Halved: 12 (plus at most 3 from collisions with the 640 other keys) / 2.
  EXPECT_GE(sketch.frequency(hot), 6u);
  EXPECT_LE(sketch.frequency(hot), 7u);
  EXPECT_LT(sketch.additions(), sketch.sample_size() / 2 + 1);
}

TEST(FrequencySketch, EstimatesTrackPopularityOrder) {
  FrequencySketch sketch(4096);
  // Key k is incremented k times (k < 15): estimates must be monotone-ish:
  // never below the truth, and rarely above.
  int over = 0;
  for (uint64_t k = 1; k < 15; ++k) {
    for (uint64_t r = 0; r < k; ++r) sketch.increment(plan_key("ns", k).hash());
  }
  for (uint64_t k = 1; k < 15; ++k) {
    const uint32_t f = sketch.frequency(plan_key("ns", k).hash());
    EXPECT_GE(f, k);
    over += f > k;
  }
  EXPECT_LE(over, 1);
}

}  // namespace
}  // namespace plancache::internal
