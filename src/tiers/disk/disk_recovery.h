// How the disk tier opens its RocksDB store and lives through RocksDB's
// failure modes (include/plancache/disk_tier.h, "Recovery" and "Write
// errors"):
// - open_store() (disk_open.cc): the RocksDB options of the tier, and the
//   open under the chosen WalRecovery, measuring what point-in-time recovery
//   of a damaged write-ahead log drops;
// - StoreHealth (disk_health.cc): whether the store takes writes, fed by a
//   RocksDB EventListener and by failed writes, and a thread that resumes
//   the store (DB::Resume()) once writes can succeed again;
// - the RocksDB Logger that forwards to DiskTierOptions::log.
//
// Thread-safety: StoreHealth is thread-safe; open_store() is a plain
// function.
#pragma once

#include <rocksdb/db.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "plancache/disk_tier.h"
#include "plancache/status.h"

namespace plancache::internal {

using DiskLogFn = std::function<void(DiskLogLevel, std::string_view)>;

// "disk tier: <what>: <RocksDB's message>" with the code RocksDB's status
// maps to: corruption → data_loss, invalid argument → invalid_argument,
// anything else → unavailable.
Status from_rocks(const rocksdb::Status& s, std::string_view what);

// Memtable budget of one column family (DBOptions::db_write_buffer_size
// shares write_buffer_bytes among them). A flush needs about this much room
// on disk, so the store resumes after a full disk once this much is free.
uint64_t cf_write_buffer_bytes(const DiskTierOptions& o);

// Options of the tier's DB and column families.
rocksdb::DBOptions db_options(const DiskTierOptions& o);
Result<std::vector<rocksdb::ColumnFamilyDescriptor>> cf_descriptors(const DiskTierOptions& o);

// A RocksDB Logger passing warnings and errors to `log` (null = dropped),
// so that RocksDB never writes a LOG file of its own into the data
// directory.
std::shared_ptr<rocksdb::Logger> forwarding_logger(DiskLogFn log);

// What opening the store found in its write-ahead log.
struct RecoveryReport {
  bool damaged = false;          // the log failed strict (absolute) replay
  std::string damage;            // RocksDB's description of the damage
  uint64_t dropped_entries = 0;  // at least this many entries were dropped
  uint64_t dropped_records = 0;  // RocksDB operations (sequence numbers) dropped
};

// Opens `o.path` with `db` (create_if_missing etc. already set), trying a
// strict replay of the write-ahead log first. On damage: kStrict returns
// data_loss naming the directory and what would be lost; kPointInTime
// measures the loss (two read-only opens, only then), reopens with
// point-in-time recovery and fills `report`. Other errors as
// new_disk_tier() documents. On success `*handles` (one per descriptor,
// owned by the caller) and `*out` are set.
Status open_store(const DiskTierOptions& o, const rocksdb::DBOptions& db,
                  const std::vector<rocksdb::ColumnFamilyDescriptor>& cfs,
                  std::vector<rocksdb::ColumnFamilyHandle*>* handles,
                  std::unique_ptr<rocksdb::DB>* out, RecoveryReport* report);

// Whether the store takes writes. RocksDB turns read-only after a write
// error (a full disk, an I/O error); StoreHealth notices it (the listener's
// OnBackgroundError, a failed write), reports it, and a resumer thread
// calls DB::Resume() until the store takes writes again: for a full disk
// when free space reaches `resume_free_bytes` (room for one flush) or every
// kForcedAttemptMs anyway; for other errors with exponential backoff.
// RocksDB's own automatic recovery is switched off (OnErrorRecoveryBegin)
// so that a manual Resume() is never refused as "busy".
class StoreHealth {
 public:
  StoreHealth(std::string path, uint64_t resume_free_bytes, DiskLogFn log);
  ~StoreHealth();  // stop()
  StoreHealth(const StoreHealth&) = delete;
  StoreHealth& operator=(const StoreHealth&) = delete;

  // To put into DBOptions::listeners before the store is opened.
  std::shared_ptr<rocksdb::EventListener> listener();
  // Starts the resumer. REQUIRES: at most once; `db` outlives stop().
  void start(rocksdb::DB* db);
  // Joins the resumer: no Resume() call is made after it returns.
  void stop();
  // A write returned `s` (not OK): an I/O error marks the store degraded
  // until Resume() succeeds (at once when the store was not stopped).
  void write_failed(const rocksdb::Status& s);
  // "" while the store takes writes, else why it does not.
  std::string degraded() const;

  struct Shared;  // state shared with the listener (disk_health.cc)

 private:
  void run();

  const std::string path_;
  const uint64_t resume_free_bytes_;
  std::shared_ptr<Shared> shared_;
  rocksdb::DB* db_ = nullptr;  // set by start()
  std::thread resumer_;
};

}  // namespace plancache::internal
