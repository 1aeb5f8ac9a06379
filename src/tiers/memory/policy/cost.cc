// Cost-aware eviction for one memory-tier shard (EvictionPolicy::kCost).
//
// The idea. A plan that took the planner 40 s is worth more than one that
// took 200 ms, even if the cheap one is a little more popular. What a cached
// entry saves per unit of cache is its expected hits times its recompute
// cost over the room it takes:
//
//   value = frequency x cost / share
//
// frequency: the W-TinyLFU count-min sketch's estimate (frequency_sketch.h);
// cost: EntryMeta::compute_ms or -- unknown (0) -- the shard's typical cost
// (a decaying mean of the known ones), so a lane without costs gives every
// entry the same cost; share: the part of the shard's tighter bound the
// entry takes, max(charge / max_bytes, 1 / max_entries).
//
//   new entry -> [ window LRU, 1%..80% ] --overflow--> candidate
//                                                        | value(candidate) >
//   [ main area: min-heap on priority ] --minimum = victim+ value(victim)?
//      priority = L + value at the last access        yes: victim evicted,
//      L = priority of the last victim (GDSF ageing)  L = its priority
//                                                     no: candidate evicted
//
// * Main area: GreedyDual-Size-Frequency (Cherkasova, 1998). The victim is
//   the entry of least priority; evicting it raises L to its priority, so
//   an entry not read for a while falls behind newer ones however valuable
//   it was (ageing by inflation, not by the clock). A hit sets the node's
//   priority to L + value; the heap key catches up lazily when the node
//   reaches the top (a hit is O(1), an eviction O(log n) amortised).
// * Window and admission, as in W-TinyLFU (tinylfu.cc): every new entry
//   enters an LRU window, so a burst can build frequency; at the window's
//   exit, when the shard is full, the candidate displaces the main victim
//   only if its value is higher (ties keep the victim; a warm candidate
//   still wins 1 time in 128 against hash flooding). This is what keeps
//   loops and scans from flushing the main area -- GDSF alone admits every
//   entry and falls to LRU's level on loop traces.
// * Window size: the window tuner (window_tuner.h) -- miniature copies of
//   this policy at window shares of 1%, 20%, 50% and 100% (the last is LRU
//   with the temporary list in front) replay a sample of the keys, and the
//   window takes the share of the one that saved the most planner time
//   (hits x cost) when it is clearly ahead. The 100% miniature is the
//   check against LRU: on recency-heavy traces (LIRS sprite) the policy
//   follows it instead of staying below LRU.
//
// Priority hints (EntryMeta::priority):
// * important: its cost counts 8 times (CostModel::cost), in admission and
//   in the main area's priority -- much costlier to lose, but an important
//   entry nobody reads still ages out. (A stricter rule, "evicted only when
//   no normal entry is left", was measured and dropped: a lane whose
//   planner marks many plans important then fills with one-off plans;
//   docs/decisions.md.)
// * temporary: on a list of their own (LRU), evicted before any other
//   entry, least recently used first -- except the one being stored, which
//   may displace older entries (so a temporary entry stays until the next
//   put that needs room: evict-before-insert, as the old lane design did).
// An update that makes an entry temporary, or no longer temporary, moves
// it between the structures.
//
// Invariants (checked by the tests through the tier): after evict_to_fit(),
// entries() <= max_entries and bytes() <= max_bytes; every node is on
// exactly one structure and its Region says which (kWindow, kMain,
// kTemporary); window_size_ is the sum over the window; a main
// node's policy_stamp is its heap index.
#include "tiers/memory/policy/cost.h"

