// NodeTable: the hash index of one shard, from key bytes to Node.
//
// Open addressing with linear probing over a power-of-two array of
// {hash, Node*} slots. The hash is CacheKey::hash(), computed once when the
// key was built: a lookup never hashes the key string again, it compares the
// stored 64-bit hash first and the key bytes (memcmp) only on a hash match.
// Deletion shifts the following run back (no tombstones), so a lookup stops
// at the first empty slot. Growth reuses the stored hashes.
//
// The shard chooses itself from the hash's high bits; this table indexes by
// the low bits, so the two do not correlate.
//
// Ownership: holds pointers only; the shard owns the nodes.
// Thread-safety: guarded by the shard mutex, except prefetch(), which may be
// called without it (it reads only atomics and never dereferences).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tiers/memory/node.h"

namespace plancache::internal {

class NodeTable {
 public:
  NodeTable();

  // The node whose key is `bytes` (with precomputed `hash`), or nullptr.
  Node* find(uint64_t hash, std::string_view bytes) const {
    size_t i = hash & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.node == nullptr) return nullptr;
      if (s.hash == hash && s.node->key() == bytes) return s.node;
      i = (i + 1) & mask_;
    }
  }

  // Hints the CPU to load the slot where a lookup of `hash` starts, so the
  // cache miss overlaps whatever the caller does before taking the lock.
  // Safe without the shard lock: a stale or torn base/mask only prefetches
  // a useless address, which is harmless.
  void prefetch(uint64_t hash) const {
    const auto base = reinterpret_cast<uintptr_t>(prefetch_base_.load(std::memory_order_relaxed));
    const size_t mask = prefetch_mask_.load(std::memory_order_relaxed);
    __builtin_prefetch(reinterpret_cast<const void*>(base + (hash & mask) * sizeof(Slot)));
  }

  // REQUIRES: no node with an equal key is present.
  void insert(Node* node);
  // REQUIRES: node is present.
  void erase(Node* node);
  // Forgets every node and releases the slot array down to the minimum.
  void clear();

  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }

  // Calls fn(Node*) for every node. fn must not modify the table.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const Slot& s : slots_) {
      if (s.node != nullptr) fn(s.node);
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    Node* node = nullptr;
  };

  void resize(size_t capacity);
  void place(uint64_t hash, Node* node);

  void publish();  // updates the prefetch copies after slots_ changed

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  std::atomic<const Slot*> prefetch_base_{nullptr};
  std::atomic<size_t> prefetch_mask_{0};
};

}  // namespace plancache::internal
