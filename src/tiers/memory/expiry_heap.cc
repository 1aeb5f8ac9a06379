#include "tiers/memory/expiry_heap.h"

#include <cassert>
#include <cstdint>

namespace plancache::internal {

void ExpiryHeap::set(size_t i, Node* node) {
  heap_[i] = node;
  node->heap_index = static_cast<uint32_t>(i);
}

void ExpiryHeap::sift_up(size_t i) {
  Node* node = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (heap_[parent]->expires_ms <= node->expires_ms) break;
    set(i, heap_[parent]);
    i = parent;
  }
  set(i, node);
}

void ExpiryHeap::sift_down(size_t i) {
  Node* node = heap_[i];
  const size_t n = heap_.size();
  while (true) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->expires_ms < heap_[child]->expires_ms) ++child;
    if (node->expires_ms <= heap_[child]->expires_ms) break;
    set(i, heap_[child]);
    i = child;
  }
  set(i, node);
}

void ExpiryHeap::push(Node* node) {
  assert(node->expires_ms != 0 && node->heap_index == kNotInHeap);
  heap_.push_back(node);
  sift_up(heap_.size() - 1);
}

void ExpiryHeap::erase(Node* node) {
  const size_t i = node->heap_index;
  assert(i < heap_.size() && heap_[i] == node);
  node->heap_index = kNotInHeap;
  Node* last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;  // node was the last element
  set(i, last);
  if (i > 0 && heap_[(i - 1) / 2]->expires_ms > last->expires_ms) {
    sift_up(i);
  } else {
    sift_down(i);
  }
}

}  // namespace plancache::internal
