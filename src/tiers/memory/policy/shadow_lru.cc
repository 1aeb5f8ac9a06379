#include "tiers/memory/policy/shadow_lru.h"

#include <algorithm>
#include <iterator>

namespace plancache::internal {
namespace {

// Sampled keys a shard aims for: enough for a hit ratio within a point or
// so, few enough to cost nothing next to the entries.
constexpr uint64_t kSampledKeys = 512;

}  // namespace

ShadowLru::ShadowLru(Budget budget) {
  if (budget.max_entries != kUnbounded) {
    rate_ = std::max<uint64_t>(1, budget.max_entries / kSampledKeys);
    max_entries_ = std::max<uint64_t>(1, budget.max_entries / rate_);
  }
  if (budget.max_bytes != kUnbounded) max_bytes_ = budget.max_bytes / rate_;
}

bool ShadowLru::access(uint64_t hash, uint64_t charge) {
  auto it = map_.find(hash);
  const bool hit = it != map_.end();
  if (hit) {
    bytes_ -= it->second->charge;
    order_.erase(it->second);
  }
  order_.push_back(Item{hash, charge});
  bytes_ += charge;
  map_[hash] = std::prev(order_.end());
  while ((map_.size() > max_entries_ || bytes_ > max_bytes_) && !order_.empty()) {
    bytes_ -= order_.front().charge;
    map_.erase(order_.front().hash);
    order_.pop_front();
  }
  return hit;
}

}  // namespace plancache::internal
