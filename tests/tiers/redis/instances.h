// Test "instances": several Caches in one process, each with its own L1
// (a memory tier) and its own shared tier, on one Redis (or Cluster) and
// one key prefix -- what several `plancache serve` processes are.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "plancache/cache.h"
#include "plancache/memory_tier.h"
#include "plancache/redis_tier.h"

namespace plancache::test {

// A fresh key prefix (no colons or braces) per call.
inline std::string fresh_prefix(const char* tag) {
  static std::atomic<int> next{0};
  return std::string("pct") + tag + std::to_string(::getpid()) + "n" + std::to_string(next++);
}

struct InstanceOptions {
  std::string url;
  std::string prefix;
  std::chrono::milliseconds lease_ttl{3000};
  std::chrono::milliseconds lease_wait{30'000};
  std::chrono::milliseconds command_timeout{250};
  std::shared_ptr<const NamespacePolicies> policies = nullptr;  // null: every lane shares
};

class Instance {
 public:
  explicit Instance(const InstanceOptions& o) {
    std::vector<std::unique_ptr<Tier>> tiers;
    MemoryTierOptions l1;
    auto memory = new_memory_tier(std::move(l1));
    EXPECT_TRUE(memory.is_ok());
    tiers.push_back(std::move(memory).value());
    RedisTierOptions shared;
    shared.url = o.url;
    shared.key_prefix = o.prefix;
    shared.lease_ttl = o.lease_ttl;
    shared.lease_wait = o.lease_wait;
    shared.command_timeout = o.command_timeout;
    shared.connect_timeout = o.command_timeout;
    shared.policies = o.policies;
    auto redis = new_redis_tier(std::move(shared));
    EXPECT_TRUE(redis.is_ok()) << redis.status().to_string();
    tiers.push_back(std::move(redis).value());
    CacheOptions options;
    options.tiers = std::move(tiers);
    options.default_ttl_ms = 600'000;
    options.policies = o.policies;
    auto cache = new_cache(std::move(options));
    EXPECT_TRUE(cache.is_ok());
    cache_ = std::move(cache).value();
  }

  Cache& cache() { return *cache_; }
  Cache* operator->() { return cache_.get(); }
  TierStats shared_stats() const { return cache_->stats().tiers.at(1); }
  bool connected() const { return shared_stats().connected; }

  // The entry in this instance's L1 only (what it would serve without Redis).
  EntryPtr local(const CacheKey& key) {
    return cache_->get(key, GetOptions{.allow_stale = false, .local_only = true}).entry;
  }
  std::string value(const CacheKey& key) {
    const Lookup l = cache_->get(key);
    return l.hit() ? *l.entry->value : "";
  }
  Status put(const CacheKey& key, const std::string& value, std::vector<std::string> tags = {}) {
    PutOptions o;
    o.tags = std::move(tags);
    return cache_->put(key, std::make_shared<const Bytes>(value), o);
  }

 private:
  std::unique_ptr<Cache> cache_;
};

// Polls `done` every millisecond until it holds or `limit` passes.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::milliseconds(2000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

inline CacheKey plan_key(const std::string& ns, const std::string& id) {
  return CacheKey(ns, KeyKind::kPlan, id);
}
inline CacheKey user_key(const std::string& ns, const std::string& id) {
  return CacheKey(ns, KeyKind::kUser, id);
}

}  // namespace plancache::test
