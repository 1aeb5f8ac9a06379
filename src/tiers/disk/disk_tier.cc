// The disk tier (L2) on RocksDB.
//
// Layout (disk_records.h): the envelope of each entry in `entries`, keyed by
// CacheKey::encoded(), so that a namespace is one contiguous key range; a
// small `meta` record per key (lru stamp, charged bytes, created/expires,
// tags); three ordered indexes (`lru`, `ttl`, `tags`) and persisted
// `counters`. Every change to a key writes all of its records and the counter
// deltas in ONE WriteBatch, so after a crash (WAL replay is atomic per batch)
// indexes and counters agree with the entries.
//
// Reads. get() reads the envelope and the meta record in one MultiGet and
// decodes the envelope, which verifies its XXH3 checksum every time. A
// corrupt envelope is a miss, is deleted and counts in corrupt_entries; an
// envelope of a newer format version is a miss and is kept. An expired entry
// is a miss and is deleted. Deletions on the read path re-read the envelope
// under the key's stripe lock and only delete what they saw, so a concurrent
// put of a fresh value is never lost.
//
// Eviction: approximate LRU without a scan. `lru` orders keys by a stamp
// (a counter that a put takes from StampAllocator). When the charged bytes
// exceed max_bytes, the putting thread that wins evict_mu_ walks `lru` from
// the oldest stamp and deletes entries until the bytes are 1/32 below the
// budget (Redis' evict.c: improve the situation in batches, not one entry at
// a time). A hit moves its key to the young end (new stamp) only when the key
// has aged into the older half of the live stamp window
// [lru_floor_, next stamp): a hot key costs at most one small write per half
// turnover of the cache instead of one per read, and a key read at least once
// while it crosses the older half is never evicted. That is what keeps hot
// entries alive under a stream of cold ones (DiskTierTest.HotSetSurvives...).
// lru_floor_ (the oldest stamp still present) lets the walk seek past the
// tombstones of earlier evictions; it never passes a stamp that is taken but
// not yet written (StampAllocator::min_unwritten). Tombstone-heavy SST files
// of the index families are compacted early (CompactOnDeletionCollector).
//
// Expiry: TTL is checked on every read. purge_expired() walks `ttl` (ordered
// by expiry time) up to now, so it visits expired entries only, never the
// store. We chose this over a CompactionFilter dropping expired envelopes:
// a filter sees one column family and one SST at a time, so it can neither
// delete the matching index records nor adjust the persisted counters
// atomically (nor tell whether a newer version of the key lives in another
// level), and the byte bound would drift after every compaction.
//
// Accounting and start-up: each batch also merges signed deltas into
// per-namespace entry and byte counters (RocksDB's uint64add merge operator;
// max_successive_merges folds them in the memtable). Opening reads those
// counters (two records per namespace) and the first and last `lru` keys
// (two seeks): O(namespaces), never O(entries). WAL replay is bounded by
// the write-buffer budget (max_total_wal_size). A namespace that is not kept
// (DiskTierOptions::kept_namespaces) has counters only while it holds
// entries: its in-memory record is dropped when the last one goes, and a
// zero counter record (same as none to the merge operator) is deleted when
// the store opens and by clear(), so invented names cost nothing once their
// entries are gone. The charge of an entry is
// the logical bytes of all its records (envelope, meta, index keys); the
// files on disk differ by RocksDB compression, LSM space amplification and
// tombstones not yet compacted (docs/decisions.md).
//
// Opening (RocksDB options, recovery from a damaged write-ahead log) is in
// disk_open.cc; staying writable after a write error (a full disk) in
// disk_health.cc (disk_recovery.h).
#include "tiers/disk/disk_tier_impl.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <utility>

#include "core/selector_match.h"
#include "tiers/disk/disk_recovery.h"

