// W-TinyLFU for one memory-tier shard, after Caffeine's BoundedLocalCache
// (Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache Admission
// Policy", 2017).
//
// The idea. LRU keeps whatever was touched last, so one pass over many cold
// keys (a scan, a batch job) flushes the hot set. W-TinyLFU keeps a cheap,
// ageing estimate of how often every key was seen recently (a count-min
// sketch, frequency_sketch.h) and uses it to decide *admission*: a new entry
// only displaces an old one when it looks more popular.
//
//   new entry -> [ window LRU ~1% ] --overflow--> candidate
//                                                    | competes with
//   [ probation ~20% of main ] --front = victim------+ the victim by frequency;
//        ^  hit: promote  |                            the loser is evicted
//        |  demote        v
//   [ protected ~80% of main ]
//
// * Window: a small LRU that every new entry enters, so a burst of a new key
//   can build up frequency before it has to compete.
// * Main: a segmented LRU. Entries admitted from the window land in
//   probation; a hit in probation promotes to protected; protected overflow
//   is demoted back to probation's most-recent end.
// * Eviction (evict_to_fit): first the window's overflow moves to the
//   most-recent end of probation as "candidates". Then, while the shard is
//   over budget, the newest remaining candidate is compared with probation's
//   least-recent entry (the "victim"); the one with the lower estimated
//   frequency is evicted (ties evict the candidate: the incumbent stays). A
//   warm candidate (frequency >= 6) that loses still wins 1 time in 128 so an
//   attacker cannot pin the cache by inflating a victim's counters through
//   hash collisions (Caffeine's defence). When the candidates run out, the
//   victims go unconditionally: probation first, then protected, then window.
// * Every hit and every put counts one access in the sketch (misses do not:
//   a key that is looked up but never stored cannot be admitted anyway).
// * A hit in the window or protected moves the node to the most-recent end,
//   except when it is already in the most recent quarter of its list
//   (Policy::touch): a hot entry's hit then writes no list pointers and
//   touches no neighbour nodes. The eviction order differs only within that
//   quarter, which is never where victims come from.
// * Ageing: the sketch halves all counters after 10x capacity additions.
// * Adaptive window (window_tuner.h): miniature copies of this policy at
//   window shares of 1%, 20%, 50% and 100% (plain LRU) replay a sample of
//   the keys; every period (10x capacity reads) the window takes the share
//   of the miniature that hit the most, when it is clearly ahead of the
//   current share's. Frequency-biased workloads keep the 1% window, where
//   Caffeine's hill climber wanders off it on noise; recency-biased ones
//   (OLTP, LIRS sprite) move to the large windows within a period or two.
//
// Two bounds. A shard is bounded by entries AND by bytes (either may be
// unbounded). Every size the policy keeps -- each region's size and limit --
// is an (entries, bytes) pair, and "over" means over in either. The window
// and protected limits are the same shares of both bounds, so with equal-size
// entries the two agree and with unequal ones the tighter bound rules. An
// entry bigger than the whole window goes straight to probation as a
// candidate (as in Caffeine): it must out-score the victim to stay, which
// keeps one big one-off entry from flushing many small hot ones. The eviction
// loop evicts until both bounds hold, so a big admitted candidate may cost
// several victims. (Entries bigger than the shard's whole byte budget never
// get here: the tier rejects them.)
//
// Invariants (checked by the tests through the tier): after evict_to_fit(),
// entries() <= max_entries and bytes() <= max_bytes; every node is on exactly
// one of the three lists and its Region says which; window_size_ and
// protected_size_ are the sums over those lists.
#include "tiers/memory/policy/tinylfu.h"

#include <algorithm>
#include <cmath>

#include "tiers/memory/policy/window_tuner.h"

