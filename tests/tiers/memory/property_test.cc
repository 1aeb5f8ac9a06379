// Property tests: random operation sequences (seeded) against a reference
// model.
//
// The model is a std::map of what the tier must hold, driven by the
// operations and by the removal listener's events. Every event must name an
// entry the model holds (so each removal is reported exactly once) with a
// cause the operation allows; every get() must return exactly the model's
// live entry (the very object last put), never an expired one.
//   * Loose bounds (nothing can be evicted): the model predicts every result,
//     every event and every counter exactly.
//   * Tight bounds: evictions (cause kSize) may happen during a put; after
//     every operation the bounds, the counters and the tier's own index
//     invariants must hold.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/selector_match.h"
#include "test_util.h"

namespace plancache {
namespace {

using testing::Event;
using testing::EventLog;
using testing::make_memory_tier;
using testing::plan_key;
using testing::user_key;
using testing::value_of;

constexpr int64_t kT0 = 1'790'000'000'000;
const char* const kNamespaces[] = {"a", "b", "c"};
const char* const kTags[] = {"t0", "t1", "t2", "t3", "t4"};
constexpr int kKeys = 120;  // 3 namespaces x (20 plan + 20 user keys)

struct Held {
  CacheKey key;
  EntryPtr entry;
  uint64_t charge;
};

class Harness {
 public:
  Harness(MemoryTierOptions options, bool bounded, uint64_t seed)
      : bounded_(bounded), rng_(seed) {
    options.clock = clock_;
    options.removal_listener = log_.listener();
    max_entries_ = options.max_entries;
    max_bytes_ = options.max_bytes;
    tier_ = make_memory_tier(options);
  }

  void run(int steps) {
    for (step_ = 0; step_ < steps && !::testing::Test::HasFatalFailure(); ++step_) {
      const int op = static_cast<int>(rng_() % 100);
      if (op < 40) {
        do_put();
      } else if (op < 72) {
        do_get();
      } else if (op < 80) {
        do_erase();
      } else if (op < 85) {
        do_invalidate();
      } else if (op < 95) {
        clock_->advance_ms(static_cast<int64_t>(rng_() % 10));
      } else if (op < 98) {
        do_purge();
      } else if (op < 99 && !bounded_) {
        do_evict_fraction();
      }
      check_after_op();
    }
    // Final sweep: every key reads back as the model says.
    for (int i = 0; i < kKeys; ++i) check_get(key_of(i));
    // The sequence exercised what it is meant to.
    EXPECT_GT(hits_, 100u);
    EXPECT_GT(causes_[RemovalCause::kExpired], 50u);
    EXPECT_GT(causes_[RemovalCause::kInvalidated], 20u);
    EXPECT_GT(causes_[RemovalCause::kReplaced], 50u);
    EXPECT_GT(causes_[RemovalCause::kExplicit], 20u);
    if (bounded_) {
      EXPECT_GT(causes_[RemovalCause::kSize], 100u);
    } else {
      EXPECT_GT(invalidated_by_evict_, 10u);
    }
  }

 private:
  CacheKey key_of(int i) const {
    const char* ns = kNamespaces[i % 3];
    const int id = i / 3;
    if (id < 20) return plan_key(ns, static_cast<uint64_t>(id));
    return user_key(ns, (id % 2 ? "wf:step_" : "job:") + std::to_string(id));
  }
  CacheKey random_key() { return key_of(static_cast<int>(rng_() % kKeys)); }
  bool expired(const EntryPtr& e) const { return e->meta.expired_at(clock_->now_ms()); }
  std::string where() const { return "step " + std::to_string(step_); }

  // One removal event: it must name an entry the model holds, which it then
  // no longer holds (so a second report of the same removal fails).
  void check_event(const Event& e) {
    auto it = model_.find(e.key);
    const bool held = it != model_.end() && it->second.entry == e.entry;
    EXPECT_TRUE(held) << where() << ": removal of an entry that is not held (or reported twice),"
                      << " cause " << removal_cause_name(e.cause);
    if (e.cause == RemovalCause::kExpired) {
      EXPECT_TRUE(expired(e.entry)) << where();
    }
    ++causes_[e.cause];
    if (held) model_.erase(it);
  }

  // Takes and checks the events of the last operation.
  std::vector<Event> take_events() {
    std::vector<Event> events = log_.take();
    for (const Event& e : events) check_event(e);
    return events;
  }

