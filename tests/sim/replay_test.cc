// Replay: LRU and Belady's MIN hit counts computed by hand on small traces,
// the tier lanes giving exactly what the memory tier itself gives, byte and
// cost accounting, and the first pass (next uses, distinct keys).
#include "sim/replay.h"

#include <gtest/gtest.h>

#include "sim/key_index.h"
#include "sim_test_util.h"

namespace plancache::internal {
namespace {

using plancache::testing::TempDir;
using testing::write_file;

std::vector<Access> accesses(const std::vector<uint64_t>& keys, uint64_t size = 1) {
  std::vector<Access> out;
  for (uint64_t k : keys) out.push_back(Access{.key = k, .size = size});
  return out;
}

// The next-use table of `trace`, computed the obvious quadratic way.
NextUses next_uses_of(const std::vector<Access>& trace) {
  NextUses next;
  for (size_t i = 0; i < trace.size(); ++i) {
    uint64_t n = NextUses::kNever;
    for (size_t j = i + 1; j < trace.size(); ++j) {
      if (access_identity(trace[j]) == access_identity(trace[i])) {
        n = j;
        break;
      }
    }
    next.push_back(n);
  }
  return next;
}

std::vector<SimResult> replay(const std::vector<Access>& trace, std::vector<SimPolicy> policies,
                              std::vector<uint64_t> sizes, SizeUnit by = SizeUnit::kEntries) {
  const NextUses next = next_uses_of(trace);
  ReplayOptions options;
  options.policies = std::move(policies);
  options.sizes = std::move(sizes);
  options.by = by;
  auto replayer = Replayer::create(options, &next);
  EXPECT_TRUE(replayer.is_ok()) << replayer.status().message();
  if (!replayer.is_ok()) return {};
  for (const Access& a : trace) EXPECT_TRUE((*replayer)->access(a).is_ok());
  return (*replayer)->results();
}

uint64_t hits(const std::vector<Access>& trace, SimPolicy policy, uint64_t size,
              SizeUnit by = SizeUnit::kEntries) {
  const auto results = replay(trace, {policy}, {size}, by);
  return results.empty() ? ~0ull : results[0].hits;
}

// A B C A D B E A B C D E  (A=1 ... E=5)
const std::vector<uint64_t> kTwelve = {1, 2, 3, 1, 4, 2, 5, 1, 2, 3, 4, 5};

TEST(ReplayByHand, Lru) {
  // Capacity 3: A B C | A hit [B C A] | D evicts B | B evicts C | E evicts A |
  // A evicts D | B hit [E A B] | C, D, E miss: 2 hits.
  EXPECT_EQ(hits(accesses(kTwelve), SimPolicy::kLru, 3), 2u);
  // Capacity 2: no key comes back within two distinct keys: 0 hits.
  EXPECT_EQ(hits(accesses(kTwelve), SimPolicy::kLru, 2), 0u);
  // Capacity 5 holds every key: 12 requests - 5 first sightings.
  EXPECT_EQ(hits(accesses(kTwelve), SimPolicy::kLru, 5), 7u);
  // A B A C A B at capacity 2: A hit, C evicts B (least recent, not A, which
  // FIFO would evict), A hit, B miss: 2 hits.
  EXPECT_EQ(hits(accesses({1, 2, 1, 3, 1, 2}), SimPolicy::kLru, 2), 2u);
}

TEST(ReplayByHand, Optimal) {
  // Capacity 3: next uses A0->3 B1->5 C2->9 A3->7 D4->10 B5->8 E6->11, the
  // rest never. D (next 10) and E (11) are needed later than all cached
  // (farthest 9): bypassed. Hits at 3, 5, 7, 8, 9.
  EXPECT_EQ(hits(accesses(kTwelve), SimPolicy::kOptimal, 3), 5u);
  // Capacity 2: C (next 9) is bypassed against {3, 5}; hits at 3, 5, 7, 8.
  EXPECT_EQ(hits(accesses(kTwelve), SimPolicy::kOptimal, 2), 4u);
  EXPECT_EQ(hits(accesses(kTwelve), SimPolicy::kOptimal, 5), 7u);
  // Capacity 1: 1 2 1 2 1 -- keep 1 (next 2) over 2 (next 3): hits at 2, 4.
  EXPECT_EQ(hits(accesses({1, 2, 1, 2, 1}), SimPolicy::kOptimal, 1), 2u);
}

TEST(ReplayByHand, OptimalIsNeverBeaten) {
  std::vector<uint64_t> keys;
  uint64_t x = 12345;
  for (int i = 0; i < 5000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    keys.push_back((x >> 33) % 300 < 200 ? (x >> 33) % 40 : (x >> 40) % 400);
  }
  for (uint64_t size : {8, 30, 100}) {
    const auto r =
        replay(accesses(keys), {SimPolicy::kLru, SimPolicy::kTinyLfu, SimPolicy::kOptimal}, {size});
    ASSERT_EQ(r.size(), 3u);
    EXPECT_LE(r[0].hits, r[2].hits) << size;
    EXPECT_LE(r[1].hits, r[2].hits) << size;
  }
}

TEST(ReplayByHand, OptimalByBytes) {
  // Charge = 160 bytes of entry overhead + size + the key ("sim\0u" + 1 digit
  // = 6 bytes): size 34 -> 200 bytes.
  ASSERT_EQ(charged_bytes(Access{.key = 1, .size = 34}), 200u);
  // 1 2 3 3 2 1, all 200 bytes, 400 bytes of cache: 3 (next 3) evicts 1
  // (next 5, the farthest); hits at 3 and 4; 1 misses at 5.
  EXPECT_EQ(hits(accesses({1, 2, 3, 3, 2, 1}, 34), SimPolicy::kOptimal, 400, SizeUnit::kBytes), 2u);
  // A 600-byte entry never fits 500 bytes; the small ones hit.
  std::vector<Access> trace = accesses({1, 2, 1, 2});
  trace[1].size = 434;  // 600 bytes
  trace[3].size = 434;
  EXPECT_EQ(hits(trace, SimPolicy::kOptimal, 500, SizeUnit::kBytes), 1u);
  // Room is made only from entries needed later than the new one: at 400
  // bytes, 1 (200) then 2 (300, next 4) finds only 1 (next 3) cached, which
  // is needed sooner: 2 is bypassed, 1 hits.
  std::vector<Access> mixed = accesses({1, 2, 3, 1, 2}, 34);
  mixed[1].size = 134;
  mixed[4].size = 134;
  EXPECT_EQ(hits(mixed, SimPolicy::kOptimal, 400, SizeUnit::kBytes), 1u);
}

TEST(ReplayByHand, BytesAndCostsAreCounted) {
  std::vector<Access> trace = {{.key = 1, .size = 10, .cost_ms = 100},
                               {.key = 2, .size = 20, .cost_ms = 300},
                               {.key = 1, .size = 10, .cost_ms = 100},
                               {.key = 1, .size = 10, .cost_ms = 100}};
  const auto r = replay(trace, {SimPolicy::kLru}, {2});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].requests, 4u);
  EXPECT_EQ(r[0].hits, 2u);
  EXPECT_EQ(r[0].bytes_requested, 50u);
  EXPECT_EQ(r[0].bytes_hit, 20u);
  EXPECT_DOUBLE_EQ(r[0].cost_ms_requested, 600);
  EXPECT_DOUBLE_EQ(r[0].cost_ms_saved, 200);
}

