// The write-behind decorator (src/cache/write_behind_tier.h), over a real
// disk tier in a temporary directory. Orderings are forced, not hoped for: a
// GatedTier between the decorator and the disk holds the background write of
// chosen keys until the test opens the gate, and tells when it is held.
#include "cache/write_behind_tier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plancache/disk_tier.h"
#include "support/temp_dir.h"

namespace plancache::internal {
namespace {

constexpr int64_t kT0 = 1'790'000'000'000;

using plancache::testing::TempDir;

CacheKey key(std::string_view id) { return CacheKey("ns", KeyKind::kUser, id); }

// Forwards to a shared inner tier; put() of a gated key blocks until open().
// Records the values of every put that reached the inner tier, in order.
class GatedTier final : public Tier {
 public:
  explicit GatedTier(std::shared_ptr<Tier> inner) : inner_(std::move(inner)) {}

  void gate(std::string id) {
    std::lock_guard lock(mu_);
    gated_.insert(std::move(id));
  }
  void open() {
    std::lock_guard lock(mu_);
    gated_.clear();
    cv_.notify_all();
  }
  // Blocks until a put of `id` is held at the gate.
  void wait_held(const std::string& id) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_.count(id) > 0; });
  }
  std::vector<std::string> written() const {
    std::lock_guard lock(mu_);
    return written_;
  }

  TierKind kind() const override { return inner_->kind(); }
  std::string_view name() const override { return inner_->name(); }
  Result<EntryPtr> get(const CacheKey& k) override { return inner_->get(k); }
  Status put(const CacheKey& k, EntryPtr e) override {
    {
      std::unique_lock lock(mu_);
      const std::string id(k.id());
      if (gated_.count(id) > 0) {
        held_.insert(id);
        cv_.notify_all();
        cv_.wait(lock, [&] { return gated_.count(id) == 0; });
        held_.erase(id);
      }
      written_.push_back(*e->value);
    }
    return inner_->put(k, std::move(e));
  }
  Result<bool> erase(const CacheKey& k) override { return inner_->erase(k); }
  Result<uint64_t> invalidate(const Selector& s) override { return inner_->invalidate(s); }
  Result<std::vector<ListedEntry>> list(const Selector& s, size_t limit) override {
    return inner_->list(s, limit);
  }
  TierStats stats() const override { return inner_->stats(); }

 private:
  std::shared_ptr<Tier> inner_;
  mutable std::mutex mu_;  // guards the three sets below
  std::condition_variable cv_;
  std::set<std::string> gated_;
  std::set<std::string> held_;
  std::vector<std::string> written_;
};

class WriteBehindTest : public ::testing::Test {
 protected:
  std::shared_ptr<Tier> open_disk() {
    DiskTierOptions o;
    o.path = dir_.path() + "/l2";
    o.clock = clock_;
    auto disk = new_disk_tier(std::move(o));
    EXPECT_TRUE(disk.is_ok()) << disk.status().to_string();
    return disk.is_ok() ? std::shared_ptr<Tier>(std::move(disk).value()) : nullptr;
  }

  // write-behind -> gate -> disk; the disk stays reachable through disk_.
  void make(size_t max_queue = 100) {
    disk_ = open_disk();
    auto gated = std::make_unique<GatedTier>(disk_);
    gate_ = gated.get();
    WriteBehindOptions options;
    options.max_queue = max_queue;
    options.clock = clock_;
    tier_ = std::make_unique<WriteBehindTier>(std::move(gated), std::move(options));
  }

