// One memory-tier shard: a mutex over a node table and the indexes that make
// every operation touch only the nodes it concerns.
//
// Indexes, all threaded through the same Node objects:
//   table_      key bytes -> node; probes by the precomputed key hash.
//   policy_     eviction order (policy/tinylfu.cc or policy/lru.cc).
//   namespaces_ namespace -> NsState {counters, list of its nodes}: a
//               namespace-only invalidation or a per-namespace count never
//               scans other namespaces.
//   tags_       tag -> set of nodes carrying it: invalidating a small tag
//               visits only its nodes (scanned_ counts the visits so tests
//               can prove it).
//   expiry_     min-heap on expires_ms: purge_expired() pops expired nodes
//               without scanning live ones.
//
// Invariant: a node is in table_ iff it is on the policy's lists, on its
// namespace's list, in the tag set of each of its tags, and -- if it has a
// TTL -- in expiry_. link() and unlink() are the only places that change
// membership, so they keep it. check_invariants() verifies it.
//
// Expiry is lazy: an expired node stays linked (and charged) until a get,
// erase, invalidate or purge_expired meets it. Readers treat it as absent.
//
// Namespace records: created on a namespace's first put, or by a miss while
// the shard tracks fewer than kMaxNamespaces (so lookups of arbitrary names
// cannot grow memory without bound; when the cap is hit, records without
// entries are dropped to make room). A record left without entries is not
// dropped at once: the namespace may hold entries in other shards, and its
// misses here count. MemoryTier::drop_empty_namespaces() drops the records
// of namespaces with no entry in any shard (empty_namespaces, mark_held,
// drop_empty), so names a client invents cost nothing once their entries
// are gone. Kept namespaces (a lane's own) keep their records.
#include "tiers/memory/shard.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/selector_match.h"