// The one-code-path contract: a tier lane is the memory tier, driven with
// the same keys and entries, and gives the same hits.
TEST(ReplayTierLanes, SameHitsAsTheMemoryTierItself) {
  std::vector<Access> trace;
  uint64_t x = 99;
  for (int i = 0; i < 20'000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    trace.push_back(Access{.key = (x >> 33) % 3000 < 1500 ? (x >> 33) % 150 : (x >> 41) % 5000});
  }
  for (EvictionPolicy policy : {EvictionPolicy::kLru, EvictionPolicy::kTinyLfu}) {
    for (uint64_t size : {100, 1000}) {
      MemoryTierOptions o;
      o.max_entries = size;
      o.max_bytes = 0;
      o.policy = policy;
      o.clock = std::make_shared<FakeClock>();
      auto tier = new_memory_tier(o);
      ASSERT_TRUE(tier.is_ok());
      uint64_t direct = 0;
      for (const Access& a : trace) {
        const CacheKey key = access_cache_key(a);
        if (*(*tier)->get(key) != nullptr) {
          ++direct;
        } else {
          ASSERT_TRUE((*tier)->put(key, make_entry(std::make_shared<const Bytes>(), 0, 0)).is_ok());
        }
      }
      const SimPolicy sim = policy == EvictionPolicy::kLru ? SimPolicy::kLru : SimPolicy::kTinyLfu;
      EXPECT_EQ(hits(trace, sim, size), direct) << sim_policy_name(sim) << " @" << size;
    }
  }
}

TEST(ReplayTierLanes, KeysAreTheGenericStoresKeys) {
  const CacheKey key = access_cache_key(Access{.key = 42});
  EXPECT_EQ(key.ns(), "sim");
  EXPECT_EQ(key.kind(), KeyKind::kUser);
  EXPECT_EQ(key.id(), "42");
  const CacheKey lane = access_cache_key(Access{.key = 42, .ns = "heavy"});
  EXPECT_EQ(lane.ns(), "heavy");
  EXPECT_NE(access_identity(Access{.key = 42, .ns = "heavy"}), 42u);
  EXPECT_EQ(access_identity(Access{.key = 42, .ns = "sim"}), 42u);
}

TEST(ReplayPolicies, NamesAndAvailability) {
  for (const char* name : {"lru", "tinylfu", "optimal"}) {
    Result<SimPolicy> p = parse_sim_policy(name);
    ASSERT_TRUE(p.is_ok()) << name;
    EXPECT_EQ(sim_policy_name(*p), name);
  }
  EXPECT_FALSE(tier_policy(SimPolicy::kOptimal).has_value());
  // "cost" parses exactly when the memory tier has the cost-aware policy.
  EXPECT_EQ(parse_sim_policy("cost").is_ok(), tier_policy(SimPolicy::kCost).has_value());
  Result<SimPolicy> bad = parse_sim_policy("arc");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(),
            "unknown policy 'arc' (expected lru, tinylfu, cost or optimal)");
}