namespace plancache::internal {
namespace {

// Bytes charged per entry on top of its records' key and value bytes:
// RocksDB's internal key trailer (8 bytes) on each of the ~4 records.
constexpr uint64_t kRecordOverheadBytes = 32;

uint64_t entry_charge(std::string_view encoded_key, size_t envelope_bytes,
                      const MetaRecord& meta, size_t meta_bytes) {
  uint64_t charge = envelope_bytes + meta_bytes + kRecordOverheadBytes;
  charge += 3 * encoded_key.size() + 8;  // entries, meta and lru keys
  if (meta.expires_ms != 0) charge += encoded_key.size() + 8;
  for (const auto& tag : meta.tags) charge += tag.size() + 1 + encoded_key.size();
  return charge;
}

}  // namespace

// --- open / close ----------------------------------------------------------

DiskTier::DiskTier(DiskTierOptions options)
    : options_(std::move(options)),
      codec_{.compress_threshold = options_.compress_threshold, .zstd_level = 3} {}

DiskTier::~DiskTier() {
  if (health_) health_->stop();  // no Resume() on a closing store
  if (!db_) return;
  for (auto* handle : handles_) (void)db_->DestroyColumnFamilyHandle(handle);
  (void)db_->Close();
}

Result<std::unique_ptr<DiskTier>> DiskTier::open(DiskTierOptions options) {
  if (options.path.empty()) return Status::invalid_argument("disk tier: path must not be empty");
  if (!options.clock) options.clock = system_clock();
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (!std::filesystem::is_directory(options.path, ec)) {
    return Status::failed_precondition("disk tier: " + options.path +
                                       " is not a directory and cannot be created");
  }
  auto tier = std::unique_ptr<DiskTier>(new DiskTier(std::move(options)));
  const DiskTierOptions& o = tier->options_;
  auto descriptors = cf_descriptors(o);
  if (!descriptors.is_ok()) return descriptors.status();
  tier->health_ = std::make_unique<StoreHealth>(o.path, cf_write_buffer_bytes(o), o.log);
  rocksdb::DBOptions db = db_options(o);
  db.listeners.push_back(tier->health_->listener());
  RecoveryReport report;
  PLANCACHE_RETURN_IF_ERROR(open_store(o, db, *descriptors, &tier->handles_, &tier->db_, &report));
  tier->health_->start(tier->db_.get());
  tier->recovery_dropped_ = report.dropped_entries;
  PLANCACHE_RETURN_IF_ERROR(tier->load_state());
  return tier;
}

Status DiskTier::load_state() {
  // Counters: two records per namespace; zero ones (an emptied namespace)
  // are deleted rather than loaded.
  rocksdb::WriteBatch zeros;
  PLANCACHE_RETURN_IF_ERROR(scan(kCountersCf, "", "", [&](std::string_view k, std::string_view v) {
    const auto value = decode_counter(v);
    if (k.size() < 2 || !value) return true;
    if (*value == 0) {
      (void)zeros.Delete(cf(kCountersCf), rocksdb::Slice(k.data(), k.size()));
      return true;
    }
    NsState& ns = *ns_state(k.substr(1));
    if (k[0] == 'e') {
      ns.entries = *value;
      entries_ += *value;
    } else if (k[0] == 'b') {
      ns.bytes = *value;
      bytes_ += *value;
    }
    return true;
  }));
  if (zeros.Count() > 0) PLANCACHE_RETURN_IF_ERROR(write(&zeros, options_.sync_writes));
  // The lru window: its last and first stamps (two seeks).
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kLruCf)));
  it->SeekToLast();
  const uint64_t next = it->Valid() && it->key().size() >= 8
                            ? read_be64(std::string_view(it->key().data(), 8)) + 1
                            : 1;
  it->SeekToFirst();
  const uint64_t first = it->Valid() && it->key().size() >= 8
                             ? read_be64(std::string_view(it->key().data(), 8))
                             : next;
  keys_scanned_ += 2;
  if (!it->status().ok()) return from_rocks(it->status(), "reading the lru index");
  stamps_.reset(next);
  lru_floor_ = first;
  return Status::ok();
}

// --- helpers ----------------------------------------------------------------

std::mutex& DiskTier::stripe(std::string_view encoded_key) {
  return stripes_[std::hash<std::string_view>{}(encoded_key) % stripes_.size()];
}

std::shared_ptr<DiskTier::NsState> DiskTier::find_ns(std::string_view ns) const {
  std::shared_lock lock(ns_mu_);
  auto it = ns_.find(ns);
  return it == ns_.end() ? nullptr : it->second;
}

std::shared_ptr<DiskTier::NsState> DiskTier::ns_state(std::string_view ns) {
  if (std::shared_ptr<NsState> found = find_ns(ns)) return found;
  std::unique_lock lock(ns_mu_);
  auto [it, inserted] = ns_.try_emplace(std::string(ns), nullptr);
  if (inserted) it->second = std::make_shared<NsState>();
  return it->second;
}

