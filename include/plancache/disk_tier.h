// The disk tier (L2): an embedded RocksDB store, one per machine, that
// survives restarts.
//
// Each entry is stored as the entry envelope (docs/entry_format.md: versioned,
// checksummed, large values zstd-compressed) under CacheKey::encoded(). The
// checksum is verified on every read: a corrupt entry is a miss, is deleted
// and counts in TierStats::corrupt_entries. Expired entries are a miss on
// read and are removed; purge_expired() removes the rest without scanning the
// store (an expiry-ordered index). The store is bounded by bytes; when it
// grows past max_bytes the least recently used entries go first (an
// approximate LRU kept in an access-ordered index; hot entries survive a
// stream of cold ones). Opening a store never scans it: sizes come from
// counters persisted atomically with every write.
//
// Durability:
// - sync_writes = false (default): every acknowledged put/erase is in the
//   RocksDB write-ahead log in the OS page cache before the call returns, so
//   it survives the process being killed (kill -9, a crash), but the last
//   writes may be lost if the machine loses power or the kernel crashes.
// - sync_writes = true: the WAL is fsync'ed before put/erase/invalidate
//   return, so an acknowledged write also survives power loss (slower: one
//   fdatasync per write).
// After any crash the store opens and never serves a corrupt entry.
//
// Recovery from a damaged write-ahead log (wal_recovery below): by default
// the store replays the log up to its first damaged record and drops the
// rest, reporting it (a warning through `log`, and
// TierStats::recovery_dropped_entries: at least that many entries were
// lost); kStrict refuses to open instead (data_loss), so nothing is lost
// silently.
//
// Write errors (a full disk): RocksDB turns read-only; the tier reports it
// (TierStats::connected = false, TierStats::degraded = the reason; writes
// fail with unavailable, reads still work) and resumes by itself once
// writes can succeed again (it calls DB::Resume() when there is room for a
// write buffer again, or with backoff for other errors). Its log goes to
// `log`, never to a file in the data directory (a full disk must not stop
// RocksDB's own logging from working).
//
// Only one process may open a data directory at a time (RocksDB's LOCK file).
//
// Thread-safety: fully thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/clock.h"
#include "plancache/status.h"
#include "plancache/tier.h"

namespace plancache {

// Severity of a message passed to DiskTierOptions::log.
enum class DiskLogLevel { kInfo, kWarning, kError };

// How the store recovers from a damaged write-ahead log when it opens.
enum class WalRecovery {
  // Replay up to the first damaged record, drop what follows, report it
  // (RocksDB's kPointInTimeRecovery).
  kPointInTime,
  // Refuse to open (data_loss naming the directory) rather than drop
  // anything; an incomplete last record is damage too (RocksDB's
  // kAbsoluteConsistency).
  kStrict,
};

struct DiskTierOptions {
  // Directory of the store; created (with its parents) if missing.
  // REQUIRED: non-empty.
  std::string path;
  // Upper bound on stored bytes (envelopes, keys and index records, as
  // counted by the tier; the files on disk differ by RocksDB's compression
  // and space amplification, see docs/decisions.md); 0 = unbounded.
  // Default: 1 GiB.
  uint64_t max_bytes = 1ull << 30;
  // fsync the WAL before a write returns (see Durability above).
  // Default: false.
  bool sync_writes = false;
  // Values of at least this many bytes are zstd-compressed in the envelope.
  // Default: 4096.
  size_t compress_threshold = 4096;
  // Whether the values of a namespace may be compressed (the namespace
  // policy's `compress`); false = stored as is whatever their size. Called
  // on every put, from any thread: must be thread-safe and must not call
  // into the tier. Default: null = every namespace may be.
  std::function<bool(std::string_view ns)> compress_namespace;
  // Memory for RocksDB write buffers (memtables), all column families
  // together. Default: 16 MiB.
  uint64_t write_buffer_bytes = 16ull << 20;
  // RocksDB block cache (the OS page cache also caches the files).
  // Default: 8 MiB.
  uint64_t block_cache_bytes = 8ull << 20;
  // Table files RocksDB keeps open at once (its table cache); the rest are
  // reopened on demand. Bounds the tier's file descriptors, which a server
  // reserves out of its open-file limit. Default: 128.
  int max_open_files = 128;
  // Time source for TTLs. Default: system_clock().
  std::shared_ptr<Clock> clock;
  // Tier name in stats. Default: "l2".
  std::string name = "l2";
  // Namespaces whose counters (hits, misses) are kept while they hold no
  // entries. Any other namespace has counters only while it holds entries
  // (in memory and in the store's counter records), so names a client
  // invents cost nothing once their entries are gone. Default: none.
  std::vector<std::string> kept_namespaces;
  // See WalRecovery. Default: kPointInTime.
  WalRecovery wal_recovery = WalRecovery::kPointInTime;
  // Receives the tier's notes (degraded, resumed, what recovery dropped)
  // and RocksDB's own warnings and errors. Called from any thread, RocksDB's
  // background threads included; must be thread-safe and must not call into
  // the tier. Default: null = discarded.
  std::function<void(DiskLogLevel level, std::string_view message)> log;
};

// Opens (or creates) the store in options.path.
// Errors: invalid_argument for an empty path; failed_precondition naming the
// path when it is locked by another process (or another tier in this one) or
// is not a directory; data_loss when RocksDB reports corruption it cannot
// recover, or a damaged write-ahead log under WalRecovery::kStrict (the
// message names the directory, the damage and how many entries
// point-in-time recovery would drop); unavailable for other I/O errors.
Result<std::unique_ptr<Tier>> new_disk_tier(DiskTierOptions options);

}  // namespace plancache