TEST(ReplayPolicies, BadOptionsAreRefused) {
  ReplayOptions options;
  options.policies = {SimPolicy::kLru};
  options.sizes = {0};
  EXPECT_FALSE(Replayer::create(options, nullptr).is_ok());
  options.sizes = {10};
  options.policies = {SimPolicy::kOptimal};
  EXPECT_FALSE(Replayer::create(options, nullptr).is_ok());  // no next-use table
  options.policies = {SimPolicy::kLru};
  options.shards = 64;  // more shards than entries
  Result<std::unique_ptr<Replayer>> r = Replayer::create(options, nullptr);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message().rfind("lru at size 10: shards", 0), 0u) << r.status().message();
}

TEST(ReplayPolicies, ResultsAreOrderedByPolicyThenSize) {
  const auto r = replay(accesses(kTwelve), {SimPolicy::kOptimal, SimPolicy::kLru}, {5, 2, 3});
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].policy, SimPolicy::kOptimal);
  EXPECT_EQ(r[0].size, 2u);
  EXPECT_EQ(r[2].size, 5u);
  EXPECT_EQ(r[3].policy, SimPolicy::kLru);
}

// --- passes over a file ------------------------------------------------------------

TEST(ReplayPasses, ScanThenReplay) {
  TempDir dir;
  const std::string path =
      write_file(dir, "t.csv", "1,10,5\n2,10\n3\n1,10,5\n4\n5\n2\n1\n2\n3\n4\n5\n");
  Result<TraceScan> scan = scan_trace(path, TraceFormat::kAuto, true);
  ASSERT_TRUE(scan.is_ok()) << scan.status().message();
  EXPECT_EQ(scan->requests, 12u);
  EXPECT_EQ(scan->unique_keys, 5u);
  EXPECT_TRUE(scan->has_costs);
  ASSERT_EQ(scan->next_uses.size(), 12u);
  EXPECT_EQ(scan->next_uses[0], 3u);
  EXPECT_EQ(scan->next_uses[3], 7u);
  EXPECT_EQ(scan->next_uses[11], NextUses::kNever);
  ReplayOptions options;
  options.policies = {SimPolicy::kLru, SimPolicy::kOptimal};
  options.sizes = {3};
  Result<ReplayRun> run = replay_trace(path, scan->format, options, &scan->next_uses, true);
  ASSERT_TRUE(run.is_ok()) << run.status().message();
  EXPECT_EQ(run->requests, 12u);
  EXPECT_EQ(run->unique_keys, 5u);
  ASSERT_EQ(run->results.size(), 2u);
  // Keys 1 2 3 1 4 5 2 1 2 3 4 5. LRU(3): hits at 3 ([2 3 1]) and 8
  // ([5 1 2]) only. Optimal(3): 4 (next 10) and 5 (next 11) are bypassed
  // against {6, 7, 9}; hits at 3, 6, 7, 8, 9.
  EXPECT_EQ(run->results[0].policy, SimPolicy::kLru);
  EXPECT_EQ(run->results[0].hits, 2u);
  EXPECT_EQ(run->results[1].hits, 5u);
  // The LRU hits: "1,10,5" (10 bytes, 5 ms) and "2" (1 byte, no cost).
  EXPECT_EQ(run->results[0].bytes_hit, 11u);
  EXPECT_DOUBLE_EQ(run->results[0].cost_ms_saved, 5.0);
}

TEST(ReplayPasses, TraceThatChangedBetweenPassesIsAnError) {
  TempDir dir;
  const std::string path = write_file(dir, "k.txt", "1\n2\n1\n");
  Result<TraceScan> scan = scan_trace(path, TraceFormat::kKeys, true);
  ASSERT_TRUE(scan.is_ok());
  write_file(dir, "k.txt", "1\n2\n1\n2\n");
  ReplayOptions options;
  options.policies = {SimPolicy::kOptimal};
  options.sizes = {1};
  Result<ReplayRun> run = replay_trace(path, TraceFormat::kKeys, options, &scan->next_uses, false);
  ASSERT_FALSE(run.is_ok());
  EXPECT_NE(run.status().message().find("did the file change?"), std::string::npos);
}

TEST(KeyIndexTest, CountsAndRemembers) {
  KeyIndex index;
  for (uint64_t i = 0; i < 100'000; ++i) EXPECT_EQ(index.put(i * 3, i), KeyIndex::kAbsent);
  EXPECT_EQ(index.size(), 100'000u);
  EXPECT_EQ(index.put(3, 7), 1u);
  EXPECT_EQ(index.find(3), 7u);
  EXPECT_EQ(index.find(4), KeyIndex::kAbsent);
  EXPECT_EQ(index.put(~uint64_t{0}, 5), KeyIndex::kAbsent);  // any key, even all ones
  EXPECT_EQ(index.find(~uint64_t{0}), 5u);
}

}  // namespace
}  // namespace plancache::internal
