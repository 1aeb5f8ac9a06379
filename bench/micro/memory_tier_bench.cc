// Memory-tier micro-benchmarks (Google Benchmark).
//
//   BM_GetHit          get() by a precomputed CacheKey, Zipf(0.99) over a
//                      preloaded tier of 100k plan keys (every get hits);
//                      W-TinyLFU and LRU, 1 and 2 threads; keys:1000 draws
//                      from the first 1,000 keys only (a hot set that fits in
//                      the CPU caches). The issue's target: >= 5 M ops/s on
//                      one thread. The lookup keys are materialised in stream
//                      order (a copy per access), so that, as in a server that
//                      has just built the key, the caller's key is in cache
//                      and the figure is the tier's own cost.
//                      tinylfu_coarse_clock: the same with a Clock that reads
//                      CLOCK_REALTIME_COARSE, to show what the clock costs.
//   BM_GetMiss         get() of keys that are not there.
//   BM_GetByGoal       the full lookup a server does: KeyBuilder::plan_key on
//                      the goal text and JSON context, then get().
//   BM_Put             put() of a shared 4 KiB entry, Zipf keys over twice the
//                      capacity (a mix of replacements and evicting inserts).
//
// Entries carry a 1 h TTL (as the cache's default), so a hit reads the clock.
// Values are shared, so their size only matters to the byte budget.
//
// Build and run (Release):
//   cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPLANCACHE_BENCH=ON
//   ninja -C build/release memory_tier_bench && build/release/bench/memory_tier_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "plancache/entry.h"
#include "plancache/key_builder.h"
#include "plancache/memory_tier.h"

namespace plancache {
namespace {

constexpr uint64_t kEntries = 100'000;
constexpr size_t kSequenceLength = 1 << 20;  // power of two: index by mask
constexpr size_t kStreamLength = 1 << 19;    // materialised lookup keys
constexpr size_t kValueBytes = 4096;
constexpr int64_t kTtlMs = 3'600'000;

// kSequenceLength draws from Zipf(s) over [0, n), fixed seed.
std::vector<uint32_t> zipf_sequence(uint64_t n, double s, uint64_t seed) {
  std::vector<double> cdf(n);
  double sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
    cdf[i] = sum;
  }
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0, sum);
  // Scramble ranks so the popular keys are not the first ones inserted.
  std::vector<uint32_t> rank_to_key(n);
  for (uint64_t i = 0; i < n; ++i) rank_to_key[i] = static_cast<uint32_t>(i);
  std::shuffle(rank_to_key.begin(), rank_to_key.end(), rng);
  std::vector<uint32_t> seq(kSequenceLength);
  for (uint32_t& k : seq) {
    const auto rank = std::lower_bound(cdf.begin(), cdf.end(), uniform(rng)) - cdf.begin();
    k = rank_to_key[static_cast<size_t>(std::min<long>(rank, static_cast<long>(n) - 1))];
  }
  return seq;
}

// Zipf(0.99) over the first `universe` preloaded keys (1,000 or all 100,000).
const std::vector<uint32_t>& hit_sequence(uint64_t universe = kEntries) {
  static const auto* all = new std::vector<uint32_t>(zipf_sequence(kEntries, 0.99, 42));
  static const auto* small = new std::vector<uint32_t>(zipf_sequence(1000, 0.99, 42));
  return universe == kEntries ? *all : *small;
}

std::string goal_text(uint64_t i) {
  return "Deploy  service " + std::to_string(i) + " to staging\twith a canary rollout";
}
std::string context_json(uint64_t i) {
  return R"({"service":)" + std::to_string(i) + R"(,"env":"staging","replicas":3})";
}

const KeyBuilder& key_builder() {
  static const auto* kb = new KeyBuilder();
  return *kb;
}

