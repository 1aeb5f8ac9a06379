// Write-behind decorator: puts are queued and written to the inner tier by
// one background thread (the contract is in write_behind_tier.h).
//
// State: `pending_` maps each waiting key to its Slot (latest entry, version,
// in-flight flag); `queue_` orders the slots that are not being written,
// oldest first. The worker takes the front key, marks its slot in flight,
// writes it with mu_ released, then removes the slot -- unless a newer put
// replaced the entry meanwhile (the version moved on), in which case the slot
// goes back to the end of the queue with the newer entry.
//
// Invariants (under mu_):
// - a key is in pending_ from its put until the inner tier holds that put's
//   entry (or refused it): so "not pending" means the inner tier is up to
//   date for the key, and get() may read it there;
// - a slot is either in flight (at most one: the worker's) or in queue_ once;
// - erase() and invalidate() never remove a slot in flight: they wait for the
//   write to land and then remove the key from the inner tier, so a removal
//   is never overtaken by an older write.
//
// Why one thread: the disk tier is the inner tier we have; RocksDB groups
// concurrent writers itself, and one writer keeps the per-key order trivial.
// Why in-place replacement: a hot key rewritten faster than the disk absorbs
// it costs one slot and one eventual write, not a growing backlog.
#include "cache/write_behind_tier.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "cache/listing.h"
#include "core/selector_match.h"

namespace plancache::internal {

WriteBehindTier::WriteBehindTier(std::unique_ptr<Tier> inner, WriteBehindOptions options)
    : inner_(std::move(inner)), options_(std::move(options)) {
  worker_ = std::thread([this] { run(); });
}

WriteBehindTier::~WriteBehindTier() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  worker_.join();
}

void WriteBehindTier::run() {
  std::unique_lock lock(mu_);
  while (true) {
    worker_idle_ = true;
    work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    worker_idle_ = false;
    if (queue_.empty()) return;  // stopping, and everything is written
    const std::string encoded = std::move(queue_.front());
    queue_.pop_front();
    Slot& slot = pending_.at(encoded);
    slot.in_flight = true;
    const uint64_t version = slot.version;
    const CacheKey key = slot.key;
    const EntryPtr entry = slot.entry;
    lock.unlock();
    const Status written = inner_->put(key, entry);
    lock.lock();
    if (!written.is_ok()) ++errors_;
    // Still there: nobody removes a slot in flight.
    auto it = pending_.find(encoded);
    if (it->second.version == version) {
      pending_.erase(it);
      pending_count_.store(pending_.size(), std::memory_order_release);
    } else {
      it->second.in_flight = false;
      it->second.pos = queue_.insert(queue_.end(), encoded);
    }
    if (waiters_ > 0) done_cv_.notify_all();
  }
}

void WriteBehindTier::wait_while_in_flight(std::unique_lock<std::mutex>& lock,
                                           const std::string& encoded) {
  ++waiters_;
  done_cv_.wait(lock, [&] {
    auto it = pending_.find(encoded);
    return it == pending_.end() || !it->second.in_flight;
  });
  --waiters_;
}

void WriteBehindTier::drop_locked(std::unordered_map<std::string, Slot>::iterator it) {
  queue_.erase(it->second.pos);
  pending_.erase(it);
  pending_count_.store(pending_.size(), std::memory_order_release);
}

void WriteBehindTier::flush() {
  std::unique_lock lock(mu_);
  ++waiters_;
  done_cv_.wait(lock, [this] { return pending_.empty(); });
  --waiters_;
}

Result<EntryPtr> WriteBehindTier::get(const CacheKey& key) {
  if (pending_count_.load(std::memory_order_acquire) != 0) {
    std::lock_guard lock(mu_);
    auto it = pending_.find(key.encoded());
    if (it != pending_.end()) {
      const bool live = !it->second.entry->meta.expired_at(options_.clock->now_ms());
      ++(live ? pending_hits_ : pending_misses_);
      return live ? it->second.entry : EntryPtr();
    }
  }
  return inner_->get(key);
}

Status WriteBehindTier::put(const CacheKey& key, EntryPtr entry) {
  if (entry == nullptr || entry->value == nullptr) {
    return Status::invalid_argument("write-behind tier: entry and its value must not be null");
  }
  {
    std::lock_guard lock(mu_);
    ++puts_;
    auto it = pending_.find(key.encoded());
    if (it != pending_.end()) {
      it->second.entry = std::move(entry);
      ++it->second.version;
      return Status::ok();
    }
    if (pending_.size() < options_.max_queue && !stop_) {
      Slot slot{key, std::move(entry), 0, false, queue_.insert(queue_.end(), key.encoded())};
      pending_.emplace(key.encoded(), std::move(slot));
      pending_count_.store(pending_.size(), std::memory_order_release);
      if (worker_idle_) work_cv_.notify_one();
      return Status::ok();
    }
    ++full_;
  }
  // Full: backpressure. The key is not waiting, so no queued write of it
  // can land after this one.
  return inner_->put(key, std::move(entry));
}

