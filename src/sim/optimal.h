// Belady's offline MIN for `plancache simulate --policies optimal`, and the
// next-use table it needs.
//
// NextUses: for request i of a trace, the index of the next request of the
// same key (kNever if there is none); 8 bytes per request, in 1 Mi-entry
// chunks so growing never copies (10 M requests = 80 MB).
//
// BeladyCache: a cache that, knowing the future, keeps what is used soonest.
// By entries (every charge 1) it is the optimum: no policy gets more hits.
// By bytes it applies the same rule to charged sizes, which is a heuristic
// bound, not the optimum (that problem is NP-hard): see optimal.cc.
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace plancache::internal {

class NextUses {
 public:
  static constexpr uint64_t kNever = ~uint64_t{0};

  void push_back(uint64_t value) {
    if ((size_ & kChunkMask) == 0) chunks_.push_back(std::make_unique<uint64_t[]>(kChunk));
    chunks_.back()[size_ & kChunkMask] = value;
    ++size_;
  }
  // REQUIRES: i < size().
  uint64_t& operator[](uint64_t i) { return chunks_[i >> kChunkBits][i & kChunkMask]; }
  uint64_t operator[](uint64_t i) const { return chunks_[i >> kChunkBits][i & kChunkMask]; }
  uint64_t size() const { return size_; }

 private:
  static constexpr unsigned kChunkBits = 20;
  static constexpr uint64_t kChunk = uint64_t{1} << kChunkBits;
  static constexpr uint64_t kChunkMask = kChunk - 1;

  std::vector<std::unique_ptr<uint64_t[]>> chunks_;
  uint64_t size_ = 0;
};

class BeladyCache {
 public:
  // `capacity` in charge units (entries, or bytes).
  explicit BeladyCache(uint64_t capacity) : capacity_(capacity) {}

  // Request number `position` (0-based, in trace order), whose key is next
  // requested at `next_use` (NextUses::kNever: never again), costing `charge`
  // units while cached. Returns true on a hit.
  // REQUIRES: positions increase by one from call to call.
  bool access(uint64_t position, uint64_t next_use, uint64_t charge);

  uint64_t used() const { return used_; }
  uint64_t entries() const { return by_next_use_.size(); }

 private:
  void admit(uint64_t next_use, uint64_t charge);

  uint64_t capacity_;
  uint64_t used_ = 0;
  // The cached entries, by the position of their next request (unique: one
  // request is the next use of one earlier request), with their charge.
  std::map<uint64_t, uint64_t> by_next_use_;
};

}  // namespace plancache::internal
