// Tier conformance: the behaviour every plancache::Tier must show, whatever
// stores it (memory today; RocksDB and Redis slot in later). One gtest
// TYPED_TEST suite, run once per tier factory, as Caffeine runs its
// behaviour suites over every cache configuration.
//
// Adding a tier: write a factory struct like MemoryTierFactory below (name,
// capability flags, make()) and add it to the TierFactories type list. A
// factory whose backing service is unavailable (e.g. no redis-server) returns
// `unavailable` from make(), and the suite skips for it.
//
// The tests use only the Tier interface, a FakeClock for time, and compare
// entries by content (a remote tier returns copies, the memory tier the very
// object).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "plancache/clock.h"
#include "plancache/disk_tier.h"
#include "plancache/entry.h"
#include "plancache/memory_tier.h"
#include "plancache/tier.h"

namespace plancache {
namespace {

constexpr int64_t kT0 = 1'790'000'000'000;

// --- factories -------------------------------------------------------------------

struct MemoryTierFactory {
  static constexpr const char* kName = "memory";
  // invalidate() returns exact counts (not an estimate).
  static constexpr bool kExactCounts = true;
  // Expiry is judged against the Clock passed to make() (so a FakeClock can
  // drive it).
  static constexpr bool kClockDrivenExpiry = true;

  static Result<std::unique_ptr<Tier>> make(std::shared_ptr<Clock> clock) {
    MemoryTierOptions o;
    o.clock = std::move(clock);
    o.kept_namespaces = {"kept"};
    return new_memory_tier(std::move(o));
  }
};

// The disk tier (RocksDB): one fresh store per test, in a directory under
// /tmp that is removed at exit (after every test has closed its tier).
struct DiskTierFactory {
  static constexpr const char* kName = "disk";
  static constexpr bool kExactCounts = true;
  static constexpr bool kClockDrivenExpiry = true;

  static Result<std::unique_ptr<Tier>> make(std::shared_ptr<Clock> clock) {
    struct Root {
      std::string path = std::filesystem::temp_directory_path() /
                         ("plancache-conformance-" + std::to_string(::getpid()));
      ~Root() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
      }
    };
    static Root root;
    static std::atomic<int> next{0};
    DiskTierOptions o;
    o.path = root.path + "/" + std::to_string(next++);
    o.clock = std::move(clock);
    o.kept_namespaces = {"kept"};
    return new_disk_tier(std::move(o));
  }
};

// --- the suite --------------------------------------------------------------------

template <typename Factory>
class TierConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Tier>> made = Factory::make(clock_);
    if (!made.is_ok() && made.status().code() == StatusCode::kUnavailable) {
      GTEST_SKIP() << Factory::kName << " tier unavailable: " << made.status().to_string();
    }
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    tier_ = std::move(made.value());
  }

  EntryPtr entry(std::string value, int64_t ttl_ms = 0, std::vector<std::string> tags = {}) {
    return make_entry(std::make_shared<const Bytes>(std::move(value)), clock_->now_ms(), ttl_ms,
                      /*compute_ms=*/12, std::move(tags));
  }
  void put(const CacheKey& key, const EntryPtr& e) {
    Status st = tier_->put(key, e);
    ASSERT_TRUE(st.is_ok()) << st.to_string();
  }
  EntryPtr get(const CacheKey& key) {
    Result<EntryPtr> r = tier_->get(key);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : nullptr;
  }
  uint64_t invalidate(const Selector& s) {
    Result<uint64_t> r = tier_->invalidate(s);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : 0;
  }
  // Checks a count returned by invalidate(): exact where the tier promises it.
  static void expect_count(uint64_t got, uint64_t want) {
    if (Factory::kExactCounts) {
      EXPECT_EQ(got, want);
    } else {
      EXPECT_GE(got, want);
    }
  }
  static void expect_same(const EntryPtr& got, const EntryPtr& want) {
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(*got->value, *want->value);
    EXPECT_EQ(got->meta.created_ms, want->meta.created_ms);
    EXPECT_EQ(got->meta.expires_ms, want->meta.expires_ms);
    EXPECT_EQ(got->meta.compute_ms, want->meta.compute_ms);
    EXPECT_EQ(got->meta.tags, want->meta.tags);
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(kT0);
  std::unique_ptr<Tier> tier_;
};

