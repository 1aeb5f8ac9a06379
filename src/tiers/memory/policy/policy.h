// Policy: the eviction policy of one memory-tier shard.
//
// The shard tells the policy about every node it links (on_insert), reads
// (on_access, record_read), replaces in place (on_update) and unlinks
// (on_remove); the policy keeps its lists and the shard's size accounting,
// and on evict_to_fit() picks the victims that bring the shard back within
// its Budget, handing each to the EvictionSink (which unlinks it, calling
// on_remove). Three policies: W-TinyLFU (policy/tinylfu.h, the default),
// plain LRU (policy/lru.h) and the cost-aware one (policy/cost.h).
//
// Thread-safety: none; every call is made with the shard mutex held, except
// prefetch() (see there).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "plancache/memory_tier.h"
#include "tiers/memory/node.h"

namespace plancache::internal {

inline constexpr uint64_t kUnbounded = std::numeric_limits<uint64_t>::max();

// A shard's bounds; kUnbounded = no bound of that kind.
struct Budget {
  uint64_t max_entries = kUnbounded;
  uint64_t max_bytes = kUnbounded;
};

// Where evicted nodes go. evict() must unlink the node from the shard (which
// calls Policy::on_remove) before it returns.
class EvictionSink {
 public:
  virtual ~EvictionSink() = default;
  virtual void evict(Node* node) = 0;
};

class Policy {
 public:
  explicit Policy(Budget budget) : budget_(budget) {}
  virtual ~Policy() = default;
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  // A node was linked into the shard (node->charge is set).
  virtual void on_insert(Node* node) = 0;
  // A get() hit the node.
  virtual void on_access(Node* node) = 0;
  // The node's entry was replaced in place; its charge was old_charge and is
  // now node->charge. Counts as an access.
  virtual void on_update(Node* node, uint64_t old_charge) = 0;
  // The node is being unlinked from the shard, for any cause.
  virtual void on_remove(Node* node) = 0;
  // A lookup of `hash` is about to happen: start loading what on_access()
  // will read, so that its cache miss overlaps the table's. Called WITHOUT
  // the shard mutex: may read only atomics and must not dereference.
  virtual void prefetch(uint64_t hash) const { (void)hash; }
  // Every get() reports whether it hit (feeds adaptive policies).
  virtual void record_read(bool hit) { (void)hit; }
  // Evicts through `sink` until the shard is within its budget.
  virtual void evict_to_fit(EvictionSink& sink) = 0;
  // Every node, the one the policy values least first.
  virtual std::vector<Node*> coldest_first() const = 0;

  bool over_budget() const { return entries_ > budget_.max_entries || bytes_ > byte_limit(); }
  uint64_t entries() const { return entries_; }
  uint64_t bytes() const { return bytes_; }
  const Budget& budget() const { return budget_; }

  // Auto-sizing (Tier::limit_bytes): a byte bound below the budget's, in
  // force until changed; kUnbounded = none. over_budget() honours it, so
  // evict_to_fit() brings the shard under it by the policy's own order. The
  // budget, and what is derived from it (region sizes, the largest entry a
  // put may store), does not change. Default: kUnbounded.
  void set_byte_limit(uint64_t limit) { byte_limit_ = limit; }
  uint64_t byte_limit() const {
    return byte_limit_ < budget_.max_bytes ? byte_limit_ : budget_.max_bytes;
  }

 protected:
  // Appends `node` at the most-recent end of `list` and stamps it with the
  // move counter.
  void push(PolicyList& list, Node* node) {
    list.push_back(node);
    node->policy_stamp = ++moves_;
  }
  // Records a hit on a node of `list`: moves it to the most-recent end,
  // unless fewer than size/4 nodes were pushed (onto any list) since it was
  // last pushed -- then it is already among the most recent quarter of its
  // list, and leaving it there spares a hot entry's hit from touching its
  // list neighbours (cache misses) for no change in what gets evicted soon.
  void touch(PolicyList& list, Node* node) {
    if (moves_ - node->policy_stamp < list.size() / 4) return;
    list.remove(node);
    push(list, node);
  }

  void account_add(uint64_t charge) {
    ++entries_;
    bytes_ += charge;
  }
  void account_remove(uint64_t charge) {
    --entries_;
    bytes_ -= charge;
  }
  void account_recharge(uint64_t old_charge, uint64_t new_charge) {
    bytes_ = bytes_ - old_charge + new_charge;
  }

 private:
  Budget budget_;
  uint64_t byte_limit_ = kUnbounded;
  uint64_t entries_ = 0;
  uint64_t bytes_ = 0;
  uint64_t moves_ = 0;  // nodes pushed onto a list so far
};

// The variants of EvictionPolicy::kCost measured in docs/decisions.md
// ("Cost-aware eviction"). The tier always uses the default; the others are
// kept for the measurement tool (tests/tiers/memory/cost_replay.cc).
enum class CostVariant {
  kWindowGdsf,          // policy/cost.h: the choice
  kGdsf,                // plain GreedyDual-Size-Frequency (policy/gdsf.cc)
};

// Tuning of W-TinyLFU (and of the cost policy, which shares its window and
// window tuner, window_tuner.h).
struct TinyLfuConfig {
  double initial_window = 0.01;  // share of the budget given to the window
  bool adaptive_window = true;   // let the window tuner size the window
  uint64_t seed = 1;             // for the hash-flooding admission coin
  CostVariant cost_variant = CostVariant::kWindowGdsf;  // kCost only
};

std::unique_ptr<Policy> make_policy(EvictionPolicy kind, Budget budget,
                                    const TinyLfuConfig& config = {});

}  // namespace plancache::internal
