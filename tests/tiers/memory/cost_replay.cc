// cost_replay: replays a cache trace through the memory tier (one shard, a
// FakeClock) with each eviction policy and prints, per cache size, the hit
// rate and the planner time the hits saved (the sum of the cost of every
// hit). The measurement behind EvictionPolicy::kCost (docs/decisions.md,
// "Cost-aware eviction"); rerun it with tests/tiers/memory/cost_replay.sh.
//
//   cost_replay --format gcc|lirs|arc|synthetic [--trace FILE|-]
//               [--sizes N,N,...] [--fractions F,F,...] [--bytes]
//               [--policies lru,tinylfu,cost,gdsf] [--hints]
//
// Formats: gcc = `op 0xADDRESS size hit_penalty miss_penalty` (cost = the
// miss penalty, size = the size field); lirs = one integer key per line;
// arc = `start_block block_count ignored request_no` (block_count accesses
// from start_block); synthetic = generated here (seeded: Zipf popularity,
// lognormal sizes and planner costs, loosely correlated). Traces without
// costs give every access cost 1 (the hit count) and compute_ms 0 (unknown).
// Each access: get; on a miss, put a value of the access's size with
// meta.compute_ms = its cost. Sizes are entry bounds (--sizes, or
// --fractions of the distinct keys, default 0.05,0.1,0.25); with --bytes
// they are fractions of the distinct keys' total value bytes, as a byte
// bound. --hints (synthetic) marks the costliest 5% of keys important and
// the cheapest 20% temporary; --hide-costs stores compute_ms 0 (the policy
// sees no cost) while the savings still count the true ones.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "plancache/clock.h"
#include "plancache/entry.h"
#include "plancache/memory_tier.h"
#include "tiers/memory/memory_tier_impl.h"

