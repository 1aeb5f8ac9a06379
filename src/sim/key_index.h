// KeyIndex: a compact map from 64-bit key identities to 64-bit values, for
// counting distinct keys and remembering where each was last seen. Open
// addressing with linear probing, at most half full: 16 bytes a slot, so
// about 32 bytes per distinct key (std::unordered_map takes ~3x that).
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <vector>

namespace plancache::internal {

class KeyIndex {
 public:
  static constexpr uint64_t kAbsent = ~uint64_t{0};

  KeyIndex() : slots_(kInitialSlots) {}

  // The value stored for `key`, or kAbsent.
  uint64_t find(uint64_t key) const {
    for (size_t i = home(key);; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.value == kAbsent) return kAbsent;
      if (s.key == key) return s.value;
    }
  }

  // Stores `value` under `key`; returns the previous value or kAbsent.
  // REQUIRES: value != kAbsent.
  uint64_t put(uint64_t key, uint64_t value) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    for (size_t i = home(key);; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (s.value == kAbsent) {
        s = Slot{key, value};
        ++size_;
        return kAbsent;
      }
      if (s.key == key) {
        const uint64_t previous = s.value;
        s.value = value;
        return previous;
      }
    }
  }

  // Distinct keys stored.
  uint64_t size() const { return size_; }

 private:
  static constexpr size_t kInitialSlots = 1024;

  struct Slot {
    uint64_t key = 0;
    uint64_t value = kAbsent;  // kAbsent = empty slot
  };

  size_t mask() const { return slots_.size() - 1; }
  // splitmix64's finaliser: keys are often small consecutive integers.
  size_t home(uint64_t key) const {
    key ^= key >> 30;
    key *= 0xbf58476d1ce4e5b9ull;
    key ^= key >> 27;
    key *= 0x94d049bb133111ebull;
    key ^= key >> 31;
    return static_cast<size_t>(key) & mask();
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.value == kAbsent) continue;
      size_t i = home(s.key);
      while (slots_[i].value != kAbsent) i = (i + 1) & mask();
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  uint64_t size_ = 0;
};

}  // namespace plancache::internal
