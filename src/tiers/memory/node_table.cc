#include "tiers/memory/node_table.h"

#include <cassert>

namespace plancache::internal {
namespace {

constexpr size_t kMinCapacity = 16;

// Grow above 3/4 full; shrink below 1/8 (the gap avoids resizing back and
// forth around one size).
bool too_full(size_t size, size_t capacity) { return size * 4 > capacity * 3; }
bool too_empty(size_t size, size_t capacity) {
  return capacity > kMinCapacity && size * 8 < capacity;
}

}  // namespace

NodeTable::NodeTable() : slots_(kMinCapacity), mask_(kMinCapacity - 1) { publish(); }

void NodeTable::publish() {
  prefetch_base_.store(slots_.data(), std::memory_order_relaxed);
  prefetch_mask_.store(mask_, std::memory_order_relaxed);
}

void NodeTable::place(uint64_t hash, Node* node) {
  size_t i = hash & mask_;
  while (slots_[i].node != nullptr) i = (i + 1) & mask_;
  slots_[i] = Slot{hash, node};
}

void NodeTable::resize(size_t capacity) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  for (const Slot& s : old) {
    if (s.node != nullptr) place(s.hash, s.node);
  }
  publish();
}

void NodeTable::insert(Node* node) {
  assert(find(node->hash, node->key()) == nullptr);
  if (too_full(size_ + 1, slots_.size())) resize(slots_.size() * 2);
  place(node->hash, node);
  ++size_;
}

void NodeTable::erase(Node* node) {
  const uint64_t hash = node->hash;
  size_t i = hash & mask_;
  while (slots_[i].node != node) {
    assert(slots_[i].node != nullptr);
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion: walk the run after the hole and move back every
  // slot whose home position is not in (hole, j], i.e. that the hole would
  // otherwise cut off from its home.
  size_t hole = i;
  size_t j = i;
  while (true) {
    j = (j + 1) & mask_;
    if (slots_[j].node == nullptr) break;
    const size_t home = slots_[j].hash & mask_;
    const bool home_in_gap = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!home_in_gap) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
  if (too_empty(size_, slots_.size())) resize(slots_.size() / 2);
}

void NodeTable::clear() {
  std::vector<Slot>(kMinCapacity).swap(slots_);
  mask_ = kMinCapacity - 1;
  size_ = 0;
  publish();
}

}  // namespace plancache::internal
