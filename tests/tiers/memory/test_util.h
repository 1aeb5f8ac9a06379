// Helpers shared by the memory-tier tests: keys, values, a recording removal
// listener, and a way to build a MemoryTier with its internal hooks exposed.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plancache/clock.h"
#include "plancache/entry.h"
#include "plancache/memory_tier.h"
#include "tiers/memory/memory_tier_impl.h"

namespace plancache::testing {

// A plan key shaped like a real one (64 hex chars), unique per i.
inline CacheKey plan_key(std::string_view ns, uint64_t i) {
  std::string id(64, '0');
  for (size_t pos = id.size(); i != 0; i >>= 4) id[--pos] = "0123456789abcdef"[i & 15];
  return CacheKey(ns, KeyKind::kPlan, id);
}

inline CacheKey user_key(std::string_view ns, std::string_view id) {
  return CacheKey(ns, KeyKind::kUser, id);
}

inline BytesPtr value_of(size_t size, char fill = 'v') {
  return std::make_shared<const Bytes>(size, fill);
}

// Builds a Selector field by field: Sel().ns("a").tag("t").
struct Sel {
  Selector s;
  Sel& ns(std::string v) { s.ns = std::move(v); return *this; }
  Sel& tag(std::string v) { s.tag = std::move(v); return *this; }
  Sel& prefix(std::string v) { s.prefix = std::move(v); return *this; }
  Sel& pattern(std::string v) { s.pattern = std::move(v); return *this; }
  Sel& before(int64_t ms) { s.created_before_ms = ms; return *this; }
  operator Selector() const { return s; }  // NOLINT: implicit by design
};

// One removal the listener saw.
struct Event {
  std::string key;  // CacheKey::encoded()
  EntryPtr entry;
  RemovalCause cause;
};

// A thread-safe removal listener that records every call.
class EventLog {
 public:
  RemovalListener listener() {
    return [this](const CacheKey& key, const EntryPtr& entry, RemovalCause cause) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(Event{key.encoded(), entry, cause});
    };
  }
  // Returns and forgets the events recorded so far.
  std::vector<Event> take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(events_, {});
  }
  size_t count(RemovalCause cause) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const Event& e : events_) n += e.cause == cause ? 1 : 0;
    return n;
  }

 private:
  std::mutex mu_;  // guards events_
  std::vector<Event> events_;
};

// Builds a MemoryTier directly, so tests can reach its internal hooks and
// pick the W-TinyLFU tuning.
inline std::unique_ptr<internal::MemoryTier> make_memory_tier(
    MemoryTierOptions options, const internal::TinyLfuConfig& tinylfu = {}) {
  Result<uint32_t> shards = internal::memory_tier_shard_count(options);
  EXPECT_TRUE(shards.is_ok()) << shards.status().to_string();
  if (options.clock == nullptr) options.clock = system_clock();
  return std::make_unique<internal::MemoryTier>(std::move(options), shards.is_ok() ? *shards : 1,
                                                tinylfu);
}

}  // namespace plancache::testing