Result<bool> WriteBehindTier::erase(const CacheKey& key) {
  bool had_live = false;
  {
    std::unique_lock lock(mu_);
    wait_while_in_flight(lock, key.encoded());
    auto it = pending_.find(key.encoded());
    if (it != pending_.end()) {
      had_live = !it->second.entry->meta.expired_at(options_.clock->now_ms());
      drop_locked(it);
    }
  }
  Result<bool> erased = inner_->erase(key);
  if (!erased.is_ok()) return erased.status();
  return had_live || *erased;
}

Result<uint64_t> WriteBehindTier::invalidate(const Selector& selector) {
  PLANCACHE_RETURN_IF_ERROR(validate_selector(selector));
  uint64_t dropped_live = 0;
  std::vector<CacheKey> dropped;
  {
    std::unique_lock lock(mu_);
    const int64_t now = options_.clock->now_ms();
    while (true) {
      bool in_flight_match = false;
      for (auto it = pending_.begin(); it != pending_.end();) {
        const Slot& slot = it->second;
        if (!selector_matches(selector, slot.key, slot.entry->meta)) {
          ++it;
        } else if (slot.in_flight) {
          in_flight_match = true;  // let it land; the inner invalidate removes it
          ++it;
        } else {
          if (!slot.entry->meta.expired_at(now)) ++dropped_live;
          dropped.push_back(slot.key);
          auto next = std::next(it);
          drop_locked(it);
          it = next;
        }
      }
      if (!in_flight_match) break;
      ++waiters_;
      done_cv_.wait(lock);  // a write finished; look again
      --waiters_;
    }
  }
  // A dropped write may have replaced an older stored value of its key that
  // the selector does not match (other tags): that one must go too.
  for (const CacheKey& key : dropped) {
    Result<bool> erased = inner_->erase(key);
    if (!erased.is_ok()) return erased.status();
  }
  Result<uint64_t> removed = inner_->invalidate(selector);
  if (!removed.is_ok()) return removed.status();
  return dropped_live + *removed;
}

Result<uint64_t> WriteBehindTier::evict_fraction(double fraction) {
  return inner_->evict_fraction(fraction);
}

uint64_t WriteBehindTier::purge_expired() { return inner_->purge_expired(); }

TierStats WriteBehindTier::stats() const {
  TierStats s = inner_->stats();
  std::lock_guard lock(mu_);
  s.pending_writes = pending_.size();
  s.write_behind_full = full_;
  s.puts = puts_;
  s.errors += errors_;
  s.hits += pending_hits_;
  s.misses += pending_misses_;
  return s;
}

Result<std::vector<ListedEntry>> WriteBehindTier::list(const Selector& selector, size_t limit) {
  PLANCACHE_RETURN_IF_ERROR(validate_selector(selector));
  std::vector<ListedEntry> waiting;
  std::vector<std::string> waiting_keys;  // every waiting key: its stored row is outdated
  {
    std::lock_guard lock(mu_);
    const int64_t now = options_.clock->now_ms();
    for (const auto& [encoded, slot] : pending_) {
      waiting_keys.push_back(encoded);
      const EntryMeta& meta = slot.entry->meta;
      if (meta.expired_at(now) || !selector_matches(selector, slot.key, meta)) continue;
      waiting.push_back(ListedEntry{slot.key, meta.created_ms, meta.expires_ms,
                                    slot.entry->value->size(), meta.tags});
    }
  }
  Result<std::vector<ListedEntry>> stored = inner_->list(selector, limit + waiting_keys.size());
  if (!stored.is_ok()) return stored.status();
  std::sort(waiting_keys.begin(), waiting_keys.end());
  std::erase_if(*stored, [&](const ListedEntry& row) {
    return std::binary_search(waiting_keys.begin(), waiting_keys.end(), row.key.encoded());
  });
  std::sort(waiting.begin(), waiting.end(), [](const ListedEntry& a, const ListedEntry& b) {
    return a.key.encoded() < b.key.encoded();
  });
  std::vector<std::vector<ListedEntry>> sources;
  sources.push_back(std::move(waiting));
  sources.push_back(std::move(stored).value());
  return merge_listings(std::move(sources), limit);
}

Result<std::unique_ptr<Tier>> new_write_behind_tier(std::unique_ptr<Tier> inner,
                                                    WriteBehindOptions options) {
  if (inner == nullptr) return Status::invalid_argument("write-behind: the inner tier is null");
  if (options.max_queue == 0) {
    return Status::invalid_argument("write-behind: max_queue must be greater than 0");
  }
  if (options.clock == nullptr) options.clock = system_clock();
  return std::unique_ptr<Tier>(
      std::make_unique<WriteBehindTier>(std::move(inner), std::move(options)));
}

}  // namespace plancache::internal