#include "tiers/memory/policy/window_tuner.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace plancache::internal {
namespace {

constexpr double kMinWindowShare = 0.01;
constexpr double kMaxWindowShare = 1.0;     // all window: LRU
constexpr int kTransferLimit = 1000;        // nodes moved per window resize
constexpr uint32_t kWarmFrequency = 6;      // ADMIT_HASHDOS_THRESHOLD
constexpr uint64_t kUnboundedSketchStart = 1024;
constexpr double kCostDecay = 4096;         // known costs averaged before halving
constexpr double kRebaseAt = 1e15;          // L is subtracted out past this
constexpr double kImportantWeight = 8;      // an important entry's cost counts 8x

uint64_t scale(uint64_t bound, double fraction) {
  if (bound == kUnbounded) return kUnbounded;
  return static_cast<uint64_t>(std::ceil(static_cast<double>(bound) * fraction));
}

bool is_temporary(const Node* node) {
  return node->entry->meta.priority == EntryPriority::kTemporary;
}

}  // namespace

// --- CostModel ------------------------------------------------------------------

CostModel::CostModel(Budget budget)
    : byte_unit_(budget.max_bytes == kUnbounded ? 0 : 1.0 / static_cast<double>(budget.max_bytes)),
      entry_unit_(
          budget.max_entries == kUnbounded ? 0 : 1.0 / static_cast<double>(budget.max_entries)) {}

void CostModel::observe(const Node* node) {
  const uint32_t ms = node->entry->meta.compute_ms;
  if (ms == 0) return;
  sum_ += ms;
  known_ += 1;
  if (known_ >= kCostDecay) {
    sum_ /= 2;
    known_ /= 2;
  }
}

double CostModel::cost(const Node* node) const {
  const uint32_t ms = node->entry->meta.compute_ms;
  const double cost = ms != 0 ? static_cast<double>(ms) : typical();
  return node->entry->meta.priority == EntryPriority::kImportant ? kImportantWeight * cost : cost;
}

double CostModel::share(const Node* node) const {
  const double share = std::max(static_cast<double>(node->charge) * byte_unit_, entry_unit_);
  return share > 0 ? share : 1.0;
}

// --- CostPolicy: membership -------------------------------------------------------

CostPolicy::CostPolicy(Budget budget, const TinyLfuConfig& config)
    : Policy(budget),
      config_(config),
      sketch_(budget.max_entries == kUnbounded ? kUnboundedSketchStart : budget.max_entries),
      model_(budget),
      window_share_(std::clamp(config.initial_window, kMinWindowShare, kMaxWindowShare)),
      random_state_(config.seed | 1),
      tuner_(make_window_tuner<CostPolicy>(budget, config)) {
  resize_window(0);
}

CostPolicy::~CostPolicy() = default;

double CostPolicy::value(const Node* node) const {
  return static_cast<double>(sketch_.frequency(node->hash)) * model_.cost(node) /
         model_.share(node);
}

void CostPolicy::window_push(Node* node) {
  node->region = Region::kWindow;
  push(window_, node);
  ++window_size_.entries;
  window_size_.bytes += node->charge;
}

void CostPolicy::window_take(Node* node) {
  window_.remove(node);
  --window_size_.entries;
  window_size_.bytes -= node->charge;
}

void CostPolicy::link(Node* node) {
  switch (node->entry->meta.priority) {
    case EntryPriority::kNormal:
    case EntryPriority::kImportant:
      window_push(node);
      return;
    case EntryPriority::kTemporary:
      node->region = Region::kTemporary;
      push(temporary_, node);
      fresh_ = node;
      return;
  }
}

void CostPolicy::on_insert(Node* node) {
  account_add(node->charge);
  if (budget().max_entries == kUnbounded && entries() > sketch_.capacity()) {
    sketch_.ensure_capacity(2 * entries());
  }
  sketch_.increment(node->hash);
  model_.observe(node);
  tune(node);
  link(node);
}

void CostPolicy::on_access(Node* node) {
  sketch_.increment(node->hash);
  tune(node);
  reposition(node);
}

