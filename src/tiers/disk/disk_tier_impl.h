// DiskTier: the RocksDB-backed L2 tier behind new_disk_tier()
// (include/plancache/disk_tier.h). The record layout is in disk_records.h;
// the design (eviction, expiry, accounting, why no start-up scan) is at the
// top of disk_tier.cc.
//
// Exposed to tests (tests/tiers/disk) for its test hooks.
//
// Thread-safety: fully thread-safe. RocksDB is; every read-modify-write of
// one key's records happens under that key's stripe mutex; counters are
// atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/entry_codec.h"
#include "plancache/disk_tier.h"
#include "tiers/disk/disk_records.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
struct ReadOptions;
class WriteBatch;
}  // namespace rocksdb

namespace plancache::internal {

class StoreHealth;  // disk_recovery.h

// Column families, in the order they are opened (names in disk_open.cc).
enum Cf : size_t { kEntriesCf, kMetaCf, kLruCf, kTtlCf, kTagsCf, kCountersCf, kNumCfs };

// Hands out lru stamps (strictly increasing) and remembers which ones are
// taken but not yet written, so the evictor never moves its floor past a
// record that is about to appear. Thread-safe.
class StampAllocator {
 public:
  void reset(uint64_t next);
  uint64_t acquire();
  void release(uint64_t stamp);
  uint64_t next() const { return next_.load(std::memory_order_relaxed); }
  // Smallest stamp that may still be written: the oldest in flight, or next().
  uint64_t min_unwritten() const;

 private:
  std::atomic<uint64_t> next_{1};
  mutable std::mutex mu_;        // guards in_flight_ (held without I/O)
  std::set<uint64_t> in_flight_;  // GUARDED_BY(mu_)
};

class DiskTier final : public Tier {
 public:
  // Opens or creates the store; see new_disk_tier() for the errors.
  static Result<std::unique_ptr<DiskTier>> open(DiskTierOptions options);
  ~DiskTier() override;
  DiskTier(const DiskTier&) = delete;
  DiskTier& operator=(const DiskTier&) = delete;

  TierKind kind() const override { return TierKind::kDisk; }
  std::string_view name() const override { return options_.name; }
  Result<EntryPtr> get(const CacheKey& key) override;
  // Errors: invalid_argument for a null entry or value; resource_exhausted
  // when the entry alone exceeds max_bytes (it is not stored and any
  // previous entry of the key is removed); unavailable on an I/O error.
  Status put(const CacheKey& key, EntryPtr entry) override;
  // False for an absent or expired entry (an expired one is removed).
  Result<bool> erase(const CacheKey& key) override;
  // Entries that match but have expired are removed as expirations and are
  // not counted.
  Result<uint64_t> invalidate(const Selector& selector) override;
  // Removes the least recently used `fraction` of all entries (counted as
  // invalidations). Errors: invalid_argument unless 0 < fraction <= 1.
  Result<uint64_t> evict_fraction(double fraction) override;
  uint64_t purge_expired() override;
  TierStats stats() const override;
  // Walks `meta` over the narrowest key range the selector allows (disk_list.cc).
  Result<std::vector<ListedEntry>> list(const Selector& selector, size_t limit) override;

  // Test hooks.
  // Keys visited by every iteration this tier ran since it was opened
  // (including the few read while opening); point reads are not counted.
  uint64_t keys_scanned() const { return keys_scanned_.load(); }
  // Overwrites the stored envelope of `key` with `bytes`, bypassing the codec.
  Status write_raw_envelope_for_test(const CacheKey& key, std::string_view bytes);
  // Flushes memtables and compacts every column family.
  Status compact_for_test();

 private:
  struct NsState {
    std::atomic<uint64_t> entries{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> hits{0};
    std::atomic<uint64_t> misses{0};
    std::atomic<uint64_t> evictions{0};
  };

  explicit DiskTier(DiskTierOptions options);
  Status load_state();

  rocksdb::ColumnFamilyHandle* cf(Cf which) const { return handles_[which]; }
  std::mutex& stripe(std::string_view encoded_key);
  // The namespace's counters, made when absent (find_ns: null when absent).
  std::shared_ptr<NsState> ns_state(std::string_view ns);
  std::shared_ptr<NsState> find_ns(std::string_view ns) const;
  bool kept(std::string_view ns) const;
  // Drops the counters of a namespace that is not kept once it is empty
  // and nobody else holds them (see the design comment of disk_tier.cc).
  void drop_if_empty(std::string_view ns);
  void count_access(std::string_view ns, bool hit);