namespace plancache::internal {
namespace {

constexpr double kProtectedShare = 0.8;      // of the main area
constexpr double kMinWindowShare = 0.01;
constexpr double kMaxWindowShare = 1.0;     // all window: plain LRU
constexpr int kTransferLimit = 1000;         // QUEUE_TRANSFER_THRESHOLD
constexpr uint32_t kWarmFrequency = 6;       // ADMIT_HASHDOS_THRESHOLD
constexpr uint64_t kUnboundedSketchStart = 1024;

uint64_t scale(uint64_t bound, double fraction) {
  if (bound == kUnbounded) return kUnbounded;
  return static_cast<uint64_t>(std::ceil(static_cast<double>(bound) * fraction));
}

}  // namespace

TinyLfuPolicy::TinyLfuPolicy(Budget budget, const TinyLfuConfig& config)
    : Policy(budget),
      config_(config),
      sketch_(budget.max_entries == kUnbounded ? kUnboundedSketchStart : budget.max_entries),
      window_share_(std::clamp(config.initial_window, kMinWindowShare, kMaxWindowShare)),
      random_state_(config.seed | 1),
      tuner_(make_window_tuner<TinyLfuPolicy>(budget, config)) {
  resize_window(0);
}

TinyLfuPolicy::~TinyLfuPolicy() = default;

void TinyLfuPolicy::tune(const Node* node) {
  if (tuner_ != nullptr && tuner_->sampled(node->hash)) tuner_->access(*node, 1.0);
}

TinyLfuPolicy::Amount TinyLfuPolicy::scaled(double fraction) const {
  return Amount{scale(budget().max_entries, fraction), scale(budget().max_bytes, fraction)};
}

uint64_t TinyLfuPolicy::next_random() {  // xorshift64
  random_state_ ^= random_state_ << 13;
  random_state_ ^= random_state_ >> 7;
  random_state_ ^= random_state_ << 17;
  return random_state_;
}

void TinyLfuPolicy::on_insert(Node* node) {
  account_add(node->charge);
  if (budget().max_entries == kUnbounded && entries() > sketch_.capacity()) {
    sketch_.ensure_capacity(2 * entries());
  }
  sketch_.increment(node->hash);
  tune(node);
  node->region = Region::kWindow;
  push(window_, node);
  add_to(window_size_, node);
}

void TinyLfuPolicy::on_access(Node* node) {
  sketch_.increment(node->hash);
  tune(node);
  switch (node->region) {
    case Region::kWindow:
      touch(window_, node);
      break;
    case Region::kProbation:
      probation_.remove(node);
      node->region = Region::kProtected;
      push(protected_, node);
      add_to(protected_size_, node);
      demote_from_protected();
      break;
    case Region::kProtected:
      touch(protected_, node);
      break;
    case Region::kNone:
    case Region::kMain:  // other policies' regions
    case Region::kTemporary:
      break;
  }
}

void TinyLfuPolicy::on_update(Node* node, uint64_t old_charge) {
  account_recharge(old_charge, node->charge);
  Amount* region = node->region == Region::kWindow      ? &window_size_
                   : node->region == Region::kProtected ? &protected_size_
                                                        : nullptr;
  if (region != nullptr) region->bytes = region->bytes - old_charge + node->charge;
  on_access(node);
}

void TinyLfuPolicy::on_remove(Node* node) {
  switch (node->region) {
    case Region::kWindow:
      window_.remove(node);
      take_from(window_size_, node);
      break;
    case Region::kProbation:
      probation_.remove(node);
      break;
    case Region::kProtected:
      protected_.remove(node);
      take_from(protected_size_, node);
      break;
    case Region::kNone:
    case Region::kMain:  // other policies' regions
    case Region::kTemporary:
      return;
  }
  node->region = Region::kNone;
  account_remove(node->charge);
}

void TinyLfuPolicy::demote_from_protected() {
  for (int i = 0; i < kTransferLimit && exceeds(protected_size_, protected_limit_); ++i) {
    Node* node = protected_.front();
    protected_.remove(node);
    take_from(protected_size_, node);
    node->region = Region::kProbation;
    push(probation_, node);
  }
}

uint64_t TinyLfuPolicy::evict_from_window() {
  uint64_t candidates = 0;
  while (exceeds(window_size_, window_limit_) && !window_.empty()) {
    Node* node = window_.front();
    window_.remove(node);
    take_from(window_size_, node);
    node->region = Region::kProbation;
    push(probation_, node);
    ++candidates;
  }
  return candidates;
}

bool TinyLfuPolicy::admit(const Node* candidate, const Node* victim) {
  const uint32_t victim_freq = sketch_.frequency(victim->hash);
  const uint32_t candidate_freq = sketch_.frequency(candidate->hash);
  if (candidate_freq > victim_freq) return true;
  if (candidate_freq < kWarmFrequency) return false;
  return (next_random() & 127) == 0;
}

void TinyLfuPolicy::evict_to_fit(EvictionSink& sink) {
  const uint64_t candidates = evict_from_window();
  if (over_budget()) evict_from_main(candidates, sink);
}

// Candidates are the `candidates` newest nodes of probation, examined newest
// first; victims start at probation's oldest. Each pointer is advanced from a
// node that is still linked (computed before or after the eviction as
// needed), so neither ever refers to an evicted node.
void TinyLfuPolicy::evict_from_main(uint64_t candidates, EvictionSink& sink) {
  Region victim_queue = Region::kProbation;
  Node* victim = probation_.front();
  Node* candidate = candidates > 0 ? probation_.back() : nullptr;
  while (over_budget()) {
    if (candidates == 0) candidate = nullptr;
    if (candidate == nullptr && victim == nullptr) {
      if (victim_queue == Region::kProbation) {
        victim = protected_.front();
        victim_queue = Region::kProtected;
        continue;
      }
      if (victim_queue == Region::kProtected) {
        victim = window_.front();
        victim_queue = Region::kWindow;
        continue;
      }
      break;
    }
    if (candidate == nullptr) {  // only victims left
      Node* evict = victim;
      victim = PolicyList::next(victim);
      sink.evict(evict);
    } else if (candidate == victim) {  // the two ends met: the run is exhausted
      victim = PolicyList::next(victim);
      candidates = 0;
      sink.evict(candidate);
    } else if (victim == nullptr || !admit(candidate, victim)) {
      Node* evict = candidate;
      candidate = PolicyList::prev(candidate);
      --candidates;
      sink.evict(evict);
    } else {
      Node* evict = victim;
      victim = PolicyList::next(victim);
      sink.evict(evict);
      candidate = PolicyList::prev(candidate);  // read after the unlink
      --candidates;
    }
  }
}

void TinyLfuPolicy::record_read(bool hit) {
  (void)hit;  // the tuner's miniatures count their own hits
  if (tuner_ == nullptr) return;
  if (auto share = tuner_->on_read(window_share_)) resize_window(*share - window_share_);
}

// Moves the window share by `delta` and the protected limit with it, then
// moves nodes between the regions (at most kTransferLimit per step, as
// Caffeine does) so that the lists approach their new limits: a smaller
// window hands its oldest to probation, a larger one takes main's oldest.
void TinyLfuPolicy::resize_window(double delta) {
  window_share_ = std::clamp(window_share_ + delta, kMinWindowShare, kMaxWindowShare);
  window_limit_ = scaled(window_share_);
  window_limit_.entries = std::max<uint64_t>(window_limit_.entries, 1);
  protected_limit_ = scaled((1.0 - window_share_) * kProtectedShare);
  if (delta < 0) {
    for (int i = 0; i < kTransferLimit && exceeds(window_size_, window_limit_); ++i) {
      Node* node = window_.front();
      window_.remove(node);
      take_from(window_size_, node);
      node->region = Region::kProbation;
      push(probation_, node);
    }
  } else if (delta > 0) {
    grow_window();
  }
  demote_from_protected();
}

void TinyLfuPolicy::grow_window() {
  for (int i = 0; i < kTransferLimit; ++i) {
    Node* node = !probation_.empty() ? probation_.front() : protected_.front();
    if (node == nullptr) break;
    Amount grown = window_size_;
    add_to(grown, node);
    if (exceeds(grown, window_limit_)) break;
    if (node->region == Region::kProbation) {
      probation_.remove(node);
    } else {
      protected_.remove(node);
      take_from(protected_size_, node);
    }
    node->region = Region::kWindow;
    push(window_, node);
    window_size_ = grown;
  }
}

std::vector<Node*> TinyLfuPolicy::coldest_first() const {
  // Window and probation merged by estimated frequency (ties: probation,
  // then least recent first), then protected from least recent.
  std::vector<Node*> out;
  out.reserve(entries());
  for (Node* n = probation_.front(); n != nullptr; n = PolicyList::next(n)) out.push_back(n);
  for (Node* n = window_.front(); n != nullptr; n = PolicyList::next(n)) out.push_back(n);
  std::stable_sort(out.begin(), out.end(), [this](const Node* a, const Node* b) {
    return sketch_.frequency(a->hash) < sketch_.frequency(b->hash);
  });
  for (Node* n = protected_.front(); n != nullptr; n = PolicyList::next(n)) out.push_back(n);
  return out;
}

TinyLfuPolicy::Sizes TinyLfuPolicy::sizes() const {
  return Sizes{window_size_.entries,     window_size_.bytes,     window_limit_.entries,
               window_limit_.bytes,      protected_size_.entries, protected_size_.bytes,
               protected_limit_.entries, protected_limit_.bytes, probation_.size()};
}

}  // namespace plancache::internal
