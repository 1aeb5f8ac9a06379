// The disk tier's walks over its indexes: eviction along `lru`, expiry along
// `ttl`, invalidation along `tags` or `meta`, and clear. The design is at the
// top of disk_tier.cc; what matters here:
// - every walk visits a key range chosen so that it touches the candidates,
//   not the store: a tag walks `tag\0[ns\0]`, a namespace walks `ns\0`, a
//   prefix or pattern with a namespace walks `ns\0u<literal prefix>`; only a
//   selector without namespace or tag (prefix, pattern, age) walks all of
//   `meta` (small records: the envelopes are never read);
// - a walk reads from RocksDB's implicit snapshot and then re-checks each
//   candidate under its stripe lock before deleting it, so a key changed
//   since the snapshot is judged on its current records.
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/selector_match.h"
#include "tiers/disk/disk_tier_impl.h"

namespace plancache::internal {
namespace {

// Greater than every key we write (namespaces, tags and stamps are short of
// sixteen 0xff bytes); anything at or above it is cleared by a point walk.
const std::string kMaxKey(16, '\xff');

EntryMeta entry_meta(const MetaRecord& meta) {
  EntryMeta m;
  m.created_ms = meta.created_ms;
  m.expires_ms = meta.expires_ms;
  m.tags = meta.tags;
  return m;
}

}  // namespace

Status DiskTier::scan(Cf which, std::string_view lower, std::string_view upper,
                      const std::function<bool(std::string_view, std::string_view)>& fn,
                      const rocksdb::ReadOptions* base) {
  const rocksdb::Slice lower_slice(lower.data(), lower.size());
  const rocksdb::Slice upper_slice(upper.data(), upper.size());
  rocksdb::ReadOptions ro = base != nullptr ? *base : rocksdb::ReadOptions();
  ro.iterate_lower_bound = &lower_slice;
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(which)));
  for (it->Seek(lower_slice); it->Valid(); it->Next()) {
    keys_scanned_.fetch_add(1, std::memory_order_relaxed);
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  if (!it->status().ok()) {
    ++errors_;
    return Status::unavailable("disk tier: scan: " + it->status().ToString());
  }
  return Status::ok();
}

// --- LRU ------------------------------------------------------------------------

void StampAllocator::reset(uint64_t next) {
  std::lock_guard lock(mu_);
  in_flight_.clear();
  next_.store(next);
}

uint64_t StampAllocator::acquire() {
  std::lock_guard lock(mu_);
  const uint64_t stamp = next_.fetch_add(1);
  in_flight_.insert(stamp);
  return stamp;
}

void StampAllocator::release(uint64_t stamp) {
  std::lock_guard lock(mu_);
  in_flight_.erase(stamp);
}

uint64_t StampAllocator::min_unwritten() const {
  std::lock_guard lock(mu_);
  return in_flight_.empty() ? next_.load() : *in_flight_.begin();
}

void DiskTier::maybe_restamp(const CacheKey& key, const std::optional<MetaRecord>& seen) {
  if (options_.max_bytes == 0 || !seen) return;
  const uint64_t floor = lru_floor_.load();
  const uint64_t next = stamps_.next();
  if (seen->stamp >= floor + (next - std::min(floor, next)) / 2) return;  // young half
  const std::string& k = key.encoded();
  std::lock_guard lock(stripe(k));
  auto meta = read_meta(k);
  if (!meta.is_ok() || !meta->has_value() || (*meta)->stamp != seen->stamp) return;
  MetaRecord moved = **meta;
  moved.stamp = stamps_.acquire();
  rocksdb::WriteBatch batch;
  (void)batch.Delete(cf(kLruCf), order_key(seen->stamp, k));
  (void)batch.Put(cf(kLruCf), order_key(moved.stamp, k), "");
  (void)batch.Put(cf(kMetaCf), k, encode_meta(moved));
  (void)write(&batch, false);  // losing a restamp in a crash only ages the key
  stamps_.release(moved.stamp);
}