bool DiskTier::kept(std::string_view ns) const {
  const auto& names = options_.kept_namespaces;
  return std::find(names.begin(), names.end(), ns) != names.end();
}

void DiskTier::drop_if_empty(std::string_view ns) {
  if (kept(ns)) return;
  std::unique_lock lock(ns_mu_);
  auto it = ns_.find(ns);
  if (it == ns_.end() || it->second.use_count() != 1) return;  // absent, or in use
  if (it->second->entries.load() != 0 || it->second->bytes.load() != 0) return;
  ns_.erase(it);
}

void DiskTier::count_access(std::string_view ns, bool hit) {
  (hit ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  // A namespace without entries gets no record for a miss (unless kept).
  std::shared_ptr<NsState> state = kept(ns) ? ns_state(ns) : find_ns(ns);
  if (state) (hit ? state->hits : state->misses).fetch_add(1, std::memory_order_relaxed);
}

void DiskTier::apply_counts(std::string_view ns, int64_t entries_delta, int64_t bytes_delta) {
  std::shared_ptr<NsState> state = ns_state(ns);
  const uint64_t entries =
      state->entries.fetch_add(static_cast<uint64_t>(entries_delta)) +
      static_cast<uint64_t>(entries_delta);
  state->bytes.fetch_add(static_cast<uint64_t>(bytes_delta));
  entries_.fetch_add(static_cast<uint64_t>(entries_delta));
  bytes_.fetch_add(static_cast<uint64_t>(bytes_delta));
  state.reset();
  if (entries == 0) drop_if_empty(ns);
}

void DiskTier::count_removal(RemovalCause cause) {
  switch (cause) {
    case RemovalCause::kSize: ++evictions_; break;
    case RemovalCause::kExpired: ++expirations_; break;
    case RemovalCause::kInvalidated: ++invalidations_; break;
    case RemovalCause::kCorrupt: ++corrupt_; break;
    case RemovalCause::kExplicit:
    case RemovalCause::kReplaced: break;
  }
}

Status DiskTier::write(rocksdb::WriteBatch* batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  const rocksdb::Status s = db_->Write(wo, batch);
  if (!s.ok()) {
    ++errors_;
    health_->write_failed(s);
    if (const std::string why = health_->degraded(); !why.empty()) {
      return Status::unavailable("disk tier " + options_.name + " is " + why +
                                 "; it resumes by itself when writes can succeed");
    }
    return from_rocks(s, "write");
  }
  return Status::ok();
}

Result<std::optional<MetaRecord>> DiskTier::read_meta(std::string_view encoded_key) {
  rocksdb::PinnableSlice value;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kMetaCf), encoded_key, &value);
  if (s.IsNotFound()) return std::optional<MetaRecord>();
  if (!s.ok()) {
    ++errors_;
    return from_rocks(s, "read");
  }
  return decode_meta(value.ToStringView());
}

void DiskTier::delete_index_records(rocksdb::WriteBatch* batch, std::string_view encoded_key,
                                    const MetaRecord& meta) {
  (void)batch->Delete(cf(kLruCf), order_key(meta.stamp, encoded_key));
  if (meta.expires_ms != 0) {
    (void)batch->Delete(cf(kTtlCf),
                        order_key(static_cast<uint64_t>(meta.expires_ms), encoded_key));
  }
  for (const auto& tag : meta.tags) (void)batch->Delete(cf(kTagsCf), tag_key(tag, encoded_key));
}

Status DiskTier::remove_locked(std::string_view encoded_key,
                               const std::optional<MetaRecord>& meta, RemovalCause cause, bool sync) {
  rocksdb::WriteBatch batch;
  (void)batch.Delete(cf(kEntriesCf), encoded_key);
  (void)batch.Delete(cf(kMetaCf), encoded_key);
  const std::string_view ns = encoded_key.substr(0, encoded_key.find('\0'));
  if (meta) {
    delete_index_records(&batch, encoded_key, *meta);
    (void)batch.Merge(cf(kCountersCf), entries_counter_key(ns), counter_operand(-1));
    (void)batch.Merge(cf(kCountersCf), bytes_counter_key(ns),
                      counter_operand(-static_cast<int64_t>(meta->charge)));
  }
  PLANCACHE_RETURN_IF_ERROR(write(&batch, sync));
  if (meta) apply_counts(ns, -1, -static_cast<int64_t>(meta->charge));
  if (cause == RemovalCause::kSize) {
    if (std::shared_ptr<NsState> state = find_ns(ns)) ++state->evictions;
  }
  count_removal(cause);
  return Status::ok();
}

