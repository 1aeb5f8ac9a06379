#include "tiers/memory/node.h"

#include <cassert>
#include <cstring>
#include <new>

namespace plancache::internal {

// One allocation holds the Node and, after it, the key's bytes. The node's
// alignment is at most that of max_align_t, which operator new guarantees.
NodePtr Node::create(const CacheKey& key, EntryPtr entry, uint64_t charge) {
  static_assert(alignof(Node) <= alignof(std::max_align_t));
  const std::string& bytes = key.encoded();
  void* memory = ::operator new(sizeof(Node) + bytes.size());
  Node* node = ::new (memory)
      Node(key.hash(), std::move(entry), charge, static_cast<uint32_t>(bytes.size()));
  std::memcpy(static_cast<char*>(memory) + sizeof(Node), bytes.data(), bytes.size());
  return NodePtr(node);
}

void NodeDeleter::operator()(Node* node) const {
  node->~Node();
  ::operator delete(static_cast<void*>(node));
}

CacheKey Node::make_key() const {
  CacheKey key("-", KeyKind::kPlan, "-");
  const bool ok = CacheKey::decode(this->key(), &key);
  assert(ok);  // the bytes came from a valid CacheKey
  (void)ok;
  return key;
}

}  // namespace plancache::internal
