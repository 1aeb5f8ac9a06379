// AccessLog: the server's sampled access log (--access-log FILE), the
// input of `plancache simulate` and GET /v1/advice.
//
// One JSON line per lookup or put of a sampled key (the JSONL trace format,
// docs/cli.md "plancache simulate"):
//   {"t":<ms>,"ns":"<namespace>","key":"<key id>","op":"get","hit":true,"size":<bytes>,"cost_ms":<ms>}
//   {"t":<ms>,"ns":"<namespace>","key":"<key id>","op":"put","size":<bytes>,"cost_ms":<ms>}
// (a miss has no size or cost: the put that follows tells them).
//
// Keys are sampled, not requests: a key is logged when its hash falls in the
// `sample` share of the hash space, and then every access to it is, so each
// sampled key's reuse pattern is whole and a cache of S entries over all
// keys behaves as one of S x sample over the sampled ones (the SHARDS
// method, Waldspurger et al., FAST 2015).
//
// record() formats the line on the caller's thread and queues it (bounded:
// when the writer falls behind, lines are dropped and counted, never
// waited for); one writer thread appends them, and rotates the file to
// FILE.1 when it grows past max_bytes.
//
// Thread-safety: record() and stats() from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "plancache/clock.h"
#include "plancache/entry.h"
#include "plancache/status.h"

namespace plancache::internal {

struct AccessLogOptions {
  std::string path;                      // REQUIRES: not empty
  double sample = 0.1;                   // share of keys, (0, 1]
  uint64_t max_bytes = 64ull << 20;      // rotate past this
  size_t max_queued_lines = 100'000;     // more are dropped
  std::shared_ptr<Clock> clock;          // REQUIRES: set
};

struct AccessLogStats {
  uint64_t lines = 0;      // written
  uint64_t dropped = 0;    // queue full
  uint64_t rotations = 0;
  uint64_t write_errors = 0;
};

class AccessLog {
 public:
  // Opens (appends to) the file. Errors: invalid_argument naming the path when it
  // cannot be opened.
  static Result<std::unique_ptr<AccessLog>> open(AccessLogOptions options);
  ~AccessLog();  // writes what is queued, then closes
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Whether `key` is in the sample (cheap: one comparison of its hash).
  bool sampled(const CacheKey& key) const { return key.hash() <= threshold_; }
  // A lookup of `key`: `found` is the entry, or null for a miss.
  void record_get(const CacheKey& key, const Entry* found);
  // A put of `key`: what was stored.
  void record_put(const CacheKey& key, uint64_t size, uint32_t compute_ms);

  AccessLogStats stats() const;
  const std::string& path() const { return options_.path; }
  double sample() const { return options_.sample; }

 private:
  explicit AccessLog(AccessLogOptions options, std::FILE* file, uint64_t size);
  void enqueue(std::string line);
  void write_loop();
  void write_line(const std::string& line);
  void rotate();

  const AccessLogOptions options_;
  const uint64_t threshold_;  // hashes <= threshold_ are sampled
  std::FILE* file_;           // the writer thread's (and the destructor's)
  uint64_t file_bytes_;

  mutable std::mutex mu_;  // guards queue_, stopping_; cv_ wakes the writer
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  std::atomic<uint64_t> lines_{0}, dropped_{0}, rotations_{0}, write_errors_{0};
  std::thread writer_;  // last: starts once the members above exist
};

}  // namespace plancache::internal
