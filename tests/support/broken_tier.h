// Test double: a Tier whose operations fail on demand, returning
// `unavailable` -- an unreachable shared tier, a disk that refuses writes, a
// lane whose store broke. Built without an inner tier it fails everything
// (and reports itself disconnected); built around a real tier it forwards to
// it, failing only the operations switched on with fail().
//
// Thread-safety: fully thread-safe (the failing set and the count are
// atomics; the inner tier is thread-safe).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "plancache/tier.h"

namespace plancache::testing {

class BrokenTier final : public Tier {
 public:
  // The operations that can be made to fail (a bit set).
  enum Op : unsigned {
    kGet = 1u << 0,
    kPut = 1u << 1,
    kErase = 1u << 2,
    kInvalidate = 1u << 3,
    kEvict = 1u << 4,
    kList = 1u << 5,
    kAll = (1u << 6) - 1,
  };

  // Fails every operation, from the start.
  explicit BrokenTier(TierKind kind = TierKind::kShared, std::string name = "broken")
      : kind_(kind), name_(std::move(name)), failing_(kAll) {}
  // Forwards to `inner`; fails nothing until fail().
  explicit BrokenTier(std::unique_ptr<Tier> inner)
      : kind_(inner->kind()), name_(inner->name()), inner_(std::move(inner)), failing_(0) {}

  // `ops` fail from now on (replacing the previous set); fail(0) heals.
  void fail(unsigned ops) { failing_.store(ops); }
  // Calls that failed so far (also reported as TierStats::errors).
  uint64_t failures() const { return failures_.load(); }

  TierKind kind() const override { return kind_; }
  std::string_view name() const override { return name_; }
  Result<EntryPtr> get(const CacheKey& k) override {
    if (failing(kGet)) return refuse();
    return inner_->get(k);
  }
  Status put(const CacheKey& k, EntryPtr e) override {
    if (failing(kPut)) return refuse();
    return inner_->put(k, std::move(e));
  }
  Result<bool> erase(const CacheKey& k) override {
    if (failing(kErase)) return refuse();
    return inner_->erase(k);
  }
  Result<uint64_t> invalidate(const Selector& s) override {
    if (failing(kInvalidate)) return refuse();
    return inner_->invalidate(s);
  }
  Result<uint64_t> evict_fraction(double fraction) override {
    if (failing(kEvict)) return refuse();
    return inner_->evict_fraction(fraction);
  }
  uint64_t purge_expired() override { return inner_ ? inner_->purge_expired() : 0; }
  Result<std::vector<ListedEntry>> list(const Selector& s, size_t limit) override {
    if (failing(kList)) return refuse();
    return inner_->list(s, limit);
  }
  TierStats stats() const override {
    TierStats s;
    if (inner_) {
      s = inner_->stats();
    } else {
      s.name = name_;
      s.connected = false;
    }
    s.errors += failures_.load();
    return s;
  }

 private:
  // Without an inner tier every operation fails, whatever fail() was given.
  bool failing(Op op) const { return !inner_ || (failing_.load() & op) != 0; }
  Status refuse() {
    failures_.fetch_add(1);
    return Status::unavailable("tier '" + name_ + "' is broken (test double)");
  }

  const TierKind kind_;
  const std::string name_;
  const std::unique_ptr<Tier> inner_;  // null: everything fails
  std::atomic<unsigned> failing_;
  std::atomic<uint64_t> failures_{0};
};

}  // namespace plancache::testing
