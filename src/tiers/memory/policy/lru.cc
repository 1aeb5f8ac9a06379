#include "tiers/memory/policy/lru.h"

namespace plancache::internal {

void LruPolicy::on_insert(Node* node) {
  node->region = Region::kWindow;
  push(list_, node);
  account_add(node->charge);
}

void LruPolicy::on_update(Node* node, uint64_t old_charge) {
  account_recharge(old_charge, node->charge);
  touch(list_, node);
}

void LruPolicy::on_remove(Node* node) {
  list_.remove(node);
  node->region = Region::kNone;
  account_remove(node->charge);
}

void LruPolicy::evict_to_fit(EvictionSink& sink) {
  while (over_budget() && !list_.empty()) sink.evict(list_.front());
}

std::vector<Node*> LruPolicy::coldest_first() const {
  std::vector<Node*> out;
  out.reserve(list_.size());
  for (Node* n = list_.front(); n != nullptr; n = PolicyList::next(n)) out.push_back(n);
  return out;
}

}  // namespace plancache::internal
