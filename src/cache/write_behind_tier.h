// WriteBehindTier: a Tier decorator that makes put() return at once and
// writes to the wrapped ("inner") tier from one background thread -- the
// optional write-behind mode of L2 (docs/architecture.md).
//
// What callers see:
// - put() enqueues and returns; a put of a key that is already waiting
//   replaces the waiting value in place (the later put wins, and the queue
//   does not grow). When `max_queue` keys are waiting, put() writes to the
//   inner tier synchronously instead (backpressure: nothing is ever dropped)
//   and TierStats::write_behind_full counts it (docs/decisions.md).
// - get() and list() see waiting writes first (read-your-writes).
// - erase() and invalidate() drop matching waiting writes, and also remove
//   the key from the inner tier, so an older stored value never reappears.
// - The destructor writes every waiting entry before it returns, so a
//   graceful stop (SIGTERM) loses nothing; a crash loses what was waiting.
// - A write the inner tier refuses in the background (I/O error, too large)
//   is counted in TierStats::errors; put() already returned OK for it.
// - stats(): the inner tier's, plus pending_writes and write_behind_full;
//   hits and misses include answers from waiting writes; puts counts put()
//   calls; entries and bytes are the inner tier's (waiting writes excluded).
//
// Ownership: owns the inner tier. kind() and name() are the inner tier's.
// Thread-safety: fully thread-safe. One mutex guards the waiting writes; the
// inner tier is never called with it held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "plancache/clock.h"
#include "plancache/tier.h"

namespace plancache::internal {

struct WriteBehindOptions {
  // Most keys waiting to be written (a waiting key's newer put takes no new
  // slot). Beyond it put() writes synchronously. REQUIRED: > 0.
  // Default: 10,000.
  size_t max_queue = 10'000;
  // Judges the expiry of waiting entries on get() and list(); use the inner
  // tier's clock. Default: system_clock().
  std::shared_ptr<Clock> clock;
};

class WriteBehindTier final : public Tier {
 public:
  // REQUIRES: inner != nullptr, options.max_queue > 0, options.clock set.
  WriteBehindTier(std::unique_ptr<Tier> inner, WriteBehindOptions options);
  // Drains every waiting write into the inner tier, then stops the thread.
  ~WriteBehindTier() override;
  WriteBehindTier(const WriteBehindTier&) = delete;
  WriteBehindTier& operator=(const WriteBehindTier&) = delete;

  TierKind kind() const override { return inner_->kind(); }
  std::string_view name() const override { return inner_->name(); }
  Result<EntryPtr> get(const CacheKey& key) override;
  // Errors: invalid_argument for a null entry or value; when the queue is
  // full, whatever the inner tier's synchronous put returns.
  Status put(const CacheKey& key, EntryPtr entry) override;
  Result<bool> erase(const CacheKey& key) override;
  Result<uint64_t> invalidate(const Selector& selector) override;
  Result<uint64_t> evict_fraction(double fraction) override;
  uint64_t purge_expired() override;
  TierStats stats() const override;
  Result<std::vector<ListedEntry>> list(const Selector& selector, size_t limit) override;

  // Blocks until every write accepted before the call has reached the inner
  // tier (or failed there). For tests and orderly hand-overs.
  void flush();

 private:
  using Queue = std::list<std::string>;  // encoded keys, oldest first

  // A write waiting for (or being written to) the inner tier.
  struct Slot {
    CacheKey key;
    EntryPtr entry;
    uint64_t version = 0;    // bumped when a newer put replaces `entry`
    bool in_flight = false;  // the worker is writing it now (then not in queue_)
    Queue::iterator pos;     // its place in queue_ while !in_flight
  };

  void run();  // the worker thread
  // Waits (releasing `lock`) until `encoded` is not being written.
  void wait_while_in_flight(std::unique_lock<std::mutex>& lock, const std::string& encoded);
  // REQUIRES: mu_ held and the slot not in flight.
  void drop_locked(std::unordered_map<std::string, Slot>::iterator it);

  const std::unique_ptr<Tier> inner_;
  const WriteBehindOptions options_;

  // Guards every member from here to worker_.
  mutable std::mutex mu_;
  std::condition_variable work_cv_;                // the worker waits here for queue_ or stop_
  std::condition_variable done_cv_;                // waiters (flush, erase) for a finished write
  std::unordered_map<std::string, Slot> pending_;  // by CacheKey::encoded()
  Queue queue_;                                    // every slot that is not in flight, once
  bool stop_ = false;
  bool worker_idle_ = false;
  uint32_t waiters_ = 0;  // threads waiting on done_cv_
  uint64_t puts_ = 0;
  uint64_t full_ = 0;
  uint64_t errors_ = 0;
  uint64_t pending_hits_ = 0;
  uint64_t pending_misses_ = 0;
  // pending_.size(), readable without mu_: get() skips the lock when 0.
  std::atomic<size_t> pending_count_{0};
  std::thread worker_;  // started last, in the constructor body
};

// The factory. Errors: invalid_argument for a null inner tier or
// max_queue == 0.
Result<std::unique_ptr<Tier>> new_write_behind_tier(std::unique_ptr<Tier> inner,
                                                    WriteBehindOptions options);

}  // namespace plancache::internal