  EntryPtr entry(std::string value, int64_t ttl_ms = 0, std::vector<std::string> tags = {}) {
    return make_entry(std::make_shared<const Bytes>(std::move(value)), clock_->now_ms(), ttl_ms, 0,
                      std::move(tags));
  }
  void put(std::string_view id, std::string value, int64_t ttl_ms = 0,
           std::vector<std::string> tags = {}) {
    ASSERT_TRUE(tier_->put(key(id), entry(std::move(value), ttl_ms, std::move(tags))).is_ok());
  }
  // The value of `id` read through `tier`, "" on a miss.
  static std::string value_in(Tier& tier, std::string_view id) {
    Result<EntryPtr> got = tier.get(key(id));
    EXPECT_TRUE(got.is_ok()) << got.status().to_string();
    return got.is_ok() && *got != nullptr ? *(*got)->value : "";
  }
  // Holds the background write of `id` at the gate (the worker is then busy).
  void hold(const std::string& id, std::string value) {
    gate_->gate(id);
    put(id, std::move(value));
    gate_->wait_held(id);
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(kT0);
  TempDir dir_;
  std::shared_ptr<Tier> disk_;
  GatedTier* gate_ = nullptr;  // owned by tier_
  std::unique_ptr<WriteBehindTier> tier_;
};

TEST_F(WriteBehindTest, FactoryValidatesItsArguments) {
  EXPECT_EQ(new_write_behind_tier(nullptr, {}).status().code(), StatusCode::kInvalidArgument);
  WriteBehindOptions zero;
  zero.max_queue = 0;
  EXPECT_EQ(new_write_behind_tier(std::make_unique<GatedTier>(open_disk()), zero).status().code(),
            StatusCode::kInvalidArgument);
  auto made = new_write_behind_tier(std::make_unique<GatedTier>(open_disk()), {});
  ASSERT_TRUE(made.is_ok());
  EXPECT_EQ((*made)->name(), "l2");
}

TEST_F(WriteBehindTest, PutReturnsBeforeTheWriteAndReadsSeeIt) {
  make();
  hold("a", "1");
  put("b", "2");
  EXPECT_EQ(value_in(*disk_, "b"), "");   // still waiting behind "a"
  EXPECT_EQ(value_in(*tier_, "a"), "1");  // read-your-writes, in flight
  EXPECT_EQ(value_in(*tier_, "b"), "2");  // read-your-writes, queued
  EXPECT_EQ(tier_->stats().pending_writes, 2u);
  gate_->open();
  tier_->flush();
  EXPECT_EQ(value_in(*disk_, "a"), "1");
  EXPECT_EQ(value_in(*disk_, "b"), "2");
  const TierStats stats = tier_->stats();
  EXPECT_EQ(stats.pending_writes, 0u);
  EXPECT_EQ(stats.puts, 2u);
  // Two reads answered from the queue, plus the disk's own: two hits after
  // the flush and the miss of "b" before it.
  EXPECT_EQ(stats.hits, 4u);
  EXPECT_EQ(stats.misses, 1u);
}

TEST_F(WriteBehindTest, TheLaterPutWinsAndQueuedPutsCoalesce) {
  make();
  hold("a", "v1");  // v1 is being written
  put("a", "v2");   // replaces nothing in flight: waits for the next turn
  put("b", "b1");
  put("b", "b2");  // replaces the queued b1 in place
  put("a", "v3");
  EXPECT_EQ(value_in(*tier_, "a"), "v3");
  EXPECT_EQ(value_in(*tier_, "b"), "b2");
  EXPECT_EQ(tier_->stats().pending_writes, 2u);
  gate_->open();
  tier_->flush();
  EXPECT_EQ(value_in(*disk_, "a"), "v3");
  EXPECT_EQ(value_in(*disk_, "b"), "b2");
  // b1 and v2 never reached the disk; v3 came after v1.
  EXPECT_EQ(gate_->written(), (std::vector<std::string>{"v1", "b2", "v3"}));
}

TEST_F(WriteBehindTest, EraseDropsAQueuedWriteAndTheStoredValue) {
  make();
  ASSERT_TRUE(disk_->put(key("k"), entry("old")).is_ok());
  hold("a", "1");
  put("k", "new");
  EXPECT_TRUE(*tier_->erase(key("k")));
  EXPECT_EQ(value_in(*tier_, "k"), "");
  gate_->open();
  tier_->flush();
  EXPECT_EQ(value_in(*disk_, "k"), "");  // neither the queued nor the older value
  EXPECT_FALSE(*tier_->erase(key("k")));
}

TEST_F(WriteBehindTest, EraseOfAKeyInFlightWaitsForItsWrite) {
  make();
  hold("a", "1");
  std::atomic<bool> erased{false};
  std::thread eraser([&] {
    EXPECT_TRUE(*tier_->erase(key("a")));
    erased = true;
  });
  // The eraser cannot finish before the write it waits for is let through;
  // whenever it runs, the write must not land after it.
  gate_->open();
  eraser.join();
  EXPECT_TRUE(erased);
  tier_->flush();
  EXPECT_EQ(value_in(*disk_, "a"), "");
  EXPECT_EQ(value_in(*tier_, "a"), "");
}

TEST_F(WriteBehindTest, InvalidateDropsMatchingWritesAndOutdatedStoredValues) {
  make();
  ASSERT_TRUE(disk_->put(key("k"), entry("old", 0, {"blue"})).is_ok());
  hold("a", "1");
  put("k", "new", 0, {"red"});
  put("keep", "x", 0, {"blue"});
  put("r2", "y", 0, {"red"});
  Selector red;
  red.tag = "red";
  EXPECT_EQ(*tier_->invalidate(red), 2u);  // k and r2, both still queued
  EXPECT_EQ(value_in(*tier_, "k"), "");
  EXPECT_EQ(value_in(*tier_, "keep"), "x");
  gate_->open();
  tier_->flush();
  // k's older stored value did not match the tag, but it was outdated by the
  // dropped put: it must not come back.
  EXPECT_EQ(value_in(*disk_, "k"), "");
  EXPECT_EQ(value_in(*disk_, "r2"), "");
  EXPECT_EQ(value_in(*disk_, "keep"), "x");
  Selector bad;
  bad.pattern = "[";
  EXPECT_EQ(tier_->invalidate(bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(WriteBehindTest, AFullQueueWritesSynchronously) {
  make(/*max_queue=*/2);
  hold("a", "1");  // slot 1 (in flight, held)
  put("b", "2");   // slot 2: the queue is full now
  put("c", "3");   // no slot: written through, at once
  EXPECT_EQ(value_in(*disk_, "c"), "3");
  EXPECT_EQ(value_in(*disk_, "b"), "");
  put("b", "2b");  // a waiting key takes no new slot: not "full"
  TierStats stats = tier_->stats();
  EXPECT_EQ(stats.write_behind_full, 1u);
  EXPECT_EQ(stats.pending_writes, 2u);
  gate_->open();
  tier_.reset();  // drains
  EXPECT_EQ(value_in(*disk_, "a"), "1");
  EXPECT_EQ(value_in(*disk_, "b"), "2b");
}

TEST_F(WriteBehindTest, ListMergesWaitingWritesOverStoredOnes) {
  make();
  ASSERT_TRUE(disk_->put(key("b"), entry("\"stored\"")).is_ok());
  ASSERT_TRUE(disk_->put(key("c"), entry("1")).is_ok());
  ASSERT_TRUE(disk_->put(key("d"), entry("1")).is_ok());
  hold("a", "12");
  put("b", "\"waiting\"");
  put("d", "1", /*ttl_ms=*/10);  // waiting, and expired by the time we list
  clock_->advance_ms(10);
  Selector ns;
  ns.ns = "ns";
  auto rows = tier_->list(ns, 10);
  ASSERT_TRUE(rows.is_ok()) << rows.status().to_string();
  std::vector<std::string> ids;
  for (const ListedEntry& row : *rows) ids.emplace_back(row.key.id());
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ((*rows)[1].value_bytes, 9u);  // the waiting value, not the stored one
  EXPECT_EQ(tier_->list(ns, 2)->size(), 2u);
  gate_->open();
}

TEST_F(WriteBehindTest, ExpiredWaitingEntriesAreMisses) {
  make();
  hold("a", "1");
  put("t", "x", /*ttl_ms=*/100);
  EXPECT_EQ(value_in(*tier_, "t"), "x");
  clock_->advance_ms(100);
  EXPECT_EQ(value_in(*tier_, "t"), "");
  EXPECT_FALSE(*tier_->erase(key("t")));
  gate_->open();
}

// Real disk, no gate: 4 threads, each owning its keys, put (twice per key,
// through a small queue so that both paths run), read back and erase; after
// the decorator is destroyed, a freshly opened store holds exactly each
// key's last value.
TEST_F(WriteBehindTest, ConcurrentWritersOverDiskLoseNothingAcrossReopen) {
  constexpr int kThreads = 4, kKeys = 300;
  {
    auto disk = open_disk();
    WriteBehindOptions options;
    options.max_queue = 16;
    options.clock = clock_;
    struct Shared final : Tier {  // hands the shared disk to the decorator
      explicit Shared(std::shared_ptr<Tier> t) : t_(std::move(t)) {}
      TierKind kind() const override { return t_->kind(); }
      std::string_view name() const override { return t_->name(); }
      Result<EntryPtr> get(const CacheKey& k) override { return t_->get(k); }
      Status put(const CacheKey& k, EntryPtr e) override { return t_->put(k, std::move(e)); }
      Result<bool> erase(const CacheKey& k) override { return t_->erase(k); }
      Result<uint64_t> invalidate(const Selector& s) override { return t_->invalidate(s); }
      TierStats stats() const override { return t_->stats(); }
      std::shared_ptr<Tier> t_;
    };
    WriteBehindTier tier(std::make_unique<Shared>(disk), options);
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kKeys; ++i) {
          const std::string id = std::to_string(t) + ":" + std::to_string(i);
          for (const char* version : {"#1", "#2"}) {
            if (!tier.put(key(id), entry(id + version)).is_ok()) ++wrong;
            if (value_in(tier, id) != id + version) ++wrong;
          }
          if (i % 10 == 0 && (!*tier.erase(key(id)) || !value_in(tier, id).empty())) ++wrong;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(tier.stats().puts, uint64_t{kThreads * kKeys * 2});
  }  // the decorator drains, then the disk closes
  disk_ = open_disk();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kKeys; ++i) {
      const std::string id = std::to_string(t) + ":" + std::to_string(i);
      EXPECT_EQ(value_in(*disk_, id), i % 10 == 0 ? "" : id + "#2") << id;
    }
  }
}

}  // namespace
}  // namespace plancache::internal
