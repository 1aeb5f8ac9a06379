// FrequencySketch: an approximate, ageing popularity counter for W-TinyLFU.
//
// A count-min sketch of 4-bit counters (max 15), as Caffeine's
// FrequencySketch: each key maps to 4 counters inside one 64-byte block of
// the table (so an increment or an estimate touches one cache line), and its
// estimated frequency is the minimum of the 4. After `sample_size`
// increments (10x the capacity) every counter is halved: this ageing lets
// yesterday's hot keys cool down and keeps the counters from saturating.
//
// Keys are given by their precomputed 64-bit hash (CacheKey::hash()).
//
// Ownership: owns its table. Thread-safety: guarded by the shard mutex,
// except prefetch(), which may be called without it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace plancache::internal {

class FrequencySketch {
 public:
  // Sized for `capacity` distinct keys (at least 64).
  explicit FrequencySketch(uint64_t capacity);

  // Grows the table (losing the counts) when `capacity` exceeds what it was
  // sized for; used when the shard has no entry bound and grows.
  void ensure_capacity(uint64_t capacity);

  // Estimated access count of the key, 0..15.
  uint32_t frequency(uint64_t hash) const;
  // Hints the CPU to load the key's block (no effect on the counts). Safe
  // without the shard lock: it reads only atomics and never dereferences.
  void prefetch(uint64_t hash) const;
  // Counts one access; may trigger the ageing reset.
  void increment(uint64_t hash);

  uint64_t capacity() const { return capacity_; }
  // Increments between two resets.
  uint64_t sample_size() const { return sample_size_; }
  // Increments since the last reset (those that changed a counter).
  uint64_t additions() const { return additions_; }
  // How many times the counters were halved.
  uint64_t resets() const { return resets_; }

 private:
  struct Slots {
    size_t word[4];   // table index of each counter's 64-bit word
    uint32_t nib[4];  // which 4-bit counter within that word, 0..15
  };
  Slots slots(uint64_t hash) const;
  void reset();

  std::vector<uint64_t> table_;
  std::atomic<const uint64_t*> prefetch_base_{nullptr};  // copies for prefetch()
  std::atomic<size_t> prefetch_mask_{0};
  uint64_t capacity_ = 0;
  size_t block_mask_ = 0;
  uint64_t sample_size_ = 0;
  uint64_t additions_ = 0;
  uint64_t resets_ = 0;
};

}  // namespace plancache::internal
