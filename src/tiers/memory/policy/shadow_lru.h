// ShadowLru: what plain LRU would hit, on a sample of the keys, without
// holding any value -- the cost policy's check that it is not losing to LRU.
//
// Spatial sampling (as in SHARDS, Waldspurger et al., FAST 2015): a key is
// tracked when its hash falls in 1 of every `rate` buckets, and the sample
// runs an LRU of the shard's budget divided by the same rate, so its hit
// ratio estimates LRU's on the whole shard. The rate keeps at most ~1024
// keys per shard (rate 1 -- every key -- when the shard holds fewer, or has
// no entry bound: then the byte bound alone limits it, at ~64 bytes a key).
//
// Thread-safety: none; guarded by the shard mutex.
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>

#include "tiers/memory/policy/policy.h"

namespace plancache::internal {

class ShadowLru {
 public:
  explicit ShadowLru(Budget budget);

  // Whether the key of `hash` is in the sample.
  bool sampled(uint64_t hash) const { return rate_ == 1 || (hash >> 40) % rate_ == 0; }
  // Records an access of a sampled key of `charge` bytes; true when LRU
  // would have hit. REQUIRES: sampled(hash).
  bool access(uint64_t hash, uint64_t charge);

  uint64_t rate() const { return rate_; }
  size_t size() const { return map_.size(); }

 private:
  struct Item {
    uint64_t hash;
    uint64_t charge;
  };

  uint64_t rate_ = 1;
  uint64_t max_entries_ = kUnbounded;
  uint64_t max_bytes_ = kUnbounded;
  uint64_t bytes_ = 0;
  std::list<Item> order_;  // front = least recently used
  std::unordered_map<uint64_t, std::list<Item>::iterator> map_;
};

}  // namespace plancache::internal