bool DiskTier::remove_if_unchanged(const CacheKey& key, std::string_view seen, RemovalCause cause) {
  const std::string& k = key.encoded();
  std::lock_guard lock(stripe(k));
  rocksdb::PinnableSlice now;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kEntriesCf), k, &now);
  if (!s.ok() || now.ToStringView() != seen) return false;
  auto meta = read_meta(k);
  if (!meta.is_ok()) return false;
  return remove_locked(k, *meta, cause, false).is_ok();
}

// --- Tier ---------------------------------------------------------------------

Result<EntryPtr> DiskTier::get(const CacheKey& key) {
  const std::string& k = key.encoded();
  rocksdb::ColumnFamilyHandle* cfs[2] = {cf(kEntriesCf), cf(kMetaCf)};
  const rocksdb::Slice keys[2] = {k, k};
  rocksdb::PinnableSlice values[2];
  rocksdb::Status statuses[2];
  db_->MultiGet(rocksdb::ReadOptions(), 2, cfs, keys, values, statuses);
  if (statuses[0].IsNotFound()) {
    count_access(key.ns(), false);
    return EntryPtr();
  }
  if (!statuses[0].ok()) {
    ++errors_;
    return from_rocks(statuses[0], "read");
  }
  const std::string_view envelope = values[0].ToStringView();
  Result<Entry> decoded = decode_entry(envelope, &key);
  if (!decoded.is_ok()) {
    // A newer format version is not corruption: a miss, kept for its writer.
    if (decoded.status().code() != StatusCode::kFailedPrecondition) {
      remove_if_unchanged(key, envelope, RemovalCause::kCorrupt);
    }
    count_access(key.ns(), false);
    return EntryPtr();
  }
  if (decoded->meta.expired_at(options_.clock->now_ms())) {
    remove_if_unchanged(key, envelope, RemovalCause::kExpired);
    count_access(key.ns(), false);
    return EntryPtr();
  }
  count_access(key.ns(), true);
  std::optional<MetaRecord> meta;
  if (statuses[1].ok()) meta = decode_meta(values[1].ToStringView());
  maybe_restamp(key, meta);
  return EntryPtr(std::make_shared<const Entry>(std::move(decoded).value()));
}

Status DiskTier::put(const CacheKey& key, EntryPtr entry) {
  if (!entry || !entry->value) return Status::invalid_argument("disk tier: put of a null entry");
  CodecOptions codec = codec_;
  if (options_.compress_namespace && !options_.compress_namespace(key.ns())) {
    codec.compress_threshold = std::numeric_limits<size_t>::max();  // never reached
  }
  Result<Bytes> envelope = encode_entry(key, *entry, codec);
  if (!envelope.is_ok()) return envelope.status();
  const std::string& k = key.encoded();
  MetaRecord meta{.stamp = 0,
                  .charge = 0,
                  .created_ms = entry->meta.created_ms,
                  .expires_ms = entry->meta.expires_ms,
                  .tags = entry->meta.tags};
  // The charge depends on the meta record's size, which does not depend on
  // the charge's value (fixed width).
  meta.charge = entry_charge(k, envelope->size(), meta, encode_meta(meta).size());
  std::unique_lock lock(stripe(k));
  Result<std::optional<MetaRecord>> old = read_meta(k);
  if (!old.is_ok()) return old.status();
  if (options_.max_bytes != 0 && meta.charge > options_.max_bytes) {
    // Larger than the whole budget: refused (as the memory tier does), and
    // the previous value goes too, so that no stale value outlives the put.
    if (old->has_value()) {
      PLANCACHE_RETURN_IF_ERROR(remove_locked(k, *old, RemovalCause::kReplaced, options_.sync_writes));
    }
    return Status::resource_exhausted("entry of " + std::to_string(meta.charge) +
                                      " bytes exceeds the disk tier's byte budget of " +
                                      std::to_string(options_.max_bytes) + " bytes");
  }
  meta.stamp = stamps_.acquire();
  rocksdb::WriteBatch batch;
  if (old->has_value()) delete_index_records(&batch, k, **old);
  (void)batch.Put(cf(kEntriesCf), k, *envelope);
  (void)batch.Put(cf(kMetaCf), k, encode_meta(meta));
  (void)batch.Put(cf(kLruCf), order_key(meta.stamp, k), "");
  if (meta.expires_ms != 0) {
    (void)batch.Put(cf(kTtlCf), order_key(static_cast<uint64_t>(meta.expires_ms), k), "");
  }
  for (const auto& tag : meta.tags) (void)batch.Put(cf(kTagsCf), tag_key(tag, k), "");
  const int64_t entries_delta = old->has_value() ? 0 : 1;
  const int64_t bytes_delta = static_cast<int64_t>(meta.charge) -
                              (old->has_value() ? static_cast<int64_t>((*old)->charge) : 0);
  if (entries_delta != 0) {
    (void)batch.Merge(cf(kCountersCf), entries_counter_key(key.ns()), counter_operand(1));
  }
  (void)batch.Merge(cf(kCountersCf), bytes_counter_key(key.ns()), counter_operand(bytes_delta));
  const Status written = write(&batch, options_.sync_writes);
  stamps_.release(meta.stamp);
  if (!written.is_ok()) return written;
  apply_counts(key.ns(), entries_delta, bytes_delta);
  ++puts_;
  lock.unlock();
  maybe_evict();
  return Status::ok();
}