using TierFactories = ::testing::Types<MemoryTierFactory, DiskTierFactory>;

class FactoryNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};
TYPED_TEST_SUITE(TierConformance, TierFactories, FactoryNames);

CacheKey plan(std::string_view ns, std::string_view id) { return CacheKey(ns, KeyKind::kPlan, id); }
CacheKey user(std::string_view ns, std::string_view id) { return CacheKey(ns, KeyKind::kUser, id); }

Selector by_tag(std::string tag) {
  Selector s;
  s.tag = std::move(tag);
  return s;
}
Selector by_ns(std::string ns) {
  Selector s;
  s.ns = std::move(ns);
  return s;
}

TYPED_TEST(TierConformance, HasAName) { EXPECT_FALSE(this->tier_->name().empty()); }

TYPED_TEST(TierConformance, MissPutHit) {
  const CacheKey k = plan("docs", "a1b2c3");
  EXPECT_EQ(this->get(k), nullptr);
  const EntryPtr e = this->entry(R"({"steps":["plan","act"]})", 60'000, {"team:x"});
  this->put(k, e);
  this->expect_same(this->get(k), e);
}

TYPED_TEST(TierConformance, PutReplaces) {
  const CacheKey k = user("wf", "workflow:standard:step_5");
  this->put(k, this->entry("\"first\""));
  const EntryPtr second = this->entry("\"second\"");
  this->put(k, second);
  this->expect_same(this->get(k), second);
}

TYPED_TEST(TierConformance, EraseSaysWhetherTheKeyWasThere) {
  const CacheKey k = plan("docs", "k");
  EXPECT_FALSE(*this->tier_->erase(k));
  this->put(k, this->entry("1"));
  EXPECT_TRUE(*this->tier_->erase(k));
  EXPECT_EQ(this->get(k), nullptr);
  EXPECT_FALSE(*this->tier_->erase(k));
}

TYPED_TEST(TierConformance, NamespaceKindAndIdAllTellKeysApart) {
  this->put(plan("a", "x"), this->entry("1"));
  this->put(plan("b", "x"), this->entry("2"));
  this->put(user("a", "x"), this->entry("3"));
  EXPECT_EQ(*this->get(plan("a", "x"))->value, "1");
  EXPECT_EQ(*this->get(plan("b", "x"))->value, "2");
  EXPECT_EQ(*this->get(user("a", "x"))->value, "3");
  EXPECT_EQ(this->get(plan("a", "y")), nullptr);
}

TYPED_TEST(TierConformance, BigValuesRoundTrip) {
  const CacheKey k = plan("heavy", "big");
  const EntryPtr e = this->entry(std::string(1 << 20, 'z'));
  this->put(k, e);
  this->expect_same(this->get(k), e);
}

TYPED_TEST(TierConformance, TtlExpiresOnTheClock) {
  if (!TypeParam::kClockDrivenExpiry) GTEST_SKIP() << "expiry not driven by the given clock";
  const CacheKey k = plan("docs", "ttl");
  const CacheKey forever = plan("docs", "forever");
  this->put(k, this->entry("1", /*ttl_ms=*/1000));
  this->put(forever, this->entry("2", 0));
  this->clock_->advance_ms(999);
  EXPECT_NE(this->get(k), nullptr);
  this->clock_->advance_ms(1);
  EXPECT_EQ(this->get(k), nullptr);
  EXPECT_NE(this->get(forever), nullptr);
  // Expired entries are not removed by erase / invalidate either: they are gone.
  this->put(k, this->entry("3", 10));
  this->clock_->advance_ms(10);
  EXPECT_FALSE(*this->tier_->erase(k));
  this->put(k, this->entry("4", 10));
  this->clock_->advance_ms(10);
  this->expect_count(this->invalidate(by_ns("docs")), 1);  // only `forever`
  (void)this->tier_->purge_expired();
  EXPECT_EQ(this->get(forever), nullptr);
}

TYPED_TEST(TierConformance, PurgeExpiredRemovesOnlyExpired) {
  if (!TypeParam::kClockDrivenExpiry) GTEST_SKIP() << "expiry not driven by the given clock";
  for (int i = 0; i < 10; ++i) {
    this->put(plan("ns", "e" + std::to_string(i)), this->entry("x", i < 6 ? 100 : 0));
  }
  this->clock_->advance_ms(100);
  this->expect_count(this->tier_->purge_expired(), 6);
  EXPECT_NE(this->get(plan("ns", "e7")), nullptr);
  EXPECT_EQ(this->get(plan("ns", "e2")), nullptr);
}

TYPED_TEST(TierConformance, InvalidateByTag) {
  this->put(plan("a", "1"), this->entry("1", 0, {"red", "blue"}));
  this->put(plan("a", "2"), this->entry("2", 0, {"blue"}));
  this->put(plan("b", "3"), this->entry("3", 0, {"red"}));
  this->expect_count(this->invalidate(by_tag("red")), 2);
  EXPECT_EQ(this->get(plan("a", "1")), nullptr);
  EXPECT_EQ(this->get(plan("b", "3")), nullptr);
  EXPECT_NE(this->get(plan("a", "2")), nullptr);
  EXPECT_EQ(this->invalidate(by_tag("red")), 0u);
}

TYPED_TEST(TierConformance, InvalidateByTagNarrowedByNamespace) {
  this->put(plan("a", "1"), this->entry("1", 0, {"t"}));
  this->put(plan("b", "1"), this->entry("2", 0, {"t"}));
  Selector s = by_tag("t");
  s.ns = "a";
  this->expect_count(this->invalidate(s), 1);
  EXPECT_NE(this->get(plan("b", "1")), nullptr);
}

TYPED_TEST(TierConformance, InvalidateByNamespace) {
  for (int i = 0; i < 5; ++i) this->put(plan("a", std::to_string(i)), this->entry("x"));
  this->put(user("b", "k"), this->entry("y"));
  this->expect_count(this->invalidate(by_ns("a")), 5);
  EXPECT_EQ(this->get(plan("a", "3")), nullptr);
  EXPECT_NE(this->get(user("b", "k")), nullptr);
}

TYPED_TEST(TierConformance, PrefixMatchesUserKeysOnly) {
  this->put(user("wf", "workflow:standard:step_1"), this->entry("1"));
  this->put(user("wf", "workflow:standard:step_2"), this->entry("2"));
  this->put(user("wf", "workflow:heavy:step_1"), this->entry("3"));
  this->put(plan("wf", "workflow:standard:step_3"), this->entry("4"));  // kPlan: never
  Selector s;
  s.prefix = "workflow:standard:";
  this->expect_count(this->invalidate(s), 2);
  EXPECT_EQ(this->get(user("wf", "workflow:standard:step_2")), nullptr);
  EXPECT_NE(this->get(user("wf", "workflow:heavy:step_1")), nullptr);
  EXPECT_NE(this->get(plan("wf", "workflow:standard:step_3")), nullptr);
}

TYPED_TEST(TierConformance, PatternMatchesUserKeysOnly) {
  this->put(user("wf", "workflow:standard:step_1"), this->entry("1"));
  this->put(user("wf", "workflow:heavy:step_1"), this->entry("2"));
  this->put(user("wf", "workflow:heavy:step_22"), this->entry("3"));
  this->put(plan("wf", "workflow:heavy:step_1"), this->entry("4"));
  Selector s;
  s.pattern = "workflow:*:step_?";
  this->expect_count(this->invalidate(s), 2);
  EXPECT_NE(this->get(user("wf", "workflow:heavy:step_22")), nullptr);
  EXPECT_NE(this->get(plan("wf", "workflow:heavy:step_1")), nullptr);
}

TYPED_TEST(TierConformance, InvalidateOlderThan) {
  this->put(plan("a", "old"), this->entry("1"));
  this->clock_->advance_ms(5000);
  this->put(plan("a", "new"), this->entry("2"));
  Selector s;
  s.created_before_ms = kT0 + 5000;
  this->expect_count(this->invalidate(s), 1);
  EXPECT_EQ(this->get(plan("a", "old")), nullptr);
  EXPECT_NE(this->get(plan("a", "new")), nullptr);
}

TYPED_TEST(TierConformance, EmptySelectorRemovesEverything) {
  for (int i = 0; i < 20; ++i) {
    this->put(plan(i % 2 ? "a" : "b", std::to_string(i)), this->entry("x", 0, {"t"}));
  }
  this->expect_count(this->invalidate(Selector{}), 20);
  EXPECT_EQ(this->get(plan("a", "1")), nullptr);
  EXPECT_EQ(this->tier_->stats().entries, 0u);
}

TYPED_TEST(TierConformance, MalformedSelectorsAreRejected) {
  Selector empty_tag;
  empty_tag.tag = "";
  EXPECT_EQ(this->tier_->invalidate(empty_tag).status().code(), StatusCode::kInvalidArgument);
  Selector bad_pattern;
  bad_pattern.pattern = "step_[1";
  EXPECT_EQ(this->tier_->invalidate(bad_pattern).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(TierConformance, StatsCountReadsAndWrites) {
  for (int i = 0; i < 3; ++i) this->put(plan("s", std::to_string(i)), this->entry("x"));
  (void)this->get(plan("s", "0"));
  (void)this->get(plan("s", "1"));
  (void)this->get(plan("s", "9"));
  const TierStats st = this->tier_->stats();
  EXPECT_EQ(st.name, this->tier_->name());
  EXPECT_EQ(st.hits, 2u);
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.puts, 3u);
  EXPECT_EQ(st.entries, 3u);
  EXPECT_GT(st.bytes, 0u);
  EXPECT_EQ(st.errors, 0u);
  EXPECT_TRUE(st.connected);
  ASSERT_EQ(st.namespaces.count("s"), 1u);
  EXPECT_EQ(st.namespaces.at("s").hits, 2u);
  EXPECT_EQ(st.namespaces.at("s").misses, 1u);
  EXPECT_EQ(st.namespaces.at("s").entries, 3u);
  (void)*this->tier_->erase(plan("s", "0"));
  EXPECT_EQ(this->tier_->stats().entries, 2u);
}

// A namespace has counters while it holds entries (whatever emptied it:
// erase, invalidate, expiry), so names a client invents cost nothing once
// their entries are gone; a kept namespace (the factories keep "kept")
// keeps its counters, and only it gets a row for a miss while empty.
TYPED_TEST(TierConformance, AnEmptiedNamespaceLeavesNoCounters) {
  for (const char* ns : {"gone", "kept", "stay"}) this->put(plan(ns, "a"), this->entry("x"));
  this->put(plan("gone", "b"), this->entry("x", /*ttl_ms=*/1000));
  EXPECT_NE(this->get(plan("gone", "a")), nullptr);
  EXPECT_NE(this->get(plan("kept", "a")), nullptr);
  EXPECT_EQ(this->get(plan("never", "a")), nullptr);
  EXPECT_EQ(this->get(plan("kept", "nope")), nullptr);
  TierStats st = this->tier_->stats();
  EXPECT_EQ(st.misses, 2u);
  EXPECT_EQ(st.namespaces.count("never"), 0u) << "a miss in an empty namespace adds no row";
  EXPECT_EQ(st.namespaces.at("gone").hits, 1u);
  EXPECT_EQ(*this->tier_->erase(plan("gone", "a")), true);
  this->clock_->advance_ms(1000);
  EXPECT_EQ(this->tier_->purge_expired(), 1u);
  this->expect_count(this->invalidate(by_ns("kept")), 1);
  st = this->tier_->stats();
  EXPECT_EQ(st.namespaces.count("gone"), 0u) << "emptied by erase and expiry";
  ASSERT_EQ(st.namespaces.count("kept"), 1u);
  EXPECT_EQ(st.namespaces.at("kept").entries, 0u);
  EXPECT_EQ(st.namespaces.at("kept").hits, 1u);
  EXPECT_EQ(st.namespaces.at("kept").misses, 1u);
  EXPECT_EQ(st.namespaces.at("stay").entries, 1u);
  this->invalidate(Selector{});
  st = this->tier_->stats();
  EXPECT_EQ(st.namespaces.count("stay"), 0u) << "emptied by invalidating everything";
  EXPECT_EQ(st.entries, 0u);
}

TYPED_TEST(TierConformance, EvictFractionValidatesItsArgument) {
  EXPECT_EQ(this->tier_->evict_fraction(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->tier_->evict_fraction(1.01).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(TierConformance, ConcurrentPutsAndGetsSeeWholeEntries) {
  // 4 threads over 64 shared keys; every value names its key, so a torn or
  // crossed entry shows as a mismatch.
  constexpr int kThreads = 4, kOps = 3000, kKeys = 64;
  std::atomic<int> bad{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        const std::string id = "k" + std::to_string((i * 7 + t * 13) % kKeys);
        const CacheKey k = user("c", id);
        if ((i + t) % 3 == 0) {
          Status st = this->tier_->put(k, this->entry(id + "#" + std::to_string(t)));
          if (!st.is_ok()) errors.fetch_add(1);
        } else {
          Result<EntryPtr> r = this->tier_->get(k);
          if (!r.is_ok()) {
            errors.fetch_add(1);
          } else if (*r != nullptr && (*r)->value->rfind(id + "#", 0) != 0) {
            bad.fetch_add(1);
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(errors.load(), 0);
  const TierStats st = this->tier_->stats();
  EXPECT_EQ(st.hits + st.misses, static_cast<uint64_t>(kThreads * kOps * 2 / 3));
}

// --- list ------------------------------------------------------------------------

std::vector<std::string> listed_ids(const Result<std::vector<ListedEntry>>& rows) {
  std::vector<std::string> ids;
  if (!rows.is_ok()) return {"error: " + rows.status().to_string()};
  for (const ListedEntry& row : *rows)
    ids.push_back(std::string(row.key.ns()) + "/" + static_cast<char>(row.key.kind()) +
                  std::string(row.key.id()));
  return ids;
}

TYPED_TEST(TierConformance, ListIsInKeyOrderWithTheEntriesMetadata) {
  this->put(user("a", "zeta"), this->entry("\"z\"", 0, {"t2", "t1"}));
  this->put(user("a", "alpha"), this->entry("[1,2,3]", 60'000));
  this->put(plan("a", "ff00"), this->entry("{}"));
  this->put(user("b", "other"), this->entry("1"));
  const Result<std::vector<ListedEntry>> rows = this->tier_->list(by_ns("a"), 100);
  // Plans ('p') sort before user keys ('u') of the same namespace.
  EXPECT_EQ(listed_ids(rows), (std::vector<std::string>{"a/pff00", "a/ualpha", "a/uzeta"}));
  ASSERT_TRUE(rows.is_ok());
  const ListedEntry& alpha = (*rows)[1];
  EXPECT_EQ(alpha.created_ms, kT0);
  EXPECT_EQ(alpha.expires_ms, kT0 + 60'000);
  EXPECT_EQ(alpha.value_bytes, 7u);
  EXPECT_TRUE(alpha.tags.empty());
  const ListedEntry& zeta = (*rows)[2];
  EXPECT_EQ(zeta.expires_ms, 0);
  EXPECT_EQ(zeta.tags, (std::vector<std::string>{"t2", "t1"}));
  EXPECT_EQ(listed_ids(this->tier_->list(Selector{}, 100)),
            (std::vector<std::string>{"a/pff00", "a/ualpha", "a/uzeta", "b/uother"}));
}

TYPED_TEST(TierConformance, ListReturnsTheFirstLimitKeys) {
  for (const char* id : {"k5", "k1", "k4", "k2", "k3"}) this->put(user("n", id), this->entry("1"));
  for (const char* id : {"k9", "k0"}) this->put(user("m", id), this->entry("1"));
  EXPECT_EQ(listed_ids(this->tier_->list(by_ns("n"), 2)),
            (std::vector<std::string>{"n/uk1", "n/uk2"}));
  EXPECT_EQ(listed_ids(this->tier_->list(Selector{}, 3)),
            (std::vector<std::string>{"m/uk0", "m/uk9", "n/uk1"}));
  EXPECT_TRUE(this->tier_->list(by_ns("n"), 0)->empty());
  EXPECT_TRUE(this->tier_->list(by_ns("nothing-here"), 10)->empty());
}

TYPED_TEST(TierConformance, ListSkipsExpiredEntriesAndRemovesNothing) {
  if (!TypeParam::kClockDrivenExpiry) GTEST_SKIP() << "expiry not driven by the given clock";
  this->put(user("n", "short"), this->entry("1", 1000));
  this->put(user("n", "long"), this->entry("2", 5000));
  this->clock_->advance_ms(1000);
  EXPECT_EQ(listed_ids(this->tier_->list(by_ns("n"), 10)), (std::vector<std::string>{"n/ulong"}));
  EXPECT_EQ(this->tier_->stats().entries, 2u);  // the expired one is left to get / purge
  this->clock_->advance_ms(4000);
  EXPECT_TRUE(this->tier_->list(by_ns("n"), 10)->empty());
}

TYPED_TEST(TierConformance, ListSelectsLikeInvalidate) {
  this->put(user("wf", "workflow:a:1"), this->entry("1", 0, {"red"}));
  this->put(user("wf", "workflow:b:1"), this->entry("2", 0, {"blue"}));
  this->put(user("wf", "workflow:a:22"), this->entry("3"));
  this->put(plan("wf", "workflow:a:3"), this->entry("4", 0, {"red"}));
  this->clock_->advance_ms(10);
  this->put(user("xx", "workflow:a:1"), this->entry("5", 0, {"red"}));
  Selector prefix = by_ns("wf");
  prefix.prefix = "workflow:a:";
  EXPECT_EQ(listed_ids(this->tier_->list(prefix, 10)),
            (std::vector<std::string>{"wf/uworkflow:a:1", "wf/uworkflow:a:22"}));
  Selector pattern;
  pattern.pattern = "workflow:?:1";
  EXPECT_EQ(listed_ids(this->tier_->list(pattern, 10)),
            (std::vector<std::string>{"wf/uworkflow:a:1", "wf/uworkflow:b:1", "xx/uworkflow:a:1"}));
  // A tag across namespaces (plans included), then cut to the first two.
  EXPECT_EQ(listed_ids(this->tier_->list(by_tag("red"), 10)),
            (std::vector<std::string>{"wf/pworkflow:a:3", "wf/uworkflow:a:1", "xx/uworkflow:a:1"}));
  EXPECT_EQ(listed_ids(this->tier_->list(by_tag("red"), 2)),
            (std::vector<std::string>{"wf/pworkflow:a:3", "wf/uworkflow:a:1"}));
  Selector red_in_xx = by_tag("red");
  red_in_xx.ns = "xx";
  EXPECT_EQ(listed_ids(this->tier_->list(red_in_xx, 10)),
            (std::vector<std::string>{"xx/uworkflow:a:1"}));
  Selector old;
  old.created_before_ms = kT0 + 10;
  EXPECT_EQ(this->tier_->list(old, 10)->size(), 4u);
  Selector bad;
  bad.pattern = "step_[1";
  EXPECT_EQ(this->tier_->list(bad, 10).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(TierConformance, ListReportsTheUncompressedValueSize) {
  this->put(plan("heavy", "big"), this->entry(std::string(1 << 20, 'z')));
  const Result<std::vector<ListedEntry>> rows = this->tier_->list(by_ns("heavy"), 10);
  ASSERT_TRUE(rows.is_ok()) << rows.status().to_string();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].value_bytes, 1u << 20);
}

}  // namespace
}  // namespace plancache