// The 100k plan keys, built by KeyBuilder from the goals the by-goal
// benchmark looks up, so both benchmarks hit the same entries.
const std::vector<CacheKey>& plan_keys() {
  static const auto* keys = [] {
    auto* v = new std::vector<CacheKey>();
    v->reserve(kEntries);
    for (uint64_t i = 0; i < kEntries; ++i) {
      v->push_back(key_builder().plan_key("bench", goal_text(i), context_json(i))->key);
    }
    return v;
  }();
  return *keys;
}

// The system clock read with CLOCK_REALTIME_COARSE (ms resolution, one tick
// = 1-4 ms late): what the tier costs when reading the time is cheap. On
// this VM CLOCK_REALTIME costs ~25-55 ns a call, the coarse clock ~5-12 ns.
class CoarseClock final : public Clock {
 public:
  int64_t now_ms() const override {
    timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
  }
  int64_t monotonic_ns() const override { return system_clock()->monotonic_ns(); }
};

std::unique_ptr<Tier> new_tier(EvictionPolicy policy, uint64_t max_entries,
                               std::shared_ptr<Clock> clock = nullptr) {
  MemoryTierOptions o;
  o.policy = policy;
  o.max_entries = max_entries;
  o.max_bytes = 0;
  o.clock = std::move(clock);
  return std::move(new_memory_tier(o).value());
}

enum class Variant { kTinyLfu, kLru, kTinyLfuCoarseClock };

// One preloaded tier per variant, shared by the threads of a benchmark.
Tier& preloaded(Variant variant) {
  static Tier* tiers[3] = {nullptr, nullptr, nullptr};
  static std::once_flag once[3];
  const int i = static_cast<int>(variant);
  std::call_once(once[i], [&] {
    // Sized like a full cache, with 25% slack so that no shard (each gets
    // max_entries / shards) overflows and every get hits.
    tiers[i] = new_tier(variant == Variant::kLru ? EvictionPolicy::kLru : EvictionPolicy::kTinyLfu,
                        kEntries + kEntries / 4,
                        variant == Variant::kTinyLfuCoarseClock ? std::make_shared<CoarseClock>()
                                                                : nullptr)
                   .release();
    const auto clock = system_clock();
    const BytesPtr value = std::make_shared<const Bytes>(kValueBytes, 'x');
    for (const CacheKey& k : plan_keys()) {
      (void)tiers[i]->put(k, make_entry(value, clock->now_ms(), kTtlMs));  // one Entry per key
    }
  });
  return *tiers[i];
}

// The first kStreamLength keys of hit_sequence(universe), copied in order.
const std::vector<CacheKey>& key_stream(uint64_t universe) {
  static std::mutex mu;
  static std::map<uint64_t, const std::vector<CacheKey>*> streams;
  std::lock_guard<std::mutex> lock(mu);
  const std::vector<CacheKey>*& stream = streams[universe];
  if (stream == nullptr) {
    auto* v = new std::vector<CacheKey>();
    v->reserve(kStreamLength);
    for (size_t i = 0; i < kStreamLength; ++i) v->push_back(plan_keys()[hit_sequence(universe)[i]]);
    stream = v;
  }
  return *stream;
}

void BM_GetHit(benchmark::State& state, Variant variant) {
  Tier& tier = preloaded(variant);
  const std::vector<CacheKey>& stream = key_stream(static_cast<uint64_t>(state.range(0)));
  size_t i = static_cast<size_t>(state.thread_index()) * (kStreamLength / 2);
  uint64_t misses = 0;
  for (auto _ : state) {
    Result<EntryPtr> r = tier.get(stream[i++ & (kStreamLength - 1)]);
    misses += *r == nullptr;
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["miss_ratio"] = benchmark::Counter(
      static_cast<double>(misses), benchmark::Counter::kAvgIterations);
}
// Argument: how many distinct keys the Zipf stream draws from.
BENCHMARK_CAPTURE(BM_GetHit, tinylfu, Variant::kTinyLfu)
    ->ArgName("keys")->Arg(kEntries)->Arg(1000)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_GetHit, lru, Variant::kLru)
    ->ArgName("keys")->Arg(kEntries)->Arg(1000)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_GetHit, tinylfu_coarse_clock, Variant::kTinyLfuCoarseClock)
    ->ArgName("keys")->Arg(kEntries)->Arg(1000)->Threads(1)->Threads(2)->UseRealTime();

