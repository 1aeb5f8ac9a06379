// Layout (after Caffeine 3's block-based FrequencySketch): the table is an
// array of 64-bit words, each holding sixteen 4-bit counters, grouped in
// blocks of 8 words (one cache line). A key's hash is mixed once; its low
// bits pick the block, and 4 bytes of the upper half pick, for counter i, one
// of the two words reserved for i in the block (words 2i, 2i+1) and one of
// the 16 counters in it. The table holds at least one word per expected key,
// i.e. 16 counters per key, which keeps the estimate error small.
//
// Ageing: `additions_` counts increments that changed a counter; when it
// reaches sample_size_ (10 x capacity) every counter is halved. Halving drops
// each counter's low bit, so the additions carried over are reduced by the
// number of odd counters / 4 (each key has 4 counters), then halved.
#include "tiers/memory/frequency_sketch.h"

#include <algorithm>
#include <bit>

namespace plancache::internal {
namespace {

constexpr uint64_t kResetMask = 0x7777777777777777ULL;
constexpr uint64_t kOneMask = 0x1111111111111111ULL;
constexpr uint64_t kMinCapacity = 64;
// 2^26 words = 512 MiB: a cap far above any sane shard, so that a huge
// unbounded shard cannot make the sketch grow without limit.
constexpr uint64_t kMaxWords = uint64_t{1} << 26;

// A 64-bit finaliser (SplitMix64): the shard picked this key by the hash's
// high bits and the node table uses its low bits; remixing keeps the sketch
// independent of both.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

FrequencySketch::FrequencySketch(uint64_t capacity) { ensure_capacity(capacity); }

void FrequencySketch::ensure_capacity(uint64_t capacity) {
  capacity = std::max(capacity, kMinCapacity);
  if (!table_.empty() && capacity <= capacity_) return;
  const uint64_t words = std::min(std::bit_ceil(capacity), kMaxWords);
  capacity_ = capacity;
  table_.assign(words, 0);
  block_mask_ = (words >> 3) - 1;
  prefetch_base_.store(table_.data(), std::memory_order_relaxed);
  prefetch_mask_.store(block_mask_, std::memory_order_relaxed);
  sample_size_ = 10 * capacity;
  additions_ = 0;
}

FrequencySketch::Slots FrequencySketch::slots(uint64_t hash) const {
  const uint64_t h = mix(hash);
  const size_t block = static_cast<size_t>(h & block_mask_) << 3;
  const auto counter_hash = static_cast<uint32_t>(h >> 32);
  Slots s{};
  for (uint32_t i = 0; i < 4; ++i) {
    const uint32_t byte = counter_hash >> (i << 3);
    s.nib[i] = (byte >> 1) & 15;
    s.word[i] = block + (byte & 1) + (i << 1);
  }
  return s;
}

void FrequencySketch::prefetch(uint64_t hash) const {
  const auto base = reinterpret_cast<uintptr_t>(prefetch_base_.load(std::memory_order_relaxed));
  const size_t mask = prefetch_mask_.load(std::memory_order_relaxed);
  const size_t block = static_cast<size_t>(mix(hash) & mask) << 3;
  __builtin_prefetch(reinterpret_cast<const void*>(base + block * sizeof(uint64_t)));
}

uint32_t FrequencySketch::frequency(uint64_t hash) const {
  const Slots s = slots(hash);
  uint32_t result = 15;
  for (int i = 0; i < 4; ++i) {
    const auto count = static_cast<uint32_t>((table_[s.word[i]] >> (s.nib[i] << 2)) & 0xf);
    result = std::min(result, count);
  }
  return result;
}

void FrequencySketch::increment(uint64_t hash) {
  const Slots s = slots(hash);
  bool added = false;
  for (int i = 0; i < 4; ++i) {
    const uint32_t shift = s.nib[i] << 2;
    const uint64_t mask = uint64_t{0xf} << shift;
    uint64_t& word = table_[s.word[i]];
    if ((word & mask) != mask) {
      word += uint64_t{1} << shift;
      added = true;
    }
  }
  if (added && ++additions_ >= sample_size_) reset();
}

void FrequencySketch::reset() {
  uint64_t odd = 0;
  for (uint64_t& word : table_) {
    odd += static_cast<uint64_t>(std::popcount(word & kOneMask));
    word = (word >> 1) & kResetMask;
  }
  const uint64_t dropped = odd / 4;
  additions_ = (additions_ > dropped ? additions_ - dropped : 0) / 2;
  ++resets_;
}

}  // namespace plancache::internal