  void do_put() {
    const CacheKey key = random_key();
    std::vector<std::string> tags;
    for (uint64_t n = rng_() % 3; n > 0; --n) tags.emplace_back(kTags[rng_() % 5]);
    const int64_t ttls[] = {0, 0, 5, 20, 100};
    const bool oversize = bounded_ && rng_() % 50 == 0;
    const size_t size = oversize ? max_bytes_ : 1 + rng_() % (bounded_ ? 1500 : 200);
    EntryPtr e = make_entry(value_of(size), clock_->now_ms(), ttls[rng_() % 5], 0, tags);
    auto old = model_.find(key.encoded());
    const bool had_old = old != model_.end();
    const EntryPtr old_entry = had_old ? old->second.entry : nullptr;
    const RemovalCause old_cause =
        had_old && expired(old_entry) ? RemovalCause::kExpired : RemovalCause::kReplaced;
    ++puts_;
    Status st = tier_->put(key, e);
    if (oversize) {
      EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << where();
    } else {
      EXPECT_TRUE(st.is_ok()) << where() << ": " << st.to_string();
    }
    // First the previous entry of the key, then (with the new entry held)
    // the evictions, which may include the new entry itself.
    std::vector<Event> events = log_.take();
    size_t old_seen = 0;
    for (const Event& ev : events) {
      if (ev.key != key.encoded() || ev.entry != old_entry) continue;
      ++old_seen;
      EXPECT_EQ(ev.cause, old_cause) << where();
      check_event(ev);
    }
    EXPECT_EQ(old_seen, had_old ? 1u : 0u) << where() << ": the replaced entry was not reported";
    if (st.is_ok()) {
      model_.insert_or_assign(key.encoded(), Held{key, e, e->charge() + key.encoded().size()});
      last_put_.insert_or_assign(key.encoded(), e);
    }
    for (const Event& ev : events) {
      if (ev.key == key.encoded() && ev.entry == old_entry) continue;
      EXPECT_TRUE(bounded_ && ev.cause == RemovalCause::kSize)
          << where() << ": unexpected removal during put, cause " << removal_cause_name(ev.cause);
      check_event(ev);
    }
  }

  void check_get(const CacheKey& key) {
    auto it = model_.find(key.encoded());
    const bool live = it != model_.end() && !expired(it->second.entry);
    Result<EntryPtr> got = tier_->get(key);
    ASSERT_TRUE(got.is_ok());
    live ? ++hits_ : ++misses_;
    if (live) {
      EXPECT_EQ(got->get(), it->second.entry.get()) << where() << ": wrong entry";
      EXPECT_EQ(got->get(), last_put_.at(key.encoded()).get()) << where();
    } else {
      EXPECT_EQ(*got, nullptr) << where() << ": served an absent or expired entry";
    }
    std::vector<Event> events = take_events();
    const bool expect_expiry = it != model_.end() && !live;
    EXPECT_EQ(events.size(), expect_expiry ? 1u : 0u) << where();
    for (const Event& ev : events) EXPECT_EQ(ev.cause, RemovalCause::kExpired) << where();
  }

  void do_get() { check_get(random_key()); }

  void do_erase() {
    const CacheKey key = random_key();
    auto it = model_.find(key.encoded());
    const bool held = it != model_.end();
    const bool live = held && !expired(it->second.entry);
    EXPECT_EQ(*tier_->erase(key), live) << where();
    std::vector<Event> events = take_events();
    ASSERT_EQ(events.size(), held ? 1u : 0u) << where();
    if (held) {
      EXPECT_EQ(events[0].cause, live ? RemovalCause::kExplicit : RemovalCause::kExpired);
    }
  }

  Selector random_selector() {
    Selector s;
    switch (rng_() % 6) {
      case 0: s.tag = kTags[rng_() % 5]; break;
      case 1: s.ns = kNamespaces[rng_() % 3]; break;
      case 2: s.prefix = rng_() % 2 ? "wf:" : "job:1"; break;
      case 3: s.pattern = rng_() % 2 ? "*step_?3" : "job:[12]*"; break;
      case 4: s.created_before_ms = clock_->now_ms() - static_cast<int64_t>(rng_() % 200); break;
      default:  // everything, now and then
        if (rng_() % 4 != 0) s.tag = kTags[rng_() % 5];
        break;
    }
    if (rng_() % 3 == 0) s.ns = kNamespaces[rng_() % 3];
    return s;
  }

  void do_invalidate() {
    const Selector s = random_selector();
    uint64_t live = 0;
    std::map<std::string, RemovalCause> expected;
    for (const auto& [k, held] : model_) {
      if (!internal::selector_matches(s, held.key, held.entry->meta)) continue;
      const bool is_live = !expired(held.entry);
      live += is_live;
      expected[k] = is_live ? RemovalCause::kInvalidated : RemovalCause::kExpired;
    }
    EXPECT_EQ(*tier_->invalidate(s), live) << where();
    std::vector<Event> events = take_events();
    EXPECT_EQ(events.size(), expected.size()) << where();
    for (const Event& ev : events) EXPECT_EQ(ev.cause, expected[ev.key]) << where();
  }

  void do_purge() {
    uint64_t due = 0;
    for (const auto& [k, held] : model_) due += expired(held.entry);
    EXPECT_EQ(tier_->purge_expired(), due) << where();
    std::vector<Event> events = take_events();
    EXPECT_EQ(events.size(), due) << where();
  }