void BM_GetMiss(benchmark::State& state) {
  Tier& tier = preloaded(Variant::kTinyLfu);
  std::vector<CacheKey> absent;
  for (uint64_t i = 0; i < 4096; ++i) {
    absent.emplace_back("bench", KeyKind::kUser, "absent:" + std::to_string(i));
  }
  size_t i = static_cast<size_t>(state.thread_index()) * 1021;
  for (auto _ : state) {
    Result<EntryPtr> r = tier.get(absent[i++ & 4095]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_GetMiss)->Threads(1)->Threads(2)->UseRealTime();

void BM_GetByGoal(benchmark::State& state, HashAlgorithm hash) {
  KeyBuilderOptions kbo;
  kbo.hash = hash;
  const KeyBuilder kb(kbo);
  // SHA-256 keys are those of the shared preloaded tier; other hashes get a
  // tier of their own, preloaded once with the same goals.
  static Tier* other = nullptr;
  static std::once_flag once;
  if (hash != HashAlgorithm::kSha256) {
    std::call_once(once, [&] {
      other = new_tier(EvictionPolicy::kTinyLfu, kEntries + kEntries / 4).release();
      const BytesPtr value = std::make_shared<const Bytes>(kValueBytes, 'x');
      for (uint64_t k = 0; k < kEntries; ++k) {
        (void)other->put(kb.plan_key("bench", goal_text(k), context_json(k))->key,
                         make_entry(value, system_clock()->now_ms(), kTtlMs));
      }
    });
  }
  Tier& tier = hash == HashAlgorithm::kSha256 ? preloaded(Variant::kTinyLfu) : *other;
  // The request bodies, prepared outside the timed loop.
  std::vector<std::string> goals, contexts;
  for (uint64_t k = 0; k < 4096; ++k) {
    goals.push_back(goal_text(hit_sequence()[k]));
    contexts.push_back(context_json(hit_sequence()[k]));
  }
  size_t i = static_cast<size_t>(state.thread_index()) * 1021;
  uint64_t misses = 0;
  for (auto _ : state) {
    const size_t j = i++ & 4095;
    Result<PlanKey> key = kb.plan_key("bench", goals[j], contexts[j]);
    Result<EntryPtr> r = tier.get(key->key);
    misses += *r == nullptr;
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["miss_ratio"] = benchmark::Counter(
      static_cast<double>(misses), benchmark::Counter::kAvgIterations);
}
BENCHMARK_CAPTURE(BM_GetByGoal, sha256, HashAlgorithm::kSha256)
    ->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_GetByGoal, xxh3_128, HashAlgorithm::kXxh3_128)
    ->Threads(1)->Threads(2)->UseRealTime();

void BM_Put(benchmark::State& state, EvictionPolicy policy) {
  static std::unique_ptr<Tier> tiers[2];
  const int t = policy == EvictionPolicy::kLru ? 1 : 0;
  if (state.thread_index() == 0) tiers[t] = new_tier(policy, kEntries / 2);
  // Keys over twice the capacity: replacements of resident keys and inserts
  // that evict, in Zipf proportion.
  static const auto* seq = new std::vector<uint32_t>(zipf_sequence(kEntries, 0.99, 7));
  const std::vector<CacheKey>& keys = plan_keys();
  const EntryPtr entry = make_entry(std::make_shared<const Bytes>(kValueBytes, 'x'),
                                    system_clock()->now_ms(), kTtlMs);
  size_t i = static_cast<size_t>(state.thread_index()) * 104'729;
  for (auto _ : state) {
    Status s = tiers[t]->put(keys[(*seq)[i++ & (kSequenceLength - 1)]], entry);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK_CAPTURE(BM_Put, tinylfu, EvictionPolicy::kTinyLfu)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Put, lru, EvictionPolicy::kLru)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace plancache

BENCHMARK_MAIN();
