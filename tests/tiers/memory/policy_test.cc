// Eviction-policy quality: hit rates of W-TinyLFU and LRU through the real
// tier (get; on a miss, put), on synthetic streams that must favour
// W-TinyLFU and, when /work/shared/traces is present, on public traces with
// published reference figures (see that directory's README).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "test_util.h"
#include "tiers/memory/policy/tinylfu.h"

namespace plancache {
namespace {

using testing::make_memory_tier;
using testing::value_of;

// Zipf(s) over [0, n): inverse transform on a precomputed CDF.
class Zipf {
 public:
  Zipf(uint64_t n, double s) : cdf_(n) {
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i) {
      sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
      cdf_[i] = sum;
    }
    for (double& c : cdf_) c /= sum;
  }
  uint64_t operator()(std::mt19937_64& rng) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<uint64_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

struct SimOptions {
  EvictionPolicy policy = EvictionPolicy::kTinyLfu;
  uint64_t capacity = 1000;
  internal::TinyLfuConfig tinylfu;
};

// Hit rate of a one-shard tier of `capacity` entries on `keys`.
double hit_rate(const std::vector<uint64_t>& keys, const SimOptions& sim) {
  MemoryTierOptions o;
  o.max_entries = sim.capacity;
  o.max_bytes = 0;
  o.shards = 1;
  o.policy = sim.policy;
  auto tier = make_memory_tier(o, sim.tinylfu);
  const EntryPtr entry = make_entry(value_of(1), 0, 0);
  std::unordered_map<uint64_t, CacheKey> built;  // each key built once
  uint64_t hits = 0;
  for (uint64_t k : keys) {
    auto it = built.find(k);
    if (it == built.end()) {
      it = built.emplace(k, CacheKey("t", KeyKind::kPlan, std::to_string(k))).first;
    }
    const CacheKey& key = it->second;
    if (*tier->get(key) != nullptr) {
      ++hits;
    } else {
      EXPECT_TRUE(tier->put(key, entry).is_ok());
    }
  }
  EXPECT_EQ(tier->check_invariants(), "");
  return static_cast<double>(hits) / static_cast<double>(keys.size());
}

// A Zipf-popular working set with one-off scans of never-repeated keys
// mixed in: the textbook case where LRU lets the scan flush the hot set.
std::vector<uint64_t> zipf_with_scans(double s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const Zipf zipf(50'000, s);
  std::vector<uint64_t> keys;
  uint64_t scan_key = 1'000'000;
  for (int phase = 0; phase < 6; ++phase) {
    for (int i = 0; i < 20'000; ++i) keys.push_back(zipf(rng));
    for (int i = 0; i < 5'000; ++i) keys.push_back(scan_key++);  // one pass
  }
  return keys;
}

// The hit rate of a perfect static LFU cache of `capacity` on
// zipf_with_scans(): the top `capacity` keys' share of the Zipf part (80% of
// the accesses); the scans never hit. An upper bound for any policy here.
double lfu_bound(double s, uint64_t capacity) {
  double top = 0, all = 0;
  for (uint64_t i = 1; i <= 50'000; ++i) {
    const double p = 1.0 / std::pow(static_cast<double>(i), s);
    all += p;
    if (i <= capacity) top += p;
  }
  return 0.8 * top / all;
}

TEST(PolicyQuality, TinyLfuBeatsLruOnZipfWithScans) {
  for (double s : {0.9, 1.0}) {
    const std::vector<uint64_t> keys = zipf_with_scans(s, 7);
    const double lru = hit_rate(keys, {EvictionPolicy::kLru, 1000, {}});
    const double tiny = hit_rate(keys, {EvictionPolicy::kTinyLfu, 1000, {}});
    const double bound = lfu_bound(s, 1000);
    std::printf("zipf(%.1f)+scans @1000: lru %.3f  w-tinylfu %.3f  (perfect LFU %.3f)\n", s, lru,
                tiny, bound);
    // Measured: s=0.9 lru 0.311 / w-tinylfu 0.387 / bound 0.419;
    //           s=1.0 lru 0.432 / w-tinylfu 0.493 / bound 0.525.
    EXPECT_GT(tiny - lru, 0.05) << "s=" << s;
    EXPECT_GT(tiny, 0.9 * bound) << "s=" << s;
  }
}

TEST(PolicyQuality, ScanResistance) {
  // A hot set that fits, then one long scan, then the hot set again: W-TinyLFU
  // keeps the hot set through the scan, LRU loses all of it.
  std::vector<uint64_t> keys;
  for (int round = 0; round < 20; ++round) {
    for (uint64_t k = 0; k < 500; ++k) keys.push_back(k);
  }
  for (uint64_t k = 0; k < 20'000; ++k) keys.push_back(100'000 + k);
  const size_t before_second_half = keys.size();
  for (uint64_t k = 0; k < 500; ++k) keys.push_back(k);
  SimOptions tiny{EvictionPolicy::kTinyLfu, 1000, {}};
  SimOptions lru{EvictionPolicy::kLru, 1000, {}};
  std::vector<uint64_t> tail(keys.begin() + static_cast<long>(before_second_half), keys.end());
  // Hits in the final pass = total hits minus hits before it.
  std::vector<uint64_t> head(keys.begin(), keys.begin() + static_cast<long>(before_second_half));
  const double n = static_cast<double>(keys.size()), h = static_cast<double>(head.size());
  const double tiny_final = (hit_rate(keys, tiny) * n - hit_rate(head, tiny) * h) / 500.0;
  const double lru_final = (hit_rate(keys, lru) * n - hit_rate(head, lru) * h) / 500.0;
  EXPECT_GT(tiny_final, 0.9);
  EXPECT_LT(lru_final, 0.01);
}

// --- public traces (optional) --------------------------------------------------

std::string traces_dir() {
  const char* env = std::getenv("PLANCACHE_TRACES_DIR");
  return env != nullptr ? env : PLANCACHE_TRACES_DIR;
}

// Reads a gzip trace through `gzip -dc`: LIRS format (one integer key per
// line) or ARC format ("start count ..." = keys start .. start+count-1).
// Empty when the file or gzip is missing.
std::vector<uint64_t> read_trace(const std::string& name, bool arc_format = false) {
  const std::string path = traces_dir() + "/" + name;
  std::vector<uint64_t> keys;
  if (!std::filesystem::exists(path)) return keys;
  FILE* pipe = popen(("gzip -dc '" + path + "' 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return keys;
  char line[256];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    char* end = nullptr;
    const unsigned long long k = std::strtoull(line, &end, 10);
    if (end == line) continue;
    const unsigned long long count = arc_format ? std::strtoull(end, nullptr, 10) : 1;
    for (unsigned long long i = 0; i < count; ++i) keys.push_back(k + i);
  }
  pclose(pipe);
  return keys;
}

struct TraceCase {
  const char* file;
  bool arc_format;
  size_t limit;        // replay only the first `limit` accesses (test time)
  uint64_t capacity;
  double min_tinylfu;  // W-TinyLFU must reach this
  double max_lru;      // LRU must not exceed this (sanity of the replay)
};

TEST(PolicyQuality, PublicTraces) {
  // Reference points from the traces README (hit %, LRU / W-TinyLFU with a
  // static 1% window / optimal), whole traces: gli@1000 11.2 / 51.1 / 53.1;
  // loop@512 0.0 / 47.6 / 50.5; arc-oltp@2000 42.5 / 40.9 / 60.4, where a
  // static window loses to LRU and a 20% window gives 46.5 -- the adaptive
  // window has to find that. Measured through this tier on whole traces:
  // gli 11.2 / 50.4, loop 0.0 / 49.0, oltp 42.4 / 46.1 (static window 41.8).
  // For test time, loop and oltp are replayed in part; on those prefixes:
  // loop (200k) 0.0 / 48.7, oltp (300k) 41.7 / 45.3 (static window 40.8).
  const TraceCase cases[] = {
      {"lirs-gli.trace.gz", false, 0, 1000, 0.48, 0.12},
      {"lirs-loop.trace.gz", false, 200'000, 512, 0.46, 0.01},
      {"arc-oltp.trace.gz", true, 300'000, 2000, 0.44, 0.425},
  };
  int ran = 0;
  for (const TraceCase& c : cases) {
    std::vector<uint64_t> keys = read_trace(c.file, c.arc_format);
    if (keys.empty()) continue;
    if (c.limit != 0 && keys.size() > c.limit) keys.resize(c.limit);
    ++ran;
    const double lru = hit_rate(keys, {EvictionPolicy::kLru, c.capacity, {}});
    const double tiny = hit_rate(keys, {EvictionPolicy::kTinyLfu, c.capacity, {}});
    std::printf("%s @%llu (%zu accesses): lru %.3f  w-tinylfu %.3f\n", c.file,
                static_cast<unsigned long long>(c.capacity), keys.size(), lru, tiny);
    EXPECT_LE(lru, c.max_lru) << c.file;
    EXPECT_GE(tiny, c.min_tinylfu) << c.file;
    EXPECT_GT(tiny, lru + 0.02) << c.file;
  }
  if (ran == 0) GTEST_SKIP() << "no traces under " << traces_dir();
}

}  // namespace
}  // namespace plancache