void DiskTier::maybe_evict() {
  const uint64_t budget = options_.max_bytes;
  if (budget == 0 || bytes_.load() <= budget) return;
  std::unique_lock lock(evict_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // another thread is already evicting
  // Puts made while we walk can push the bytes up again: walk again, a
  // bounded number of times (each walk frees at least budget / 32).
  for (int round = 0; round < 4 && bytes_.load() > budget; ++round) {
    if (evict_to(budget - budget / 32, UINT64_MAX, RemovalCause::kSize) == 0) break;
  }
}

uint64_t DiskTier::evict_to(uint64_t target_bytes, uint64_t target_entries, RemovalCause cause) {
  // Stamps below `safe` are written or abandoned; the floor may pass them.
  const uint64_t safe = stamps_.min_unwritten();
  uint64_t evicted = 0;
  uint64_t last_stamp = lru_floor_.load();
  const std::string lower = order_key(last_stamp, "");
  (void)scan(kLruCf, lower, "", [&](std::string_view lru_key, std::string_view) {
    if (bytes_.load() <= target_bytes && entries_.load() <= target_entries) return false;
    if (lru_key.size() < 8) return true;
    const uint64_t stamp = read_be64(lru_key);
    const std::string_view k = lru_key.substr(8);
    last_stamp = stamp;
    std::lock_guard key_lock(stripe(k));
    auto meta = read_meta(k);
    if (!meta.is_ok() || !meta->has_value() || (*meta)->stamp != stamp) return true;  // moved
    if (remove_locked(k, *meta, cause, false).is_ok()) ++evicted;
    return true;
  });
  lru_floor_ = std::min(last_stamp, safe);
  return evicted;
}

Result<uint64_t> DiskTier::evict_fraction(double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0)) {
    return Status::invalid_argument("evict fraction must be in (0, 1], got " +
                                    std::to_string(fraction));
  }
  // One LRU over all namespaces: the oldest `fraction` of the store goes,
  // which is about that share of each namespace. Counted as invalidations
  // (an operator's request), not as evictions for size.
  std::lock_guard lock(evict_mu_);
  const uint64_t entries = entries_.load();
  const auto remove = static_cast<uint64_t>(std::ceil(static_cast<double>(entries) * fraction));
  return evict_to(UINT64_MAX, entries - std::min(entries, remove), RemovalCause::kInvalidated);
}

// --- expiry -----------------------------------------------------------------------

uint64_t DiskTier::purge_expired() {
  const int64_t now = options_.clock->now_ms();
  if (now < 0) return 0;
  const std::string upper = order_key(static_cast<uint64_t>(now) + 1, "");
  uint64_t purged = 0;
  (void)scan(kTtlCf, "", upper, [&](std::string_view ttl_key, std::string_view) {
    if (ttl_key.size() < 8) return true;
    const auto expires = static_cast<int64_t>(read_be64(ttl_key));
    const std::string_view k = ttl_key.substr(8);
    std::lock_guard key_lock(stripe(k));
    auto meta = read_meta(k);
    if (!meta.is_ok() || !meta->has_value() || (*meta)->expires_ms != expires) return true;
    if (remove_locked(k, *meta, RemovalCause::kExpired, false).is_ok()) ++purged;
    return true;
  });
  return purged;
}

// --- invalidation -----------------------------------------------------------------

Result<bool> DiskTier::invalidate_one(const Selector& selector, std::string_view encoded_key) {
  CacheKey key("-", KeyKind::kUser, "-");
  if (!CacheKey::decode(encoded_key, &key)) return false;
  std::lock_guard lock(stripe(encoded_key));
  Result<std::optional<MetaRecord>> meta = read_meta(encoded_key);
  if (!meta.is_ok()) return meta.status();
  if (!meta->has_value() || !selector_matches(selector, key, entry_meta(**meta))) return false;
  if ((*meta)->expired_at(options_.clock->now_ms())) {
    // Already gone for every reader: removed, but as an expiration.
    PLANCACHE_RETURN_IF_ERROR(remove_locked(encoded_key, *meta, RemovalCause::kExpired, false));
    return false;
  }
  PLANCACHE_RETURN_IF_ERROR(remove_locked(encoded_key, *meta, RemovalCause::kInvalidated, false));
  return true;
}

