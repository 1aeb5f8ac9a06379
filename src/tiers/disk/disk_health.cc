// StoreHealth: degraded while RocksDB refuses writes, and the resumer that
// brings the store back (disk_recovery.h).
//
// RocksDB 7.8 (Debian 12) turns the DB read-only on a "hard" background
// error: a write-ahead-log append or a flush that fails, e.g. with ENOSPC.
// Its own automatic recovery from a full disk is driven by the
// SstFileManager, which polls every 5 s and needs free space of a whole
// write buffer; meanwhile a manual DB::Resume() is refused ("busy"). We
// switch that off (OnErrorRecoveryBegin) and resume ourselves: every
// kPollMs the resumer checks the free space of the data directory and calls
// Resume() once there is room for a flush (Resume() flushes every memtable
// and starts a new log, then clears the error). An attempt while the disk
// is still full costs a failed flush and a warning, so without room the
// resumer tries only every kForcedAttemptMs (free space can be misreported,
// e.g. under quotas). Errors other than a full disk are retried with
// exponential backoff up to kMaxBackoffMs; fatal ones (Resume() refuses
// them) stay degraded until a restart, which the reason then says.
//
// The state is set by the listener (RocksDB's threads), by failed writes
// (any thread) and by the resumer; `epoch` tells the resumer whether a new
// error arrived while its Resume() ran, so that it never clears one it has
// not resumed from.
#include <rocksdb/listener.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>

#include "tiers/disk/disk_recovery.h"

namespace plancache::internal {

struct StoreHealth::Shared {
  explicit Shared(DiskLogFn fn) : log(std::move(fn)) {}

  void mark_degraded(const rocksdb::Status& s) {
    std::lock_guard lock(mu);
    if (reason.empty() && log) {
      log(DiskLogLevel::kError, "disk tier: the store is read-only after a write error (" +
                                    s.ToString() + "); resuming when writes can succeed");
    }
    reason = "read-only after a write error: " + s.ToString();
    no_space = s.IsNoSpace() || s.subcode() == rocksdb::Status::SubCode::kSpaceLimit;
    ++epoch;
    cv.notify_all();
  }

  // REQUIRES: mu held.
  void mark_healthy_locked() {
    if (reason.empty()) return;
    reason.clear();
    if (log) log(DiskLogLevel::kInfo, "disk tier: the store takes writes again");
  }

  const DiskLogFn log;
  mutable std::mutex mu;  // guards everything below
  std::condition_variable cv;
  std::string reason;     // "" = healthy
  bool no_space = false;  // the error is a full disk
  uint64_t epoch = 0;     // bumped by every error
  bool stopping = false;
};

namespace {

constexpr int64_t kPollMs = 100;
constexpr int64_t kForcedAttemptMs = 10'000;
constexpr int64_t kMaxBackoffMs = 5'000;

class HealthListener final : public rocksdb::EventListener {
 public:
  explicit HealthListener(std::shared_ptr<StoreHealth::Shared> shared)
      : shared_(std::move(shared)) {}

  const char* Name() const override { return "plancache.StoreHealth"; }

  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* error) override {
    // Soft errors (a compaction out of space) leave writes working.
    if (error->severity() >= rocksdb::Status::Severity::kHardError) shared_->mark_degraded(*error);
  }

  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;  // the resumer does it
  }

  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (!info.new_bg_error.ok()) return;
    std::lock_guard lock(shared_->mu);
    shared_->mark_healthy_locked();
  }

 private:
  const std::shared_ptr<StoreHealth::Shared> shared_;
};

class ForwardingLogger final : public rocksdb::Logger {
 public:
  explicit ForwardingLogger(DiskLogFn log)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), log_(std::move(log)) {}

  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (!log_ || level < GetInfoLogLevel()) return;
    char buf[1024];
    const int n = std::vsnprintf(buf, sizeof buf, format, ap);
    if (n < 0) return;
    std::string_view text(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    log_(
        level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? DiskLogLevel::kError : DiskLogLevel::kWarning,
        "rocksdb: " + std::string(text));
  }

 private:
  const DiskLogFn log_;
};

uint64_t free_bytes(const std::string& path) {
  std::error_code ec;
  const auto space = std::filesystem::space(path, ec);
  return ec ? 0 : space.available;
}

}  // namespace

std::shared_ptr<rocksdb::Logger> forwarding_logger(DiskLogFn log) {
  return std::make_shared<ForwardingLogger>(std::move(log));
}

StoreHealth::StoreHealth(std::string path, uint64_t resume_free_bytes, DiskLogFn log)
    : path_(std::move(path)),
      resume_free_bytes_(resume_free_bytes),
      shared_(std::make_shared<Shared>(std::move(log))) {}

StoreHealth::~StoreHealth() { stop(); }

std::shared_ptr<rocksdb::EventListener> StoreHealth::listener() {
  return std::make_shared<HealthListener>(shared_);
}

void StoreHealth::start(rocksdb::DB* db) {
  db_ = db;
  resumer_ = std::thread([this] { run(); });
}

void StoreHealth::stop() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->stopping = true;
  }
  shared_->cv.notify_all();
  if (resumer_.joinable()) resumer_.join();
}

void StoreHealth::write_failed(const rocksdb::Status& s) {
  if (s.IsIOError()) shared_->mark_degraded(s);
}

std::string StoreHealth::degraded() const {
  std::lock_guard lock(shared_->mu);
  return shared_->reason;
}

void StoreHealth::run() {
  using Clock = std::chrono::steady_clock;
  Shared& st = *shared_;
  std::unique_lock lock(st.mu);
  int64_t backoff_ms = kPollMs;
  Clock::time_point last_attempt{};
  while (!st.stopping) {
    st.cv.wait(lock, [&] { return st.stopping || !st.reason.empty(); });
    const int64_t wait_ms = st.no_space ? kPollMs : backoff_ms;
    if (st.cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return st.stopping; })) {
      break;
    }
    if (st.reason.empty()) continue;
    const auto since =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_attempt);
    if (st.no_space && free_bytes(path_) < resume_free_bytes_ && since.count() < kForcedAttemptMs) {
      continue;  // no room for a flush yet
    }
    const uint64_t epoch = st.epoch;
    lock.unlock();
    const rocksdb::Status s = db_->Resume();
    lock.lock();
    last_attempt = Clock::now();
    if (s.ok()) {
      backoff_ms = kPollMs;
      if (st.epoch == epoch) st.mark_healthy_locked();
    } else {
      backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
      if (s.severity() > rocksdb::Status::Severity::kHardError) {
        st.reason = "read-only after an error RocksDB cannot resume from (" + s.ToString() +
                    "); restart the server";
      }
    }
  }
}

}  // namespace plancache::internal
