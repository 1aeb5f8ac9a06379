// ExpiryHeap: the nodes of one shard that have a TTL, ordered by expiry time.
//
// A binary min-heap on Node::expires_ms; each node stores its own position
// (Node::heap_index) so that removing an arbitrary node (erase, eviction,
// replacement) is O(log n) and needs no search. purge_expired() pops from the
// top and so touches only entries that have expired. Nodes without a TTL
// (expires_ms == 0) are never in the heap.
//
// Ownership: holds pointers only; the shard owns the nodes.
// Thread-safety: none; guarded by the shard mutex.
#pragma once

#include <cstddef>
#include <vector>

#include "tiers/memory/node.h"

namespace plancache::internal {

class ExpiryHeap {
 public:
  // REQUIRES: node->expires_ms != 0 and node is not in the heap.
  void push(Node* node);
  // REQUIRES: node is in the heap.
  void erase(Node* node);
  // The node that expires first, or nullptr when empty.
  Node* top() const { return heap_.empty() ? nullptr : heap_.front(); }
  size_t size() const { return heap_.size(); }
  void clear() { heap_.clear(); }

 private:
  void sift_up(size_t i);
  void sift_down(size_t i);
  void set(size_t i, Node* node);

  std::vector<Node*> heap_;
};

}  // namespace plancache::internal
