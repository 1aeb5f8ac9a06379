// Tier conformance: the behaviour every plancache::Tier must show, whatever
// stores it. One gtest TYPED_TEST suite, run once per factory of
// tier_factories.h (memory, disk, and the namespaced and write-behind
// decorators production wraps them in), as Caffeine runs its behaviour suites
// over every cache configuration. The tests are split by topic:
// tier_conformance_test.cc (reads, writes, expiry, invalidation, stats,
// concurrency) and tier_list_conformance_test.cc (list).
//
// The tests use only the Tier interface, a FakeClock for time, and compare
// entries by content (a remote tier returns copies, the memory tier the very
// object). Each step a test checks goes through tier(), which first settles
// the tier (Factory::settle: a write-behind tier's queue reaches the disk).
//
// The fixture lives in a named namespace, not an anonymous one: gtest
// requires one fixture type per suite across the suite's translation units.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conformance/tier_factories.h"
#include "plancache/clock.h"
#include "plancache/entry.h"
#include "plancache/tier.h"

namespace plancache::conformance {

inline constexpr int64_t kT0 = 1'790'000'000'000;

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

  // The tier, settled: every write accepted so far is visible.
  Tier* tier() {
    Factory::settle(*tier_);
    return tier_.get();
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
    Result<EntryPtr> r = tier()->get(key);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : nullptr;
  }
  uint64_t invalidate(const Selector& s) {
    Result<uint64_t> r = tier()->invalidate(s);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : 0;
  }
  // Checks a count returned by invalidate(): exact where the tier promises it.
  static void expect_count(uint64_t got, uint64_t want) {
    if (!Factory::kCountsInvalidated) return;  // only the effect is checked
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
    EXPECT_EQ(got->meta.priority, want->meta.priority);
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(kT0);
  std::unique_ptr<Tier> tier_;  // unsettled: for calls racing on purpose
};

class FactoryNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};
TYPED_TEST_SUITE(TierConformance, TierFactories, FactoryNames);

inline CacheKey plan(std::string_view ns, std::string_view id) {
  return CacheKey(ns, KeyKind::kPlan, id);
}
inline CacheKey user(std::string_view ns, std::string_view id) {
  return CacheKey(ns, KeyKind::kUser, id);
}

inline Selector by_tag(std::string tag) {
  Selector s;
  s.tag = std::move(tag);
  return s;
}
inline Selector by_ns(std::string ns) {
  Selector s;
  s.ns = std::move(ns);
  return s;
}

}  // namespace plancache::conformance
