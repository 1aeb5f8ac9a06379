// Node: one cached entry inside a memory-tier shard, and the intrusive list
// every shard structure threads through it.
//
// A node is owned by exactly one Shard from insertion until it is unlinked;
// it is then handed (as a NodePtr) to whoever notifies the removal listener,
// outside the shard lock. Nodes are never shared between shards.
//
// Thread-safety: none; every field is guarded by the owning shard's mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "plancache/entry.h"

namespace plancache::internal {

class Node;
struct NsState;

// Previous / next pointers of one intrusive list.
struct Links {
  Node* prev = nullptr;
  Node* next = nullptr;
};

// Which list of the eviction policy a node is on.
enum class Region : uint8_t {
  kNone,       // not on any policy list
  kWindow,     // W-TinyLFU admission window (also the single list of LRU)
  kProbation,  // W-TinyLFU main area, probation segment
  kProtected,  // W-TinyLFU main area, protected segment
  kMain,       // cost policy: main area (a heap on policy_priority)
  kTemporary,  // cost policy: EntryPriority::kTemporary entries (evicted first)
};

inline constexpr uint32_t kNotInHeap = std::numeric_limits<uint32_t>::max();

struct NodeDeleter {
  void operator()(Node* node) const;
};
// The owner of a node (a shard while linked, then a RemovedEntry).
using NodePtr = std::unique_ptr<Node, NodeDeleter>;

class Node {
 public:
  // Allocates a node with the key's bytes stored inline, right after the
  // node, so that a lookup's byte comparison reads memory next to the node
  // instead of chasing a separate string allocation.
  static NodePtr create(const CacheKey& key, EntryPtr entry, uint64_t charge);

  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The key's bytes (CacheKey::encoded()).
  std::string_view key() const { return {key_bytes(), key_size_}; }
  // The key rebuilt as a CacheKey (allocates and rehashes: for removal
  // notices and selector matching, not for lookups).
  CacheKey make_key() const;

  const uint64_t hash;     // CacheKey::hash()
  EntryPtr entry;          // never null
  uint64_t charge = 0;     // entry->charge() + key bytes
  int64_t expires_ms = 0;  // copy of entry->meta.expires_ms (0 = never)
  NsState* ns = nullptr;   // the shard's record for the key's namespace
  Links policy;            // the eviction policy's list (see Region)
  // The policy's move counter when last moved onto a list; in the cost
  // policy's main area (Region::kMain), the node's index in its heap.
  uint64_t policy_stamp = 0;
  double policy_priority = 0;  // the cost policy's priority (Region::kMain)
  Links ns_links;          // the namespace's list of nodes
  uint32_t heap_index = kNotInHeap;  // position in the expiry heap
  Region region = Region::kNone;

 private:
  friend struct NodeDeleter;
  Node(uint64_t h, EntryPtr e, uint64_t c, uint32_t key_size)
      : hash(h), entry(std::move(e)), charge(c), expires_ms(entry->meta.expires_ms),
        key_size_(key_size) {}
  ~Node() = default;
  const char* key_bytes() const { return reinterpret_cast<const char*>(this) + sizeof(Node); }

  const uint32_t key_size_;
};

// A doubly-linked list threaded through one Links member of Node. Does not
// own the nodes. front() is the oldest (least recently used) end.
template <Links Node::*L>
class NodeList {
 public:
  NodeList() = default;
  NodeList(const NodeList&) = delete;
  NodeList& operator=(const NodeList&) = delete;

  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  Node* front() const { return head_; }
  Node* back() const { return tail_; }
  static Node* next(const Node* n) { return (n->*L).next; }
  static Node* prev(const Node* n) { return (n->*L).prev; }

  // REQUIRES: n is on no list that uses L.
  void push_back(Node* n) {
    Links& l = n->*L;
    l.prev = tail_;
    l.next = nullptr;
    if (tail_ != nullptr) {
      (tail_->*L).next = n;
    } else {
      head_ = n;
    }
    tail_ = n;
    ++size_;
  }

  // REQUIRES: n is on this list.
  void remove(Node* n) {
    Links& l = n->*L;
    if (l.prev != nullptr) {
      (l.prev->*L).next = l.next;
    } else {
      head_ = l.next;
    }
    if (l.next != nullptr) {
      (l.next->*L).prev = l.prev;
    } else {
      tail_ = l.prev;
    }
    l.prev = l.next = nullptr;
    --size_;
  }

  // REQUIRES: n is on this list.
  void move_to_back(Node* n) {
    if (tail_ == n) return;
    remove(n);
    push_back(n);
  }

  // Forgets every node (does not touch them).
  void reset() {
    head_ = tail_ = nullptr;
    size_ = 0;
  }

 private:
  Node* head_ = nullptr;
  Node* tail_ = nullptr;
  size_t size_ = 0;
};

using PolicyList = NodeList<&Node::policy>;
using NamespaceList = NodeList<&Node::ns_links>;

// Per-namespace bookkeeping inside one shard. Created on the first put (or
// counted miss) of the namespace; nodes point at it, so it is only destroyed
// while no node of the namespace is left.
struct NsState {
  explicit NsState(std::string n) : name(std::move(n)) {}
  std::string name;
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  NamespaceList nodes;
};

}  // namespace plancache::internal