namespace plancache::internal {
namespace {

constexpr size_t kMaxNamespaces = 1024;

bool is_expired(const Node* node, int64_t now_ms) {
  return node->expires_ms != 0 && now_ms >= node->expires_ms;
}

// selector_matches() on a node. The cheap necessary conditions are checked
// on the raw key bytes first; only a node that passes them pays for
// rebuilding its CacheKey, and the shared rule has the final word.
bool node_matches(const Selector& s, const Node& node) {
  const std::string_view bytes = node.key();
  const size_t nul = bytes.find('\0');
  if (s.ns && bytes.substr(0, nul) != *s.ns) return false;
  if ((s.prefix || s.pattern) && bytes[nul + 1] != static_cast<char>(KeyKind::kUser)) {
    return false;
  }
  if (s.created_before_ms && node.entry->meta.created_ms >= *s.created_before_ms) return false;
  return selector_matches(s, node.make_key(), node.entry->meta);
}

}  // namespace

Shard::Shard(const ShardConfig& config)
    : policy_(make_policy(config.policy, config.budget, config.tinylfu)),
      kept_(config.kept_namespaces) {}

Shard::~Shard() {
  std::vector<Node*> nodes;
  table_.for_each([&](Node* n) { nodes.push_back(n); });
  for (Node* n : nodes) NodeDeleter()(n);
}

// --- membership ------------------------------------------------------------

void Shard::link(NodePtr owned) {
  Node* node = owned.release();
  table_.insert(node);
  node->ns->nodes.push_back(node);
  ++node->ns->entries;
  node->ns->bytes += node->charge;
  index_tags(node);
  if (node->expires_ms != 0) expiry_.push(node);
  policy_->on_insert(node);
}

NodePtr Shard::unlink(Node* node) {
  policy_->on_remove(node);
  if (node->heap_index != kNotInHeap) expiry_.erase(node);
  unindex_tags(node);
  node->ns->nodes.remove(node);
  --node->ns->entries;
  node->ns->bytes -= node->charge;
  table_.erase(node);
  return NodePtr(node);
}

void Shard::index_tags(Node* node) {
  for (const std::string& tag : node->entry->meta.tags) {
    auto it = tags_.find(std::string_view(tag));
    if (it == tags_.end()) it = tags_.emplace(tag, std::unordered_set<Node*>{}).first;
    it->second.insert(node);
  }
}

void Shard::unindex_tags(Node* node) {
  for (const std::string& tag : node->entry->meta.tags) {
    auto it = tags_.find(std::string_view(tag));
    if (it == tags_.end()) continue;  // a duplicate tag, already removed
    it->second.erase(node);
    if (it->second.empty()) tags_.erase(it);
  }
}

NsState* Shard::namespace_for_put(std::string_view ns) {
  auto it = namespaces_.find(ns);
  if (it != namespaces_.end()) return it->second.get();
  if (namespaces_.size() >= kMaxNamespaces) {
    std::erase_if(namespaces_,
                  [&](const auto& kv) { return kv.second->entries == 0 && !kept(kv.first); });
  }
  auto state = std::make_unique<NsState>(std::string(ns));
  NsState* raw = state.get();
  namespaces_.emplace(std::string(ns), std::move(state));
  return raw;
}

void Shard::count_miss(std::string_view ns) {
  auto it = namespaces_.find(ns);
  if (it != namespaces_.end()) {
    ++it->second->misses;
  } else if (namespaces_.size() < kMaxNamespaces || kept(ns)) {
    namespace_for_put(ns)->misses = 1;
  }
}

bool Shard::kept(std::string_view ns) const {
  return std::find(kept_.begin(), kept_.end(), ns) != kept_.end();
}

void Shard::evict(Node* node) {
  ++node->ns->evictions;
  evicted_->push_back(RemovedEntry{unlink(node), RemovalCause::kSize});
  ++evictions_;
}

// --- reads and writes --------------------------------------------------------

EntryPtr Shard::get(const CacheKey& key, const Clock& clock, RemovedEntries* removed) {
  // A lookup is a chain of likely cache misses: table slot -> node -> entry
  // reference count, plus the sketch block. Start the slot and the sketch
  // before taking the lock and read the clock (tens of ns) while they are on
  // their way; this also keeps the clock out of the critical section.
  table_.prefetch(key.hash());
  policy_->prefetch(key.hash());
  const int64_t now_ms = clock.now_ms();
  std::lock_guard<std::mutex> lock(mu_);
  Node* node = table_.find(key.hash(), key.encoded());
  if (node == nullptr) {
    ++misses_;
    count_miss(key.ns());
    policy_->record_read(false);
    return nullptr;
  }
  if (is_expired(node, now_ms)) {
    ++misses_;
    ++node->ns->misses;
    ++expirations_;
    removed->push_back(RemovedEntry{unlink(node), RemovalCause::kExpired});
    policy_->record_read(false);
    return nullptr;
  }
  // The reference count we are about to increment is likely a cache miss
  // too: start it now, to overlap the policy's list update.
  __builtin_prefetch(node->entry.get(), 1);
  ++hits_;
  ++node->ns->hits;
  policy_->on_access(node);
  policy_->record_read(true);
  return node->entry;
}

void Shard::replace_in_place(Node* node, EntryPtr entry, uint64_t charge) {
  unindex_tags(node);
  if (node->heap_index != kNotInHeap) expiry_.erase(node);
  const uint64_t old_charge = node->charge;
  node->entry = std::move(entry);
  node->charge = charge;
  node->expires_ms = node->entry->meta.expires_ms;
  node->ns->bytes = node->ns->bytes - old_charge + charge;
  index_tags(node);
  if (node->expires_ms != 0) expiry_.push(node);
  policy_->on_update(node, old_charge);
}

Status Shard::put(const CacheKey& key, EntryPtr entry, uint64_t charge, int64_t now_ms,
                  EntryPtr* replaced, RemovedEntries* removed) {
  std::lock_guard<std::mutex> lock(mu_);
  ++puts_;
  Node* node = table_.find(key.hash(), key.encoded());
  const uint64_t max_bytes = policy_->budget().max_bytes;
  if (node != nullptr && (is_expired(node, now_ms) || charge > max_bytes)) {
    const bool expired = is_expired(node, now_ms);
    if (expired) ++expirations_;
    removed->push_back(
        RemovedEntry{unlink(node), expired ? RemovalCause::kExpired : RemovalCause::kReplaced});
    node = nullptr;
  }
  if (charge > max_bytes) {
    return Status::resource_exhausted("entry of " + std::to_string(charge) +
                                      " bytes (value, tags and key) exceeds the memory tier's "
                                      "per-shard byte budget of " +
                                      std::to_string(max_bytes) + " bytes");
  }
  if (node != nullptr) {
    *replaced = node->entry;
    replace_in_place(node, std::move(entry), charge);
  } else {
    NodePtr owned = Node::create(key, std::move(entry), charge);
    owned->ns = namespace_for_put(key.ns());
    link(std::move(owned));
  }
  evicted_ = removed;
  policy_->evict_to_fit(*this);
  evicted_ = nullptr;
  return Status::ok();
}

bool Shard::erase(const CacheKey& key, int64_t now_ms, RemovedEntries* removed) {
  std::lock_guard<std::mutex> lock(mu_);
  Node* node = table_.find(key.hash(), key.encoded());
  if (node == nullptr) return false;
  const bool live = !is_expired(node, now_ms);
  if (!live) ++expirations_;
  removed->push_back(
      RemovedEntry{unlink(node), live ? RemovalCause::kExplicit : RemovalCause::kExpired});
  return live;
}

// --- bulk removal --------------------------------------------------------------

// The nodes `selector` matches, visiting only the smallest index that covers
// it: a tag's node set, else a namespace's list, else the whole table.
template <typename Fn>
void Shard::for_each_candidate(const Selector& selector, Fn&& fn) const {
  if (selector.tag) {
    auto it = tags_.find(std::string_view(*selector.tag));
    if (it != tags_.end()) {
      for (Node* n : it->second) fn(n);
    }
  } else if (selector.ns) {
    auto it = namespaces_.find(std::string_view(*selector.ns));
    if (it != namespaces_.end()) {
      for (Node* n = it->second->nodes.front(); n != nullptr; n = NamespaceList::next(n)) fn(n);
    }
  } else {
    table_.for_each(fn);
  }
}

std::vector<Node*> Shard::match(const Selector& selector) {
  std::vector<Node*> out;
  const bool ns_only = selector_is_namespace_only(selector);
  for_each_candidate(selector, [&](Node* n) {
    ++scanned_;
    if (ns_only || node_matches(selector, *n)) out.push_back(n);
  });
  return out;
}

uint64_t Shard::invalidate(const Selector& selector, int64_t now_ms, RemovedEntries* removed) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t count = 0;
  for (Node* node : match(selector)) {
    const bool live = !is_expired(node, now_ms);
    if (live) {
      ++count;
    } else {
      ++expirations_;
    }
    removed->push_back(
        RemovedEntry{unlink(node), live ? RemovalCause::kInvalidated : RemovalCause::kExpired});
  }
  invalidations_ += count;
  return count;
}

