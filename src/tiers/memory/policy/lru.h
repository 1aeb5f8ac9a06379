// LruPolicy: plain least-recently-used eviction (EvictionPolicy::kLru).
//
// One list in access order; a hit or a replacement moves the node to the
// most-recent end (unless it is already in the most recent quarter, see
// Policy::touch); eviction takes from the least-recent end until the shard
// is within both its entry and its byte bound. Every new entry is admitted.
//
// Thread-safety: none; guarded by the shard mutex.
#pragma once

#include <vector>

#include "tiers/memory/policy/policy.h"

namespace plancache::internal {

class LruPolicy final : public Policy {
 public:
  explicit LruPolicy(Budget budget) : Policy(budget) {}
  ~LruPolicy() override = default;

  void on_insert(Node* node) override;
  void on_access(Node* node) override { touch(list_, node); }
  void on_update(Node* node, uint64_t old_charge) override;
  void on_remove(Node* node) override;
  void evict_to_fit(EvictionSink& sink) override;
  std::vector<Node*> coldest_first() const override;

 private:
  PolicyList list_;  // front = least recently used
};

}  // namespace plancache::internal
