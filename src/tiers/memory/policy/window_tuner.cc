#include "tiers/memory/policy/window_tuner.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>
#include <unordered_map>

namespace plancache::internal {
namespace {

// Sampled keys a shard aims for: a miniature's hit ratio within a point or
// so of the full cache's, for a small part of the shard's own work.
constexpr uint64_t kSampledKeys = 512;
// A period is this many times the shard's entry bound in reads (and at
// least kMinPeriodReads): long enough for the counts to mean something,
// short enough to follow a change of workload.
constexpr uint64_t kPeriodPerEntry = 10;
constexpr uint64_t kMinPeriodReads = 1000;
// Each period's counts weigh as much as all earlier ones together.
constexpr double kDecay = 0.5;
// How many standard deviations of the paired difference a miniature must be
// ahead of the current share's before the shard moves.
constexpr double kSignificance = 2.0;

}  // namespace

// One miniature cache: a policy over nodes that hold only the metadata the
// policy reads (compute cost, priority), keyed by the shard's key hash.
class WindowTuner::Mini final : public EvictionSink {
 public:
  // (Nodes are freed without telling the policy, as a shard does: a
  // policy never touches its nodes once it is being destroyed.)
  explicit Mini(std::unique_ptr<Policy> policy) : policy_(std::move(policy)) {}

  // Returns whether the miniature hit. On a miss the new node gets
  // `entry()`: the access's metadata copy, made once and only if needed.
  template <typename MakeEntry>
  bool access(uint64_t hash, uint64_t charge, MakeEntry&& entry) {
    auto it = nodes_.find(hash);
    if (it != nodes_.end()) {
      policy_->on_access(it->second.get());
      return true;
    }
    char id[sizeof hash];
    std::memcpy(id, &hash, sizeof hash);
    NodePtr node =
        Node::create(CacheKey("m", KeyKind::kUser, std::string_view(id, sizeof id)), entry(), charge);
    Node* raw = node.get();
    nodes_.emplace(hash, std::move(node));
    hash_of_.emplace(raw, hash);
    policy_->on_insert(raw);
    policy_->evict_to_fit(*this);
    return false;
  }

  void evict(Node* node) override {
    policy_->on_remove(node);
    auto it = hash_of_.find(node);
    const uint64_t hash = it->second;
    hash_of_.erase(it);
    nodes_.erase(hash);  // frees the node
  }

 private:
  std::unique_ptr<Policy> policy_;
  std::unordered_map<uint64_t, NodePtr> nodes_;       // by the shard's key hash
  std::unordered_map<const Node*, uint64_t> hash_of_;  // and back
};

WindowTuner::WindowTuner(Budget budget, const MakePolicy& make) {
  Budget mini = budget;
  if (budget.max_entries != kUnbounded) {
    rate_ = std::max<uint64_t>(1, budget.max_entries / kSampledKeys);
    mini.max_entries = std::max<uint64_t>(1, budget.max_entries / rate_);
    period_ = std::max(kMinPeriodReads, kPeriodPerEntry * budget.max_entries);
  } else {
    period_ = kMinPeriodReads * kPeriodPerEntry;
  }
  if (budget.max_bytes != kUnbounded) mini.max_bytes = std::max<uint64_t>(1, budget.max_bytes / rate_);
  for (double share : kShares) minis_.push_back(std::make_unique<Mini>(make(mini, share)));
}

WindowTuner::~WindowTuner() = default;

void WindowTuner::access(const Node& node, double worth) {
  // The miniatures' nodes need the entry's metadata (cost, priority), not
  // its value; one copy serves the four, made only when one of them misses
  // (a hit in all four allocates nothing).
  EntryPtr shared;
  auto meta_copy = [&]() -> const EntryPtr& {
    if (shared == nullptr) {
      auto entry = std::make_shared<Entry>();
      entry->meta = node.entry->meta;
      shared = std::move(entry);
    }
    return shared;
  };
  bool hit[kMinis];
  for (size_t i = 0; i < kMinis; ++i) hit[i] = minis_[i]->access(node.hash, node.charge, meta_copy);
  for (size_t i = 0; i < kMinis; ++i) {
    if (!hit[i]) continue;
    saved_[i] += worth;
    for (size_t j = 0; j < kMinis; ++j) {
      if (hit[j]) continue;
      wins_[i][j].worth += worth;
      wins_[i][j].squares += worth * worth;
    }
  }
}

std::optional<double> WindowTuner::on_read(double current_share) {
  if (++reads_ < period_) return std::nullopt;
  reads_ = 0;
  size_t current = 0;
  for (size_t i = 1; i < kMinis; ++i) {
    if (std::abs(kShares[i] - current_share) < std::abs(kShares[current] - current_share)) current = i;
  }
  const size_t best = static_cast<size_t>(std::max_element(saved_, saved_ + kMinis) - saved_);
  const Tally& ahead = wins_[best][current];
  const Tally& behind = wins_[current][best];
  const bool move = best != current && ahead.worth - behind.worth >
                                           kSignificance * std::sqrt(ahead.squares + behind.squares);
  for (size_t i = 0; i < kMinis; ++i) {
    saved_[i] *= kDecay;
    for (Tally& tally : wins_[i]) {
      tally.worth *= kDecay;
      tally.squares *= kDecay * kDecay;  // a decayed worth's variance
    }
  }
  if (!move) return std::nullopt;
  return kShares[best];
}

}  // namespace plancache::internal
