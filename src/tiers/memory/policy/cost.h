// CostPolicy: cost-aware eviction (EvictionPolicy::kCost) -- an LRU
// admission window in front of a GreedyDual-Size-Frequency main area, with
// W-TinyLFU's frequency sketch, admission test and window tuner, weighted
// by recompute cost; plus the entry priority hints (important entries cost
// 8x, temporary ones are evicted first). See the design comment
// in cost.cc; docs/decisions.md has the measurements behind it.
//
// Thread-safety: none; guarded by the shard mutex, except prefetch().
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tiers/memory/frequency_sketch.h"
#include "tiers/memory/policy/policy.h"

namespace plancache::internal {

class WindowTuner;

// What an entry costs to lose and the room it takes, for the cost-aware
// policies: its recompute cost (EntryMeta::compute_ms, 0 = unknown) and the
// share of the shard's budget it takes.
class CostModel {
 public:
  explicit CostModel(Budget budget);

  // Learns the typical cost from an entry that was just stored.
  void observe(const Node* node);
  // The entry's cost in ms: compute_ms, or the typical cost when unknown;
  // 8 times that for an EntryPriority::kImportant entry.
  double cost(const Node* node) const;
  // The share of the tighter bound the entry takes: max(charge / max_bytes,
  // 1 / max_entries); 1 when the shard is unbounded.
  double share(const Node* node) const;
  // Mean of the known costs seen lately (halved every 4096 of them, so it
  // follows a drifting lane); 1 before any is known.
  double typical() const { return known_ > 0 ? sum_ / known_ : 1.0; }

 private:
  double byte_unit_;   // 1 / max_bytes, 0 when unbounded
  double entry_unit_;  // 1 / max_entries, 0 when unbounded
  double sum_ = 0;
  double known_ = 0;
};

class CostPolicy final : public Policy {
 public:
  CostPolicy(Budget budget, const TinyLfuConfig& config);
  ~CostPolicy() override;

  void on_insert(Node* node) override;
  void on_access(Node* node) override;
  void on_update(Node* node, uint64_t old_charge) override;
  void on_remove(Node* node) override;
  void prefetch(uint64_t hash) const override { sketch_.prefetch(hash); }
  void record_read(bool hit) override;
  void evict_to_fit(EvictionSink& sink) override;
  // Temporary entries (least recent first), the main area by priority,
  // the window (least recent first).
  std::vector<Node*> coldest_first() const override;

  // For tests and tools.
  // Frequency x cost / share: what admission compares.
  double value(const Node* node) const;
  double window_share() const { return window_share_; }
  const CostModel& model() const { return model_; }

 private:
  void reposition(Node* node);
  // Entry and byte amounts of a region or of its limit.
  struct Amount {
    uint64_t entries = 0;
    uint64_t bytes = 0;
  };
  // One place of the main area's heap: the priority it is ordered by (a hit
  // raises the node's policy_priority; the key catches up lazily).
  struct Slot {
    double key;
    Node* node;
  };

  static bool exceeds(const Amount& size, const Amount& limit) {
    return size.entries > limit.entries || size.bytes > limit.bytes;
  }
  void link(Node* node);
  void window_push(Node* node);
  void window_take(Node* node);
  void offer(Node* candidate, EvictionSink& sink);
  bool admit(const Node* candidate, const Node* victim);
  void evict_main(EvictionSink& sink);
  void tune(const Node* node);
  void resize_window(double delta);
  uint64_t next_random();

  Node* heap_min();
  void heap_push(Node* node);
  void heap_remove(Node* node);
  void sift_up(size_t i);
  void sift_down(size_t i);
  void swap_slots(size_t a, size_t b);
  void rebase();

  TinyLfuConfig config_;
  FrequencySketch sketch_;
  CostModel model_;

  PolicyList window_;       // admission window, LRU order (front = oldest)
  PolicyList temporary_;    // EntryPriority::kTemporary, LRU order (front = oldest)
  std::vector<Slot> heap_;  // main area: a min-heap on Slot::key
  Amount window_size_;
  Amount window_limit_;
  double window_share_;
  double inflation_ = 0;  // GDSF's L: the priority of the last main victim
  // The temporary node the latest on_insert() linked: the put that stores
  // it may evict older entries for it, not it first.
  Node* fresh_ = nullptr;


  uint64_t random_state_;
  std::unique_ptr<WindowTuner> tuner_;  // null: a fixed window
};

// GreedyDual-Size-Frequency (Cherkasova 1998) alone, frequency from a
// sketch: priority = L + frequency x cost / share, the minimum is evicted
// and L becomes its priority. Measured and not chosen (docs/decisions.md);
// ignores priority hints. CostVariant::kGdsf, for the measurement tool.
std::unique_ptr<Policy> make_gdsf_policy(Budget budget);

}  // namespace plancache::internal
