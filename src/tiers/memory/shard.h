// Shard: one independently locked slice of the memory tier.
//
// The tier routes each key to one shard by CacheKey::hash(). A shard owns its
// nodes and every index over them: the hash table (key -> node), the eviction
// policy's lists, a per-namespace list, a tag index (tag -> nodes) and an
// expiry heap. Operations that remove nodes hand them back in a RemovedEntries
// vector instead of destroying them, so that the tier can call the removal
// listener -- and free the payloads -- after the shard lock is released.
//
// Ownership: the shard owns every linked node (created by Node::create,
// released into the table on link, re-adopted by unlink). Removed nodes are
// owned by the RemovedEntries vector they were moved into.
// Thread-safety: every public method takes the shard mutex; safe to call
// concurrently. Never calls user code.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "plancache/clock.h"
#include "plancache/entry.h"
#include "plancache/status.h"
#include "plancache/tier.h"
#include "tiers/memory/expiry_heap.h"
#include "tiers/memory/node.h"
#include "tiers/memory/node_table.h"
#include "tiers/memory/policy/policy.h"

namespace plancache::internal {

// A node that left a shard, with why.
struct RemovedEntry {
  NodePtr node;
  RemovalCause cause;
};
using RemovedEntries = std::vector<RemovedEntry>;

struct ShardConfig {
  Budget budget;
  EvictionPolicy policy = EvictionPolicy::kTinyLfu;
  TinyLfuConfig tinylfu;
  // MemoryTierOptions::kept_namespaces.
  std::vector<std::string> kept_namespaces;
};

// Per-namespace progress of one evict_fraction() call across shards.
struct FractionProgress {
  uint64_t seen = 0;     // entries of the namespace in the shards visited so far
  uint64_t evicted = 0;  // of which evicted
};
using FractionCarry = std::map<std::string, FractionProgress, std::less<>>;

// The rows of one Tier::list() call, gathered shard by shard: a max-heap on
// CacheKey::encoded() holding at most the call's `limit` smallest keys.
using ListHeap = std::vector<ListedEntry>;
// Orders ListHeap rows by encoded key (the heap's comparator).
bool listed_before(const ListedEntry& a, const ListedEntry& b);

class alignas(64) Shard final : private EvictionSink {
 public:
  explicit Shard(const ShardConfig& config);
  ~Shard() override;
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // The live entry, or nullptr. An expired entry is unlinked into *removed
  // (cause kExpired) and is a miss.
  EntryPtr get(const CacheKey& key, const Clock& clock, RemovedEntries* removed);

  // Stores entry (whose charge, key included, is `charge`). A previous live
  // entry of the key is replaced in place (keeping its place in the policy)
  // and returned in *replaced; a previous expired one is unlinked into
  // *removed as kExpired and the new entry starts afresh. Evictions go to
  // *removed. Errors: resource_exhausted when charge exceeds the shard's byte
  // budget; the entry is not stored and a previous entry of the key is
  // removed (cause kReplaced, or kExpired), since it is stale.
  Status put(const CacheKey& key, EntryPtr entry, uint64_t charge, int64_t now_ms,
             EntryPtr* replaced, RemovedEntries* removed);

  // True when a live entry was removed (kExplicit); an expired one is removed
  // as kExpired and reported as absent.
  bool erase(const CacheKey& key, int64_t now_ms, RemovedEntries* removed);

  // Removes live entries matching `selector` (kInvalidated) and returns how
  // many; matching expired entries go as kExpired, uncounted.
  // REQUIRES: validate_selector(selector) is OK.
  uint64_t invalidate(const Selector& selector, int64_t now_ms, RemovedEntries* removed);

  // Removes up to `max_nodes` entries that expired by now_ms; returns how many.
  uint64_t purge_expired(int64_t now_ms, uint64_t max_nodes, RemovedEntries* removed);

  // Evicts this shard's share of `fraction` of every namespace, coldest
  // first (kInvalidated); `carry` spreads the rounding over the shards.
  uint64_t evict_fraction(double fraction, FractionCarry* carry, RemovedEntries* removed);

  // Auto-sizing: bounds the shard's charged bytes to `limit` (kUnbounded =
  // the budget alone) and evicts, in the policy's order, what no longer fits
  // (kSize, into *removed); returns how many.
  uint64_t set_byte_limit(uint64_t limit, RemovedEntries* removed);

  // Adds this shard's live entries matching `selector` to *heap, keeping
  // only the `limit` smallest keys in it. Removes nothing.
  // REQUIRES: validate_selector(selector) is OK; limit > 0.
  void list(const Selector& selector, int64_t now_ms, size_t limit, ListHeap* heap) const;

  // Adds this shard's counters to *stats (everything but the bounds).
  void collect_stats(TierStats* stats) const;

  // Dropping the records of emptied namespaces (see shard.cc), in three
  // steps over every shard: the names of unkept namespaces that have a
  // record here but no entries; (*held)[i] set when this shard holds
  // entries of names[i]; the records of `names` that still have no entries
  // dropped.
  void empty_namespaces(std::vector<std::string>* out) const;
  void mark_held(const std::vector<std::string>& names, std::vector<bool>* held) const;
  void drop_empty(const std::vector<std::string>& names);

  // Nodes examined by invalidate() so far (tests prove the tag index with it).
  uint64_t nodes_scanned() const;

  // Recomputes every count from the structures; "" when they all agree.
  std::string check_invariants() const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  void evict(Node* node) override;  // EvictionSink: a size eviction
  void link(NodePtr owned);
  NodePtr unlink(Node* node);
  void index_tags(Node* node);
  void unindex_tags(Node* node);
  NsState* namespace_for_put(std::string_view ns);
  void count_miss(std::string_view ns);
  bool kept(std::string_view ns) const;
  void replace_in_place(Node* node, EntryPtr entry, uint64_t charge);
  std::vector<Node*> match(const Selector& selector);
  // Calls fn(Node*) for every node of the smallest index that covers
  // `selector` (a tag's set, a namespace's list, else the table).
  template <typename Fn>
  void for_each_candidate(const Selector& selector, Fn&& fn) const;

  // Guards every member below; held for one operation, never while calling
  // out of the shard.
  mutable std::mutex mu_;
  const std::unique_ptr<Policy> policy_;  // the pointer never changes; *policy_ is guarded
  const std::vector<std::string> kept_;   // immutable: ShardConfig::kept_namespaces
  NodeTable table_;
  ExpiryHeap expiry_;
  StringMap<std::unique_ptr<NsState>> namespaces_;
  StringMap<std::unordered_set<Node*>> tags_;
  RemovedEntries* evicted_ = nullptr;  // where evict() puts nodes during put()
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  uint64_t puts_ = 0;
  uint64_t evictions_ = 0;
  uint64_t expirations_ = 0;
  uint64_t invalidations_ = 0;
  uint64_t scanned_ = 0;
};

}  // namespace plancache::internal