  void do_evict_fraction() {
    const double fractions[] = {0.1, 0.3, 0.5};
    const double f = fractions[rng_() % 3];
    std::map<std::string, uint64_t> per_ns, expected;
    for (const auto& [k, held] : model_) ++per_ns[std::string(held.key.ns())];
    uint64_t total = 0;
    for (const auto& [ns, n] : per_ns) {
      expected[ns] = static_cast<uint64_t>(std::llround(f * static_cast<double>(n)));
      total += expected[ns];
    }
    EXPECT_EQ(*tier_->evict_fraction(f), total) << where();
    std::map<std::string, uint64_t> seen;
    for (const Event& ev : take_events()) {
      EXPECT_EQ(ev.cause, RemovalCause::kInvalidated) << where();
      CacheKey decoded("x", KeyKind::kPlan, "x");
      ASSERT_TRUE(CacheKey::decode(ev.key, &decoded));
      ++seen[std::string(decoded.ns())];
    }
    for (const auto& [ns, n] : expected) EXPECT_EQ(seen[ns], n) << where() << " ns " << ns;
    invalidated_by_evict_ += total;
  }

  void check_after_op() {
    ASSERT_EQ(tier_->check_invariants(), "") << where();
    const TierStats s = tier_->stats();
    uint64_t bytes = 0;
    for (const auto& [k, held] : model_) bytes += held.charge;
    ASSERT_EQ(s.entries, model_.size()) << where();
    ASSERT_EQ(s.bytes, bytes) << where();
    if (max_entries_ != 0) {
      ASSERT_LE(s.entries, max_entries_) << where();
    }
    if (max_bytes_ != 0) {
      ASSERT_LE(s.bytes, max_bytes_) << where();
    }
    EXPECT_EQ(s.hits, hits_) << where();
    EXPECT_EQ(s.misses, misses_) << where();
    EXPECT_EQ(s.puts, puts_) << where();
    EXPECT_EQ(s.evictions, causes_[RemovalCause::kSize]) << where();
    EXPECT_EQ(s.expirations, causes_[RemovalCause::kExpired]) << where();
    EXPECT_EQ(s.invalidations, causes_[RemovalCause::kInvalidated]) << where();
    if (!bounded_) {
      EXPECT_EQ(s.evictions, 0u) << where();
    }
    uint64_t ns_entries = 0;
    for (const auto& [ns, c] : s.namespaces) ns_entries += c.entries;
    EXPECT_EQ(ns_entries, model_.size()) << where();
  }

  bool bounded_;
  std::mt19937_64 rng_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(kT0);
  EventLog log_;
  std::unique_ptr<internal::MemoryTier> tier_;
  uint64_t max_entries_ = 0;
  uint64_t max_bytes_ = 0;
  std::map<std::string, Held> model_;  // by CacheKey::encoded()
  std::map<std::string, EntryPtr> last_put_;
  std::map<RemovalCause, uint64_t> causes_;
  uint64_t hits_ = 0, misses_ = 0, puts_ = 0, invalidated_by_evict_ = 0;
  int step_ = 0;
};

struct Config {
  EvictionPolicy policy;
  uint32_t shards;
};

class PropertyTest : public ::testing::TestWithParam<Config> {};

TEST_P(PropertyTest, LooseBoundsMatchTheModelExactly) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    MemoryTierOptions o;
    o.policy = GetParam().policy;
    o.shards = GetParam().shards;
    o.max_entries = 10'000;
    o.max_bytes = 64 << 20;
    Harness h(o, /*bounded=*/false, seed);
    h.run(4000);
    if (HasFatalFailure()) return;
  }
}

TEST_P(PropertyTest, TightBoundsKeepTheInvariants) {
  for (uint64_t seed = 11; seed <= 14; ++seed) {
    MemoryTierOptions o;
    o.policy = GetParam().policy;
    o.shards = GetParam().shards;
    o.max_entries = 48;
    o.max_bytes = 24 * 1024;
    Harness h(o, /*bounded=*/true, seed);
    h.run(4000);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, PropertyTest,
                         ::testing::Values(Config{EvictionPolicy::kTinyLfu, 1},
                                           Config{EvictionPolicy::kTinyLfu, 4},
                                           Config{EvictionPolicy::kLru, 1},
                                           Config{EvictionPolicy::kLru, 4},
                                           Config{EvictionPolicy::kCost, 1},
                                           Config{EvictionPolicy::kCost, 4}),
                         [](const auto& param_info) {
                           const EvictionPolicy p = param_info.param.policy;
                           return std::string(p == EvictionPolicy::kLru    ? "Lru"
                                              : p == EvictionPolicy::kCost ? "Cost"
                                                                           : "TinyLfu") +
                                  std::to_string(param_info.param.shards) + "Shards";
                         });

}  // namespace
}  // namespace plancache