Result<uint64_t> DiskTier::invalidate(const Selector& selector) {
  PLANCACHE_RETURN_IF_ERROR(validate_selector(selector));
  if (selector.empty()) return clear();
  uint64_t removed = 0;
  Status failure;
  auto consider = [&](std::string_view encoded_key) {
    Result<bool> r = invalidate_one(selector, encoded_key);
    if (!r.is_ok()) failure = r.status();
    if (r.is_ok() && *r) ++removed;
    return r.is_ok();
  };
  Status walked;
  if (selector.tag) {
    std::string lower = *selector.tag + '\0';
    if (selector.ns) lower += *selector.ns + '\0';
    const size_t skip = selector.tag->size() + 1;
    walked = scan(kTagsCf, lower, prefix_successor(lower),
                  [&](std::string_view k, std::string_view) { return consider(k.substr(skip)); });
  } else {
    std::string lower;
    if (selector.ns) {
      lower = *selector.ns + '\0';
      if (selector.prefix) {
        lower += static_cast<char>(KeyKind::kUser) + *selector.prefix;
      } else if (selector.pattern) {
        lower += static_cast<char>(KeyKind::kUser);
        lower += glob_literal_prefix(*selector.pattern);
      }
    }
    const std::string upper = lower.empty() ? "" : prefix_successor(lower);
    walked = scan(kMetaCf, lower, upper, [&](std::string_view k, std::string_view v) {
      // Cheap pre-check on the snapshot's meta record; consider() re-checks.
      const auto meta = decode_meta(v);
      CacheKey key("-", KeyKind::kUser, "-");
      if (meta && CacheKey::decode(k, &key) &&
          !selector_matches(selector, key, entry_meta(*meta))) {
        return true;
      }
      return consider(k);
    });
  }
  if (removed > 0 && options_.sync_writes) (void)db_->SyncWAL();
  PLANCACHE_RETURN_IF_ERROR(failure);
  PLANCACHE_RETURN_IF_ERROR(walked);
  return removed;
}

Result<uint64_t> DiskTier::clear() {
  // Every stripe, in order: no put or removal runs while the store is
  // dropped, so the counters reset below match the records exactly.
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(stripes_.size());
  for (auto& m : stripes_) locks.emplace_back(m);
  rocksdb::WriteBatch batch;
  for (Cf which : {kEntriesCf, kMetaCf, kLruCf, kTtlCf, kTagsCf}) {
    (void)batch.DeleteRange(cf(which), "", kMaxKey);
    PLANCACHE_RETURN_IF_ERROR(scan(which, kMaxKey, "", [&](std::string_view k, std::string_view) {
      (void)batch.Delete(cf(which), k);
      return true;
    }));
  }
  // Point deletes (not a range) on the merge counters: simpler semantics
  // for max_successive_merges. Every record in the store, including those
  // of namespaces whose in-memory counters were dropped.
  PLANCACHE_RETURN_IF_ERROR(scan(kCountersCf, "", "", [&](std::string_view k, std::string_view) {
    (void)batch.Delete(cf(kCountersCf), rocksdb::Slice(k.data(), k.size()));
    return true;
  }));
  PLANCACHE_RETURN_IF_ERROR(write(&batch, options_.sync_writes));
  const uint64_t removed = entries_.exchange(0);
  bytes_ = 0;
  std::vector<std::string> emptied;
  {
    std::shared_lock ns_lock(ns_mu_);
    for (auto& [ns, state] : ns_) {
      state->entries = 0;
      state->bytes = 0;
      emptied.push_back(ns);
    }
  }
  for (const std::string& ns : emptied) drop_if_empty(ns);
  invalidations_ += removed;
  lru_floor_ = stamps_.min_unwritten();
  return removed;
}

}  // namespace plancache::internal