Result<bool> DiskTier::erase(const CacheKey& key) {
  const std::string& k = key.encoded();
  std::lock_guard lock(stripe(k));
  Result<std::optional<MetaRecord>> meta = read_meta(k);
  if (!meta.is_ok()) return meta.status();
  if (meta->has_value() && (*meta)->expired_at(options_.clock->now_ms())) {
    // Expired: already gone for every reader; removed as an expiration.
    PLANCACHE_RETURN_IF_ERROR(remove_locked(k, *meta, RemovalCause::kExpired, false));
    return false;
  }
  if (!meta->has_value()) {
    // No meta record: normally no entry either (both are written together).
    rocksdb::PinnableSlice value;
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kEntriesCf), k, &value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return from_rocks(s, "read");
  }
  PLANCACHE_RETURN_IF_ERROR(remove_locked(k, *meta, RemovalCause::kExplicit, options_.sync_writes));
  return true;
}

TierStats DiskTier::stats() const {
  TierStats s;
  s.name = options_.name;
  s.entries = entries_.load();
  s.bytes = bytes_.load();
  s.max_bytes = options_.max_bytes;
  s.hits = hits_.load();
  s.misses = misses_.load();
  s.puts = puts_.load();
  s.evictions = evictions_.load();
  s.expirations = expirations_.load();
  s.invalidations = invalidations_.load();
  s.errors = errors_.load();
  s.corrupt_entries = corrupt_.load();
  s.recovery_dropped_entries = recovery_dropped_;
  s.degraded = health_->degraded();
  s.connected = s.degraded.empty();
  std::shared_lock lock(ns_mu_);
  for (const auto& [ns, state] : ns_) {
    NamespaceCounters c{.entries = state->entries.load(),
                        .bytes = state->bytes.load(),
                        .hits = state->hits.load(),
                        .misses = state->misses.load(),
                        .evictions = state->evictions.load()};
    if (c.entries == 0 && (!kept(ns) || (c.hits == 0 && c.misses == 0))) continue;
    s.namespaces.emplace(ns, c);
  }
  return s;
}

// --- test hooks -------------------------------------------------------------

Status DiskTier::write_raw_envelope_for_test(const CacheKey& key, std::string_view bytes) {
  rocksdb::WriteBatch batch;
  (void)batch.Put(cf(kEntriesCf), key.encoded(), bytes);
  return write(&batch, false);
}

Status DiskTier::compact_for_test() {
  for (auto* handle : handles_) {
    const rocksdb::Status s = db_->CompactRange(rocksdb::CompactRangeOptions(), handle,
                                                nullptr, nullptr);
    if (!s.ok()) return from_rocks(s, "compact");
  }
  return Status::ok();
}

}  // namespace plancache::internal

namespace plancache {

Result<std::unique_ptr<Tier>> new_disk_tier(DiskTierOptions options) {
  auto tier = internal::DiskTier::open(std::move(options));
  if (!tier.is_ok()) return tier.status();
  return std::unique_ptr<Tier>(std::move(tier).value());
}

}  // namespace plancache