uint64_t Shard::purge_expired(int64_t now_ms, uint64_t max_nodes, RemovedEntries* removed) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t count = 0;
  for (Node* top = expiry_.top(); count < max_nodes && top != nullptr && is_expired(top, now_ms);
       top = expiry_.top()) {
    removed->push_back(RemovedEntry{unlink(top), RemovalCause::kExpired});
    ++count;
  }
  expirations_ += count;
  return count;
}

uint64_t Shard::evict_fraction(double fraction, FractionCarry* carry, RemovedEntries* removed) {
  std::lock_guard<std::mutex> lock(mu_);
  // Quota per namespace: round(fraction * entries seen so far in this and
  // earlier shards) minus what earlier shards already evicted.
  std::unordered_map<const NsState*, uint64_t> quota;
  for (const auto& [name, state] : namespaces_) {
    if (state->entries == 0) continue;
    FractionProgress& p = (*carry)[name];
    p.seen += state->entries;
    const auto target = static_cast<uint64_t>(std::llround(fraction * static_cast<double>(p.seen)));
    const uint64_t q = target > p.evicted ? target - p.evicted : 0;
    p.evicted += q;
    if (q > 0) quota[state.get()] = q;
  }
  uint64_t count = 0;
  for (Node* node : policy_->coldest_first()) {
    auto it = quota.find(node->ns);
    if (it == quota.end() || it->second == 0) continue;
    --it->second;
    removed->push_back(RemovedEntry{unlink(node), RemovalCause::kInvalidated});
    ++count;
  }
  invalidations_ += count;
  return count;
}

uint64_t Shard::set_byte_limit(uint64_t limit, RemovedEntries* removed) {
  std::lock_guard<std::mutex> lock(mu_);
  policy_->set_byte_limit(limit);
  const uint64_t before = evictions_;
  evicted_ = removed;
  policy_->evict_to_fit(*this);
  evicted_ = nullptr;
  return evictions_ - before;
}

// --- listing ---------------------------------------------------------------------

