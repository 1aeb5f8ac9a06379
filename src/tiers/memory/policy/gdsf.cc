// GreedyDual-Size-Frequency alone (CostVariant::kGdsf): the candidate the
// cost policy was measured against (docs/decisions.md, "Cost-aware
// eviction"), kept for the measurement tool. Every entry is admitted; the
// one of least priority = L + frequency x cost / share is evicted and L
// becomes its priority. A std::set keeps the order: simple, not fast.
#include <set>
#include <tuple>
#include <unordered_map>

#include "tiers/memory/policy/cost.h"

namespace plancache::internal {
namespace {

class GdsfPolicy final : public Policy {
 public:
  explicit GdsfPolicy(Budget budget)
      : Policy(budget),
        sketch_(budget.max_entries == kUnbounded ? 1024 : budget.max_entries),
        model_(budget) {}

  void on_insert(Node* node) override {
    account_add(node->charge);
    model_.observe(node);
    sketch_.increment(node->hash);
    node->region = Region::kMain;
    place(node);
  }
  void on_access(Node* node) override {
    sketch_.increment(node->hash);
    unplace(node);
    place(node);
  }
  void on_update(Node* node, uint64_t old_charge) override {
    account_recharge(old_charge, node->charge);
    model_.observe(node);
    on_access(node);
  }
  void on_remove(Node* node) override {
    unplace(node);
    node->region = Region::kNone;
    account_remove(node->charge);
  }
  void evict_to_fit(EvictionSink& sink) override {
    while (over_budget() && !queue_.empty()) {
      const auto& [priority, seq, node] = *queue_.begin();
      inflation_ = priority;
      sink.evict(node);
    }
  }
  std::vector<Node*> coldest_first() const override {
    std::vector<Node*> out;
    out.reserve(queue_.size());
    for (const auto& [priority, seq, node] : queue_) out.push_back(node);
    return out;
  }

 private:
  using Place = std::tuple<double, uint64_t, Node*>;  // priority, then age

  void place(Node* node) {
    const double priority = inflation_ + static_cast<double>(sketch_.frequency(node->hash)) *
                                             model_.cost(node) / model_.share(node);
    const Place p{priority, ++seq_, node};
    queue_.insert(p);
    where_[node] = p;
  }
  void unplace(Node* node) {
    auto it = where_.find(node);
    if (it == where_.end()) return;
    queue_.erase(it->second);
    where_.erase(it);
  }

  FrequencySketch sketch_;
  CostModel model_;
  std::set<Place> queue_;
  std::unordered_map<const Node*, Place> where_;
  double inflation_ = 0;  // L: the priority of the last victim
  uint64_t seq_ = 0;
};

}  // namespace

std::unique_ptr<Policy> make_gdsf_policy(Budget budget) {
  return std::make_unique<GdsfPolicy>(budget);
}

}  // namespace plancache::internal