namespace plancache {
namespace {

struct Access {
  uint64_t key;
  uint32_t size;  // value bytes
  uint32_t cost;  // planner ms; 0 = unknown
  EntryPriority priority = EntryPriority::kNormal;
};

struct Trace {
  std::vector<Access> accesses;
  bool has_costs = false;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

Trace read_trace(std::istream& in, const std::string& format) {
  Trace t;
  t.has_costs = format == "gcc";
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    if (format == "gcc") {
      std::string op, address;
      uint64_t size = 0, hit = 0, miss = 0;
      if (!(fields >> op >> address >> size >> hit >> miss)) continue;
      t.accesses.push_back(Access{std::stoull(address, nullptr, 16), static_cast<uint32_t>(size),
                                  static_cast<uint32_t>(miss)});
    } else if (format == "lirs") {
      uint64_t key = 0;
      if (fields >> key) t.accesses.push_back(Access{key, 1, 0});
    } else if (format == "arc") {
      uint64_t start = 0, count = 0;
      if (!(fields >> start >> count)) continue;
      for (uint64_t i = 0; i < count; ++i) t.accesses.push_back(Access{start + i, 1, 0});
    }
  }
  return t;
}

// The synthetic plan workload: 20,000 plans, Zipf(0.8) popularity (a random
// rank per key), 500,000 requests. log(size) ~ N(ln 8 KiB, 1.0); log(cost) ~
// N(ln 1500 ms, 1.2) with correlation 0.3 to log(size) ("loosely related").
Trace synthetic_trace(bool hints) {
  constexpr uint64_t kKeys = 20'000;
  constexpr uint64_t kRequests = 500'000;
  std::mt19937_64 rng(20240613);
  std::normal_distribution<double> normal(0, 1);
  std::vector<Access> keys(kKeys);
  for (uint64_t k = 0; k < kKeys; ++k) {
    const double z1 = normal(rng), z2 = normal(rng);
    const double z_cost = 0.3 * z1 + std::sqrt(1 - 0.09) * z2;
    const double size = std::exp(std::log(8192.0) + 1.0 * z1);
    const double cost = std::exp(std::log(1500.0) + 1.2 * z_cost);
    keys[k] = Access{k, static_cast<uint32_t>(std::clamp(size, 64.0, 4.0e6)),
                     static_cast<uint32_t>(std::clamp(cost, 1.0, 3.6e6))};
  }
  if (hints) {
    std::vector<uint32_t> costs;
    for (const Access& a : keys) costs.push_back(a.cost);
    std::sort(costs.begin(), costs.end());
    const uint32_t cheap = costs[costs.size() / 5];
    const uint32_t dear = costs[costs.size() * 95 / 100];
    for (Access& a : keys) {
      if (a.cost >= dear) a.priority = EntryPriority::kImportant;
      if (a.cost <= cheap) a.priority = EntryPriority::kTemporary;
    }
  }
  std::vector<uint64_t> rank(kKeys);
  for (uint64_t i = 0; i < kKeys; ++i) rank[i] = i;
  std::shuffle(rank.begin(), rank.end(), rng);
  std::vector<double> cdf(kKeys);
  double sum = 0;
  for (uint64_t i = 0; i < kKeys; ++i) cdf[i] = sum += 1.0 / std::pow(double(i + 1), 0.8);
  std::uniform_real_distribution<double> uniform(0, sum);
  Trace t;
  t.has_costs = true;
  t.accesses.reserve(kRequests);
  for (uint64_t i = 0; i < kRequests; ++i) {
    const auto r =
        static_cast<uint64_t>(std::lower_bound(cdf.begin(), cdf.end(), uniform(rng)) - cdf.begin());
    t.accesses.push_back(keys[rank[std::min(r, kKeys - 1)]]);
  }
  return t;
}

// A plan-shaped key (64 hex digits) per integer, so every key has the same
// length and so the same charge for the same value size.
CacheKey key_of(uint64_t k) {
  std::string id(64, '0');
  for (size_t pos = id.size(); k != 0; k >>= 4) id[--pos] = "0123456789abcdef"[k & 15];
  return CacheKey("t", KeyKind::kPlan, id);
}

struct PolicyChoice {
  std::string name;
  EvictionPolicy kind;
  internal::CostVariant variant = internal::CostVariant::kWindowGdsf;
};

PolicyChoice policy_named(const std::string& name) {
  using internal::CostVariant;
  if (name == "lru") return {name, EvictionPolicy::kLru};
  if (name == "tinylfu") return {name, EvictionPolicy::kTinyLfu};
  if (name == "cost") return {name, EvictionPolicy::kCost};
  if (name == "gdsf") return {name, EvictionPolicy::kCost, CostVariant::kGdsf};
  std::cerr << "unknown policy " << name << " (lru, tinylfu, cost, gdsf)\n";
  std::exit(2);
}

struct Outcome {
  uint64_t hits = 0;
  double saved = 0;  // cost of the hits (ms, or hits for a trace without costs)
};

// --hide-costs: the policy sees compute_ms 0 (unknown); savings still count
// the true costs (what hints alone can do).
bool g_hide_costs = false;

Outcome replay(const Trace& trace, const PolicyChoice& policy, uint64_t bound, bool bytes) {
  MemoryTierOptions o;
  o.shards = 1;
  o.max_entries = bytes ? 0 : bound;
  o.max_bytes = bytes ? bound : 0;
  o.policy = policy.kind;
  auto clock = std::make_shared<FakeClock>();
  o.clock = clock;
  internal::TinyLfuConfig config;
  config.cost_variant = policy.variant;
  internal::MemoryTier tier(o, 1, config);
  std::unordered_map<uint64_t, CacheKey> keys;
  Outcome r;
  for (const Access& a : trace.accesses) {
    auto it = keys.find(a.key);
    if (it == keys.end()) it = keys.emplace(a.key, key_of(a.key)).first;
    const double cost = trace.has_costs ? a.cost : 1.0;
    Result<EntryPtr> got = tier.get(it->second);
    if (got.is_ok() && *got != nullptr) {
      ++r.hits;
      r.saved += cost;
      continue;
    }
    auto value = std::make_shared<const Bytes>(a.size, 'v');
    Status s = tier.put(
        it->second, make_entry(std::move(value), clock->now_ms(), 0,
                               trace.has_costs && !g_hide_costs ? a.cost : 0, {}, 0, a.priority));
    if (!s.is_ok() && s.code() != StatusCode::kResourceExhausted) {
      std::cerr << s.to_string() << "\n";
      std::exit(1);
    }
  }
  if (std::string bad = tier.check_invariants(); !bad.empty()) {
    std::cerr << policy.name << ": " << bad << "\n";
    std::exit(1);
  }
  return r;
}

int run(int argc, char** argv) {
  std::string format, trace_path = "-", sizes_arg, fractions_arg = "0.05,0.1,0.25";
  std::string policies_arg = "lru,tinylfu,cost";
  bool bytes = false, hints = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--format")
      format = next();
    else if (arg == "--trace")
      trace_path = next();
    else if (arg == "--sizes")
      sizes_arg = next();
    else if (arg == "--fractions")
      fractions_arg = next();
    else if (arg == "--policies")
      policies_arg = next();
    else if (arg == "--bytes")
      bytes = true;
    else if (arg == "--hints")
      hints = true;
    else if (arg == "--hide-costs")
      g_hide_costs = true;
    else {
      std::cerr << "unknown argument " << arg
                << " (see the comment at the top of cost_replay.cc)\n";
      return 2;
    }
  }
  Trace trace;
  if (format == "synthetic") {
    trace = synthetic_trace(hints);
  } else if (format == "gcc" || format == "lirs" || format == "arc") {
    if (trace_path == "-") {
      trace = read_trace(std::cin, format);
    } else {
      std::ifstream in(trace_path);
      if (!in) {
        std::cerr << "cannot open " << trace_path << "\n";
        return 2;
      }
      trace = read_trace(in, format);
    }
  } else {
    std::cerr << "--format must be gcc, lirs, arc or synthetic\n";
    return 2;
  }
  std::unordered_map<uint64_t, uint32_t> distinct;
  double total_cost = 0;
  for (const Access& a : trace.accesses) {
    distinct[a.key] = a.size;
    total_cost += trace.has_costs ? a.cost : 1.0;
  }
  uint64_t distinct_bytes = 0;
  for (const auto& [key, size] : distinct) distinct_bytes += size;
  std::vector<uint64_t> bounds;
  if (!sizes_arg.empty()) {
    for (const std::string& s : split(sizes_arg, ',')) bounds.push_back(std::stoull(s));
  } else {
    const double base = bytes ? double(distinct_bytes) : double(distinct.size());
    for (const std::string& f : split(fractions_arg, ',')) {
      bounds.push_back(std::max<uint64_t>(1, static_cast<uint64_t>(std::stod(f) * base)));
    }
  }
  std::printf("# %s: %zu accesses, %zu keys, %s; saved = %s\n", format.c_str(),
              trace.accesses.size(), distinct.size(), trace.has_costs ? "with costs" : "no costs",
              trace.has_costs ? "planner-seconds of the hits (% of all accesses' cost)"
                              : "hits (no costs)");
  std::printf("%-10s %12s %-14s %9s %14s %8s\n", "trace", bytes ? "max_bytes" : "max_entries",
              "policy", "hit_rate", "saved", "saved%");
  for (uint64_t bound : bounds) {
    for (const std::string& name : split(policies_arg, ',')) {
      const PolicyChoice policy = policy_named(name);
      const Outcome r = replay(trace, policy, bound, bytes);
      const double saved = trace.has_costs ? r.saved / 1000.0 : r.saved;
      std::printf("%-10s %12llu %-14s %8.2f%% %14.1f %7.2f%%\n", format.c_str(),
                  static_cast<unsigned long long>(bound), name.c_str(),
                  100.0 * double(r.hits) / double(trace.accesses.size()), saved,
                  100.0 * r.saved / total_cost);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace plancache

int main(int argc, char** argv) { return plancache::run(argc, argv); }
