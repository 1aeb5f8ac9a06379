// Single-flight behaviour of Cache::get_or_compute. Thread orderings are
// forced: the compute function blocks on a gate that the test opens only once
// the cache reports every other caller waiting on the flight.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "plancache/cache.h"
#include "plancache/memory_tier.h"

namespace plancache {
namespace {

BytesPtr bytes(std::string s) { return std::make_shared<const Bytes>(std::move(s)); }

class Gate {
 public:
  void open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;  // guards open_
  std::condition_variable cv_;
  bool open_ = false;
};

template <typename Cond>
void await(Cond cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!cond()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "condition never became true";
    std::this_thread::yield();
  }
}

std::unique_ptr<Cache> make_cache() {
  MemoryTierOptions m;
  m.shards = 4;
  CacheOptions o;
  o.tiers.push_back(std::move(new_memory_tier(std::move(m))).value());
  return std::move(new_cache(std::move(o))).value();
}

constexpr int kCallers = 64;

// Runs kCallers concurrent get_or_compute calls for `key` with `compute`,
// opening `gate` once all but the leader wait on the flight.
std::vector<Result<ReadThrough>> race(Cache& cache, const CacheKey& key, Gate& gate,
                                      const ComputeFn& compute) {
  std::vector<std::optional<Result<ReadThrough>>> slots(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] { slots[static_cast<size_t>(i)] = cache.get_or_compute(key, compute); });
  }
  await([&] { return cache.stats().waiting == kCallers - 1; });
  gate.open();
  for (auto& t : threads) t.join();
  std::vector<Result<ReadThrough>> out;
  for (auto& s : slots) out.push_back(std::move(*s));
  return out;
}

TEST(SingleFlight, ConcurrentMissesRunComputeOnce) {
  auto cache = make_cache();
  const CacheKey key{"default", KeyKind::kPlan, "same"};
  Gate gate;
  std::atomic<int> calls{0};
  auto results = race(*cache, key, gate, [&] {
    calls.fetch_add(1);
    gate.wait();
    return Result<Computed>(Computed{bytes(R"({"plan":1})"), {}, true});
  });
  EXPECT_EQ(calls.load(), 1);
  int leaders = 0;
  for (auto& r : results) {
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->entry, results[0]->entry) << "every caller gets the one computed entry";
    EXPECT_FALSE(r->cached);
    if (!r->coalesced) ++leaders;
  }
  EXPECT_EQ(leaders, 1);
  CacheStats s = cache->stats();
  EXPECT_EQ(s.computes, 1u);
  EXPECT_EQ(s.coalesced, static_cast<uint64_t>(kCallers - 1));
  EXPECT_EQ(s.inflight, 0u);
  EXPECT_EQ(s.waiting, 0u);
  auto again = cache->get_or_compute(key, [&] {
    calls.fetch_add(1);
    return Result<Computed>(Computed{bytes("x"), {}, true});
  });
  ASSERT_TRUE(again.is_ok());
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(calls.load(), 1);
}

TEST(SingleFlight, FailingComputeWakesEveryWaiterAndCachesNothing) {
  auto cache = make_cache();
  const CacheKey key{"default", KeyKind::kPlan, "fails"};
  Gate gate;
  std::atomic<int> calls{0};
  auto results = race(*cache, key, gate, [&] {
    calls.fetch_add(1);
    gate.wait();
    return Result<Computed>(Status::bad_gateway("planner exploded"));
  });
  EXPECT_EQ(calls.load(), 1);
  for (auto& r : results) {
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kBadGateway);
    EXPECT_EQ(r.status().message(), "planner exploded");
  }
  EXPECT_FALSE(cache->get(key).hit());
  EXPECT_EQ(cache->stats().compute_errors, 1u);
  auto retry = cache->get_or_compute(key, [&] {
    calls.fetch_add(1);
    return Result<Computed>(Computed{bytes("ok"), {}, true});
  });
  ASSERT_TRUE(retry.is_ok()) << "an error is not cached: the next call computes again";
  EXPECT_EQ(calls.load(), 2);
}

TEST(SingleFlight, ThrowingComputeBecomesInternalErrorForAll) {
  auto cache = make_cache();
  const CacheKey key{"default", KeyKind::kPlan, "throws"};
  Gate gate;
  auto results = race(*cache, key, gate, [&]() -> Result<Computed> {
    gate.wait();
    throw std::runtime_error("boom");
  });
  for (auto& r : results) {
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInternal);
    EXPECT_NE(r.status().message().find("boom"), std::string::npos);
  }
}

TEST(SingleFlight, DistinctKeysComputeIndependently) {
  auto cache = make_cache();
  std::atomic<int> calls{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 50; ++k) {
        const CacheKey key{"default", KeyKind::kPlan, "k" + std::to_string(k)};
        auto r = cache->get_or_compute(key, [&] {
          calls.fetch_add(1);
          return Result<Computed>(Computed{bytes(std::to_string(k)), {}, true});
        });
        ASSERT_TRUE(r.is_ok());
        EXPECT_EQ(*r->entry->value, std::to_string(k));
      }
      (void)i;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 50) << "each of the 50 keys computed exactly once";
}

TEST(SingleFlight, StoreFalseReturnsButDoesNotCache) {
  auto cache = make_cache();
  const CacheKey key{"default", KeyKind::kPlan, "cheap"};
  auto r = cache->get_or_compute(key, [] {
    return Result<Computed>(Computed{bytes("v"), {}, /*store=*/false});
  });
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r->entry->value, "v");
  EXPECT_FALSE(cache->get(key).hit());
}

}  // namespace
}  // namespace plancache