// A used node moves up its list, or (main area) takes its new priority; the
// heap key follows lazily.
void CostPolicy::reposition(Node* node) {
  switch (node->region) {
    case Region::kWindow:
      touch(window_, node);
      break;
    case Region::kMain:
      node->policy_priority = inflation_ + value(node);
      break;
    case Region::kTemporary:
      touch(temporary_, node);
      break;
    case Region::kNone:
    case Region::kProbation:
    case Region::kProtected:
      break;
  }
}

// A replacement counts as an access for the sketch and the lists, not for
// window tuner's miniatures (which replay reads and stores).
void CostPolicy::on_update(Node* node, uint64_t old_charge) {
  model_.observe(node);
  sketch_.increment(node->hash);
  if (is_temporary(node) != (node->region == Region::kTemporary)) {
    // Into or out of the temporary list: unlink as it was charged, link as
    // it is now.
    const uint64_t charge = node->charge;
    node->charge = old_charge;
    on_remove(node);
    node->charge = charge;
    account_add(charge);
    link(node);
    return;
  }
  account_recharge(old_charge, node->charge);
  if (node->region == Region::kWindow) {
    window_size_.bytes = window_size_.bytes - old_charge + node->charge;
  }
  reposition(node);
}

void CostPolicy::on_remove(Node* node) {
  if (node == fresh_) fresh_ = nullptr;
  switch (node->region) {
    case Region::kWindow:
      window_take(node);
      break;
    case Region::kMain:
      heap_remove(node);
      break;
    case Region::kTemporary:
      temporary_.remove(node);
      break;
    case Region::kNone:  // a rejected candidate, already off every structure
    case Region::kProbation:
    case Region::kProtected:
      break;
  }
  node->region = Region::kNone;
  account_remove(node->charge);
}

// --- eviction ---------------------------------------------------------------------

void CostPolicy::evict_to_fit(EvictionSink& sink) {
  while (over_budget() && !temporary_.empty() && temporary_.front() != fresh_) {
    sink.evict(temporary_.front());
  }
  while (exceeds(window_size_, window_limit_) && !window_.empty()) {
    Node* candidate = window_.front();
    window_take(candidate);
    offer(candidate, sink);
  }
  while (over_budget() && !heap_.empty()) evict_main(sink);
  while (over_budget() && !window_.empty()) sink.evict(window_.front());
  if (over_budget() && fresh_ != nullptr) sink.evict(fresh_);
  fresh_ = nullptr;
}

// The candidate has left the window. Within budget it joins the main area;
// otherwise it must out-value the main victim, then displaces as many
// victims as it takes to fit (the first contest decides).
void CostPolicy::offer(Node* candidate, EvictionSink& sink) {
  bool admitted = !over_budget();
  while (over_budget() && !heap_.empty()) {
    if (!admitted && !(admitted = admit(candidate, heap_min()))) break;
    evict_main(sink);
  }
  if (admitted || !over_budget()) {
    candidate->region = Region::kMain;
    candidate->policy_priority = inflation_ + value(candidate);
    heap_push(candidate);
    return;
  }
  candidate->region = Region::kNone;  // rejected: on no structure now
  sink.evict(candidate);
}

bool CostPolicy::admit(const Node* candidate, const Node* victim) {
  if (value(candidate) > value(victim)) return true;
  if (sketch_.frequency(candidate->hash) < kWarmFrequency) return false;
  return (next_random() & 127) == 0;
}

void CostPolicy::evict_main(EvictionSink& sink) {
  Node* victim = heap_min();
  inflation_ = std::max(inflation_, heap_.front().key);
  sink.evict(victim);
  if (inflation_ > kRebaseAt) rebase();
}

uint64_t CostPolicy::next_random() {  // xorshift64
  random_state_ ^= random_state_ << 13;
  random_state_ ^= random_state_ >> 7;
  random_state_ ^= random_state_ << 17;
  return random_state_;
}