bool listed_before(const ListedEntry& a, const ListedEntry& b) {
  return a.key.encoded() < b.key.encoded();
}

// A bounded top-k: the heap's front is the largest key kept, so a candidate
// is built (key, tags copied) only when it beats that key or the heap still
// has room.
void Shard::list(const Selector& selector, int64_t now_ms, size_t limit, ListHeap* heap) const {
  std::lock_guard<std::mutex> lock(mu_);
  const bool ns_only = selector_is_namespace_only(selector);
  for_each_candidate(selector, [&](Node* n) {
    if (is_expired(n, now_ms)) return;
    if (heap->size() >= limit && n->key() >= heap->front().key.encoded()) return;
    if (!ns_only && !node_matches(selector, *n)) return;
    const EntryMeta& meta = n->entry->meta;
    heap->push_back(ListedEntry{n->make_key(), meta.created_ms, meta.expires_ms,
                                n->entry->value->size(), meta.tags});
    std::push_heap(heap->begin(), heap->end(), listed_before);
    if (heap->size() > limit) {
      std::pop_heap(heap->begin(), heap->end(), listed_before);
      heap->pop_back();
    }
  });
}

// --- introspection ---------------------------------------------------------------

void Shard::collect_stats(TierStats* stats) const {
  std::lock_guard<std::mutex> lock(mu_);
  stats->entries += policy_->entries();
  stats->bytes += policy_->bytes();
  stats->hits += hits_;
  stats->misses += misses_;
  stats->puts += puts_;
  stats->evictions += evictions_;
  stats->expirations += expirations_;
  stats->invalidations += invalidations_;
  for (const auto& [name, state] : namespaces_) {
    NamespaceCounters& c = stats->namespaces[name];
    c.entries += state->entries;
    c.bytes += state->bytes;
    c.hits += state->hits;
    c.misses += state->misses;
    c.evictions += state->evictions;
  }
}

void Shard::empty_namespaces(std::vector<std::string>* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, state] : namespaces_) {
    if (state->entries == 0 && !kept(name)) out->push_back(name);
  }
}

void Shard::mark_held(const std::vector<std::string>& names, std::vector<bool>* held) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = namespaces_.find(std::string_view(names[i]));
    if (it != namespaces_.end() && it->second->entries > 0) (*held)[i] = true;
  }
}

void Shard::drop_empty(const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& name : names) {
    auto it = namespaces_.find(std::string_view(name));
    if (it != namespaces_.end() && it->second->entries == 0 && !kept(name)) namespaces_.erase(it);
  }
}

uint64_t Shard::nodes_scanned() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scanned_;
}

std::string Shard::check_invariants() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t bytes = 0, with_ttl = 0, ns_entries = 0, ns_bytes = 0;
  std::string error;
  table_.for_each([&](Node* n) {
    bytes += n->charge;
    if (n->expires_ms != 0) ++with_ttl;
    if (n->region == Region::kNone) error = "a linked node is on no policy list";
    for (const std::string& tag : n->entry->meta.tags) {
      auto it = tags_.find(std::string_view(tag));
      if (it == tags_.end() || it->second.count(n) == 0) error = "tag index misses a node";
    }
  });
  uint64_t tag_refs = 0;
  table_.for_each([&](Node* n) {
    const auto& tags = n->entry->meta.tags;
    for (size_t i = 0; i < tags.size(); ++i) {
      tag_refs += std::find(tags.begin(), tags.begin() + static_cast<long>(i), tags[i]) ==
                  tags.begin() + static_cast<long>(i);  // count each distinct tag once
    }
  });
  uint64_t indexed = 0;
  for (const auto& [tag, nodes] : tags_) indexed += nodes.size();
  if (indexed != tag_refs) error = "tag index holds stale nodes";
  for (const auto& [name, state] : namespaces_) {
    if (state->nodes.size() != state->entries) error = "namespace list size != entries";
    ns_entries += state->entries;
    ns_bytes += state->bytes;
  }
  if (!error.empty()) return error;
  if (table_.size() != policy_->entries()) return "table size != policy entries";
  if (bytes != policy_->bytes()) return "sum of charges != policy bytes";
  if (ns_entries != table_.size() || ns_bytes != bytes) return "namespace totals disagree";
  if (with_ttl != expiry_.size()) return "expiry heap size != nodes with a TTL";
  if (policy_->over_budget()) return "shard over its budget";
  return "";
}

}  // namespace plancache::internal
