// Opening the disk tier's store, and what recovery from a damaged
// write-ahead log dropped.
//
// Every write is one WriteBatch carrying the counter deltas of the entries it
// changes (disk_tier.cc), so whatever prefix of the log survives, entries and
// counters agree: comparing counters against entries cannot reveal a loss.
// What can is a second look at the log itself. The store is first opened with
// kAbsoluteConsistency, which fails on any damaged or incomplete record and
// costs nothing extra on a sound log (the common case: one replay, as
// before). Only when it fails with corruption do we open two read-only views:
// point-in-time (what the store will hold) and kSkipAnyCorruptedRecords (the
// records after the damage replayed too). The difference of their entry
// counters is what point-in-time recovery drops (a lower bound: the damaged
// records are in neither view, and a dropped replacement of an existing key
// changes no count), the difference of their sequence numbers how many
// RocksDB operations. Read-only opens write nothing, so a refused strict
// start leaves the directory as it found it.
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>

#include <algorithm>

#include "tiers/disk/disk_records.h"
#include "tiers/disk/disk_recovery.h"
#include "tiers/disk/disk_tier_impl.h"

namespace plancache::internal {
namespace {

// kEntriesCf is RocksDB's default column family (kDefaultColumnFamilyName).
constexpr const char* kCfNames[kNumCfs] = {"default", "meta", "lru", "ttl", "tags", "counters"};

// What a read-only view of the store holds.
struct View {
  uint64_t entries = 0;
  uint64_t sequence = 0;
};

Result<View> read_only_view(const DiskTierOptions& o, rocksdb::DBOptions db,
                            const std::vector<rocksdb::ColumnFamilyDescriptor>& cfs,
                            rocksdb::WALRecoveryMode mode) {
  db.wal_recovery_mode = mode;
  db.listeners.clear();
  db.info_log = forwarding_logger(nullptr);  // the damage was logged by the first open
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(db, o.path, cfs, &handles, &raw);
  if (!s.ok()) return from_rocks(s, "read-only open of " + o.path);
  std::unique_ptr<rocksdb::DB> view(raw);
  View out{.entries = 0, .sequence = view->GetLatestSequenceNumber()};
  {
    std::unique_ptr<rocksdb::Iterator> it(
        view->NewIterator(rocksdb::ReadOptions(), handles[kCountersCf]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const auto n = decode_counter(it->value().ToStringView());
      if (it->key().size() >= 2 && it->key()[0] == 'e' && n) out.entries += *n;
    }
  }
  for (auto* h : handles) (void)view->DestroyColumnFamilyHandle(h);
  (void)view->Close();
  return out;
}

// Fills the loss figures of `report`. False when a view cannot be read:
// the damage is not (only) in the write-ahead log.
bool measure_loss(const DiskTierOptions& o, const rocksdb::DBOptions& db,
                  const std::vector<rocksdb::ColumnFamilyDescriptor>& cfs, RecoveryReport* report) {
  auto kept = read_only_view(o, db, cfs, rocksdb::WALRecoveryMode::kPointInTimeRecovery);
  auto all = read_only_view(o, db, cfs, rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords);
  if (!kept.is_ok() || !all.is_ok()) return false;
  report->dropped_entries = all->entries > kept->entries ? all->entries - kept->entries : 0;
  report->dropped_records = all->sequence > kept->sequence ? all->sequence - kept->sequence : 0;
  return true;
}

std::string loss_text(const RecoveryReport& r) {
  return "at least " + std::to_string(r.dropped_entries) + " entries (" +
         std::to_string(r.dropped_records) + " write operations after the damage)";
}

Status open_with(const DiskTierOptions& o, rocksdb::DBOptions db,
                 const std::vector<rocksdb::ColumnFamilyDescriptor>& cfs,
                 rocksdb::WALRecoveryMode mode, std::vector<rocksdb::ColumnFamilyHandle*>* handles,
                 std::unique_ptr<rocksdb::DB>* out, rocksdb::Status* rocks) {
  db.wal_recovery_mode = mode;
  rocksdb::DB* raw = nullptr;
  *rocks = rocksdb::DB::Open(db, o.path, cfs, handles, &raw);
  if (rocks->ok()) {
    out->reset(raw);
    return Status::ok();
  }
  const std::string text = rocks->ToString();
  if (rocks->IsIOError() && text.find("lock") != std::string::npos) {
    return Status::failed_precondition("disk tier: data directory " + o.path +
                                       " is in use by another process (or another tier in "
                                       "this one): " +
                                       text);
  }
  return from_rocks(*rocks, "cannot open " + o.path);
}

}  // namespace

Status from_rocks(const rocksdb::Status& s, std::string_view what) {
  std::string message = "disk tier: " + std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::data_loss(std::move(message));
  if (s.IsInvalidArgument()) return Status::invalid_argument(std::move(message));
  return Status::unavailable(std::move(message));
}

uint64_t cf_write_buffer_bytes(const DiskTierOptions& o) {
  return std::max<uint64_t>(o.write_buffer_bytes / 4, 1 << 20);
}

rocksdb::DBOptions db_options(const DiskTierOptions& o) {
  rocksdb::DBOptions db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  db.db_write_buffer_size = o.write_buffer_bytes;
  db.max_total_wal_size = 4 * o.write_buffer_bytes;
  db.info_log = forwarding_logger(o.log);
  db.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db.max_open_files = o.max_open_files;
  return db;
}

Result<std::vector<rocksdb::ColumnFamilyDescriptor>> cf_descriptors(const DiskTierOptions& o) {
  rocksdb::BlockBasedTableOptions point_table;
  point_table.block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  point_table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::BlockBasedTableOptions index_table;
  index_table.block_cache = point_table.block_cache;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (size_t i = 0; i < kNumCfs; ++i) {
    rocksdb::ColumnFamilyOptions cfo;
    cfo.write_buffer_size = cf_write_buffer_bytes(o);
    const bool point = i == kEntriesCf || i == kMetaCf;
    cfo.table_factory.reset(rocksdb::NewBlockBasedTableFactory(point ? point_table : index_table));
    if (i == kLruCf || i == kTtlCf || i == kTagsCf) {
      // Queues: compact SSTs full of tombstones early, so walks stay cheap.
      cfo.table_properties_collector_factories.push_back(
          rocksdb::NewCompactOnDeletionCollectorFactory(1024, 512));
    }
    if (i == kCountersCf) {
      rocksdb::ConfigOptions config;
      const rocksdb::Status s =
          rocksdb::MergeOperator::CreateFromString(config, "uint64add", &cfo.merge_operator);
      if (!s.ok()) return from_rocks(s, "creating the uint64add merge operator");
      cfo.max_successive_merges = 16;
    }
    cfs.emplace_back(kCfNames[i], cfo);
  }
  return cfs;
}

Status open_store(const DiskTierOptions& o, const rocksdb::DBOptions& db,
                  const std::vector<rocksdb::ColumnFamilyDescriptor>& cfs,
                  std::vector<rocksdb::ColumnFamilyHandle*>* handles,
                  std::unique_ptr<rocksdb::DB>* out, RecoveryReport* report) {
  rocksdb::Status rocks;
  Status s =
      open_with(o, db, cfs, rocksdb::WALRecoveryMode::kAbsoluteConsistency, handles, out, &rocks);
  if (s.is_ok() || !rocks.IsCorruption()) return s;
  handles->clear();
  report->damaged = true;
  report->damage = rocks.ToString();
  if (!measure_loss(o, db, cfs, report)) return s;  // e.g. a damaged MANIFEST or table
  if (o.wal_recovery == WalRecovery::kStrict) {
    return Status::data_loss(
        "disk tier: the write-ahead log in data directory " + o.path + " is damaged (" +
        report->damage + "); point-in-time recovery would drop " + loss_text(*report) +
        ". Refusing to open under strict recovery: restore the directory from a backup, or "
        "accept the loss with point-in-time recovery (--disk-recovery point-in-time)");
  }
  PLANCACHE_RETURN_IF_ERROR(
      open_with(o, db, cfs, rocksdb::WALRecoveryMode::kPointInTimeRecovery, handles, out, &rocks));
  if (o.log) {
    o.log(DiskLogLevel::kWarning, "disk tier: the write-ahead log in " + o.path + " was damaged (" +
                                      report->damage + "); point-in-time recovery dropped " +
                                      loss_text(*report));
  }
  return Status::ok();
}

}  // namespace plancache::internal