std::vector<Node*> CostPolicy::coldest_first() const {
  std::vector<Node*> out;
  out.reserve(entries());
  for (Node* n = temporary_.front(); n != nullptr; n = PolicyList::next(n)) out.push_back(n);
  const size_t main_start = out.size();
  for (const Slot& slot : heap_) out.push_back(slot.node);
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(main_start), out.end(),
            [](const Node* a, const Node* b) { return a->policy_priority < b->policy_priority; });
  for (Node* n = window_.front(); n != nullptr; n = PolicyList::next(n)) out.push_back(n);
  return out;
}

// --- window size: the tuner --------------------------------------------------------

void CostPolicy::tune(const Node* node) {
  if (tuner_ != nullptr && tuner_->sampled(node->hash)) tuner_->access(*node, model_.cost(node));
}

void CostPolicy::record_read(bool hit) {
  (void)hit;  // the tuner's miniatures count their own hits
  if (tuner_ == nullptr) return;
  if (auto share = tuner_->on_read(window_share_)) resize_window(*share - window_share_);
}

// A smaller window hands its oldest to the main area (no contest: reads and
// the climber only run while the shard is within budget); a larger one
// fills from new entries, the main area shrinking as they are admitted.
void CostPolicy::resize_window(double delta) {
  window_share_ = std::clamp(window_share_ + delta, kMinWindowShare, kMaxWindowShare);
  window_limit_ =
      Amount{scale(budget().max_entries, window_share_), scale(budget().max_bytes, window_share_)};
  window_limit_.entries = std::max<uint64_t>(window_limit_.entries, 1);
  for (int i = 0; i < kTransferLimit && exceeds(window_size_, window_limit_); ++i) {
    Node* node = window_.front();
    window_take(node);
    node->region = Region::kMain;
    node->policy_priority = inflation_ + value(node);
    heap_push(node);
  }
}

// --- the main area's heap (node->policy_stamp = its index) ---------------------------

Node* CostPolicy::heap_min() {
  // Lazy re-keying: a hit changed the node's priority without moving it.
  while (heap_.front().key != heap_.front().node->policy_priority) {
    heap_.front().key = heap_.front().node->policy_priority;
    sift_down(0);
  }
  return heap_.front().node;
}

void CostPolicy::heap_push(Node* node) {
  heap_.push_back(Slot{node->policy_priority, node});
  node->policy_stamp = heap_.size() - 1;
  sift_up(heap_.size() - 1);
}

void CostPolicy::heap_remove(Node* node) {
  const size_t i = node->policy_stamp;
  const size_t last = heap_.size() - 1;
  if (i != last) {
    heap_[i] = heap_[last];
    heap_[i].node->policy_stamp = i;
  }
  heap_.pop_back();
  if (i < heap_.size()) {
    Node* moved = heap_[i].node;
    sift_up(i);
    sift_down(moved->policy_stamp);
  }
}

void CostPolicy::sift_up(size_t i) {
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (heap_[parent].key <= heap_[i].key) return;
    swap_slots(i, parent);
    i = parent;
  }
}

void CostPolicy::sift_down(size_t i) {
  for (;;) {
    const size_t left = 2 * i + 1, right = left + 1;
    size_t least = i;
    if (left < heap_.size() && heap_[left].key < heap_[least].key) least = left;
    if (right < heap_.size() && heap_[right].key < heap_[least].key) least = right;
    if (least == i) return;
    swap_slots(i, least);
    i = least;
  }
}

void CostPolicy::swap_slots(size_t a, size_t b) {
  std::swap(heap_[a], heap_[b]);
  heap_[a].node->policy_stamp = a;
  heap_[b].node->policy_stamp = b;
}

// Subtracts L from every priority, so that the ones added to it keep their
// precision (a double has ~16 digits). Order is unchanged.
void CostPolicy::rebase() {
  for (Slot& slot : heap_) {
    slot.key -= inflation_;
    slot.node->policy_priority -= inflation_;
  }
  inflation_ = 0;
}

}  // namespace plancache::internal