  // Reads the meta record of a key; nullopt when absent or malformed.
  Result<std::optional<MetaRecord>> read_meta(std::string_view encoded_key);
  // Adds to `batch` the deletion of `meta`'s lru, ttl and tag records.
  void delete_index_records(rocksdb::WriteBatch* batch, std::string_view encoded_key,
                            const MetaRecord& meta);
  // REQUIRES: the key's stripe mutex is held. Deletes every record of the key
  // (`meta` may be nullopt when only the envelope is left) and adjusts the
  // counters by `cause`.
  Status remove_locked(std::string_view encoded_key, const std::optional<MetaRecord>& meta,
                       RemovalCause cause, bool sync);
  // Deletes the key if its envelope still equals `seen` (it was not replaced
  // since it was read). True when deleted.
  bool remove_if_unchanged(const CacheKey& key, std::string_view seen, RemovalCause cause);
  // Moves a hit entry to the young end of the lru index when it has aged
  // into the older half (see the design comment).
  void maybe_restamp(const CacheKey& key, const std::optional<MetaRecord>& meta);
  void maybe_evict();
  // Walks the lru index from the oldest key, removing (for `cause`) until
  // both bytes and entries are at most their targets; returns how many.
  // REQUIRES: evict_mu_ held.
  uint64_t evict_to(uint64_t target_bytes, uint64_t target_entries, RemovalCause cause);
  Result<uint64_t> clear();
  // Removes `encoded_key` when, under its lock, it still matches `selector`.
  Result<bool> invalidate_one(const Selector& selector, std::string_view encoded_key);
  void apply_counts(std::string_view ns, int64_t entries_delta, int64_t bytes_delta);
  void count_removal(RemovalCause cause);
  Status write(rocksdb::WriteBatch* batch, bool sync);

  // Calls fn(key, value) for every key of `which` in [lower, upper) (upper
  // "" = no bound), in key order, until fn returns false. Counts keys_scanned_.
  // `base`: read options to start from (e.g. a snapshot), null = defaults;
  // the bounds are set here.
  Status scan(Cf which, std::string_view lower, std::string_view upper,
              const std::function<bool(std::string_view, std::string_view)>& fn,
              const rocksdb::ReadOptions* base = nullptr);

  // list() in its two walks (disk_list.cc), every read on `ro`'s snapshot;
  // both append to `rows` at most `limit` rows, in key order.
  Status list_by_tag(const Selector& selector, size_t limit, int64_t now,
                     const rocksdb::ReadOptions& ro, std::vector<ListedEntry>* rows);
  Status list_in_key_order(const Selector& selector, size_t limit, int64_t now,
                           const rocksdb::ReadOptions& ro, std::vector<ListedEntry>* rows);
  // Sets row->value_bytes from its envelope's checked header (never
  // inflated); false when the envelope is unreadable or not this key's.
  bool fill_value_size(const rocksdb::ReadOptions& ro, ListedEntry* row);

  const DiskTierOptions options_;
  const CodecOptions codec_;
  // Declared before db_: its listener may be called until db_ is closed.
  std::unique_ptr<StoreHealth> health_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; destroyed before db_

  // Each stripe serialises the read-modify-write of the records of the keys
  // that hash to it (put, erase, removal, restamp), so that the meta record
  // read first is the one that gets replaced.
  std::array<std::mutex, 64> stripes_;
  // Held by the one thread that evicts; others skip eviction meanwhile.
  std::mutex evict_mu_;

  StampAllocator stamps_;
  // No live lru record has a stamp below this; eviction starts here.
  std::atomic<uint64_t> lru_floor_{1};

  // Guards the shape of ns_ (insertions, drops); the counters inside are
  // atomics. A user of a record holds a copy of its shared_ptr, taken under
  // the lock, so a record is dropped only while the map holds its only copy.
  mutable std::shared_mutex ns_mu_;
  std::map<std::string, std::shared_ptr<NsState>, std::less<>> ns_;  // GUARDED_BY(ns_mu_)

  std::atomic<uint64_t> entries_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> puts_{0};
  std::atomic<uint64_t> evictions_{0};
  std::atomic<uint64_t> expirations_{0};
  std::atomic<uint64_t> invalidations_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> corrupt_{0};
  std::atomic<uint64_t> keys_scanned_{0};
  uint64_t recovery_dropped_ = 0;  // set once by open()
};

}  // namespace plancache::internal
