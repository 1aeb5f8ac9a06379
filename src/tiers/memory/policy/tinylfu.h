// TinyLfuPolicy: W-TinyLFU eviction (EvictionPolicy::kTinyLfu, the default),
// after Caffeine's BoundedLocalCache. See the design comment in tinylfu.cc.
//
// Thread-safety: none; guarded by the shard mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tiers/memory/frequency_sketch.h"
#include "tiers/memory/policy/policy.h"

namespace plancache::internal {

class WindowTuner;

class TinyLfuPolicy final : public Policy {
 public:
  TinyLfuPolicy(Budget budget, const TinyLfuConfig& config);
  ~TinyLfuPolicy() override;

  void on_insert(Node* node) override;
  void on_access(Node* node) override;
  void on_update(Node* node, uint64_t old_charge) override;
  void on_remove(Node* node) override;
  void prefetch(uint64_t hash) const override { sketch_.prefetch(hash); }
  void record_read(bool hit) override;
  void evict_to_fit(EvictionSink& sink) override;
  std::vector<Node*> coldest_first() const override;

  // For tests and tools.
  struct Sizes {
    uint64_t window_entries, window_bytes, window_limit_entries, window_limit_bytes;
    uint64_t protected_entries, protected_bytes, protected_limit_entries, protected_limit_bytes;
    uint64_t probation_entries;
  };
  Sizes sizes() const;
  const FrequencySketch& sketch() const { return sketch_; }

 private:
  // Entry and byte amounts of a region or of its limit.
  struct Amount {
    uint64_t entries = 0;
    uint64_t bytes = 0;
  };

  static bool exceeds(const Amount& size, const Amount& limit) {
    return size.entries > limit.entries || size.bytes > limit.bytes;
  }
  Amount scaled(double fraction) const;  // fraction of the budget, per bound
  static void add_to(Amount& region, const Node* node) {
    ++region.entries;
    region.bytes += node->charge;
  }
  static void take_from(Amount& region, const Node* node) {
    --region.entries;
    region.bytes -= node->charge;
  }

  uint64_t evict_from_window();
  void evict_from_main(uint64_t candidates, EvictionSink& sink);
  bool admit(const Node* candidate, const Node* victim);
  void demote_from_protected();
  void tune(const Node* node);
  void resize_window(double delta);
  void grow_window();
  uint64_t next_random();

  TinyLfuConfig config_;
  FrequencySketch sketch_;
  PolicyList window_;     // admission window, LRU order (front = oldest)
  PolicyList probation_;  // main area, probation segment
  PolicyList protected_;  // main area, protected segment
  Amount window_size_;
  Amount protected_size_;
  Amount window_limit_;
  Amount protected_limit_;
  double window_share_;   // current window share of the budget, 0.01..1

  uint64_t random_state_;
  std::unique_ptr<WindowTuner> tuner_;  // null: a fixed window
};

}  // namespace plancache::internal
