// Micro-benchmarks of the disk tier (L2) on a real RocksDB store in /tmp:
// - get (hit) and put of 4 KB and 32 KB plan-like values, 1 and 2 threads,
//   beside the memory tier's (L1) get hit on the same values;
// - open() of an existing store of 10 k and of 1 M small (~200 byte) entries:
//   warm restart must not scan, so it should not grow with the entry count.
//
//   build/<release>/bench/disk_tier_bench --benchmark_min_time=1
//   build/<release>/bench/disk_tier_bench --benchmark_filter=Open
//
// Stores live in /tmp/plancache-disk-bench-* and are removed at exit.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plancache/disk_tier.h"
#include "plancache/memory_tier.h"

namespace {

using plancache::CacheKey;
using plancache::KeyKind;
using plancache::Tier;

constexpr int kKeys = 1000;

// A JSON plan of about `size` bytes with realistic redundancy (compresses
// about 3-4× with zstd, as plans of repeated task objects do).
std::string plan_of(size_t size, int seed) {
  std::string plan = "{\"goal\":\"deploy ";
  plan.append(std::to_string(seed)).append("\",\"tasks\":[");
  for (int i = 0; plan.size() < size; ++i) {
    plan.append("{\"id\":").append(std::to_string(i));
    plan.append(",\"name\":\"step ").append(std::to_string(i * 7919 % 1000));
    plan.append("\",\"host\":\"web-").append(std::to_string((seed + i) % 97));
    plan.append("\",\"deps\":[").append(std::to_string(i / 2)).append("]},");
  }
  plan.resize(size - 2);
  plan.append("]}");
  return plan;
}

// prefix + i (written out: `"k" + std::to_string(i)` trips a false
// -Wrestrict in g++ 12 at -O3).
std::string numbered(std::string_view prefix, int64_t i) {
  std::string s(prefix);
  s.append(std::to_string(i));
  return s;
}

CacheKey key_of(int i) { return CacheKey("bench", KeyKind::kPlan, numbered("k", i)); }

class BenchDir {
 public:
  explicit BenchDir(const std::string& name) {
    std::string tmpl = "/tmp/plancache-disk-bench-" + name + "-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<Tier> open_or_die(const std::string& path) {
  plancache::DiskTierOptions o;
  o.path = path;
  auto r = plancache::new_disk_tier(o);
  if (!r.is_ok()) {
    std::fprintf(stderr, "%s\n", r.status().to_string().c_str());
    std::abort();
  }
  return std::move(r).value();
}

// One store per value size, filled with kKeys entries, shared by the threads
// of a benchmark and by later benchmarks; lives until exit.
struct Store {
  std::unique_ptr<BenchDir> dir;
  std::unique_ptr<Tier> disk;
  std::unique_ptr<Tier> memory;
};

// Closed explicitly at the end of main(): a static destructor would run
// after RocksDB's own statics are gone.
std::mutex stores_mu;
std::map<size_t, Store> stores;  // GUARDED_BY(stores_mu)

Store& store_for(size_t value_size) {
  std::lock_guard lock(stores_mu);
  Store& s = stores[value_size];
  if (!s.disk) {
    s.dir = std::make_unique<BenchDir>(std::to_string(value_size));
    s.disk = open_or_die(s.dir->path());
    plancache::MemoryTierOptions mo;
    mo.max_bytes = 0;
    s.memory = std::move(plancache::new_memory_tier(mo)).value();
    for (int i = 0; i < kKeys; ++i) {
      auto e = plancache::make_entry(std::make_shared<const std::string>(plan_of(value_size, i)),
                                     1, 0, 1000);
      (void)s.disk->put(key_of(i), e);
      (void)s.memory->put(key_of(i), e);
    }
  }
  return s;
}

void run_get(benchmark::State& state, bool disk) {
  const auto size = static_cast<size_t>(state.range(0));
  Tier& tier = disk ? *store_for(size).disk : *store_for(size).memory;
  std::vector<CacheKey> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(key_of(i));
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto r = tier.get(keys[i++ % keys.size()]);
    if (!r.is_ok() || *r == nullptr) state.SkipWithError("miss");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_DiskGetHit(benchmark::State& state) { run_get(state, true); }
void BM_MemoryGetHit(benchmark::State& state) { run_get(state, false); }

void BM_DiskPut(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  Tier& tier = *store_for(size).disk;
  std::vector<plancache::EntryPtr> entries;
  for (int i = 0; i < 16; ++i) {
    entries.push_back(plancache::make_entry(
        std::make_shared<const std::string>(plan_of(size, i + 5000)), 1, 0, 1000));
  }
  // Overwrites keys of the preloaded set: the store size stays constant.
  int i = state.thread_index() * 500;
  for (auto _ : state) {
    if (!tier.put(key_of(i % kKeys), entries[static_cast<size_t>(i) % entries.size()]).is_ok()) {
      state.SkipWithError("put failed");
    }
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

// Warm restart: open() of a store of state.range(0) entries of ~200 bytes,
// built once (not timed) and closed. Each iteration times open() alone.
void BM_DiskOpen(benchmark::State& state) {
  const int64_t n = state.range(0);
  BenchDir dir(numbered("open-", n));
  {
    auto tier = open_or_die(dir.path());
    const auto value = std::make_shared<const std::string>(plan_of(200, 0));
    for (int64_t i = 0; i < n; ++i) {
      const CacheKey key("standard", KeyKind::kPlan, numbered("key-", i));
      (void)tier->put(key, plancache::make_entry(value, 1, 0));
    }
  }
  uint64_t entries = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto tier = open_or_die(dir.path());
    const auto stop = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    entries = tier->stats().entries;
    auto hit = tier->get(CacheKey("standard", KeyKind::kPlan, numbered("key-", n / 2)));
    if (!hit.is_ok() || *hit == nullptr) state.SkipWithError("entry not served after reopen");
  }
  state.counters["entries"] = static_cast<double>(entries);
  state.counters["store_MB"] = 0;
  uint64_t bytes = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
    if (f.is_regular_file()) bytes += f.file_size();
  }
  state.counters["store_MB"] = static_cast<double>(bytes) / 1e6;
}

BENCHMARK(BM_MemoryGetHit)->Arg(4096)->Arg(32768)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_DiskGetHit)->Arg(4096)->Arg(32768)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_DiskPut)->Arg(4096)->Arg(32768)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_DiskOpen)->Arg(10'000)->Arg(1'000'000)->UseManualTime()->Unit(benchmark::kMillisecond)
    ->Iterations(5);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::lock_guard lock(stores_mu);
  stores.clear();  // closes the stores and removes their directories
  return 0;
}
